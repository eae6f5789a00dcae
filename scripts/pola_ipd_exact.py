"""POLA paper Figure 3: how often LOLA and POLA find TFT on the exact contribution-factor IPD.

Runs {LOLA, POLA} x {tabular, neural network, pre-conditioned tabular} x cf in {1.1, 1.25, 1.33, 1.4,
1.6}, 20 seeds per cell in one batched learner, with the hyperparameters of the POLA README (repo
Silent-Zebra/POLA, "Commands used for Figure 3"). A seed counts as finding TFT if at some epoch both
agents retaliate (P(C) < 0.65 in CD and DD) and the mean return per step exceeds 0.8 (cf - 1).

    python scripts/pola_ipd_exact.py --out runs/pola_ipd_exact/table.md [--seeds 20] [--seed 1]

Prints Markdown tables (fraction finding TFT; wall time per cell) and writes them to ``--out``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from oppshape.experiments.exact_ipd import IpdExactEnvConfig, LolaConfig, PolaConfig, make_learner

CFS = (1.1, 1.25, 1.33, 1.4, 1.6)
METHODS = ("LOLA", "POLA")
PARAMETERIZATIONS = ("tabular", "nn", "preconditioned")
LABELS = {"tabular": "tabular", "nn": "neural net (16 tanh)", "preconditioned": "pre-conditioned tabular"}

#: What the paper (Figure 3 and the README) reports per row; the figure is a bar chart without numbers.
PAPER = {
    ("LOLA", "tabular"): "finds TFT at every cf",
    ("LOLA", "nn"): "0 at cf <= 1.25; finds TFT at cf >= 1.33",
    ("LOLA", "preconditioned"): "never finds TFT",
    ("POLA", "tabular"): "finds TFT at every cf",
    ("POLA", "nn"): "finds TFT at every cf",
    ("POLA", "preconditioned"): "finds TFT at every cf",
}


@dataclass(frozen=True)
class Cell:
    """One configuration of Figure 3: its learning rates, epochs, and where they come from."""

    lr_in: float
    lr_out: float
    epochs: int
    outer_beta: float = 0.0
    source: str = "README"


def readme_cell(method: str, parameterization: str, cf: float) -> Cell:
    """The README's hyperparameters for a cell, or the nearest given setting (``source`` says which)."""
    if method == "LOLA":
        if parameterization == "nn":
            given = {1.33: (0.4, 0.05), 1.4: (0.3, 0.1), 1.6: (0.12, 0.05)}
            if cf in given:
                return Cell(*given[cf], epochs=100)
            return Cell(*given[1.33], epochs=100, source="none given; cf 1.33's setting")
        source = "README" if parameterization == "tabular" else "none given; LOLA tabular's setting"
        return Cell(3.0, 25.0, epochs=30, source=source)
    tables = {
        "tabular": ({1.4: (4.0, 0.3, 0.1), 1.6: (2.5, 0.3, 0.1)}, (5.0, 0.3, 0.1), 2),
        "nn": (
            {1.1: (0.3, 0.03, 0.1), 1.25: (0.25, 0.03, 0.13), 1.33: (0.25, 0.02, 0.13), 1.4: (0.2, 0.03, 0.1),
             1.6: (0.12, 0.03, 0.05)},
            None,
            2,
        ),
        "preconditioned": (
            {1.1: (0.4, 0.05, 0.5), 1.25: (0.5, 0.05, 0.5), 1.33: (0.4, 0.05, 0.5), 1.4: (0.3, 0.05, 0.5),
             1.6: (0.3, 0.05, 0.5)},
            None,
            10,
        ),
    }
    given, default, epochs = tables[parameterization]
    lr_in, lr_out, outer_beta = given.get(cf, default)  # type: ignore[arg-type]
    return Cell(lr_in, lr_out, epochs, outer_beta)


def run_cell(method: str, parameterization: str, cf: float, seeds: int, seed: int, device: torch.device) -> dict:
    """Train one cell's seeds together; returns the TFT fraction, final return per step, wall time."""
    cell = readme_cell(method, parameterization, cf)
    common = dict(parameterization=parameterization, num_seeds=seeds, lr_in=cell.lr_in, lr_out=cell.lr_out)
    algo = LolaConfig(**common) if method == "LOLA" else PolaConfig(outer_beta=cell.outer_beta, **common)
    torch.manual_seed(seed)
    started = time.perf_counter()
    learner = make_learner(algo, IpdExactEnvConfig(cf=cf), device)
    outer_steps = 0.0
    for _ in range(cell.epochs):
        metrics = learner.update(None)
        outer_steps += (metrics["outer_steps_agent1"] + metrics["outer_steps_agent2"]) / 2
    return {
        "cell": cell,
        "tft": int(learner.tft_found.sum()),
        "return_per_step": metrics["return_per_step"],
        "outer_steps": outer_steps / cell.epochs,
        "wall_s": time.perf_counter() - started,
    }


def markdown(results: dict, seeds: int) -> str:
    """The two tables: fraction finding TFT (with the paper's claim), and settings with wall time."""
    head = "| method | policy | " + " | ".join(f"cf {cf}" for cf in CFS) + " | paper (Fig. 3 / README) |"
    rule = "|" + "---|" * (len(CFS) + 3)
    lines = [f"Fraction of {seeds} seeds that found TFT at some epoch:", "", head, rule]
    for method in METHODS:
        for parameterization in PARAMETERIZATIONS:
            row = [results.get((method, parameterization, cf)) for cf in CFS]
            cells = [f"{r['tft'] / seeds:.2f}" if r else "-" for r in row]
            lines.append(f"| {method} | {LABELS[parameterization]} | " + " | ".join(cells)
                         + f" | {PAPER[(method, parameterization)]} |")
    lines += ["", "Settings (lr_in, lr_out, outer_beta, epochs), mean outer steps per epoch, final return per step "
              "(seed mean; mutual cooperation = cf - 1) and wall time per cell:", "",
              "| method | policy | cf | lr_in | lr_out | outer_beta | epochs | outer steps | return/step | wall s "
              "| hyperparameters |", "|" + "---|" * 11]
    for (method, parameterization, cf), r in results.items():
        cell: Cell = r["cell"]
        lines.append(
            f"| {method} | {LABELS[parameterization]} | {cf} | {cell.lr_in} | {cell.lr_out} | {cell.outer_beta} | "
            f"{cell.epochs} | {r['outer_steps']:.0f} | {r['return_per_step']:.3f} | {r['wall_s']:.1f} | {cell.source} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Markdown file to write the tables to")
    parser.add_argument("--seeds", type=int, default=20, help="seeds per cell (the paper: 20)")
    parser.add_argument("--seed", type=int, default=1, help="torch seed drawn before each cell's policies")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--parameterizations", nargs="+", default=list(PARAMETERIZATIONS), choices=PARAMETERIZATIONS)
    parser.add_argument("--cfs", nargs="+", type=float, default=list(CFS), choices=CFS)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    started = time.perf_counter()
    results = {}
    for method in args.methods:
        for parameterization in args.parameterizations:
            for cf in args.cfs:
                result = run_cell(method, parameterization, cf, args.seeds, args.seed, device)
                results[(method, parameterization, cf)] = result
                print(f"{method} {parameterization} cf={cf}: {result['tft']}/{args.seeds} found TFT "
                      f"({result['wall_s']:.1f} s)", flush=True)
    table = markdown(results, args.seeds)
    table += (f"\nCommand: `python scripts/pola_ipd_exact.py --seeds {args.seeds} --seed {args.seed} "
              f"--device {args.device}`; total wall time {time.perf_counter() - started:.0f} s.\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
