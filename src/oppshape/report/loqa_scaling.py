"""``python -m oppshape.report loqa-scaling <sweep dir>``: LOQA's scalability table (paper Fig. 4).

Reads every run directory of a ``experiment=loqa_coin_scaling`` sweep (one per board size, each with its
``config.yaml`` and ``summary.json``) and writes, per board, the wall-clock seconds (and iteration) of the
first evaluation passing LOQA's weak / medium / strong thresholds ("miss" when the run ended first), the
iterations run and the run's training seconds, as a Markdown table into ``<sweep dir>/table.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from oppshape.eval.loqa import THRESHOLDS


def board_runs(sweep_dir: Path) -> list[tuple[int, int, Path]]:
    """``(height, width, run dir)`` of every run under ``sweep_dir``, smallest board first."""
    runs = []
    for config_path in sweep_dir.glob("*/config.yaml"):
        env = OmegaConf.load(config_path).env
        runs.append((int(env.height), int(env.width), config_path.parent))
    return sorted(runs)


def threshold_cell(summary: dict[str, Any], level: str) -> str:
    seconds, iteration = summary.get(f"seconds_to_{level}"), summary.get(f"iteration_to_{level}")
    return "miss" if seconds is None else f"{seconds:.0f} s (it {iteration})"


def scaling_table(sweep_dir: Path) -> str:
    """The Markdown table: board | weak | medium | strong | iterations | run seconds."""
    lines = ["| board | " + " | ".join(THRESHOLDS) + " | iterations | run seconds |",
             "|---|" + "---|" * (len(THRESHOLDS) + 2)]
    for height, width, run_dir in board_runs(sweep_dir):
        summary_path = run_dir / "summary.json"
        if not summary_path.is_file():
            lines.append(f"| {height}x{width} | " + " | ".join(["unfinished"] * (len(THRESHOLDS) + 2)) + " |")
            continue
        summary = json.loads(summary_path.read_text())
        cells = " | ".join(threshold_cell(summary, level) for level in THRESHOLDS)
        lines.append(f"| {height}x{width} | {cells} | {summary['iterations']} | {summary['wall_time_s']:.0f} |")
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    sweep_dir: Path = args.sweep_dir
    if not sweep_dir.is_dir():
        raise SystemExit(f"loqa-scaling: {sweep_dir} is not a directory")
    table = scaling_table(sweep_dir)
    output: Path = args.output or sweep_dir / "table.md"
    output.write_text(table)
    sys.stdout.write(table)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("loqa-scaling", help="LOQA's seconds to each threshold per board size",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    command.add_argument("sweep_dir", type=Path, help="the multirun folder (hydra.sweep.dir), one run dir per board")
    command.add_argument("--output", type=Path, default=None, help="where to write the table (default <sweep_dir>/table.md)")
    command.set_defaults(func=main)
