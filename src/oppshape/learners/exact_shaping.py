"""Naive learning, LOLA and POLA with exact values on the IPD, for all seeds of a configuration at once.

One epoch (one ``update``) follows the reference ``LOLA_exact.py``: both agents update from the
same starting pair ``(theta_1^0, theta_2^0)``. Agent i repeats outer steps

    theta_i <- theta_i - outer_lr * grad_i [ -V_i(theta_i, theta_j'(theta_i))
                                             + outer_beta * KL(pi_i(theta_i^0) || pi_i(theta_i)) ]

on its own loss (``objectives.exact_shaping``: POLA eq. 6 solved by gradient descent), where
``theta_j'(theta_i)`` is the opponent's differentiable look-ahead from ``theta_j^0`` (or from agent
i's opponent model). The loop stops, per seed, once the KL between consecutive iterates is below
``outer_threshold`` in both directions, or after ``outer_max_iters`` steps. LOLA is one step
(``outer_beta = 0``); naive learning drops the look-ahead. Each agent's gradient is taken on its own
loss with respect to its own parameters. The learner only learns: evaluation is ``eval.exact_ipd``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase
from torch import nn

from oppshape.config.exact_ipd import ExactShapingConfig, LolaConfig, LookaheadConfig, PolaConfig
from oppshape.learners.exact_opponent_model import fit_opponent_model, seed_mask, stop_check_interval
from oppshape.objectives.exact_shaping import ExactLOLALoss, ExactPOLALoss, ExactValueLoss
from oppshape.objectives.exact_terms import bernoulli_kl


def lookahead_of(algo: ExactShapingConfig) -> str:
    """What the schema's agents anticipate: none (naive), LOLA's ``lookahead``, exact (POLA)."""
    if isinstance(algo, LolaConfig):
        return algo.lookahead
    return "exact" if isinstance(algo, PolaConfig) else "none"


def make_loss(
    algo: ExactShapingConfig, opponent: nn.Module, payoff: torch.Tensor, agent: int, gamma: float
) -> ExactValueLoss:
    """Agent ``agent``'s loss for the schema ``algo``: naive, LOLA or outer POLA."""
    if not isinstance(algo, LookaheadConfig):
        return ExactValueLoss(opponent, payoff, agent=agent, gamma=gamma)
    lola: dict[str, Any] = {
        "agent": agent, "gamma": gamma, "inner_lr": algo.inner_lr, "inner_steps": algo.inner_steps,
        "inner_beta": algo.inner_beta, "inner_optimizer": algo.inner_optimizer, "backend": algo.backend,
        "lookahead": lookahead_of(algo),
    }
    if isinstance(algo, PolaConfig):
        return ExactPOLALoss(opponent, payoff, outer_beta=algo.outer_beta, **lola)
    return ExactLOLALoss(opponent, payoff, **lola)


