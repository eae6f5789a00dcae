"""POLA paper Figure 3 as a table: how often LOLA and POLA find TFT on the exact contribution-factor IPD.

Reads a sweep of the 30 cells ``configs/experiment/pola_fig3_<method>_<policy>_cf<cf>.yaml`` ({LOLA, POLA} x
{tabular, neural net, pre-conditioned tabular} x cf in {1.1, 1.25, 1.33, 1.4, 1.6}, 20 seeds batched per
run), as ``make pola-ipd-exact`` writes it::

    python -m oppshape -m hydra/launcher=joblib 'experiment=glob(pola_fig3_*)' seed=1
    python -m oppshape.report pola-fig3 runs/pola_ipd_exact

A run with ``algo.precondition_state=cd`` (the reference's matrix before 2022-07-30, e.g.
``experiment=pola_precond_cd_cf125``) is its own row, "pre-conditioned tabular (CD matrix)", so a sweep
holding both never mixes them. Writes ``<sweep>/table.md``: the fraction of seeds that found TFT at some
epoch (POLA's criterion, ``eval.ipd_metrics.finds_tft``) beside the paper's claim, then each cell's
settings, mean outer steps per epoch, final return per step and wall time.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

CFS = (1.1, 1.25, 1.33, 1.4, 1.6)
METHODS = ("lola", "pola")
PARAMETERIZATIONS = ("tabular", "nn", "preconditioned", "preconditioned_cd")
LABELS = {"tabular": "tabular", "nn": "neural net (16 tanh)", "preconditioned": "pre-conditioned tabular",
          "preconditioned_cd": "pre-conditioned tabular (CD matrix)"}
#: rows printed only when the sweep has one of their cells (the default sweep has none)
OPTIONAL_ROWS = ("preconditioned_cd",)

#: What the paper (Figure 3 and its README) reports per row; the figure is a bar chart without numbers.
PAPER = {
    ("lola", "tabular"): "finds TFT at every cf",
    ("lola", "nn"): "0 at cf <= 1.25; finds TFT at cf >= 1.33",
    ("lola", "preconditioned"): "never finds TFT",
    ("lola", "preconditioned_cd"): "never finds TFT",
    ("pola", "tabular"): "finds TFT at every cf",
    ("pola", "nn"): "finds TFT at every cf",
    ("pola", "preconditioned"): "finds TFT at every cf",
    ("pola", "preconditioned_cd"): "finds TFT at every cf",
}


def hyperparameter_source(method: str, parameterization: str, cf: float) -> str:
    """Where a cell's settings come from: the POLA README, or the nearest setting it gives."""
    if method == "lola" and parameterization == "nn" and cf < 1.33:
        return "none given; cf 1.33's setting"
    if method == "lola" and parameterization.startswith("preconditioned"):
        return "none given; LOLA tabular's setting"
    return "README"


@dataclass(frozen=True)
class Cell:
    """One finished run of the sweep: its settings and final results."""

    method: str
    parameterization: str
    cf: float
    inner_lr: float
    outer_lr: float
    outer_beta: float
    epochs: int
    seeds: int
    tft_fraction: float
    return_per_step: float
    outer_steps: float  # mean over epochs of the two agents' mean outer steps
    wall_s: float


def read_cell(run_dir: Path) -> Cell:
    """The cell in ``run_dir`` (``config.yaml``, ``summary.json``, ``metrics.csv`` of a finished run)."""
    config = OmegaConf.load(run_dir / "config.yaml")
    summary = json.loads((run_dir / "summary.json").read_text())
    with open(run_dir / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    steps = [(float(row["outer_steps_agent1"]) + float(row["outer_steps_agent2"])) / 2 for row in rows]
    algo = config.algo
    parameterization = str(algo.parameterization)
    if parameterization == "preconditioned" and str(algo.get("precondition_state", "dd")) == "cd":
        parameterization = "preconditioned_cd"
    return Cell(
        method=str(algo.name), parameterization=parameterization, cf=float(config.env.cf),
        inner_lr=float(algo.inner_lr), outer_lr=float(algo.outer_lr), outer_beta=float(algo.get("outer_beta", 0.0)),
        epochs=int(summary["iterations"]), seeds=int(algo.num_seeds),
        tft_fraction=float(summary["final"]["tft_fraction"]), return_per_step=float(summary["final"]["return_per_step"]),
        outer_steps=sum(steps) / len(steps), wall_s=float(summary["wall_time_s"]),
    )


def read_sweep(sweep_dir: Path) -> dict[tuple[str, str, float], Cell]:
    """Every finished run (a folder with ``summary.json``) under ``sweep_dir``, keyed by (method, policy, cf)."""
    cells = [read_cell(path.parent) for path in sorted(sweep_dir.glob("*/summary.json"))]
    if not cells:
        raise FileNotFoundError(f"no finished runs (*/summary.json) under {sweep_dir}")
    return {(cell.method, cell.parameterization, cell.cf): cell for cell in cells}


def markdown(cells: dict[tuple[str, str, float], Cell]) -> str:
    """The two tables: fraction finding TFT (with the paper's claim), and settings with wall time."""
    seeds = sorted({cell.seeds for cell in cells.values()})
    head = "| method | policy | " + " | ".join(f"cf {cf}" for cf in CFS) + " | paper (Fig. 3 / README) |"
    lines = [f"Fraction of {'/'.join(map(str, seeds))} seeds that found TFT at some epoch:", "", head,
             "|" + "---|" * (len(CFS) + 3)]
    for method in METHODS:
        for parameterization in PARAMETERIZATIONS:
            row = [cells.get((method, parameterization, cf)) for cf in CFS]
            if parameterization in OPTIONAL_ROWS and not any(row):
                continue
            values = [f"{cell.tft_fraction:.2f}" if cell else "-" for cell in row]
            lines.append(f"| {method.upper()} | {LABELS[parameterization]} | " + " | ".join(values)
                         + f" | {PAPER[(method, parameterization)]} |")
    lines += ["", "Settings (inner_lr, outer_lr, outer_beta, epochs), mean outer steps per epoch, final return per "
              "step (seed mean; mutual cooperation = cf - 1) and wall time per cell:", "",
              "| method | policy | cf | inner_lr | outer_lr | outer_beta | epochs | outer steps | return/step | wall s "
              "| hyperparameters |", "|" + "---|" * 11]
    for (method, parameterization, cf), cell in sorted(cells.items(), key=lambda item: _order(item[0])):
        lines.append(
            f"| {method.upper()} | {LABELS[parameterization]} | {cf} | {cell.inner_lr} | {cell.outer_lr} | "
            f"{cell.outer_beta} | {cell.epochs} | {cell.outer_steps:.0f} | {cell.return_per_step:.3f} | "
            f"{cell.wall_s:.1f} | {hyperparameter_source(method, parameterization, cf)} |"
        )
    return "\n".join(lines) + "\n"


def _order(key: tuple[str, str, float]) -> tuple[int, int, float]:
    method, parameterization, cf = key
    return METHODS.index(method), PARAMETERIZATIONS.index(parameterization), cf


def write_table(args: argparse.Namespace) -> int:
    table = markdown(read_sweep(args.sweep_dir))
    out = args.out or args.sweep_dir / "table.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    sys.stdout.write(table)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pola-fig3", help="POLA Figure 3 table from a sweep of the pola_fig3_* cells",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder (one run folder per cell)")
    parser.add_argument("--out", type=Path, default=None, help="Markdown file to write (default: <sweep_dir>/table.md)")
    parser.set_defaults(func=write_table)
