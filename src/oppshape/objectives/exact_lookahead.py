"""The opponent's differentiable look-ahead: how agent i predicts agent j's next policy.

LOLA without the Taylor approximation (the reference's ``--actual_update``) and POLA's inner loop
both replace ``theta_j`` by the result of ``inner_steps`` optimizer steps of agent j on

    L_j(theta_i, theta_j) + inner_beta * KL(pi_j(theta_j^0) || pi_j(theta_j))      (POLA eq. 5, solved approximately)

kept differentiable in ``theta_i``, so agent i's outer gradient flows through the opponent's
learning step. Two interchangeable backends compute it for any seed-batched policy module
(``forward() -> [S, 5]``, every parameter with the seed dimension first, see
``oppshape.modules.memory_one``):

* ``"vectorized"``: plain batched tensors; the parameters are swapped in with
  ``torch.func.functional_call`` and updated by hand-written differentiable SGD.
* ``"higher"``: ``higher``'s differentiable optimizers (SGD or Adam), as in the reference.

Both treat all seeds in one batched computation; seeds never interact, so summing their losses
before ``torch.autograd.grad`` yields each seed's own gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import higher
import torch
from torch import nn
from torch.func import functional_call

from oppshape.config.exact_ipd import BACKENDS, INNER_OPTIMIZERS
from oppshape.objectives.exact_terms import agent_value, bernoulli_kl, taylor_shaping_value

#: Adam's betas for the inner optimizer, as in the reference's ``get_adam_w_betas``.
ADAM_BETAS = (0.0, 0.99)


def _inner_loss(
    coop_other: torch.Tensor,
    coop_other_start: torch.Tensor | None,
    coop_self: torch.Tensor,
    other: int,
    payoff: torch.Tensor,
    gamma: float,
    inner_beta: float,
) -> torch.Tensor:
    """``[S]`` the opponent's proximal inner loss (POLA's inner step); plain ``-V_j`` when ``inner_beta == 0``."""
    loss = -agent_value(coop_other, coop_self, other, payoff, gamma)
    if coop_other_start is not None:
        loss = loss + inner_beta * bernoulli_kl(coop_other_start, coop_other)
    return loss


def lookahead_opponent(
    opponent: nn.Module,
    coop_self: torch.Tensor,
    agent: int,
    payoff: torch.Tensor,
    gamma: float,
    *,
    inner_lr: float,
    inner_steps: int = 1,
    inner_beta: float = 0.0,
    inner_optimizer: str = "sgd",
    backend: str = "vectorized",
) -> torch.Tensor:
    """``[S, 5]`` the opponent's P(cooperate) after its differentiable look-ahead steps.

    Args:
        opponent: agent j's policy (or agent i's model of it) at ``theta_j^0``; left unchanged.
        coop_self: ``[S, 5]`` agent i's P(cooperate), differentiable in ``theta_i``.
        agent: i, the index (0 or 1) of the agent doing the look-ahead; the opponent is ``1 - i``.
        inner_lr: the opponent's step size ``eta``.
        inner_steps: optimizer steps of the opponent (1 for LOLA and for the reference's POLA).
        inner_beta: weight of the opponent's proximity term (0 leaves it out).
        inner_optimizer: ``"sgd"`` or ``"adam"`` (Adam only with ``backend="higher"``).
        backend: ``"vectorized"`` or ``"higher"``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid choices: {', '.join(BACKENDS)}")
    if inner_optimizer not in INNER_OPTIMIZERS:
        raise ValueError(
            f"unknown inner_optimizer {inner_optimizer!r}; valid choices: {', '.join(INNER_OPTIMIZERS)}"
        )
    if inner_optimizer != "sgd" and backend != "higher":
        raise ValueError(f"inner_optimizer={inner_optimizer!r} needs backend='higher' (vectorized is SGD only)")
    coop_other_start = opponent().detach() if inner_beta > 0 else None
    other = 1 - agent

    def loss_fn(coop_other: torch.Tensor) -> torch.Tensor:
        return _inner_loss(coop_other, coop_other_start, coop_self, other, payoff, gamma, inner_beta)

    if backend == "higher":
        return _higher_lookahead(opponent, loss_fn, inner_lr, inner_steps, inner_optimizer)
    return _vectorized_lookahead(opponent, loss_fn, inner_lr, inner_steps)


def _vectorized_lookahead(
    opponent: nn.Module, loss_fn: Callable[[torch.Tensor], torch.Tensor], inner_lr: float, inner_steps: int
) -> torch.Tensor:
    names = [name for name, _ in opponent.named_parameters()]
    params = [param.detach().requires_grad_() for param in opponent.parameters()]
    for _ in range(inner_steps):
        loss = loss_fn(functional_call(opponent, dict(zip(names, params)), ()))
        grads = torch.autograd.grad(loss.sum(), params, create_graph=True)
        params = [param - inner_lr * grad for param, grad in zip(params, grads)]
    return functional_call(opponent, dict(zip(names, params)), ())


def _higher_lookahead(
    opponent: nn.Module,
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    inner_lr: float,
    inner_steps: int,
    inner_optimizer: str,
) -> torch.Tensor:
    if inner_optimizer == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(opponent.parameters(), lr=inner_lr, betas=ADAM_BETAS)
    else:
        optimizer = torch.optim.SGD(opponent.parameters(), lr=inner_lr)
    # copy_initial_weights: theta_j^0 is a constant; only theta_i is differentiated through the steps.
    with higher.innerloop_ctx(opponent, optimizer, copy_initial_weights=True, track_higher_grads=True) as (
        functional_opponent,
        diff_optimizer,
    ):
        for _ in range(inner_steps):
            diff_optimizer.step(loss_fn(functional_opponent()).sum())
        return functional_opponent()


def taylor_lookahead_value(
    opponent: nn.Module, coop_self: torch.Tensor, agent: int, payoff: torch.Tensor, gamma: float, inner_lr: float
) -> torch.Tensor:
    """``[S]`` agent i's original-LOLA objective (:func:`taylor_shaping_value`) at the opponent's policy."""
    names = [name for name, _ in opponent.named_parameters()]
    params = [param.detach().requires_grad_() for param in opponent.parameters()]
    coop_other = functional_call(opponent, dict(zip(names, params)), ())
    value_self = agent_value(coop_self, coop_other, agent, payoff, gamma)
    value_other = agent_value(coop_other, coop_self, 1 - agent, payoff, gamma)
    return taylor_shaping_value(value_self, value_other, params, inner_lr)
