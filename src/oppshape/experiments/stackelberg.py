"""Stackelberg family: leaders (PG, PPO, DQN) against a pre-trained query-answer follower oracle.

Gerstgrasser & Parkes, "Oracles & Followers" (ICML 2023). One run trains ``len(env.games) x
algo.num_seeds`` independent leader/follower pairs side by side; ``summary.json`` gets a
``stackelberg`` entry with every pair's outcome next to the brute-force Stackelberg value, which
``scripts/stackelberg_table.py`` turns into the results table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch

from oppshape.config import ConfigError, RunConfig
from oppshape.envs.registry import make_env
from oppshape.eval.stackelberg_plots import plot_stackelberg
from oppshape.experiments.base import Experiment, MetricsHistory
from oppshape.games.stackelberg import GAME_NAMES, MEMORY_KINDS
from oppshape.learners.stackelberg import StackelbergLearner, StackelbergSettings

__all__ = ["ALGO_SCHEMAS", "ENV_SCHEMAS", "build"]


@dataclass
class StackelbergConfig(StackelbergSettings):
    """``algo: stackelberg`` (every hyperparameter is documented on ``StackelbergSettings``)."""

    name: str = "stackelberg"  # algorithm name (algo.name)
    follower_checkpoint: Optional[str] = None  # checkpoints/last.pt of an earlier run: reuse its follower oracle

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.follower_checkpoint is not None and not Path(self.follower_checkpoint).is_file():
            raise ValueError(f"algo.follower_checkpoint={self.follower_checkpoint!r} is not a file; give the "
                             "checkpoints/last.pt of an earlier stackelberg run (or null)")


@dataclass
class StackelbergQueryEnvConfig:
    """``env: stackelberg_query``: the repeated game with leader queries (``StackelbergQueryGame``)."""

    name: str = "stackelberg_query"  # env name (cfg.env.name)
    games: list[str] = field(default_factory=lambda: ["prisoners_dilemma"])  # games played side by side
    memory: str = "full"  # none | small (other's last action) | full (last joint action)
    episode_length: int = 10  # play steps per episode (paper: 10 with full memory, 5 with small)
    reward_offset: float = -2.5  # added to every play-step reward (paper: -2.5)
    tell_leader: bool = False  # the leader observes whether it is answering a query

    def __post_init__(self) -> None:
        if not self.games:
            raise ValueError(f"env.games is empty; valid choices: {', '.join(GAME_NAMES)}")
        unknown = [game for game in self.games if game not in GAME_NAMES]
        if unknown:
            raise ValueError(f"env.games has unknown game(s) {unknown}; valid choices: {', '.join(GAME_NAMES)}")
        if len(set(self.games)) != len(self.games):
            raise ValueError(f"env.games={list(self.games)} lists a game twice; use algo.num_seeds for repeats")
        if self.memory not in MEMORY_KINDS:
            raise ValueError(f"env.memory={self.memory!r} is not valid; valid choices: {', '.join(MEMORY_KINDS)}")
        if self.episode_length < 1:
            raise ValueError(f"env.episode_length={self.episode_length} must be an integer >= 1")


ALGO_SCHEMAS: dict[str, type] = {"stackelberg": StackelbergConfig}
ENV_SCHEMAS: dict[str, type] = {"stackelberg_query": StackelbergQueryEnvConfig}



def build(run: RunConfig, device: torch.device) -> Experiment:
    """Two query-game envs (follower and leader batch sizes), the three-phase learner, eval and plots."""
    algo: StackelbergConfig = run.algo
    env_cfg: StackelbergQueryEnvConfig = run.env
    if run.trainer.iterations != algo.total_iterations:
        raise ConfigError(
            f"trainer.iterations={run.trainer.iterations} must equal algo.pretrain_iterations + "
            f"algo.leader_iterations + algo.post_iterations = {algo.total_iterations}"
        )
    games = list(env_cfg.games)
    env_kwargs = dict(games=games, memory=env_cfg.memory, episode_length=env_cfg.episode_length,
                      reward_offset=env_cfg.reward_offset, tell_leader=env_cfg.tell_leader, device=device)
    runs = len(games) * algo.num_seeds
    follower_env = make_env("stackelberg_query", num_envs=runs * algo.follower_episodes, **env_kwargs)
    leader_env = make_env("stackelberg_query", num_envs=runs * algo.leader_episodes, **env_kwargs)
    learner = StackelbergLearner(algo, follower_env, leader_env, games)
    if algo.follower_checkpoint is not None:
        saved = torch.load(algo.follower_checkpoint, map_location=device, weights_only=True)
        try:
            learner.load_pretrained_follower(saved["learner"]["pretrained_follower"])
        except (KeyError, ValueError) as error:
            raise ConfigError(f"algo.follower_checkpoint={algo.follower_checkpoint!r}: {error}") from None

    def summarize(history: MetricsHistory) -> dict[str, Any]:
        return {"stackelberg": learner.results()}

    return Experiment(
        learner=learner,
        collect=learner.collect,
        evaluate=learner.evaluate,
        plot=plot_stackelberg,
        summarize=summarize,
        progress_keys=("phase", "follower_br_frac", "leader_return", "leader_reached_frac"),
    )
