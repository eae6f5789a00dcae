"""COMA on the switch riddle without communication: several seeds per prisoner count, next to the references.

Runs ``python -m oppshape experiment=coma_switch_<n> seed=<s>`` (a run whose ``summary.json`` exists is kept, so
an interrupted sweep resumes) and prints a Markdown table of the final greedy / sampled returns next to the
Bayes-optimal last-day rule (the reference without communication), the oracle and a random policy.

    python scripts/coma_switch.py --agents 3 4 --seeds 0 1 2 --output docs/results/coma_switch.md
    python scripts/coma_switch.py --agents 3 --seeds 0 --iterations 5 --out runs/coma_switch_smoke   # smoke run
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(out: Path, agents: int, seed: int, iterations: int | None) -> Path:
    target = out / f"n{agents}" / f"seed{seed}"
    if not (target / "summary.json").exists():
        command = [sys.executable, "-m", "oppshape", f"experiment=coma_switch_{agents}", f"seed={seed}",
                   f"run_dir={target}"] + ([f"trainer.iterations={iterations}"] if iterations is not None else [])
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return target


def _mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} +- {spread:.3f}"


def table(runs: dict[int, list[Path]]) -> str:
    lines = ["| prisoners | seeds | greedy return | sampled return | greedy / oracle | last-day rule | oracle | "
             "random | frames | wall s / run |", "|---" * 10 + "|"]
    for agents, targets in runs.items():
        rows = [json.loads((t / "summary.json").read_text()) for t in targets]
        first = rows[0]
        lines.append(
            f"| {agents} | {len(rows)} | {_mean_std([r['eval_return'] for r in rows])} | "
            f"{_mean_std([r['eval_return_sampled'] for r in rows])} | {_mean_std([r['eval_normalized'] for r in rows])} | "
            f"{first['reference_return']:.3f} | {first['oracle_return']:.3f} | {first['random_return']:.3f} | "
            f"{int(first['frames']):,} | {statistics.mean(r['wall_time_s'] for r in rows):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[3, 4], help="prisoner counts (>= 2)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=None, help="override trainer.iterations (smoke runs)")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "coma_switch", help="where the runs go")
    parser.add_argument("--output", type=Path, default=None, help="also write the table here (Markdown)")
    args = parser.parse_args()
    bad = [n for n in args.agents if n < 2]
    if bad:
        parser.error(f"--agents {bad[0]}: the riddle needs at least 2 prisoners")
    jobs = [(n, s) for n in args.agents for s in args.seeds]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        targets = list(pool.map(lambda job: run(args.out, job[0], job[1], args.iterations), jobs))
    runs: dict[int, list[Path]] = {}
    for (agents, _), target in zip(jobs, targets):
        runs.setdefault(agents, []).append(target)
    markdown = table(runs)
    print(markdown)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(markdown + "\n")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
