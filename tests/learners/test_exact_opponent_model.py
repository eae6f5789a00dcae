"""Exact opponent models: fitting reaches the threshold per seed, and LOLA with an exact tabular model
of a tabular opponent matches LOLA with the true opponent."""

import copy

import pytest
import torch

from oppshape.config import ConfigError
from oppshape.config.exact_ipd import LolaConfig
from oppshape.games.payoffs import payoff_table
from oppshape.learners.exact_opponent_model import fit_opponent_model
from oppshape.learners.exact_shaping import ExactShapingLearner
from oppshape.modules.memory_one import make_memory_one_policy
from oppshape.objectives.exact_terms import bernoulli_kl


@pytest.mark.parametrize("parameterization", ["tabular", "nn", "preconditioned"])
def test_fit_reaches_the_threshold_for_every_seed(parameterization: str) -> None:
    target = torch.rand(3, 5, dtype=torch.float64) * 0.8 + 0.1
    model = make_memory_one_policy(parameterization, 3, dtype=torch.float64)
    threshold = 1e-6 if parameterization == "tabular" else 1e-4  # ill-conditioned fits converge slowly
    lr = 0.5 if parameterization == "tabular" else 0.1
    kl, steps = fit_opponent_model(model, target, lr=lr, threshold=threshold, max_iters=20000)
    assert (kl < threshold).all() and (steps < 20000).all()
    torch.testing.assert_close(bernoulli_kl(target, model().detach()), kl)


def test_fit_stops_each_seed_separately() -> None:
    model = make_memory_one_policy("tabular", 2, init_std=0.0, dtype=torch.float64)
    target = torch.tensor([[0.5] * 5, [0.9] * 5], dtype=torch.float64)  # seed 0 already matches
    _, steps = fit_opponent_model(model, target, lr=0.5, threshold=1e-8, max_iters=10000)
    assert steps[0] == 0 and steps[1] > 0
    torch.testing.assert_close(model()[0].detach(), target[0])


def test_lola_with_an_exact_tabular_model_matches_lola_with_the_true_opponent() -> None:
    payoff = payoff_table("ipd_cf", cf=1.33)
    policies = [make_memory_one_policy("tabular", 3, init_std=1.0, dtype=torch.float64) for _ in range(2)]
    models = [make_memory_one_policy("tabular", 3, dtype=torch.float64) for _ in range(2)]
    rule = LolaConfig(lookahead="exact", inner_lr=1.0, outer_lr=1.0, om_lr=1.0, om_threshold=1e-14)
    with_model = ExactShapingLearner(copy.deepcopy(policies), payoff, 0.96, rule, models)
    metrics = with_model.update()
    assert metrics["om_kl_agent1"] < 1e-14 and metrics["om_steps_agent2"] > 0
    truth = ExactShapingLearner(copy.deepcopy(policies), payoff, 0.96, rule)
    truth.update()
    for agent in range(2):
        torch.testing.assert_close(with_model.policies[agent](), truth.policies[agent](), atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"om_lr": 0.0}, "om_lr=0.0"), ({"om_threshold": -1.0}, "om_threshold=-1.0"),
     ({"om_max_iters": 0}, "om_max_iters=0")],
)
def test_bad_fitting_settings_raise(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        LolaConfig(**kwargs)
