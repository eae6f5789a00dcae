"""Exact naive / LOLA / POLA objectives on the analytic IPD as TorchRL ``LossModule``s (POLA paper, Section 5.1).

The game is the infinitely repeated, discounted 2x2 game whose values are closed-form functions of the two
memory-one policies (``games.exact_values``), so each loss is a deterministic, differentiable function of
the policies: no samples, no env. A loss belongs to one agent ``i``; its input is agent i's P(cooperate |
state) ``[S, 5]`` still attached to the graph of agent i's parameters (any parameterization: tabular, the
tanh network or the pre-conditioned tabular policy of ``modules.memory_one``), and it owns the opponent's
module, from whose current parameters it computes the opponent's differentiable look-ahead. ``S`` is a
batch of independent seeds; ``loss_objective`` is the sum over seeds, so its gradient with respect to
agent i's parameters is every seed's own gradient.

* :class:`ExactValueLoss`: naive learning, ``-V_i(theta_i, theta_j)``.
* :class:`ExactLOLALoss`: LOLA, ``-V_i(theta_i, theta_j'(theta_i))`` through the opponent's look-ahead
  ``theta_j'`` (``objectives.exact_lookahead``; POLA eq. 5 with ``inner_beta > 0``), or the original
  first-order (Taylor) LOLA objective.
* :class:`ExactPOLALoss`: the outer proximal objective of POLA eq. 6, LOLA's plus
  ``outer_beta * KL(pi_i(theta_i^0) || pi_i(theta_i))``.

Minimising the POLA loss to its fixed point is an optimisation loop; it lives in
``learners.exact_shaping.ExactShapingLearner`` (one loss per agent, per-agent gradients).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase
from tensordict.utils import NestedKey
from torch import nn
from torchrl.objectives import LossModule

from oppshape.config.exact_ipd import LOOKAHEADS
from oppshape.objectives.exact_lookahead import lookahead_opponent, taylor_lookahead_value
from oppshape.objectives.exact_terms import agent_value, bernoulli_kl


class ExactValueLoss(LossModule):
    """Naive learning's loss: minus agent i's exact discounted value against the opponent as it is.

    ``loss_objective = sum_s -V_i(pi_i, pi_j)`` with ``pi_j`` detached (simultaneous gradient ascent).

    Args:
        opponent: agent j's seed-batched policy (``forward() -> [S, 5]``, own view), or agent i's model of it.
        payoff: ``[2, 2, 2]`` payoff table in (agent 1, agent 2) order (``games.payoff_table``).
        agent: i, 0 for agent 1 or 1 for agent 2.
        gamma: discount of the infinitely repeated game, in (0, 1).

    Example:
        >>> import torch
        >>> from tensordict import TensorDict
        >>> from oppshape.games import payoff_table
        >>> from oppshape.modules.memory_one import make_memory_one_policy
        >>> me, other = (make_memory_one_policy("tabular", 4) for _ in range(2))
        >>> loss = ExactValueLoss(other, payoff_table("ipd_cf", cf=1.33), agent=0, gamma=0.96)
        >>> out = loss(TensorDict({"cooperation": me()}, batch_size=[4]))
        >>> grads = torch.autograd.grad(out["loss_objective"], list(me.parameters()))
    """

    @dataclass
    class _AcceptedKeys:
        """Input keys.

        Attributes:
            cooperation: ``[S, 5]`` agent i's P(cooperate | start, CC, CD, DC, DD), own view, attached to
                the graph of agent i's parameters (the only input: the opponent is the loss's module).
            anchor_cooperation: ``[S, 5]`` agent i's P(cooperate) at the start of the epoch,
                ``pi_i(theta_i^0)``, the proximal anchor (read by :class:`ExactPOLALoss` only).
        """

        cooperation: NestedKey = "cooperation"
        anchor_cooperation: NestedKey = "anchor_cooperation"

    default_keys = _AcceptedKeys
    tensor_keys: _AcceptedKeys
    out_keys = ["loss_objective"]

    def __init__(self, opponent: nn.Module, payoff: torch.Tensor, *, agent: int, gamma: float) -> None:
        if agent not in (0, 1):
            raise ValueError(f"agent={agent} must be 0 or 1")
        if not 0.0 < gamma < 1.0:
            raise ValueError(f"gamma={gamma} must lie in (0, 1)")
        super().__init__()
        self.opponent = opponent
        reference = next(opponent.parameters())
        self.register_buffer("payoff", payoff.to(device=reference.device, dtype=reference.dtype))
        self.agent = agent
        self.gamma = gamma

    def _forward_value_estimator_keys(self, **kwargs) -> None:
        """No TorchRL value estimator: the values are closed-form."""

    def shaped_value(self, cooperation: torch.Tensor) -> torch.Tensor:
        """``[S]`` the value agent i maximises, differentiable in its parameters through ``cooperation``."""
        return agent_value(cooperation, self.opponent().detach(), self.agent, self.payoff, self.gamma)

    def per_seed_loss(self, tensordict: TensorDictBase) -> torch.Tensor:
        """``[S]`` the loss of each seed."""
        return -self.shaped_value(tensordict.get(self.tensor_keys.cooperation))

    def forward(self, tensordict: TensorDictBase) -> TensorDict:
        """``loss_objective``: the per-seed losses summed (seeds are independent, so its gradient is each seed's)."""
        return TensorDict({"loss_objective": self.per_seed_loss(tensordict).sum()}, batch_size=[])


class ExactLOLALoss(ExactValueLoss):
    """LOLA's loss: minus agent i's value against the opponent after the opponent's own learning step.

    ``lookahead="exact"`` (LOLA through the actual update, reference ``--actual_update``)::

        loss_objective = sum_s -V_i(theta_i, theta_j'(theta_i)),
        theta_j'(theta_i) = inner_steps steps of inner_optimizer on
                            -V_j(theta_i, theta_j) + inner_beta KL(pi_j(theta_j^0) || pi_j(theta_j))   (POLA eq. 5)

    kept differentiable in ``theta_i`` (``objectives.exact_lookahead.lookahead_opponent``).
    ``lookahead="taylor"`` is the original LOLA objective ``V_i + inner_lr <grad_j V_i, grad_j V_j>``
    (Foerster et al. 2018); ``lookahead="none"`` is :class:`ExactValueLoss`.

    Args:
        opponent, payoff, agent, gamma: as :class:`ExactValueLoss`.
        lookahead: exact | taylor | none.
        inner_lr: the opponent's step size ``eta``.
        inner_steps: the opponent's look-ahead steps.
        inner_beta: the opponent's proximity weight (0: LOLA's plain step).
        inner_optimizer: sgd | adam (adam needs ``backend="higher"``).
        backend: vectorized | higher.

    Example:
        >>> import torch
        >>> from tensordict import TensorDict
        >>> from oppshape.games import payoff_table
        >>> from oppshape.modules.memory_one import make_memory_one_policy
        >>> me, other = (make_memory_one_policy("nn", 4) for _ in range(2))
        >>> loss = ExactLOLALoss(other, payoff_table("ipd_cf", cf=1.33), agent=0, gamma=0.96, inner_lr=0.4)
        >>> out = loss(TensorDict({"cooperation": me()}, batch_size=[4]))
        >>> grads = torch.autograd.grad(out["loss_objective"], list(me.parameters()))
    """

    def __init__(
        self,
        opponent: nn.Module,
        payoff: torch.Tensor,
        *,
        agent: int,
        gamma: float,
        inner_lr: float,
        lookahead: str = "exact",
        inner_steps: int = 1,
        inner_beta: float = 0.0,
        inner_optimizer: str = "sgd",
        backend: str = "vectorized",
    ) -> None:
        if lookahead not in LOOKAHEADS:
            raise ValueError(f"unknown lookahead {lookahead!r}; valid choices: {', '.join(LOOKAHEADS)}")
        super().__init__(opponent, payoff, agent=agent, gamma=gamma)
        self.lookahead = lookahead
        self.inner_lr = inner_lr
        self.inner_steps = inner_steps
        self.inner_beta = inner_beta
        self.inner_optimizer = inner_optimizer
        self.backend = backend

    def shaped_value(self, cooperation: torch.Tensor) -> torch.Tensor:
        if self.lookahead == "taylor":
            return taylor_lookahead_value(self.opponent, cooperation, self.agent, self.payoff, self.gamma,
                                          self.inner_lr)
        if self.lookahead == "none":
            return super().shaped_value(cooperation)
        coop_other = lookahead_opponent(
            self.opponent, cooperation, self.agent, self.payoff, self.gamma,
            inner_lr=self.inner_lr, inner_steps=self.inner_steps, inner_beta=self.inner_beta,
            inner_optimizer=self.inner_optimizer, backend=self.backend,
        )
        return agent_value(cooperation, coop_other, self.agent, self.payoff, self.gamma)


class ExactPOLALoss(ExactLOLALoss):
    """Outer POLA's proximal loss (POLA eq. 6, Algorithm 1 with exact values)::

        loss_objective = sum_s [ -V_i(theta_i, theta_j'(theta_i)) + outer_beta KL(pi_i(theta_i^0) || pi_i(theta_i)) ]

    with ``theta_j'`` the look-ahead of :class:`ExactLOLALoss` and ``pi_i(theta_i^0)`` the input
    ``anchor_cooperation``. POLA's update is this loss's minimiser, found by gradient steps until the
    iterates stop moving (``learners.exact_shaping``). The KL sums over the five states.

    Args:
        outer_beta: agent i's proximity weight (``>= 0``).
        others: as :class:`ExactLOLALoss`.

    Example:
        >>> import torch
        >>> from tensordict import TensorDict
        >>> from oppshape.games import payoff_table
        >>> from oppshape.modules.memory_one import make_memory_one_policy
        >>> me, other = (make_memory_one_policy("preconditioned", 4) for _ in range(2))
        >>> loss = ExactPOLALoss(other, payoff_table("ipd_cf", cf=1.33), agent=1, gamma=0.96, inner_lr=0.4,
        ...                      outer_beta=0.5)
        >>> anchor = me().detach()
        >>> out = loss(TensorDict({"cooperation": me(), "anchor_cooperation": anchor}, batch_size=[4]))
        >>> grads = torch.autograd.grad(out["loss_objective"], list(me.parameters()))
    """

    def __init__(self, opponent: nn.Module, payoff: torch.Tensor, *, outer_beta: float, **lola: Any) -> None:
        if outer_beta < 0:
            raise ValueError(f"outer_beta={outer_beta} must be >= 0")
        super().__init__(opponent, payoff, **lola)
        self.outer_beta = outer_beta

    def per_seed_loss(self, tensordict: TensorDictBase) -> torch.Tensor:
        cooperation = tensordict.get(self.tensor_keys.cooperation)
        loss = -self.shaped_value(cooperation)
        if self.outer_beta > 0:
            anchor = tensordict.get(self.tensor_keys.anchor_cooperation)
            loss = loss + self.outer_beta * bernoulli_kl(anchor, cooperation)
        return loss
