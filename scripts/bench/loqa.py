"""LOQA: seconds per training iteration (collect + update) on the IPD and the 3x3 Coin Game."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from oppshape.config import LoggerConfig, RunConfig, TrainerConfig, check_section
from oppshape.config.loqa import ENV_SCHEMAS, LOQAConfig
from oppshape.experiments.loqa import build
from oppshape.learners.loqa import LOQALearner, member_snapshot
from oppshape.rollouts.loqa_snapshots import OpponentGroups

ROOT = Path(__file__).resolve().parents[2]
IPD = {"actor": "tabular", "qvalue": "mlp", "qvalue_hidden_size": 16, "num_envs": 2048, "entropy_coeff": 0.0,
       "max_grad_norm": 0.0, "snapshot_capacity": 0, "epsilon": 0.2}
ENVS = {"loqa_ipd": {"name": "iterated_matrix_game", "payoff": "ipd", "episode_length": 50},
        "loqa_coin": {"name": "coin_game", "height": 3, "width": 3, "episode_length": 50}}


def bench_learner(env: str, algo: dict, snapshots: int) -> LOQALearner:
    """A LOQA learner with the bench's settings, its snapshot buffer pre-filled with ``snapshots`` copies and
    frozen at that size (also timed by ``reference_loops``)."""
    torch.manual_seed(0)
    algo_config = OmegaConf.merge(OmegaConf.load(ROOT / "configs/algo/loqa.yaml"), algo)
    env_config = OmegaConf.create(ENVS[env])
    run_config = RunConfig("bench", 0, "cpu", check_section(algo_config, LOQAConfig, "algo"),
                           check_section(env_config, ENV_SCHEMAS[env_config.name], "env"), TrainerConfig(), LoggerConfig())
    learner = build(run_config, torch.device("cpu")).learner
    if learner.snapshots is not None:
        snapshot = member_snapshot(learner.loss)
        for _ in range(snapshots):  # the cost depends on how many distinct rows a batch samples
            learner.snapshots.push(snapshot)
        learner.snapshots.push_every = 10**9  # keep the filled size fixed while timing
    return learner


def _time(env: str, algo: dict, snapshots: int, iterations: int) -> dict[str, float]:
    """Per-iteration wall seconds of collect and update, CPU seconds of both, distinct opponents."""
    learner = bench_learner(env, algo, snapshots)
    learner.update(learner.collect())  # warm-up
    collect = update = 0.0
    cpu = time.process_time()
    distinct = 0.0
    for _ in range(iterations):
        if learner.snapshots is not None:
            distinct += len(OpponentGroups(learner.snapshots.sample(1, learner.episodes)).snapshot)
        started = time.perf_counter()
        batch = learner.collect()
        middle = time.perf_counter()
        learner.update(batch)
        collect, update = collect + middle - started, update + time.perf_counter() - middle
    return {"collect": collect / iterations, "update": update / iterations,
            "cpu": (time.process_time() - cpu) / iterations, "distinct": distinct / iterations}


def run(quick: bool) -> str:
    iterations = 2 if quick else 10
    snapshots = 64 if quick else 10_000  # the paper's full buffer: ~6 GB of GRU snapshots in memory
    rows = [
        ("IPD, tabular actor + MLP Q(16,16), batch 2048, eps 0.2", "loqa_ipd", IPD, 0, "~0.2 s"),
        (f"Coin Game 3x3, GRU 128 actor + GRU 64 Q, batch 512, {snapshots} snapshots", "loqa_coin", {}, snapshots,
         "~3.6 s (full 10 000-snapshot buffer)"),
    ]
    lines = [
        "## LOQA (`LOQALearner`): seconds per iteration",
        "",
        "One iteration = play 50-step episodes against sampled opponents (collect) + actor, Q and EMA",
        "steps (update). The snapshot buffer is pre-filled (full mode: the paper's 10 000 snapshots, ~6 GB);",
        "what costs is the number of distinct snapshots a batch samples (each is one weight set read per",
        "step), shown as K. The JAX reference column is the issue's figure on a 2-core CPU.",
        "",
        "| setting | K | collect s | update s | total s (wall) | CPU s | JAX reference |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, env, algo, filled, reference in rows:
        t = _time(env, algo, filled, iterations)
        distinct = f"{t['distinct']:.0f}" if filled else "-"
        lines.append(f"| {name} | {distinct} | {t['collect']:.2f} | {t['update']:.2f} | "
                     f"{t['collect'] + t['update']:.2f} | {t['cpu']:.2f} | {reference} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(run(quick=True))
