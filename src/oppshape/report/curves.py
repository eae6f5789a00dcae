"""``python -m oppshape.report curves``: one metric against frames for several run directories on one axis.

For comparing single runs that no sweep report collects, e.g. the transport recipe runs in docs/RESULTS.md:
    python -m oppshape.report curves --run runs/a:"MAPPO" --run runs/b:"COMA" --key eval_return --out fig.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from oppshape.eval.plotting import panels, save
from oppshape.loggers import read_metric


def run_and_label(spec: str) -> tuple[Path, str]:
    """``DIR:LABEL`` from the command line as (run directory, label); a bare ``DIR`` is its own label."""
    return Path(spec.split(":", 1)[0]), spec.split(":", 1)[-1]


def curve(run: Path, key: str) -> list[tuple[float, float]]:
    """(frames, value) for every row of ``run/metrics.csv`` that logged ``key``; a bad run or key ends the
    command with the reason."""
    if not (run / "metrics.csv").exists():
        raise SystemExit(f"no metrics.csv in {run}")
    try:
        return read_metric(run, key)
    except ValueError as error:
        raise SystemExit(str(error)) from error


def plot(args: argparse.Namespace) -> None:
    curves = [(label, curve(run, args.key)) for run, label in map(run_and_label, args.run)]  # read all first
    figure, (axis,) = panels(size=(6.5, 4.0))
    for label, points in curves:
        axis.plot(*zip(*points), label=label)
    if args.hline is not None:
        axis.axhline(args.hline, color="grey", linestyle="--", label=args.hline_label)
    axis.set(xlabel="environment frames", ylabel=args.key, title=args.title)
    save(figure, args.out)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("curves", help="one metric against frames for several runs", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="append", required=True, help="DIR:LABEL (repeat)")
    parser.add_argument("--key", default="eval_return", help="metric column (default: eval_return)")
    parser.add_argument("--title", default="")
    parser.add_argument("--hline", type=float, default=None, help="a reference level to draw, e.g. a heuristic")
    parser.add_argument("--hline-label", default="reference")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.set_defaults(func=plot)
