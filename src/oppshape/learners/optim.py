"""Clipped gradient steps, written once: the update every on-policy learner here makes, and the per-seed
clipping of the learners that batch seeds as ensemble members (LOQA, Advantage Alignment)."""

from __future__ import annotations

from collections.abc import Iterable

import torch


def clipped_step(
    optimizer: torch.optim.Optimizer, params: Iterable[torch.Tensor], loss: torch.Tensor, max_grad_norm: float
) -> torch.Tensor:
    """Zero the grads, backpropagate ``loss``, clip ``params``' gradient norm, step; returns the norm before
    clipping (the usual diagnostic)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
    optimizer.step()
    return norm


def clip_per_member(grads: list[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scale each member's gradients (leading dim ``S``: seeds batched as ensemble members) to global norm at
    most ``max_norm``, in place (0: off), so one seed's large step never shrinks another's.

    Returns the norms ``[S]`` before clipping.
    """
    members = grads[0].shape[0]
    norms = torch.stack([g.reshape(members, -1).pow(2).sum(-1) for g in grads]).sum(0).sqrt()
    if max_norm > 0:
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for grad in grads:
            grad.mul_(scale.reshape(members, *([1] * (grad.dim() - 1))))
    return norms
