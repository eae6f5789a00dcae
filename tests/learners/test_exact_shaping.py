"""One epoch of naive / LOLA / POLA on the exact IPD: the update, the proximal loop and its stopping
rule, batching over seeds, resume, and clear errors. (Schema errors: tests/experiments/test_exact_ipd.py;
the evaluation and its TFT record: tests/eval/test_exact_ipd.py.)"""

import copy

import pytest
import torch

import oppshape.learners.exact_shaping as exact_shaping
from oppshape.config.exact_ipd import ExactShapingConfig, LolaConfig, NaiveConfig, PolaConfig
from oppshape.games.payoffs import payoff_table
from oppshape.learners.base import Learner
from oppshape.learners.exact_shaping import ExactShapingLearner
from oppshape.modules.memory_one import make_memory_one_policy
from oppshape.objectives.exact_lookahead import lookahead_opponent
from oppshape.objectives.exact_terms import agent_value, bernoulli_kl

GAMMA = 0.96
PAYOFF = payoff_table("ipd_cf", cf=1.33)


def _pair(parameterization: str = "tabular", seeds: int = 3) -> list[torch.nn.Module]:
    return [make_memory_one_policy(parameterization, seeds, init_std=0.5, dtype=torch.float64) for _ in range(2)]


def _schema(**rule) -> ExactShapingConfig:
    """Naive without a look-ahead, POLA with a proximal outer loop, LOLA otherwise."""
    if "lookahead" not in rule:
        return NaiveConfig(**rule)
    if "outer_beta" in rule or "outer_max_iters" in rule:
        rule.pop("lookahead")
        return PolaConfig(**rule)
    return LolaConfig(**rule)


def _learner(policies, **rule) -> ExactShapingLearner:
    return ExactShapingLearner(copy.deepcopy(policies), PAYOFF, GAMMA, _schema(**rule))


def test_kl_matches_torch_bernoulli_and_vanishes_at_equality() -> None:
    coop_ref, coop = torch.rand(2, 4, 5, dtype=torch.float64)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Bernoulli(probs=coop_ref), torch.distributions.Bernoulli(probs=coop)
    ).sum(-1)
    torch.testing.assert_close(bernoulli_kl(coop_ref, coop), expected)
    assert bernoulli_kl(coop, coop).abs().max() < 1e-15
    assert torch.isfinite(bernoulli_kl(torch.tensor([[0.5] * 5]), torch.tensor([[1.0] * 5]))).all()


def test_naive_update_is_simultaneous_gradient_ascent() -> None:
    policies = _pair()
    learner = _learner(policies, outer_lr=0.7)
    learner.update()
    start = [policy.theta.detach() for policy in policies]
    for agent in range(2):
        theta = start[agent].clone().requires_grad_()
        value = agent_value(torch.sigmoid(theta), torch.sigmoid(start[1 - agent]), agent, PAYOFF.double(), GAMMA)
        expected = start[agent] + 0.7 * torch.autograd.grad(value.sum(), theta)[0]
        torch.testing.assert_close(learner.policies[agent].theta.detach(), expected)


def test_lola_update_shapes_both_agents_from_the_same_starting_pair() -> None:
    policies = _pair()
    learner = _learner(policies, lookahead="exact", inner_lr=2.0, outer_lr=3.0)
    learner.update()
    for agent in range(2):
        me, opponent = copy.deepcopy(policies[agent]), policies[1 - agent]
        coop_other = lookahead_opponent(opponent, me(), agent, PAYOFF.double(), GAMMA, inner_lr=2.0)
        grad = torch.autograd.grad(agent_value(me(), coop_other, agent, PAYOFF.double(), GAMMA).sum(), me.theta)[0]
        torch.testing.assert_close(learner.policies[agent].theta.detach(), me.theta.detach() + 3.0 * grad)


def test_pola_outer_loop_reaches_the_proximal_fixed_point() -> None:
    # At convergence theta_i minimizes -V_i(theta_i, theta_j'(theta_i)) + beta KL(pi_i^0 || pi_i): zero gradient.
    policies = _pair(seeds=2)
    beta = 2.0
    learner = _learner(policies, lookahead="exact", inner_lr=1.0, outer_lr=0.2, outer_beta=beta,
                       outer_max_iters=1000, outer_threshold=1e-20)
    metrics = learner.update()
    assert metrics["outer_steps_agent1"] < 1000
    for agent in range(2):
        me, opponent, start = learner.policies[agent], policies[1 - agent], policies[agent]().detach()
        coop_other = lookahead_opponent(opponent, me(), agent, PAYOFF.double(), GAMMA, inner_lr=1.0)
        objective = -agent_value(me(), coop_other, agent, PAYOFF.double(), GAMMA) + beta * bernoulli_kl(start, me())
        grad = torch.autograd.grad(objective.sum(), me.theta)[0]
        assert grad.abs().max() < 1e-6


def test_pola_stronger_proximity_moves_the_policy_less() -> None:
    policies = _pair()
    start = policies[0]().detach()
    moved = []
    for beta in (0.05, 5.0):
        learner = _learner(policies, lookahead="exact", inner_lr=1.0, outer_lr=0.2, outer_beta=beta, outer_max_iters=100)
        learner.update()
        moved.append(bernoulli_kl(start, learner.policies[0]().detach()).mean())
    assert moved[1] < 0.1 * moved[0]


