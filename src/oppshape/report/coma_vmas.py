"""``python -m oppshape.report coma-vmas``: COMA vs MAPPO vs IPPO on VMAS tasks, from a sweep's run directories.

``make coma-vmas`` (or one task's target) runs the sweep as Hydra multiruns into
``<runs>/<task>/<algo>/seed<seed>`` (``hydra.sweep.subdir=${env.scenario}/${algo.name}/seed${seed}``); this
command reads every finished run there and writes a Markdown table of final greedy / sampled returns next to a
uniformly random policy's (mean ± std over seeds) and a plot of the evaluation returns against frames.

    python -m oppshape.report coma-vmas --runs runs/coma_vmas --output docs/results/coma_vmas.md
    python -m oppshape.report coma-vmas --runs runs/coma_vmas --tasks navigation   # one task: table printed
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from oppshape.config.envs import VMAS_SCENARIOS
from oppshape.eval.plotting import band, panels, save
from oppshape.loggers import read_metric

ALGOS = ("coma", "mappo", "ippo")
Sweep = dict[str, dict[str, list[Path]]]  # task -> algo -> finished run directories (one per seed)


def finished_runs(runs: Path, tasks: list[str]) -> Sweep:
    """The run directories holding a ``summary.json`` under ``runs/<task>/<algo>/seed<s>``, seeds in order."""
    sweep: Sweep = {}
    for task in tasks:
        by_algo = {algo: sorted((runs / task / algo).glob("seed*/summary.json"), key=lambda p: p.parent.name)
                   for algo in ALGOS}
        found = {algo: [path.parent for path in paths] for algo, paths in by_algo.items() if paths}
        if found:
            sweep[task] = found
    if not sweep:
        raise SystemExit(f"no finished runs under {runs}/<task>/<algo>/seed<s> for tasks {', '.join(tasks)}")
    return sweep


def summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def _mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {spread:.3f}"


def table(sweep: Sweep) -> str:
    """Final returns (mean ± std over seeds): greedy and sampled policy, the random policy, wall time."""
    lines = [
        "| task | algorithm | frames | random policy | greedy return | sampled return | greedy vs MAPPO "
        "| wall s / run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, by_algo in sweep.items():
        finals = {algo: [summary(run) for run in runs] for algo, runs in by_algo.items()}
        mappo = statistics.mean(f["eval_return"] for f in finals["mappo"]) if "mappo" in finals else None
        for algo, runs in finals.items():
            greedy = [f["eval_return"] for f in runs]
            gap = "-" if mappo is None or algo == "mappo" else f"{statistics.mean(greedy) - mappo:+.3f}"
            lines.append(
                f"| {task} | {algo} | {int(runs[0]['frames']):,} "
                f"| {statistics.mean(f['random_return'] for f in runs):.3f}"
                f" | {_mean_std(greedy)} | {_mean_std([f['eval_return_sampled'] for f in runs])} | {gap}"
                f" | {statistics.mean(f['wall_time_s'] for f in runs):.0f} |"
            )
    return "\n".join(lines)


def plot(sweep: Sweep, path: Path) -> Path:
    """Greedy (top) and sampled-policy (bottom) evaluation return vs frames: mean over seeds, ± std band."""
    rows = (("eval_return", "greedy return"), ("eval_return_sampled", "sampled-policy return"))
    figure, axes = panels(ncols=len(sweep), nrows=len(rows))
    for row, (key, label) in enumerate(rows):
        for axis, (task, by_algo) in zip(axes[row * len(sweep):], sweep.items()):
            for algo, runs in by_algo.items():
                curves = [read_metric(run, key) for run in runs]
                length = min(len(points) for points in curves)
                frames = [frame for frame, _ in curves[0][:length]]
                values = [[value for _, value in points[:length]] for points in curves]
                per_step = list(zip(*values))
                spread = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in per_step]
                band(axis, frames, [statistics.mean(v) for v in per_step], spread, label=algo)
            first = next(iter(by_algo.values()))
            axis.axhline(statistics.mean(summary(run)["random_return"] for run in first), color="grey",
                         linestyle="--", label="random")
            axis.set(title=task, xlabel="frames", ylabel=label)
    return save(figure, path)


def report(args: argparse.Namespace) -> None:
    unknown = sorted(set(args.tasks) - set(VMAS_SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown task(s) {unknown}; valid choices: {', '.join(VMAS_SCENARIOS)}")
    sweep = finished_runs(args.runs, args.tasks)
    markdown = table(sweep)
    print(markdown)
    if args.output is None:
        name = "returns.png" if tuple(args.tasks) == VMAS_SCENARIOS else f"returns_{'_'.join(args.tasks)}.png"
        print(f"plot: {plot(sweep, args.runs / name)}")
        return
    image = plot(sweep, args.output.with_suffix(".png"))
    seeds = sorted({run.name for by_algo in sweep.values() for runs in by_algo.values() for run in runs})
    command = " ".join(["python -m oppshape.report", *sys.argv[1:]])
    args.output.write_text(
        f"# COMA vs MAPPO vs IPPO on VMAS\n\n`{command}` (runs of `make coma-vmas`); {', '.join(seeds)}; "
        f"final greedy / sampled-policy episode return per agent (mean ± std over seeds).\n\n"
        f"{markdown}\n\n![returns vs frames]({image.name})\n"
    )
    print(f"wrote {args.output} and {image}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("coma-vmas", help="table and plot of the COMA / MAPPO / IPPO VMAS sweep",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=Path("runs/coma_vmas"), help="the sweep's folder")
    parser.add_argument("--tasks", nargs="+", default=list(VMAS_SCENARIOS), help="VMAS scenarios to tabulate")
    parser.add_argument("--output", type=Path, default=None,
                        help="write the table here (Markdown) and the plot beside it (.png)")
    parser.set_defaults(func=report)
