"""Exact opponent models: agent i fits its own model of agent j's policy before shaping it.

POLA's Appendix B.1.6 (the reference's ``--opp_model --om_exact``) gives each agent a model of the
other, possibly with a different parameterization, fitted at the start of every epoch by gradient
descent on ``KL(pi_j || pi_model)`` summed over the five states until it drops below a threshold;
the look-ahead then starts from the model instead of the true ``theta_j``. The model persists across
epochs, so each fit starts from the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from oppshape.learners.exact_objectives import bernoulli_kl


def stop_check_interval(device: torch.device) -> int:
    """How often a per-seed loop asks whether any seed is still active: ``bool(...)`` waits for the GPU.

    Finished seeds are masked, so extra iterations change nothing: on CUDA checking every 16th step
    trades at most 15 no-op steps for 15 fewer host-device synchronisations per check.
    """
    return 1 if device.type == "cpu" else 16


def seed_mask(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``mask`` ``[S]`` reshaped to broadcast over ``like`` ``[S, ...]``, in ``like``'s dtype."""
    return mask.to(like.dtype).reshape(-1, *([1] * (like.dim() - 1)))


@dataclass(frozen=True)
class OpponentModelRule:
    """How an exact opponent model is fitted (reference flags ``--om_lr_p``, ``--om_threshold``)."""

    lr: float = 0.2  # gradient-descent step size on the KL
    threshold: float = 1e-7  # stop a seed once KL(pi_j || pi_model) is below this
    max_iters: int = 10000  # cap on fitting steps per epoch (the reference's om_max_iters)

    def __post_init__(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"opponent-model lr={self.lr} must be > 0")
        if not self.threshold > 0:
            raise ValueError(f"opponent-model threshold={self.threshold} must be > 0")
        if self.max_iters < 1:
            raise ValueError(f"opponent-model max_iters={self.max_iters} must be an integer >= 1")


def fit_opponent_model(
    model: nn.Module, target_coop: torch.Tensor, rule: OpponentModelRule
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit ``model`` in place to ``target_coop`` ``[S, 5]``, each seed until its KL is below threshold.

    Returns:
        ``([S] final KL, [S] steps taken)``.
    """
    target = target_coop.detach()
    params = list(model.parameters())
    steps = torch.zeros(target.shape[0], device=target.device)
    check_every = stop_check_interval(target.device)
    for iteration in range(rule.max_iters):
        kl = bernoulli_kl(target, model())
        active = kl > rule.threshold
        if iteration % check_every == 0 and not bool(active.any()):
            break
        grads = torch.autograd.grad(kl.sum(), params)
        with torch.no_grad():
            for param, grad in zip(params, grads):
                param -= rule.lr * grad * seed_mask(active, param)
        steps += active
    with torch.no_grad():
        return bernoulli_kl(target, model()), steps
