"""Critic targets for COMA: TD(lambda) returns that bootstrap at truncation, not termination.

They take tensors ``[*B, T, F]`` with time at ``-2`` (TorchRL's convention), where ``next_value[t]`` is the
target critic's value of the state reached after step ``t``. A step with ``done`` ends the return's
recursion; the bootstrap ``next_value`` is kept when the episode was cut by a time limit (``done`` but not
``terminated``) and zeroed when it really ended (``terminated``). The batch's last step bootstraps from its
``next_value``.
"""

from __future__ import annotations

import torch
from torchrl.objectives.value.functional import td_lambda_return_estimate


def td_lambda_targets(
    gamma: float,
    lmbda: float,
    next_value: torch.Tensor,
    reward: torch.Tensor,
    done: torch.Tensor,
    terminated: torch.Tensor,
) -> torch.Tensor:
    """``G_t = r_t + gamma * [(1 - lambda) V_{t+1} + lambda G_{t+1}]`` (COMA Sec. 5, Sutton & Barto 12.3).

    The recursion restarts from ``V_{t+1}`` after a ``done`` step, and ``V_{t+1}`` is 0 after a
    ``terminated`` step. This is TorchRL's ``td_lambda_return_estimate``; we call it rather than re-derive it.
    """
    _check_shapes(next_value, reward, done, terminated)
    return td_lambda_return_estimate(gamma, lmbda, next_value, reward, done.bool(), terminated.bool())


def _check_shapes(*tensors: torch.Tensor) -> None:
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"next_value, reward, done and terminated must share one shape [*B, T, F]; got {shapes}")
    if tensors[0].dim() < 2:
        raise ValueError(f"targets need at least [T, F] tensors, got shape {tuple(tensors[0].shape)}")
