"""COMA vs MAPPO vs IPPO on VMAS tasks: same env, batch and frame budget, several seeds each.

Runs ``python -m oppshape experiment=coma_<task> [algo=mappo|ippo] seed=<s>`` for every combination (COMA
with the experiment's own COMA config; a run whose ``summary.json`` already exists with the same settings is
skipped, so an interrupted sweep resumes), then plots the greedy evaluation return against environment
frames (mean and range over seeds) and prints a Markdown table of final returns next to a uniformly random
policy's.

    python scripts/coma_vmas.py --jobs 2 --output docs/results/coma_vmas.md   # the full sweep (hours on 2 cores)
    python scripts/coma_vmas.py --tasks navigation --seeds 0 --iterations 5 --out runs/coma_smoke   # a smoke run
    python scripts/coma_vmas.py --tasks give_way --set env.max_steps=200 --out runs/gw200   # a task variant
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from oppshape.loggers import read_metric

TASKS = ("navigation", "balance", "transport", "simple_spread", "give_way")
ALGOS = ("coma", "mappo", "ippo")
ROOT = Path(__file__).resolve().parents[1]


def run_dir(out: Path, task: str, algo: str, seed: int) -> Path:
    return out / task / algo / f"seed{seed}"


def overrides_for(task: str, algo: str, seed: int, target: Path, extra: Sequence[str] = ()) -> list[str]:
    """CLI overrides of one run, ``extra`` (the same for every run of a sweep) last. COMA keeps the
    experiment's own COMA config (coma_navigation picks configs/algo/coma_fast.yaml); the baselines replace
    the algo group and keep their own settings."""
    overrides = [f"experiment=coma_{task}", f"seed={seed}", f"run_dir={target}"]
    if algo != "coma":
        overrides.append(f"algo={algo}")
    return overrides + list(extra)


def flatten(tree: dict, prefix: str = "") -> dict:
    """``{"lr": 1, "net": {"width": 64}}`` -> ``{"lr": 1, "net.width": 64}`` (keys prefixed by ``prefix``)."""
    flat = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return flat


def run_settings(cfg: DictConfig) -> dict:
    """What decides a run's result here, flattened: every algo and env key, the seed and the iterations."""
    settings = {"seed": cfg.seed, "trainer.iterations": cfg.trainer.iterations}
    for group in ("algo", "env"):
        settings.update(flatten(OmegaConf.to_container(cfg[group], resolve=True), f"{group}."))
    return settings


def check_job(out: Path, task: str, algo: str, seed: int, extra: Sequence[str] = ()) -> None:
    """Compose and validate one run's config (a bad ``--set`` stops the sweep before any run starts), and
    raise if a finished run is already in its directory with other settings (it would be skipped)."""
    from oppshape.cli import compose  # imports torch: not needed for --help
    from oppshape.config import validate

    target = run_dir(out, task, algo, seed)
    cfg = compose(overrides_for(task, algo, seed, target, extra))
    validate(cfg)
    if not (target / "summary.json").exists():
        return
    then = run_settings(OmegaConf.load(target / "config.yaml"))
    now = run_settings(cfg)
    changed = {key: (then.get(key), value) for key, value in now.items() if then.get(key) != value}
    if changed:
        raise RuntimeError(f"{target} holds a finished run with other settings (then, now): {changed}; "
                           "delete it or pass another --out")