def test_outer_loop_stops_at_the_cap_or_when_iterates_settle() -> None:
    policies = _pair()
    rule = dict(lookahead="exact", inner_lr=1.0, outer_lr=0.2, outer_beta=2.0)
    capped = _learner(policies, outer_max_iters=3, outer_threshold=1e-30, **rule)
    assert capped.update()["outer_steps_agent1"] == 3
    loose = _learner(policies, outer_max_iters=500, outer_threshold=1e-3, **rule)
    tight = _learner(policies, outer_max_iters=500, outer_threshold=1e-10, **rule)
    assert 1 <= loose.update()["outer_steps_agent1"] < tight.update()["outer_steps_agent1"] < 500


@pytest.mark.parametrize(
    ("parameterization", "outer_max_iters"), [("tabular", 300), ("nn", 15), ("preconditioned", 15)]
)
def test_batched_seeds_equal_seeds_run_one_at_a_time(parameterization: str, outer_max_iters: int) -> None:
    # Tabular seeds settle after different numbers of steps (about 60-70 here): each seed of the batch
    # must end where it would have ended alone. The others check the batched forward passes.
    policies = _pair(parameterization, seeds=3)
    rule = dict(lookahead="exact", inner_lr=0.5, outer_lr=0.2, outer_beta=2.0, outer_max_iters=outer_max_iters,
                outer_threshold=1e-8)
    batched = _learner(policies, **rule)
    steps = batched.update()["outer_steps_agent1"]
    assert steps < outer_max_iters or parameterization != "tabular"
    for seed in range(3):
        alone = [copy.deepcopy(policy) for policy in policies]
        for policy in alone:
            for param in policy.parameters():
                param.data = param.data[seed : seed + 1].clone()
        single = _learner(alone, **rule)
        single.update()
        for agent in range(2):
            torch.testing.assert_close(single.policies[agent]()[0], batched.policies[agent]()[seed])


def test_higher_backend_epochs_equal_vectorized_epochs() -> None:
    policies = _pair("nn", seeds=2)
    rule = dict(lookahead="exact", inner_lr=0.3, outer_lr=0.05, inner_steps=2, inner_beta=0.5, outer_beta=0.2,
                outer_max_iters=8)
    runs = {}
    for backend in ("vectorized", "higher"):
        learner = _learner(policies, backend=backend, **rule)
        learner.update()
        learner.update()
        runs[backend] = torch.cat([policy().detach() for policy in learner.policies])
    torch.testing.assert_close(runs["vectorized"], runs["higher"])


def test_exact_resume() -> None:
    torch.manual_seed(1)
    policies = _pair(seeds=4)
    learner = _learner(policies, lookahead="exact", inner_lr=3.0, outer_lr=25.0)
    assert isinstance(learner, Learner)
    for _ in range(5):
        learner.update()
    saved = copy.deepcopy(learner.state_dict())
    assert set(saved) == {"policies", "opponent_models", "updates"}
    expected = learner.update()
    resumed = _learner(_pair(seeds=4), lookahead="exact", inner_lr=3.0, outer_lr=25.0)
    resumed.load_state_dict(saved)
    assert resumed.update() == expected
    assert resumed.updates == learner.updates == 6
    for agent in range(2):
        torch.testing.assert_close(resumed.policies[agent](), learner.policies[agent](), rtol=0, atol=0)


def test_bad_learner_arguments_raise() -> None:
    policies = _pair()
    naive = NaiveConfig(outer_lr=1.0)
    with pytest.raises(ValueError, match="2 policies"):
        ExactShapingLearner(policies[:1], PAYOFF, GAMMA, naive)
    with pytest.raises(ValueError, match="gamma=1.0"):
        ExactShapingLearner(policies, PAYOFF, 1.0, naive)
    with pytest.raises(ValueError, match="lookahead='none' ignores them"):
        ExactShapingLearner(policies, PAYOFF, GAMMA, naive, opponent_models=_pair())
    with pytest.raises(ValueError, match="lookahead='none' ignores them"):
        ExactShapingLearner(policies, PAYOFF, GAMMA, LolaConfig(lookahead="none"), opponent_models=_pair())
    with pytest.raises(ValueError, match="batch=None"):
        ExactShapingLearner(policies, PAYOFF, GAMMA, naive).update(torch.zeros(1))


def test_checking_for_settled_seeds_less_often_changes_nothing(monkeypatch) -> None:
    """On CUDA the loops ask ``active.any()`` every 16th step; the masked extra steps are no-ops."""
    policies = _pair(seeds=3)
    rule = dict(lookahead="exact", inner_lr=0.5, outer_lr=0.2, outer_beta=2.0, outer_max_iters=300, outer_threshold=1e-8)
    every_step = _learner(policies, **rule)
    every_step_metrics = every_step.update()
    monkeypatch.setattr(exact_shaping, "stop_check_interval", lambda device: 16)
    sparse = _learner(policies, **rule)
    assert sparse.update()["outer_steps_agent1"] == every_step_metrics["outer_steps_agent1"]
    for agent in range(2):
        torch.testing.assert_close(sparse.policies[agent](), every_step.policies[agent](), rtol=0, atol=0)
