"""LOQA's scalability experiment (paper Fig. 4): wall-clock seconds to each threshold per board size.

Runs ``experiment=loqa_coin_scaling`` once per size (``env.height = env.width = N``) and prints, per
size, the seconds of the first evaluation passing LOQA's weak / medium / strong thresholds (read
from each run's ``summary.json``; "miss" when a run ended first). Extra ``key=value`` arguments are
passed to every run, e.g. ``trainer.iterations=300 seed=1``. Each run stops at the strong threshold
or its iteration / time budget; a size whose run directory already has a ``summary.json`` is read,
not re-run (pass ``resume=<dir>`` style overrides by hand to extend one).

    python scripts/loqa_coin_scaling.py --sizes 3 4 5 6 7 trainer.max_seconds=3600
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from oppshape.cli import run
from oppshape.experiments.loqa import THRESHOLDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 4, 5, 6, 7], help="board sizes N (N x N)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/loqa_coin_scaling"), help="one run dir per size")
    parser.add_argument("overrides", nargs="*", help="extra key=value config overrides for every run")
    args = parser.parse_args()
    bad = [size for size in args.sizes if size < 2]
    if bad:
        parser.error(f"board sizes must be >= 2; got {bad}")
    rows = []
    for size in args.sizes:
        run_dir = args.runs_dir / f"{size}x{size}"
        if not (run_dir / "summary.json").exists():
            run(["experiment=loqa_coin_scaling", f"env.height={size}", f"env.width={size}", f"run_dir={run_dir}",
                 *args.overrides])
        summary = json.loads((run_dir / "summary.json").read_text())
        cells = []
        for level in THRESHOLDS:
            seconds, iteration = summary.get(f"seconds_to_{level}"), summary.get(f"iteration_to_{level}")
            cells.append("miss" if seconds is None else f"{seconds:.0f} s (it {iteration})")
        rows.append(f"| {size}x{size} | {' | '.join(cells)} | {summary['iterations']} | {summary['wall_time_s']:.0f} |")
    print("| board | " + " | ".join(THRESHOLDS) + " | iterations | run seconds |")
    print("|---|" + "---|" * (len(THRESHOLDS) + 2))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
