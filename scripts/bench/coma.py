"""COMA vs MAPPO / IPPO: training frames per second on VMAS navigation with 600 parallel envs.

Every algorithm runs the ``coma_navigation`` experiment config (same env, same 6000-frame batches, same
actor), so the only difference is the update: COMA's one pass of critic + actor steps against PPO's epochs
of minibatches. Wall time is shared-machine time; CPU time is what this process used.
"""

from __future__ import annotations

import torch
from bench import time_collect_update

from oppshape.cli import compose
from oppshape.config import validate
from oppshape.experiments.coma import build

ALGOS = ("coma", "mappo", "ippo")


def _time(algo: str, iterations: int) -> dict[str, float]:
    """Seconds per iteration: collect (wall), update (wall), both (CPU); frames per iteration."""
    cfg = compose(["experiment=coma_navigation", f"algo={algo}", "seed=0"])
    validate(cfg)
    torch.manual_seed(0)
    experiment = build(validate(cfg), torch.device("cpu"))
    timing = time_collect_update(experiment.collect, experiment.learner.update, iterations)
    return {**timing, "frames": float(cfg.algo.frames_per_batch)}


def run(quick: bool) -> str:
    iterations = 2 if quick else 10
    timings = {algo: _time(algo, iterations) for algo in ALGOS}
    mappo_per_frame = timings["mappo"]["cpu"] / timings["mappo"]["frames"]
    lines = [
        "## COMA (`COMALearner`) vs MAPPO / IPPO: training throughput on VMAS navigation",
        "",
        "Config `experiment=coma_navigation`: 600 parallel envs x 10 steps = 6000 frames per iteration, 3 agents,",
        "9 discrete actions; one iteration = collect (TorchRL `Collector`) + update. COMA: 10 env-chunk minibatches,",
        "each 2 critic steps + 1 actor step. MAPPO / IPPO: 3 epochs x 15 minibatches of 400 frames (BenchMARL).",
        f"Mean of {iterations} iterations after one warm-up; frames/s and the ratio use CPU time.",
        "",
        "| algorithm | collect s (wall) | update s (wall) | CPU s / iteration | frames/s (CPU) | time per frame vs MAPPO |",
        "|---|---|---|---|---|---|",
    ]
    for algo, t in timings.items():
        per_frame = t["cpu"] / t["frames"]
        lines.append(f"| {algo} | {t['collect']:.3f} | {t['update']:.3f} | {t['cpu']:.3f} | "
                     f"{1 / per_frame:,.0f} | {per_frame / mappo_per_frame:.2f}x |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(run(quick=True))
