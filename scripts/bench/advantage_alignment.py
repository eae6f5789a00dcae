"""Advantage Alignment beside LOQA: seconds per training iteration on the 3x3 Coin Game, one run, alternating."""

from __future__ import annotations

import statistics

import torch
from bench import load_module, time_collect_update
from omegaconf import OmegaConf

from oppshape.config import LoggerConfig, RunConfig, TrainerConfig, check_section
from oppshape.config.advantage_alignment import ENV_SCHEMAS, AdvantageAlignmentConfig
from oppshape.experiments.advantage_alignment import build

COIN = {"name": "coin_game", "height": 3, "width": 3, "episode_length": 50}
#: LOQA's Coin Game networks and batch (configs/algo/loqa.yaml): GRU 128 actor, GRU 64 value net, 512 episodes
LOQA_SIZES = {"num_envs": 512, "actor_hidden_size": 128, "critic_hidden_size": 64}


def _time_aa(algo: dict, iterations: int) -> dict[str, float]:
    """Per-iteration wall seconds of collect (both agents play) and update (both agents' actor and critic)."""
    torch.manual_seed(0)
    algo_config = OmegaConf.merge(OmegaConf.load("configs/algo/aa.yaml"), algo)
    run_config = RunConfig("bench", 0, "cpu", check_section(algo_config, AdvantageAlignmentConfig, "algo"),
                           check_section(OmegaConf.create(COIN), ENV_SCHEMAS["coin_game"], "env"),
                           TrainerConfig(), LoggerConfig())
    experiment = build(run_config, torch.device("cpu"))
    return time_collect_update(experiment.collect, experiment.learner.update, iterations)


def run(quick: bool) -> str:
    iterations, repeats = (1, 1) if quick else (3, 3)
    snapshots = 16 if quick else 1000
    loqa = load_module("loqa")  # scripts/bench/loqa.py: builds and times a LOQA learner (reused, not rewritten)
    rows = {
        "AA, shipped `aa_coin`: GRU 64 actor + GRU 64 critic, batch 128": lambda: _time_aa({}, iterations),
        "AA at LOQA's sizes: GRU 128 actor + GRU 64 critic, batch 512": lambda: _time_aa(LOQA_SIZES, iterations),
        f"LOQA, shipped `loqa_coin`: GRU 128 actor + GRU 64 Q, batch 512, {snapshots} snapshots":
            lambda: loqa._time("loqa_coin", {}, snapshots, iterations),
    }
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in rows}
    for _ in range(repeats):  # alternate the rows so that load drifts hit each alike
        for name, measure in rows.items():
            samples[name].append(measure())
    lines = [
        "## Advantage Alignment (`AdvantageAlignmentLearner`) beside LOQA: seconds per iteration",
        "",
        "One iteration, 3x3 Coin Game, 50-step episodes: collect (both agents play the batch; LOQA: against",
        "opponents sampled from its snapshot buffer) + update (AA: each agent's GAE, actor and critic step;",
        "LOQA: actor, Q and EMA steps). AA needs no opponent model, no replay of past opponents and one",
        "backward pass per network. Median over repeats of the per-iteration mean, the rows alternating in",
        f"one process ({repeats} repeats x {iterations} iterations after a warm-up; `taskset -c 1`, 1 thread).",
        "Wall above CPU seconds means the core was shared with other jobs (see the load average below).",
        "",
        "| setting | collect s | update s | total s (wall) | CPU s |",
        "|---|---|---|---|---|",
    ]
    for name, values in samples.items():
        median = {key: statistics.median(v[key] for v in values) for key in ("collect", "update", "cpu")}
        lines.append(f"| {name} | {median['collect']:.2f} | {median['update']:.2f} | "
                     f"{median['collect'] + median['update']:.2f} | {median['cpu']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(run(quick=True))
