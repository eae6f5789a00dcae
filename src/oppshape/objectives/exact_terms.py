"""The quantities exact LOLA / POLA optimize on the analytic IPD: values, policy KLs, the Taylor term.

Pure tensor math under the exact losses (``objectives.exact_shaping``). Everything is batched over a
leading seed dimension ``S`` and returns one number per seed, so a learner sums over seeds only to call
``torch.autograd.grad`` (seeds never interact, so the gradient
of the sum is each seed's own gradient).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from oppshape.games.exact import exact_values


def agent_value(
    coop_self: torch.Tensor, coop_other: torch.Tensor, agent: int, payoff: torch.Tensor, gamma: float
) -> torch.Tensor:
    """``[S]`` discounted value ``V_agent`` when ``agent`` (0 or 1) plays ``coop_self`` ``[S, 5]``.

    Both policies are in their owner's own view; ``payoff`` is ``[2, 2, 2]`` in (agent 1, agent 2)
    order, so the pair is put back in that order before :func:`exact_values`.
    """
    pair = (coop_self, coop_other) if agent == 0 else (coop_other, coop_self)
    return exact_values(pair[0], pair[1], payoff, gamma)[..., agent]


def bernoulli_kl(coop_ref: torch.Tensor, coop: torch.Tensor) -> torch.Tensor:
    """``[S]`` KL(pi_ref || pi) summed over the five states, for P(cooperate) tensors ``[S, 5]``.

    This is POLA's proximity term (Algorithm 1; the reference's ``kl_div(..., reduction="batchmean")``
    over a batch of one). Zero-probability actions of ``pi_ref`` contribute nothing; ``pi`` is kept
    off exact 0 so a saturated policy gives a large finite penalty instead of NaN.
    """
    tiny = torch.finfo(coop.dtype).tiny
    defect_ref, defect = 1 - coop_ref, 1 - coop
    kl = (
        torch.special.xlogy(coop_ref, coop_ref)
        - coop_ref * torch.log(coop.clamp_min(tiny))
        + torch.special.xlogy(defect_ref, defect_ref)
        - defect_ref * torch.log(defect.clamp_min(tiny))
    )
    return kl.sum(-1)


def per_seed_dot(left: Sequence[torch.Tensor], right: Sequence[torch.Tensor]) -> torch.Tensor:
    """``[S]`` inner product of two parameter lists whose tensors all have the seed dimension first."""
    return sum((a * b).flatten(1).sum(-1) for a, b in zip(left, right, strict=True))  # type: ignore[return-value]


def taylor_shaping_value(
    value_self: torch.Tensor,
    value_other: torch.Tensor,
    other_params: Sequence[torch.Tensor],
    inner_lr: float,
) -> torch.Tensor:
    """``[S]`` the original LOLA objective ``V_i + inner_lr <grad_j V_i, grad_j V_j>``.

    It is the first-order Taylor expansion of ``V_i(theta_i, theta_j + inner_lr grad_j V_j)`` (Foerster
    et al. 2018).

    Its gradient with respect to ``theta_i`` is the original (Taylor-approximated) LOLA update. As in
    the reference's ``update_th_taylor_approx_exact_value``, both factors of the inner product are
    differentiated (the Stable Opponent Shaping paper's form), not only ``grad_j V_j``.

    Args:
        value_self: ``[S]`` ``V_i``, a function of both agents' parameters.
        value_other: ``[S]`` ``V_j``.
        other_params: agent ``j``'s parameters (leaves requiring grad), seed dimension first.
        inner_lr: the opponent's look-ahead learning rate ``eta``.
    """
    grad_self = torch.autograd.grad(value_self.sum(), other_params, create_graph=True)
    grad_other = torch.autograd.grad(value_other.sum(), other_params, create_graph=True)
    return value_self + inner_lr * per_seed_dot(grad_self, grad_other)
