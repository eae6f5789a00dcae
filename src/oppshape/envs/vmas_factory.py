"""VMAS tasks through TorchRL's ``VmasEnv``: many parallel envs on CPU or CUDA.

Actions are discrete by default (COMA needs them); ``continuous_actions=True`` gives VMAS's native force
actions, the setting of the VMAS paper's benchmarks, for the PPO baselines.

The time limit is applied by TorchRL's ``StepCounter`` rather than VMAS's ``max_steps``: VMAS marks the
horizon as ``terminated``, which would stop value targets from bootstrapping; ``StepCounter`` marks it as
``truncated`` and leaves ``terminated`` for real episode ends.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torchrl.envs import Compose, InitTracker, RewardSum, StepCounter, TransformedEnv
from torchrl.envs.libs.vmas import VmasEnv

from oppshape.config.envs import VMAS_SCENARIOS


def make_vmas_env(
    scenario: str,
    num_envs: int = 600,
    max_steps: int = 100,
    device: torch.device | str = "cpu",
    seed: int | None = 0,
    continuous_actions: bool = False,
    **scenario_kwargs: Any,
) -> TransformedEnv:
    """A batched VMAS env with integer actions ``("agents", "action")`` ``[num_envs, n_agents]`` (with
    ``continuous_actions``: bounded forces ``[num_envs, n_agents, action_dim]``).

    Per-agent rewards stay at ``("agents", "reward")`` ``[B, n, 1]``; ``("agents", "episode_reward")``
    accumulates them over the episode; ``is_init`` flags episode starts (for recurrent policies).
    ``scenario_kwargs`` go to the VMAS scenario (e.g. ``n_agents=3``); any it does not use is an error.
    """
    if scenario not in VMAS_SCENARIOS:
        raise ValueError(f"unknown VMAS scenario {scenario!r}; valid choices: {', '.join(VMAS_SCENARIOS)}")
    if num_envs < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = VmasEnv(
            scenario,
            num_envs=num_envs,
            continuous_actions=continuous_actions,
            categorical_actions=True,
            device=device,
            seed=seed,
            **scenario_kwargs,
        )
    unused = [str(w.message) for w in caught if "passed but not used by the scenario" in str(w.message)]
    if unused:
        raise ValueError(f"VMAS scenario {scenario!r} does not take these arguments: {unused[0].split(' This')[0]}")
    for w in caught:
        if "passed but not used" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return TransformedEnv(
        env,
        Compose(
            StepCounter(max_steps),
            InitTracker(),
            RewardSum(in_keys=[("agents", "reward")], out_keys=[("agents", "episode_reward")]),
        ),
    )
