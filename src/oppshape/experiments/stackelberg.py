"""Stackelberg family: leaders (PG, PPO, DQN) against a pre-trained query-answer follower oracle.

Gerstgrasser & Parkes, "Oracles & Followers" (ICML 2023). One run trains ``len(env.games) x
algo.num_seeds`` independent leader/follower pairs side by side; ``summary.json`` gets a
``stackelberg`` entry with every pair's outcome next to the brute-force Stackelberg value, which
``python -m oppshape.report stackelberg-table`` turns into the results table.
"""

from __future__ import annotations

from typing import Any

import torch

from oppshape.config import ConfigError, RunConfig
from oppshape.config.stackelberg import StackelbergConfig
from oppshape.envs import make_env
from oppshape.eval import stackelberg as stackelberg_eval
from oppshape.experiments.base import Experiment, MetricsHistory
from oppshape.learners.stackelberg import StackelbergLearner

__all__ = ["build"]


def build(run: RunConfig, device: torch.device) -> Experiment:
    """Two query-game envs (follower and leader batch sizes), the three-phase learner, eval and plots."""
    algo: StackelbergConfig = run.algo
    games = list(run.env.games)
    runs = len(games) * algo.num_seeds
    follower_env = make_env("stackelberg_query", num_envs=runs * algo.follower_episodes, device=device,
                            **run.env.kwargs())
    leader_env = make_env("stackelberg_query", num_envs=runs * algo.leader_episodes, device=device,
                          **run.env.kwargs())
    learner = StackelbergLearner(algo, follower_env, leader_env)
    if algo.follower_checkpoint is not None:
        saved = torch.load(algo.follower_checkpoint, map_location=device, weights_only=True)
        try:
            learner.load_pretrained_follower(saved["learner"]["pretrained_follower"])
        except (KeyError, ValueError) as error:
            raise ConfigError(f"algo.follower_checkpoint={algo.follower_checkpoint!r}: {error}") from None

    def evaluate() -> dict[str, float]:
        return stackelberg_eval.evaluate(learner, games, algo.success_tolerance)

    def summarize(history: MetricsHistory) -> dict[str, Any]:
        return {"stackelberg": stackelberg_eval.results(learner, games, algo)}

    return Experiment(
        learner=learner,
        collect=learner.collect,
        evaluate=evaluate,
        plot=stackelberg_eval.plot,
        summarize=summarize,
        progress_keys=("phase", "follower_br_frac", "leader_return", "leader_reached_frac"),
    )
