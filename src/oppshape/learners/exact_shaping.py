"""Naive learning, LOLA and POLA with exact values on the IPD, for all seeds of a configuration at once.

One epoch (one ``update``) follows the reference ``LOLA_exact.py``: both agents update from the
same starting pair ``(theta_1^0, theta_2^0)``. Agent i repeats outer steps

    theta_i <- theta_i - lr_out * grad_i [ -V_i(theta_i, theta_j'(theta_i))
                                           + outer_beta * KL(pi_i(theta_i^0) || pi_i(theta_i)) ]

(the proximal objective of POLA's Algorithm 1, Outer POLA, solved by gradient descent), where
``theta_j'(theta_i)`` is the opponent's differentiable look-ahead from ``theta_j^0`` (or from agent
i's opponent model). The loop stops, per seed, once the KL between consecutive iterates is below
``outer_threshold`` in both directions, or after ``outer_max_iters`` steps. LOLA is the special case
``outer_beta = 0, outer_max_iters = 1``; naive learning drops the look-ahead. Each agent's gradient
is taken on its own loss with respect to its own parameters.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from tensordict import TensorDictBase
from torch import nn

from oppshape.config import check_choice
from oppshape.eval.ipd_metrics import cooperation_summary, finds_tft, return_per_step
from oppshape.games.exact import exact_values
from oppshape.learners.exact_lookahead import (
    BACKENDS,
    INNER_OPTIMIZERS,
    lookahead_opponent,
    taylor_lookahead_value,
)
from oppshape.learners.exact_objectives import agent_value, bernoulli_kl
from oppshape.learners.exact_opponent_model import (
    OpponentModelRule,
    fit_opponent_model,
    seed_mask,
    stop_check_interval,
)

#: Valid ``lookahead`` names: none (naive learning), exact (LOLA/POLA through the actual update),
#: taylor (original LOLA's first-order approximation).
LOOKAHEADS: tuple[str, ...] = ("none", "exact", "taylor")


@dataclass(frozen=True)
class ShapingRule:
    """One update rule covering naive learning, LOLA and POLA (reference flags in brackets)."""

    lr_out: float  # agent's own step size [--lr_policies_outer]
    lookahead: str = "none"  # none | exact | taylor [--actual_update selects exact]
    lr_in: float = 0.0  # opponent's look-ahead step size [--lr_policies_inner]
    inner_steps: int = 1  # opponent's look-ahead steps [--inner_steps]
    inner_beta: float = 0.0  # opponent's proximity weight [--inner_beta]
    inner_optimizer: str = "sgd"  # sgd | adam, the look-ahead's differentiable optimizer [--optim]
    backend: str = "vectorized"  # vectorized | higher
    outer_beta: float = 0.0  # agent's proximity weight [--outer_beta]
    outer_max_iters: int = 1  # cap on outer proximal steps per epoch [--prox_outer_max_iters]
    outer_threshold: float = 1e-8  # iterate-KL below which the outer loop stops [--prox_threshold]

    def __post_init__(self) -> None:
        check_choice("lookahead", self.lookahead, LOOKAHEADS)
        check_choice("inner_optimizer", self.inner_optimizer, INNER_OPTIMIZERS)
        check_choice("backend", self.backend, BACKENDS)
        if not self.lr_out > 0:
            raise ValueError(f"invalid lr_out={self.lr_out}; expected > 0")
        if self.lookahead != "none" and not self.lr_in > 0:
            raise ValueError(f"invalid lr_in={self.lr_in}; lookahead={self.lookahead!r} needs lr_in > 0")
        if self.inner_steps < 1:
            raise ValueError(f"invalid inner_steps={self.inner_steps}; expected an integer >= 1")
        if self.inner_beta < 0 or self.outer_beta < 0:
            raise ValueError(f"invalid inner_beta={self.inner_beta} / outer_beta={self.outer_beta}; expected >= 0")
        if self.outer_max_iters < 1:
            raise ValueError(f"invalid outer_max_iters={self.outer_max_iters}; expected an integer >= 1")
        if not self.outer_threshold > 0:
            raise ValueError(f"invalid outer_threshold={self.outer_threshold}; expected > 0")
        if self.inner_optimizer != "sgd" and self.backend != "higher":
            raise ValueError(f"inner_optimizer={self.inner_optimizer!r} needs backend='higher'")
        if self.lookahead == "taylor" and (self.inner_steps != 1 or self.inner_beta != 0):
            raise ValueError(
                f"lookahead='taylor' is one first-order step; got inner_steps={self.inner_steps}, "
                f"inner_beta={self.inner_beta} (valid: inner_steps=1, inner_beta=0)"
            )


class ExactShapingLearner:
    """Both agents' policies (all seeds) and the rule that updates them; ``update(None)`` is one epoch.

    Args:
        policies: agent 1's and agent 2's seed-batched policies (``forward() -> [S, 5]``).
        payoff: ``[2, 2, 2]`` payoff table (``oppshape.games.payoff_table``).
        gamma: discount of the infinitely repeated game.
        rule: the update rule.
        opponent_models: optional, agent 1's model of agent 2 and agent 2's model of agent 1; when
            given, each look-ahead starts from the model, refitted every epoch by ``model_rule``.
        model_rule: how opponent models are fitted (defaults to :class:`OpponentModelRule`).
    """

    def __init__(
        self,
        policies: Sequence[nn.Module],
        payoff: torch.Tensor,
        gamma: float,
        rule: ShapingRule,
        opponent_models: Sequence[nn.Module] | None = None,
        model_rule: OpponentModelRule | None = None,
    ) -> None:
        if len(policies) != 2:
            raise ValueError(f"exact IPD learners hold 2 policies; got {len(policies)}")
        if opponent_models is not None and len(opponent_models) != 2:
            raise ValueError(f"opponent_models must hold one model per agent (2); got {len(opponent_models)}")
        if opponent_models is not None and rule.lookahead == "none":
            raise ValueError("opponent models are only used by a look-ahead; lookahead='none' ignores them")
        if not 0.0 < gamma < 1.0:
            raise ValueError(f"gamma={gamma} must lie in (0, 1)")
        self.policies = list(policies)
        self.opponent_models = list(opponent_models) if opponent_models is not None else None
        self.model_rule = model_rule or OpponentModelRule()
        self.rule = rule
        self.gamma = gamma
        reference = next(self.policies[0].parameters())
        self.payoff = payoff.to(device=reference.device, dtype=reference.dtype)
        num_seeds = self.policies[0]().shape[0]
        self.tft_found = torch.zeros(num_seeds, dtype=torch.bool, device=reference.device)
        self.updates = 0

    # -- the epoch -----------------------------------------------------------------------------
    def update(self, batch: TensorDictBase | None = None) -> dict[str, float]:
        """One epoch for both agents; returns seed-mean metrics and the fraction that found TFT."""
        if batch is not None:
            raise ValueError("exact IPD learners compute their own values; update() takes batch=None")
        metrics: dict[str, float] = {}
        if self.opponent_models is not None:
            for agent, model in enumerate(self.opponent_models):
                with torch.no_grad():
                    target = self.policies[1 - agent]()
                kl, steps = fit_opponent_model(model, target, self.model_rule)
                metrics[f"om_kl_agent{agent + 1}"] = float(kl.mean())
                metrics[f"om_steps_agent{agent + 1}"] = float(steps.mean())
        updated = []
        for agent in range(2):
            working = copy.deepcopy(self.policies[agent])
            opponent = self.opponent_models[agent] if self.opponent_models is not None else self.policies[1 - agent]
            steps = self._outer_loop(working, opponent, agent)
            metrics[f"outer_steps_agent{agent + 1}"] = float(steps.mean())
            updated.append(working.state_dict())
        for policy, state in zip(self.policies, updated):
            policy.load_state_dict(state)
        self.updates += 1
        values, tft_now = self._evaluate_pair()
        self.tft_found |= tft_now
        per_step = return_per_step(values, self.gamma)
        for agent in range(2):
            metrics[f"loss_agent{agent + 1}"] = float(-values[:, agent].mean())
            metrics[f"return_per_step_agent{agent + 1}"] = float(per_step[:, agent].mean())
        metrics["return_per_step"] = float(per_step.mean())
        metrics["tft_fraction"] = float(self.tft_found.float().mean())
        return metrics

    def _shaped_value(self, coop_self: torch.Tensor, opponent: nn.Module, agent: int) -> torch.Tensor:
        """``[S]`` agent's value against the opponent it anticipates, differentiable in its parameters."""
        rule = self.rule
        if rule.lookahead == "taylor":
            return taylor_lookahead_value(opponent, coop_self, agent, self.payoff, self.gamma, rule.lr_in)
        if rule.lookahead == "exact":
            coop_other = lookahead_opponent(
                opponent, coop_self, agent, self.payoff, self.gamma,
                lr_in=rule.lr_in, inner_steps=rule.inner_steps, inner_beta=rule.inner_beta,
                inner_optimizer=rule.inner_optimizer, backend=rule.backend,
            )
        else:
            coop_other = opponent().detach()
        return agent_value(coop_self, coop_other, agent, self.payoff, self.gamma)

    def _outer_loop(self, working: nn.Module, opponent: nn.Module, agent: int) -> torch.Tensor:
        """Update ``working`` in place by outer (proximal) steps; returns ``[S]`` steps taken per seed."""
        rule = self.rule
        params = list(working.parameters())
        with torch.no_grad():
            start = working()
        previous = start
        active = torch.ones(start.shape[0], dtype=torch.bool, device=start.device)
        steps = torch.zeros(start.shape[0], device=start.device)
        check_every = stop_check_interval(start.device)
        for iteration in range(rule.outer_max_iters):
            coop_self = working()
            loss = -self._shaped_value(coop_self, opponent, agent)
            if rule.outer_beta > 0:
                loss = loss + rule.outer_beta * bernoulli_kl(start, coop_self)
            grads = torch.autograd.grad(loss.sum(), params)
            with torch.no_grad():
                for param, grad in zip(params, grads):
                    param -= rule.lr_out * grad * seed_mask(active, param)
                steps += active
                if rule.outer_max_iters == 1:
                    break
                current = working()
                settled = (bernoulli_kl(previous, current) < rule.outer_threshold) & (
                    bernoulli_kl(current, previous) < rule.outer_threshold
                )
                active &= ~settled
                previous = current
            if (iteration + 1) % check_every == 0 and not bool(active.any()):
                break
        return steps

    # -- evaluation ----------------------------------------------------------------------------
    def cooperation(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Both agents' ``[S, 5]`` P(cooperate | state), own view, detached."""
        with torch.no_grad():
            return self.policies[0](), self.policies[1]()

    def _evaluate_pair(self) -> tuple[torch.Tensor, torch.Tensor]:
        coop_1, coop_2 = self.cooperation()
        with torch.no_grad():
            values = exact_values(coop_1, coop_2, self.payoff, self.gamma)
        return values, finds_tft(coop_1, coop_2, values, self.payoff, self.gamma)

    def policy_metrics(self) -> dict[str, float]:
        """P(cooperate | state) per agent (seed mean and std), return per step, TFT fractions."""
        values, tft_now = self._evaluate_pair()
        per_step = return_per_step(values, self.gamma)
        metrics = cooperation_summary(self.cooperation())
        metrics.update(
            {
                "return_per_step_agent1": float(per_step[:, 0].mean()),
                "return_per_step_agent2": float(per_step[:, 1].mean()),
                "return_per_step": float(per_step.mean()),
                "tft_fraction": float(self.tft_found.float().mean()),
                "tft_now_fraction": float(tft_now.float().mean()),
            }
        )
        return metrics

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Policies, opponent models, the per-seed TFT record and the epoch counter (tensors only)."""
        return {
            "policies": [policy.state_dict() for policy in self.policies],
            "opponent_models": [model.state_dict() for model in self.opponent_models or []],
            "tft_found": self.tft_found.clone(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for policy, policy_state in zip(self.policies, state["policies"], strict=True):
            policy.load_state_dict(policy_state)
        for model, model_state in zip(self.opponent_models or [], state["opponent_models"], strict=True):
            model.load_state_dict(model_state)
        self.tft_found.copy_(state["tft_found"])
        self.updates = int(state["updates"])
