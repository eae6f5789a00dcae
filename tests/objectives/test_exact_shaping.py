"""Exact naive / LOLA / POLA losses: the same values and gradients as the learner computed before they moved
into objectives/, for every parameterization and look-ahead, and the LossModule contract.

``exact_shaping_reference.json`` holds, per case and agent, the per-seed loss and per-seed gradient sums and
norms of each parameter, computed by the learner's own objective (``ExactShapingLearner._shaped_value`` plus
``outer_beta`` times the KL) on the code of commit d854ee6, on the parameters drawn below.
"""

import copy
import doctest
import json
from pathlib import Path

import pytest
import torch
from tensordict import TensorDict

from oppshape.config.exact_ipd import LolaConfig, NaiveConfig, PolaConfig
from oppshape.games.payoffs import payoff_table
from oppshape.learners.exact_shaping import make_loss
from oppshape.modules.memory_one import make_memory_one_policy
from oppshape.objectives import ExactLOLALoss, ExactPOLALoss, ExactValueLoss, exact_shaping
from oppshape.objectives.exact_terms import agent_value, bernoulli_kl

GAMMA = 0.96
PAYOFF = payoff_table("ipd_cf", cf=1.33)
REFERENCE = json.loads((Path(__file__).parent / "exact_shaping_reference.json").read_text())
CASES = {
    "naive_tabular": ("tabular", NaiveConfig()),
    "lola_tabular": ("tabular", LolaConfig(inner_lr=2.0)),
    "lola_nn": ("nn", LolaConfig(inner_lr=0.4)),
    "lola_preconditioned": ("preconditioned", LolaConfig(inner_lr=0.4)),
    "lola_taylor_tabular": ("tabular", LolaConfig(lookahead="taylor", inner_lr=2.0)),
    "lola_higher_adam_nn": ("nn", LolaConfig(inner_lr=0.1, inner_steps=2, inner_optimizer="adam", backend="higher")),
    "pola_tabular": ("tabular", PolaConfig(inner_lr=5.0, outer_beta=0.1)),
    "pola_nn": ("nn", PolaConfig(inner_lr=0.25, inner_steps=2, inner_beta=0.5, outer_beta=0.13)),
    "pola_nn_higher": ("nn", PolaConfig(inner_lr=0.25, inner_steps=2, inner_beta=0.5, outer_beta=0.13,
                                         backend="higher")),
    "pola_preconditioned": ("preconditioned", PolaConfig(inner_lr=0.4, outer_beta=0.5)),
}


def _policies(parameterization: str) -> list[torch.nn.Module]:
    torch.manual_seed(0)
    return [make_memory_one_policy(parameterization, 3, init_std=0.5, dtype=torch.float64) for _ in range(2)]


def _moved_from_anchor(policy: torch.nn.Module) -> tuple[torch.nn.Module, torch.Tensor]:
    """A copy moved off its starting point (so POLA's KL term is live) and the starting P(cooperate)."""
    working = copy.deepcopy(policy)
    with torch.no_grad():
        anchor = working()
        for param in working.parameters():
            param.add_(0.05 * torch.ones_like(param))
    return working, anchor


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("agent", [0, 1])
def test_loss_and_gradients_equal_the_old_learner(case: str, agent: int) -> None:
    parameterization, algo = CASES[case]
    policies = _policies(parameterization)
    working, anchor = _moved_from_anchor(policies[agent])
    loss = make_loss(algo, policies[1 - agent], PAYOFF, agent, GAMMA)
    inputs = TensorDict({"cooperation": working(), "anchor_cooperation": anchor}, batch_size=[3])
    per_seed = loss.per_seed_loss(inputs)
    grads = torch.autograd.grad(loss(inputs)["loss_objective"], list(working.parameters()))
    expected = REFERENCE[case][str(agent)]
    # float64 to 1e-12: the recorded numbers are bitwise those of one CPU; another CPU's vectorised exp / log
    # moves the last bits (seen: 1e-15 relative), while a changed formula moves them by far more
    close = {"rtol": 1e-12, "atol": 1e-14}
    torch.testing.assert_close(per_seed.tolist(), expected["loss"], **close)
    torch.testing.assert_close([grad.flatten(1).sum(-1).tolist() for grad in grads], expected["grad_sum"], **close)
    torch.testing.assert_close([grad.flatten(1).norm(dim=-1).tolist() for grad in grads], expected["grad_norm"], **close)


def test_pola_loss_is_lola_plus_the_proximal_term_and_lola_with_no_step_is_naive() -> None:
    me, other = _policies("tabular")
    working, anchor = _moved_from_anchor(me)
    inputs = TensorDict({"cooperation": working(), "anchor_cooperation": anchor}, batch_size=[3])
    lola = ExactLOLALoss(other, PAYOFF, agent=1, gamma=GAMMA, inner_lr=1.5)
    pola = ExactPOLALoss(other, PAYOFF, agent=1, gamma=GAMMA, inner_lr=1.5, outer_beta=0.3)
    torch.testing.assert_close(pola(inputs)["loss_objective"],
                               lola(inputs)["loss_objective"] + 0.3 * bernoulli_kl(anchor, working()).sum())
    naive = ExactValueLoss(other, PAYOFF, agent=1, gamma=GAMMA)
    no_lookahead = ExactLOLALoss(other, PAYOFF, agent=1, gamma=GAMMA, inner_lr=1.5, lookahead="none")
    expected = -agent_value(working(), other().detach(), 1, PAYOFF.double(), GAMMA).sum()
    torch.testing.assert_close(naive(inputs)["loss_objective"], expected)
    torch.testing.assert_close(no_lookahead(inputs)["loss_objective"], expected)


def test_input_keys_can_be_renamed() -> None:
    me, other = _policies("nn")
    loss = ExactPOLALoss(other, PAYOFF, agent=0, gamma=GAMMA, inner_lr=0.3, outer_beta=0.2)
    loss.set_keys(cooperation=("agent", "p_coop"), anchor_cooperation=("agent", "p_coop_start"))
    working, anchor = _moved_from_anchor(me)
    renamed = TensorDict({("agent", "p_coop"): working(), ("agent", "p_coop_start"): anchor}, batch_size=[3])
    default = TensorDict({"cooperation": working(), "anchor_cooperation": anchor}, batch_size=[3])
    reference = ExactPOLALoss(other, PAYOFF, agent=0, gamma=GAMMA, inner_lr=0.3, outer_beta=0.2)
    torch.testing.assert_close(loss(renamed)["loss_objective"], reference(default)["loss_objective"])


def test_docstring_examples_run() -> None:
    result = doctest.testmod(exact_shaping, raise_on_error=True)
    assert result.attempted >= 3


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda other: ExactValueLoss(other, PAYOFF, agent=2, gamma=GAMMA), "agent=2"),
        (lambda other: ExactValueLoss(other, PAYOFF, agent=0, gamma=1.0), "gamma=1.0"),
        (lambda other: ExactLOLALoss(other, PAYOFF, agent=0, gamma=GAMMA, inner_lr=1.0, lookahead="sos"),
         "unknown lookahead 'sos'; valid choices: none, exact, taylor"),
        (lambda other: ExactPOLALoss(other, PAYOFF, agent=0, gamma=GAMMA, inner_lr=1.0, outer_beta=-1.0),
         "outer_beta=-1.0"),
    ],
)
def test_bad_arguments_raise(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make(_policies("tabular")[1])
