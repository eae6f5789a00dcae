"""``python -m oppshape.report frames-to-return``: frames at which each run's smoothed training return first
reaches given levels, as a Markdown table.

The "how much slower" numbers in docs/RESULTS.md (e.g. COMA vs MAPPO on transport) are read this way: a
rolling mean over the last ``--window`` logged rows, so one lucky batch does not count as reaching a level.
    python -m oppshape.report frames-to-return --run runs/a:"MAPPO s0" --run runs/b:"COMA s0" --levels 0.1 1.0
"""

from __future__ import annotations

import argparse

from oppshape.report.curves import curve, run_and_label


def frames_to_reach(points: list[tuple[float, float]], levels: list[float], window: int) -> dict[float, float | None]:
    """For each level, the first frame count at which the mean of the last ``window`` values (fewer at the
    start) is at least the level; ``None`` if it never is."""
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    reached: dict[float, float | None] = {level: None for level in levels}
    values = [value for _, value in points]
    for index, (frames, _) in enumerate(points):
        recent = values[max(0, index - window + 1) : index + 1]
        mean = sum(recent) / len(recent)
        for level in levels:
            if reached[level] is None and mean >= level:
                reached[level] = frames
    return reached


def table(rows: list[tuple[str, dict[float, float | None], float]], levels: list[float]) -> str:
    """Markdown: one row per run, frames in millions per level ("-" if not reached) and the run's last frame."""
    header = "| run | " + " | ".join(f"reaches {level:g}" for level in levels) + " | frames logged |"
    lines = [header, "|---" * (len(levels) + 2) + "|"]
    for label, reached, last in rows:
        cells = ["-" if reached[level] is None else f"{reached[level] / 1e6:.1f}M" for level in levels]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {last / 1e6:.1f}M |")
    return "\n".join(lines)


def report(args: argparse.Namespace) -> None:
    if args.window < 1:
        raise SystemExit(f"--window must be at least 1, got {args.window}")
    rows = []
    for spec in args.run:
        run, label = run_and_label(spec)
        points = curve(run, args.key)
        if not points:
            raise SystemExit(f"{run}/metrics.csv logged no {args.key!r} rows")
        rows.append((label, frames_to_reach(points, args.levels, args.window), points[-1][0]))
    print(table(rows, args.levels))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("frames-to-return", help="frames at which each run's smoothed return first "
                                   "reaches given levels", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="append", required=True, help="DIR:LABEL (repeat)")
    parser.add_argument("--key", default="train_return", help="metric column (default: train_return)")
    parser.add_argument("--levels", type=float, nargs="+", default=[0.1, 0.5, 1.0])
    parser.add_argument("--window", type=int, default=10, help="rows in the rolling mean (default: 10)")
    parser.set_defaults(func=report)
