"""Wall time of the 12-game x 5-seed Stackelberg PPO experiment (all 60 runs in one batch), per phase."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import torch

from oppshape.cli import run as run_cli

PHASES = ("follower pre-training", "leader training (PPO)", "follower re-training")


def _phase_seconds(metrics_csv: Path) -> list[tuple[int, float]]:
    """(iterations, seconds) spent in each phase, from the per-iteration ``wall_time_s`` column."""
    rows = list(csv.DictReader(metrics_csv.open()))
    spent: dict[int, list[float]] = {}
    previous = 0.0
    for row in rows:
        wall = float(row["wall_time_s"])
        spent.setdefault(int(float(row["phase"])), []).append(wall - previous)
        previous = wall
    return [(len(spent.get(phase, [])), sum(spent.get(phase, []))) for phase in range(3)]


def run(quick: bool) -> str:
    iterations = (20, 20, 5) if quick else (500, 500, 50)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    overrides = [
        "experiment=stackelberg_allgames_ppo", "logger=quiet", "trainer.progress=false", f"device={device}",
        f"algo.pretrain_iterations={iterations[0]}", f"algo.leader_iterations={iterations[1]}",
        f"algo.post_iterations={iterations[2]}", f"trainer.iterations={sum(iterations)}",
        f"trainer.eval_every={max(iterations)}", "trainer.checkpoint_every=0",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = run_cli([*overrides, f"run_dir={Path(tmp) / 'run'}"])
        summary = json.loads((run_dir / "summary.json").read_text())
        phases = _phase_seconds(run_dir / "metrics.csv")
    results = summary["stackelberg"]
    lines = [
        "## Stackelberg (Oracles & Followers): 12 games x 5 seeds, PPO leader, one batch",
        "",
        f"`python -m oppshape experiment=stackelberg_allgames_ppo` with {sum(iterations)} iterations "
        f"({'quick: shortened phases' if quick else 'the full experiment'}), device {device}, "
        "60 runs (12 games x 5 seeds) trained side by side.",
        "",
        "| phase | iterations | seconds | ms / iteration |",
        "|---|---|---|---|",
    ]
    for name, (count, seconds) in zip(PHASES, phases):
        per = 1000 * seconds / count if count else 0.0
        lines.append(f"| {name} | {count} | {seconds:.1f} | {per:.0f} |")
    lines += [
        f"| **total (training loop)** | {summary['iterations']} | {summary['wall_time_s']:.1f} | |",
        "",
        f"Seeds at the Stackelberg value after follower re-training: {sum(results['reached_final'])}/"
        f"{len(results['reached_final'])}.",
    ]
    if quick:
        full = sum(1000 * s / c * n for (c, s), n in zip(phases, (500, 500, 50)) if c) / 1000
        lines.append(f"Extrapolated full experiment (500 + 500 + 50 iterations): {full / 60:.1f} min.")
    return "\n".join(lines)