class ExactShapingLearner:
    """Both agents' policies (all seeds) and the losses that update them; ``update(None)`` is one epoch.

    Args:
        policies: agent 1's and agent 2's seed-batched policies (``forward() -> [S, 5]``).
        payoff: ``[2, 2, 2]`` payoff table (``oppshape.games.payoff_table``).
        gamma: discount of the infinitely repeated game.
        algo: the validated schema (``config.exact_ipd``: naive, LOLA or POLA).
        opponent_models: optional, agent 1's model of agent 2 and agent 2's model of agent 1; when
            given, each look-ahead starts from the model, refitted every epoch (``algo.om_*``).
    """

    def __init__(
        self,
        policies: Sequence[nn.Module],
        payoff: torch.Tensor,
        gamma: float,
        algo: ExactShapingConfig,
        opponent_models: Sequence[nn.Module] | None = None,
    ) -> None:
        if len(policies) != 2:
            raise ValueError(f"exact IPD learners hold 2 policies; got {len(policies)}")
        if opponent_models is not None and len(opponent_models) != 2:
            raise ValueError(f"opponent_models must hold one model per agent (2); got {len(opponent_models)}")
        if opponent_models is not None and lookahead_of(algo) == "none":
            raise ValueError("opponent models are only used by a look-ahead; lookahead='none' ignores them")
        if not 0.0 < gamma < 1.0:
            raise ValueError(f"gamma={gamma} must lie in (0, 1)")
        self.policies = list(policies)
        self.opponent_models = list(opponent_models) if opponent_models is not None else None
        self.algo = algo
        self.outer_max_iters = algo.outer_max_iters if isinstance(algo, PolaConfig) else 1
        self.outer_threshold = algo.outer_threshold if isinstance(algo, PolaConfig) else 0.0
        reference = next(self.policies[0].parameters())
        payoff = payoff.to(device=reference.device, dtype=reference.dtype)
        opponents = self.opponent_models or self.policies[::-1]
        # each agent's outer loop moves a working copy, so both agents update from the same starting pair
        self.working = [copy.deepcopy(policy) for policy in self.policies]
        self.losses = [make_loss(algo, opponents[agent], payoff, agent, gamma) for agent in range(2)]
        self.updates = 0

    def update(self, batch: TensorDictBase | None = None) -> dict[str, float]:
        """One epoch for both agents; returns the opponent-model fits and the outer steps taken."""
        if batch is not None:
            raise ValueError("exact IPD learners compute their own values; update() takes batch=None")
        metrics: dict[str, float] = {}
        if self.opponent_models is not None:
            assert isinstance(self.algo, LookaheadConfig)
            for agent, model in enumerate(self.opponent_models):
                with torch.no_grad():
                    target = self.policies[1 - agent]()
                kl, steps = fit_opponent_model(model, target, lr=self.algo.om_lr, threshold=self.algo.om_threshold,
                                               max_iters=self.algo.om_max_iters)
                metrics[f"om_kl_agent{agent + 1}"] = float(kl.mean())
                metrics[f"om_steps_agent{agent + 1}"] = float(steps.mean())
        for agent in range(2):
            self.working[agent].load_state_dict(self.policies[agent].state_dict())
            steps = self._outer_loop(agent)
            metrics[f"outer_steps_agent{agent + 1}"] = float(steps.mean())
        for policy, working in zip(self.policies, self.working):
            policy.load_state_dict(working.state_dict())
        self.updates += 1
        return metrics

    def _outer_loop(self, agent: int) -> torch.Tensor:
        """Move agent's working copy by outer (proximal) steps on its loss; returns ``[S]`` steps per seed."""
        working, loss = self.working[agent], self.losses[agent]
        params = list(working.parameters())
        with torch.no_grad():
            start = working()
        previous = start
        active = torch.ones(start.shape[0], dtype=torch.bool, device=start.device)
        steps = torch.zeros(start.shape[0], device=start.device)
        check_every = stop_check_interval(start.device)
        for iteration in range(self.outer_max_iters):
            inputs = TensorDict({"cooperation": working(), "anchor_cooperation": start}, batch_size=start.shape[:1])
            grads = torch.autograd.grad(loss(inputs)["loss_objective"], params)
            with torch.no_grad():
                for param, grad in zip(params, grads):
                    param -= self.algo.outer_lr * grad * seed_mask(active, param)
                steps += active
                if self.outer_max_iters == 1:
                    break
                current = working()
                settled = (bernoulli_kl(previous, current) < self.outer_threshold) & (
                    bernoulli_kl(current, previous) < self.outer_threshold
                )
                active &= ~settled
                previous = current
            if (iteration + 1) % check_every == 0 and not bool(active.any()):
                break
        return steps

    def state_dict(self) -> dict[str, Any]:
        """Policies, opponent models and the epoch counter (tensors and numbers only)."""
        return {
            "policies": [policy.state_dict() for policy in self.policies],
            "opponent_models": [model.state_dict() for model in self.opponent_models or []],
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for policy, policy_state in zip(self.policies, state["policies"], strict=True):
            policy.load_state_dict(policy_state)
        for model, model_state in zip(self.opponent_models or [], state["opponent_models"], strict=True):
            model.load_state_dict(model_state)
        self.updates = int(state["updates"])
