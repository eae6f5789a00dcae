"""Critic targets for COMA: TD(lambda) and n-step returns that bootstrap at truncation, not termination.

Both take tensors ``[*B, T, F]`` with time at ``-2`` (TorchRL's convention), where ``next_value[t]`` is the
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


def n_step_targets(
    gamma: float,
    n_steps: int,
    next_value: torch.Tensor,
    reward: torch.Tensor,
    done: torch.Tensor,
    terminated: torch.Tensor,
) -> torch.Tensor:
    """``G_t = sum_{k<m} gamma^k r_{t+k} + gamma^m V_{t+m}``, ``m = min(n, steps to episode or batch end)``.

    The sum stops early at the first ``done`` step (bootstrapping there unless ``terminated``) or at the last
    step of the batch. Vectorised over the batch; the only loop is over the ``n`` look-ahead steps.
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    _check_shapes(next_value, reward, done, terminated)
    done, terminated = done.bool(), terminated.bool()
    horizon = reward.shape[-2]
    bootstrap = next_value * (~terminated)
    returns = torch.zeros_like(reward)
    discount = torch.ones_like(reward)
    running = torch.ones_like(done)  # G_t still accumulating at look-ahead k
    for k in range(min(n_steps, horizon)):
        # quantities of step t + k, aligned at t (the last k rows have no step t + k)
        r_k, done_k, v_k = (_shift_up(x, k) for x in (reward, done, bootstrap))
        last_k = torch.zeros_like(done)
        last_k[..., : horizon - k, :] = True
        last_k = last_k & (done_k | (k == n_steps - 1) | _is_last_row(done, k))
        returns = returns + running * discount * (r_k + gamma * v_k * last_k)
        running = running & ~last_k
        discount = discount * gamma
    return returns


def _shift_up(x: torch.Tensor, k: int) -> torch.Tensor:
    """``y[..., t, :] = x[..., t + k, :]``, zero where ``t + k`` is past the end."""
    if k == 0:
        return x
    out = torch.zeros_like(x)
    out[..., :-k, :] = x[..., k:, :]
    return out


def _is_last_row(done: torch.Tensor, k: int) -> torch.Tensor:
    """True at rows ``t`` with ``t + k`` the batch's last step."""
    out = torch.zeros_like(done)
    out[..., done.shape[-2] - 1 - k, :] = True
    return out


def _check_shapes(*tensors: torch.Tensor) -> None:
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"next_value, reward, done and terminated must share one shape [*B, T, F]; got {shapes}")
    if tensors[0].dim() < 2:
        raise ValueError(f"targets need at least [T, F] tensors, got shape {tuple(tensors[0].shape)}")
