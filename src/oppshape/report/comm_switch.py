"""``python -m oppshape.report comm-switch <sweep dir>``: DIAL vs RIAL on the switch riddle (Foerster et al.
2016, Fig. 3) from a finished sweep.

Reads every run under the sweep folder (``summary.json``, ``config.yaml``, ``metrics.csv``), groups them by
algorithm and prisoner count, and writes ``comm_switch.png`` (normalised test reward against epochs, mean and
+-1 std over seeds, each seed's curve optionally EWMA-smoothed as in the reference port's figure) and
``summary.md`` (the reward around chosen epochs).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from oppshape.eval.plotting import band, panels, save
from oppshape.loggers import read_metric

ALGOS = ("dial", "rial")
METRIC = "test_reward_normalized"
MARKS = (500, 1000, 2000, 5000, 10000, 20000)


def find_runs(sweep_dir: Path) -> dict[tuple[str, int], dict[int, Path]]:
    """``{(algo, n_agents): {seed: run dir}}`` of the finished DIAL / RIAL runs under ``sweep_dir``."""
    runs: dict[tuple[str, int], dict[int, Path]] = defaultdict(dict)
    for summary in sorted(sweep_dir.rglob("summary.json")):
        run_dir = summary.parent
        config = OmegaConf.load(run_dir / "config.yaml")
        if config.algo.name in ALGOS:
            runs[(str(config.algo.name), int(config.env.n_agents))][int(config.seed)] = run_dir
    return dict(runs)


def read_curve(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, normalised test reward) of one run's ``metrics.csv``."""
    points = np.array(read_metric(run_dir, METRIC, x="iteration"), dtype=float).reshape(-1, 2)
    return points[:, 0], points[:, 1]


def ewma(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted mean with weight ``alpha`` on the newest value (pandas ``ewm(alpha)``)."""
    if alpha >= 1.0:
        return values
    out, total, weight = np.empty_like(values), 0.0, 0.0
    for i, value in enumerate(values):
        total = (1 - alpha) * total + value
        weight = (1 - alpha) * weight + 1
        out[i] = total / weight
    return out


def window_mean(epochs: np.ndarray, values: np.ndarray, at: int, width: int = 100) -> float:
    """Mean of the evaluations in ``(at - width, at]``; NaN if the run stopped before ``at``."""
    inside = (epochs > at - width) & (epochs <= at)
    return float(values[inside].mean()) if inside.any() and epochs.max() >= at else float("nan")


def write_report(sweep_dir: Path, out: Path, marks: tuple[int, ...] = MARKS, alpha: float = 1.0) -> str:
    """Draw ``out/comm_switch.png`` and write ``out/summary.md``; returns the Markdown."""
    runs = find_runs(sweep_dir)
    if not runs:
        raise SystemExit(f"no finished dial / rial run (summary.json) under {sweep_dir}")
    agent_counts = sorted({n for _, n in runs})
    figure, axes = panels(ncols=len(agent_counts))
    table = ["| algo | n | seeds | epochs | " + " | ".join(f"R @ {m}" for m in marks) + " | wall s / run |",
             "|---|---|---|---|" + "---|" * len(marks) + "---|"]
    for axis, n in zip(axes, agent_counts):
        for algo in (algo for algo in ALGOS if (algo, n) in runs):
            run_dirs = [runs[(algo, n)][seed] for seed in sorted(runs[(algo, n)])]
            curves = [read_curve(run_dir) for run_dir in run_dirs]
            length = min(len(epochs) for epochs, _ in curves)
            steps = curves[0][0][:length]
            smoothed = np.stack([ewma(values[:length], alpha) for _, values in curves])
            band(axis, steps, smoothed.mean(axis=0), smoothed.std(axis=0), label=algo.upper())
            cells = []
            for mark in marks:
                at_mark = np.array([window_mean(epochs, values, mark) for epochs, values in curves])
                cells.append("-" if np.isnan(at_mark).any() else f"{at_mark.mean():.3f} ± {at_mark.std():.3f}")
            walls = [json.loads((run_dir / "summary.json").read_text())["wall_time_s"] for run_dir in run_dirs]
            table.append(f"| {algo.upper()} | {n} | {len(run_dirs)} | {int(steps[-1])} | " + " | ".join(cells)
                         + f" | {np.mean(walls):.0f} |")
        axis.axhline(1.0, color="k", linestyle="--", linewidth=1, label="Oracle")
        axis.set(title=f"switch riddle, n = {n}", xlabel="# epochs", ylabel="normalised R (optimal)", ylim=(0.5, 1.01))
        axis.legend(loc="lower right")
    save(figure, out / "comm_switch.png")
    seeds = sorted({seed for by_seed in runs.values() for seed in by_seed})
    note = (f"R @ E: normalised test reward, mean of the greedy evaluations in (E - 100, E] per seed, then mean ± std "
            f"over seeds {seeds}.")
    markdown = "\n".join(table) + "\n\n" + note + "\n"
    (out / "summary.md").write_text(markdown)
    return markdown


def main(args: argparse.Namespace) -> int:
    if not 0.0 < args.alpha <= 1.0:
        raise SystemExit(f"--alpha={args.alpha} must be in (0, 1]")
    out = args.out or args.sweep_dir
    print(write_report(args.sweep_dir, out, tuple(args.marks), args.alpha))
    print(f"wrote {out / 'comm_switch.png'} and {out / 'summary.md'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("comm-switch", help="DIAL / RIAL switch-riddle curves and table of a sweep",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir), e.g. runs/comm_switch")
    parser.add_argument("--marks", nargs="+", type=int, default=list(MARKS), help="epochs of the table's columns")
    parser.add_argument("--alpha", type=float, default=1.0, help="EWMA weight of each new test (1: no smoothing)")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: the sweep folder)")
    parser.set_defaults(func=main)
