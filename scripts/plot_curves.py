"""Plot one metric against frames for several run directories (their metrics.csv) on one axis.

For comparing single runs that no sweep script collects, e.g. the transport recipe runs in docs/RESULTS.md:
    python scripts/plot_curves.py --run runs/a:"MAPPO" --run runs/b:"COMA" --key eval_return --out fig.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from oppshape.loggers import read_metric


def run_and_label(spec: str) -> tuple[Path, str]:
    """``DIR:LABEL`` from the command line as (run directory, label); a bare ``DIR`` is its own label."""
    return Path(spec.split(":", 1)[0]), spec.split(":", 1)[-1]


def curve(run: Path, key: str) -> list[tuple[float, float]]:
    """(frames, value) for every row of ``run/metrics.csv`` that logged ``key``; a bad run or key ends the
    script with the reason."""
    if not (run / "metrics.csv").exists():
        raise SystemExit(f"no metrics.csv in {run}")
    try:
        return read_metric(run, key)
    except ValueError as error:
        raise SystemExit(str(error)) from error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", required=True, help="DIR:LABEL (repeat)")
    parser.add_argument("--key", default="eval_return", help="metric column (default: eval_return)")
    parser.add_argument("--title", default="")
    parser.add_argument("--hline", type=float, default=None, help="a reference level to draw, e.g. a heuristic")
    parser.add_argument("--hline-label", default="reference")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    runs = [run_and_label(spec) for spec in args.run]
    curves = [(label, curve(run, args.key)) for run, label in runs]  # read all before drawing

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, points in curves:
        ax.plot(*zip(*points), label=label)
    if args.hline is not None:
        ax.axhline(args.hline, color="grey", linestyle="--", label=args.hline_label)
    ax.set(xlabel="environment frames", ylabel=args.key, title=args.title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(args.out)


if __name__ == "__main__":
    main()
