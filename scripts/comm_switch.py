"""Reproduce Fig. 3 of Foerster et al. (2016): RIAL and DIAL on the switch riddle, several seeds each.

Runs ``python -m oppshape experiment=<algo>_switch_<n> seed=<s>`` for every (algo, n, seed) (skipping
runs whose ``summary.json`` exists), then plots the normalised test reward against epochs (mean and
+-1 std over seeds, each seed's curve optionally EWMA-smoothed as in the reference port's figure) and
writes a Markdown table of the reward around chosen epochs.

    python scripts/comm_switch.py --agents 3 --seeds 0 1 2 3 --epochs 3:5000 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from oppshape.loggers import read_metric

ROOT = Path(__file__).resolve().parents[1]
ALGOS = ("dial", "rial")
METRIC = "test_reward_normalized"


def parse_epochs(spec: list[str]) -> dict[int, int]:
    """``["3:5000", "4:20000"]`` -> ``{3: 5000, 4: 20000}``."""
    epochs = {}
    for item in spec:
        n, _, count = item.partition(":")
        if not (n.isdigit() and count.isdigit()):
            raise SystemExit(f"--epochs entries look like 3:5000 (agents:epochs); got {item!r}")
        epochs[int(n)] = int(count)
    return epochs


def run_one(run_dir: Path, algo: str, n: int, seed: int, epochs: int, segment: int, overrides: list[str]) -> Path:
    """One training run through the CLI (niced: the machine is shared), in resumed segments of
    ``segment`` epochs (0: one go); continues a run directory left by an earlier call."""
    summary = run_dir / "summary.json"
    done = json.loads(summary.read_text())["iterations"] if summary.exists() else 0
    common = ["logger=quiet", "trainer.progress=false"]
    while done < epochs:
        target = epochs if segment <= 0 else min(epochs, done + segment)
        if done == 0:
            args = [f"experiment={algo}_switch_{n}", f"seed={seed}", f"run_dir={run_dir}", *overrides]
        else:
            args = [f"resume={run_dir}"]  # algo, env and seed come from the run directory
        command = ["nice", "-n", "10", sys.executable, "-m", "oppshape", *args, f"trainer.iterations={target}", *common]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
        done = target
    return run_dir


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS)
    parser.add_argument("--agents", nargs="+", type=int, default=[3, 4])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", nargs="+", default=["3:5000", "4:20000"], help="agents:epochs per n")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel")
    parser.add_argument("--segment", type=int, default=0, help="epochs per resumed CLI call (0: one call per run)")
    parser.add_argument("--alpha", type=float, default=1.0, help="EWMA weight of each new test (1: no smoothing)")
    parser.add_argument("--marks", nargs="+", type=int, default=[500, 1000, 2000, 5000, 10000, 20000])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "comm_switch")
    parser.add_argument("overrides", nargs="*", help="extra CLI overrides for new runs, e.g. env.test_batch_size=512")
    args = parser.parse_args()
    epochs = parse_epochs(args.epochs)
    missing = sorted(set(args.agents) - set(epochs))
    if missing:
        raise SystemExit(f"no --epochs given for n={missing}; given: {sorted(epochs)}")
    if not 0.0 < args.alpha <= 1.0:
        raise SystemExit(f"--alpha={args.alpha} must be in (0, 1]")

    jobs = [(algo, n, seed) for n in args.agents for algo in args.algos for seed in args.seeds]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {
            job: pool.submit(run_one, args.out / f"{job[0]}_switch_{job[1]}" / f"seed{job[2]}", *job, epochs[job[1]],
                             args.segment, args.overrides)
            for job in jobs
        }
        run_dirs = {job: future.result() for job, future in futures.items()}

    figure = Figure(figsize=(6 * len(args.agents), 3.8))
    axes = np.atleast_1d(figure.subplots(1, len(args.agents)))
    table = ["| algo | n | seeds | epochs | " + " | ".join(f"R @ {m}" for m in args.marks) + " | wall s / run |",
             "|---|---|---|---|" + "---|" * len(args.marks) + "---|"]
    for axis, n in zip(axes, args.agents):
        for algo in args.algos:
            curves = [read_curve(run_dirs[(algo, n, seed)]) for seed in args.seeds]
            length = min(len(c[0]) for c in curves)
            steps = curves[0][0][:length]
            smoothed = np.stack([ewma(values[:length], args.alpha) for _, values in curves])
            mean, std = smoothed.mean(axis=0), smoothed.std(axis=0)
            (line,) = axis.plot(steps, mean, label=algo.upper())
            axis.fill_between(steps, mean - std, np.minimum(mean + std, 1.0), color=line.get_color(), alpha=0.2)
            cells = []
            for mark in args.marks:
                at_mark = np.array([window_mean(e, v, mark) for e, v in curves])
                cells.append("-" if np.isnan(at_mark).any() else f"{at_mark.mean():.3f} ± {at_mark.std():.3f}")
            summaries = [run_dirs[(algo, n, seed)] / "summary.json" for seed in args.seeds]
            walls = [json.loads(path.read_text())["wall_time_s"] for path in summaries]
            table.append(f"| {algo.upper()} | {n} | {len(args.seeds)} | {int(steps[-1])} | " + " | ".join(cells)
                         + f" | {np.mean(walls):.0f} |")
        axis.axhline(1.0, color="k", linestyle="--", linewidth=1, label="Oracle")
        axis.set(title=f"switch riddle, n = {n}", xlabel="# epochs", ylabel="normalised R (optimal)", ylim=(0.5, 1.01))
        axis.legend(loc="lower right")
    figure.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out / "comm_switch.png", dpi=120)
    note = (f"R @ E: normalised test reward, mean of the greedy evaluations in (E - 100, E] per seed, then mean ± std "
            f"over seeds {args.seeds}.")
    (args.out / "summary.md").write_text("\n".join(table) + "\n\n" + note + "\n")
    print("\n".join(table) + "\n\n" + note)
    print(f"wrote {args.out / 'comm_switch.png'} and {args.out / 'summary.md'}")


if __name__ == "__main__":
    main()