def launch(out: Path, task: str, algo: str, seed: int, extra: Sequence[str] = ()) -> str:
    """Train one run in a child process (one CPU thread, lower priority); returns a log line."""
    target = run_dir(out, task, algo, seed)
    if (target / "summary.json").exists():
        return f"skip {target} (done)"
    overrides = overrides_for(task, algo, seed, target, extra)
    command = ["nice", "-n", "10", sys.executable, "-m", "oppshape", *overrides]
    command += ["trainer.progress=false", "logger=quiet"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return f"done {target}"


def summary(target: Path) -> dict:
    return json.loads((target / "summary.json").read_text())


def plot(out: Path, tasks: list[str], algos: list[str], seeds: list[int]) -> Path:
    """Greedy (top) and sampled-policy (bottom) evaluation return vs frames: mean line, min-max band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (("eval_return", "greedy return"), ("eval_return_sampled", "sampled-policy return"))
    fig, axes = plt.subplots(len(rows), len(tasks), figsize=(4 * len(tasks), 6.4), squeeze=False)
    for row, (key, label) in enumerate(rows):
        for ax, task in zip(axes[row], tasks):
            for algo in algos:
                curves = [read_metric(run_dir(out, task, algo, s), key) for s in seeds]
                frames = [f for f, _ in curves[0]]
                values = list(zip(*[[v for _, v in c[: len(frames)]] for c in curves]))
                ax.plot(frames, [statistics.mean(v) for v in values], label=algo)
                ax.fill_between(frames, [min(v) for v in values], [max(v) for v in values], alpha=0.2)
            random_return = statistics.mean(summary(run_dir(out, task, algos[0], s))["random_return"] for s in seeds)
            ax.axhline(random_return, color="grey", linestyle="--", label="random")
            ax.set(title=task, xlabel="frames", ylabel=label)
    axes[0][0].legend()
    fig.tight_layout()
    path = out / ("returns.png" if tuple(tasks) == TASKS else f"returns_{'_'.join(tasks)}.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {spread:.3f}"


def table(out: Path, tasks: list[str], algos: list[str], seeds: list[int]) -> str:
    """Final returns (mean ± std over seeds): greedy and sampled policy, the random policy, wall time."""
    lines = [
        "| task | algorithm | frames | random policy | greedy return | sampled return | greedy vs MAPPO | wall s / run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task in tasks:
        finals = {a: [summary(run_dir(out, task, a, s)) for s in seeds] for a in algos}
        mappo = statistics.mean(f["eval_return"] for f in finals["mappo"]) if "mappo" in finals else None
        for algo in algos:
            runs = finals[algo]
            greedy = [f["eval_return"] for f in runs]
            gap = "-" if mappo is None or algo == "mappo" else f"{statistics.mean(greedy) - mappo:+.3f}"
            lines.append(
                f"| {task} | {algo} | {int(runs[0]['frames']):,} | {statistics.mean(f['random_return'] for f in runs):.3f}"
                f" | {_mean_std(greedy)} | {_mean_std([f['eval_return_sampled'] for f in runs])} | {gap}"
                f" | {statistics.mean(f['wall_time_s'] for f in runs):.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated subset of {', '.join(TASKS)}")
    parser.add_argument("--algos", default=",".join(ALGOS), help=f"comma-separated subset of {', '.join(ALGOS)}")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--iterations", type=int, default=None, help="override trainer.iterations (smoke runs)")
    parser.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VALUE",
                        help="a Hydra override for every run (repeatable), e.g. --set env.max_steps=200")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "coma_vmas", help="where runs and the plot go")
    parser.add_argument("--output", type=Path, default=None, help="also write the table here (Markdown) + the plot")
    args = parser.parse_args()
    tasks, algos = args.tasks.split(","), args.algos.split(",")
    for name, chosen, valid in (("task", tasks, TASKS), ("algo", algos, ALGOS)):
        unknown = sorted(set(chosen) - set(valid))
        if unknown:
            parser.error(f"unknown {name}(s) {unknown}; valid choices: {', '.join(valid)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    extra = ([] if args.iterations is None else [f"trainer.iterations={args.iterations}"]) + args.extra
    jobs = [(task, algo, seed) for seed in seeds for task in tasks for algo in algos]
    for job in jobs:  # before the pool: Hydra's compose is not thread-safe
        check_job(args.out, *job, extra)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for line in pool.map(lambda job: launch(args.out, *job, extra), jobs):
            print(line, flush=True)
    figure = plot(args.out, tasks, algos, seeds)
    markdown = table(args.out, tasks, algos, seeds)
    print(f"plot: {figure}\n{markdown}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        image = args.output.with_suffix(".png")
        shutil.copyfile(figure, image)
        command = " ".join(["python", "scripts/coma_vmas.py", *sys.argv[1:]])
        args.output.write_text(
            f"# COMA vs MAPPO vs IPPO on VMAS\n\n`{command}`; seeds {args.seeds}; "
            f"final greedy / sampled-policy episode return per agent (mean ± std over seeds).\n\n"
            f"{markdown}\n\n![returns vs frames]({image.name})\n"
        )
        print(f"wrote {args.output} and {image}")


if __name__ == "__main__":
    main()
