"""One clipped gradient step: the update every on-policy learner here makes, written once."""

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
