"""Helpers shared by the RIAL and DIAL losses: one-step Q-learning over whole batched episodes.

Trajectories are ``[B, T, ...]`` TensorDicts in TorchRL's rollout layout (current step at the root,
reward and done under ``"next"``); a batch element whose episode ended before ``T`` is padded with
steps that these helpers mask out.
"""

from __future__ import annotations

import torch


def alive_mask(done: torch.Tensor) -> torch.Tensor:
    """``[B, T, 1]`` float: 1 for steps taken before (and including) the first ``done`` of each episode."""
    done = done.to(torch.float32)
    return ((done.cumsum(dim=1) - done) == 0).to(torch.float32)


def previous_index(index: torch.Tensor, taken: torch.Tensor | None = None) -> torch.Tensor:
    """Shift ``[B, T, n]`` choices one step later as embedding indices: 0 on step 0 (or when nothing was
    ``taken``), else ``1 + index`` of the step before."""
    shifted = index + 1 if taken is None else torch.where(taken, index + 1, torch.zeros_like(index))
    return torch.cat([torch.zeros_like(shifted[:, :1]), shifted[:, :-1]], dim=1)


def masked_max(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max over the last dim among the entries where ``mask`` is True (every row has at least one)."""
    return values.masked_fill(~mask, float("-inf")).amax(dim=-1)


def one_step_targets(
    reward: torch.Tensor, terminated: torch.Tensor, next_value: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Q-learning targets ``y_t = r_t + gamma * (1 - terminated_t) * V_{t+1}`` (DQN; paper eq. for RIAL).

    Args:
        reward: ``[B, T, n]``.
        terminated: ``[B, T, 1]``.
        next_value: ``[B, T, n]``, the target network's ``V`` at each step; ``V_T`` is taken as 0, so
            the last step of a trajectory must be terminal (the switch riddle's last day is).
    """
    shifted = torch.cat([next_value[:, 1:], torch.zeros_like(next_value[:, :1])], dim=1)
    return reward + gamma * (1.0 - terminated.to(reward.dtype)) * shifted
