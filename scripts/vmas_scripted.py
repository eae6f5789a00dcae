"""Scripted VMAS teams with the learners' 9 discrete actions: the pieces the ``*_heuristic.py`` scripts share."""

from __future__ import annotations

from collections.abc import Callable

import torch
from tensordict import TensorDictBase
from torchrl.envs import EnvBase

Policy = Callable[[torch.Tensor], torch.Tensor]


def unit(vector: torch.Tensor) -> torch.Tensor:
    return vector / vector.norm(dim=-1, keepdim=True).clamp_min(1e-6)


def discrete_move(direction: torch.Tensor) -> torch.Tensor:
    """``[..., 2]`` wanted direction -> VMAS flat action ``3 * x + y`` with 0 = stay, 1 = minus, 2 = plus per axis."""
    direction = unit(direction)
    per_axis = torch.where(direction > 0.3, 2, torch.where(direction < -0.3, 1, 0))
    return per_axis[..., 0] * 3 + per_axis[..., 1]


def still_action(observation: torch.Tensor) -> torch.Tensor:
    return torch.zeros(observation.shape[:-1], dtype=torch.long)


def play(env: EnvBase, policy: Policy | None, steps: int) -> tuple[torch.Tensor, TensorDictBase]:
    """``steps`` steps from a reset with ``policy`` (observations ``[B, n, obs]`` -> actions ``[B, n]``; None:
    uniform random actions). Returns each env's summed reward of agent 0 ``[B]`` and the last state."""
    td = env.reset()
    total = torch.zeros(env.batch_size)
    for _ in range(steps):
        if policy is None:
            td = env.rand_action(td)
        else:
            td["agents", "action"] = policy(td["agents", "observation"])
        td = env.step(td)
        total += td["next", "agents", "reward"][..., 0, 0]
        td = td["next"]
    return total, td
