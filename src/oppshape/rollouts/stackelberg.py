"""Data collection of the Stackelberg family: play full episodes of the query game and cut them into one
agent's learning batch.

Env ``b`` of a batch belongs to run ``b // episodes_per_run`` (runs are contiguous blocks, matching the
env's game blocks), so flattening ``[B, steps]`` keeps each run's rows together and per-run losses are
``loss.view(n_runs, -1).mean(-1)``.
"""

from __future__ import annotations

from typing import Callable

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.envs import EnvBase

ActFn = Callable[[torch.Tensor], torch.Tensor]
LEADER, FOLLOWER = 0, 1


def run_of_env(num_envs: int, n_runs: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``[B]`` run index of every env (``B / n_runs`` consecutive episodes per run)."""
    if num_envs % n_runs:
        raise ValueError(f"num_envs={num_envs} must be a multiple of n_runs={n_runs}")
    return torch.arange(num_envs, device=device) // (num_envs // n_runs)


def play_episodes(env: EnvBase, leader_act: ActFn, follower_act: ActFn) -> TensorDictBase:
    """One full episode (queries then play) in every env; returns the ``[B, S + T]`` rollout.

    ``leader_act`` and ``follower_act`` map ``[B]`` observation indices to ``[B]`` actions.
    """

    def joint_policy(td: TensorDictBase) -> TensorDictBase:
        observation = td["agents", "observation"]
        action = torch.stack([leader_act(observation[:, LEADER]), follower_act(observation[:, FOLLOWER])], -1)
        td["agents", "action"] = action
        return td

    steps = env.n_queries + env.episode_length
    with torch.no_grad():
        return env.rollout(steps, policy=joint_policy, break_when_any_done=False)


def returns_to_go(reward: torch.Tensor) -> torch.Tensor:
    """``G_t = sum_{t' >= t} r_t'`` along the last dim (gamma = 1, as in the reference runs)."""
    return reward.flip(-1).cumsum(-1).flip(-1)


def agent_rows(episodes: TensorDictBase, agent: int, first_step: int, n_runs: int) -> TensorDict:
    """One agent's steps ``first_step..end`` of every episode as a flat, run-major learning batch.

    Returns a ``[R * E * L']`` TensorDict with ``run``, ``observation``, ``action``, ``return`` (the
    return-to-go over the agent's whole episode, query steps included, so dropping the query rows for
    hidden queries leaves the play rows' returns unchanged) and ``next`` (``observation``,
    ``reward`` ``[N, 1]``, ``done`` / ``terminated``: true on the last step, since the finitely repeated
    game's value ends there).
    """
    num_envs, steps = episodes.batch_size
    if not 0 <= first_step < steps:
        raise ValueError(f"first_step={first_step} must lie in [0, {steps})")
    reward = episodes["next", "agents", "reward"][:, :, agent, 0]
    observation = episodes["agents", "observation"][:, :, agent]
    next_observation = episodes["next", "agents", "observation"][:, :, agent]
    last = torch.zeros_like(reward, dtype=torch.bool)
    last[:, -1] = True
    run = run_of_env(num_envs, n_runs, reward.device).unsqueeze(-1).expand(num_envs, steps)
    keep = slice(first_step, steps)
    count = num_envs * (steps - first_step)

    def flat(value: torch.Tensor) -> torch.Tensor:
        return value[:, keep].reshape(count)

    return TensorDict(
        {
            "run": flat(run),
            "observation": flat(observation),
            "action": flat(episodes["agents", "action"][:, :, agent]),
            "return": flat(returns_to_go(reward)).unsqueeze(-1),
            "next": {
                "run": flat(run),
                "observation": flat(next_observation),
                "reward": flat(reward).unsqueeze(-1),
                "done": flat(last).unsqueeze(-1),
                "terminated": flat(last).unsqueeze(-1),
            },
        },
        batch_size=[count],
    )


def per_run_mean(values: torch.Tensor, n_runs: int) -> torch.Tensor:
    """``[R]`` mean of run-major rows ``[R * N, ...]``."""
    return values.reshape(n_runs, -1).mean(-1)
