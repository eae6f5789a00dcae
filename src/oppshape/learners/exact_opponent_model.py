"""Exact opponent models: agent i fits its own model of agent j's policy before shaping it.

POLA's Appendix B.1.6 (the reference's ``--opp_model --om_exact``) gives each agent a model of the
other, possibly with a different parameterization, fitted at the start of every epoch by gradient
descent on ``KL(pi_j || pi_model)`` summed over the five states until it drops below a threshold;
the look-ahead then starts from the model instead of the true ``theta_j``. The model persists across
epochs, so each fit starts from the previous one.
"""

from __future__ import annotations

import torch
from torch import nn

from oppshape.objectives.exact_terms import bernoulli_kl


def stop_check_interval(device: torch.device) -> int:
    """How often a per-seed loop asks whether any seed is still active: ``bool(...)`` waits for the GPU.

    Finished seeds are masked, so extra iterations change nothing: on CUDA checking every 16th step
    trades at most 15 no-op steps for 15 fewer host-device synchronisations per check.
    """
    return 1 if device.type == "cpu" else 16


def seed_mask(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``mask`` ``[S]`` reshaped to broadcast over ``like`` ``[S, ...]``, in ``like``'s dtype."""
    return mask.to(like.dtype).reshape(-1, *([1] * (like.dim() - 1)))


def fit_opponent_model(
    model: nn.Module, target_coop: torch.Tensor, *, lr: float, threshold: float, max_iters: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit ``model`` in place to ``target_coop`` ``[S, 5]``, each seed until its KL is below threshold.

    Args:
        model: the seed-batched opponent model (``forward() -> [S, 5]``).
        target_coop: ``[S, 5]`` the opponent's actual P(cooperate).
        lr: gradient-descent step size on the KL (the schema's ``om_lr``).
        threshold: a seed stops once ``KL(pi_j || pi_model)`` is below this (``om_threshold``).
        max_iters: cap on fitting steps (``om_max_iters``).

    Returns:
        ``([S] final KL, [S] steps taken)``.
    """
    target = target_coop.detach()
    params = list(model.parameters())
    steps = torch.zeros(target.shape[0], device=target.device)
    check_every = stop_check_interval(target.device)
    for iteration in range(max_iters):
        kl = bernoulli_kl(target, model())
        active = kl > threshold
        if iteration % check_every == 0 and not bool(active.any()):
            break
        grads = torch.autograd.grad(kl.sum(), params)
        with torch.no_grad():
            for param, grad in zip(params, grads):
                param -= lr * grad * seed_mask(active, param)
        steps += active
    with torch.no_grad():
        return bernoulli_kl(target, model()), steps
