"""Evaluation of the exact IPD: metrics after each epoch, the "found TFT" record (it only grows, and it
resumes), the cooperation summary, and the plot."""

import copy
from pathlib import Path

import torch

from oppshape.config.exact_ipd import LolaConfig
from oppshape.eval.exact_ipd import ExactIpdEvaluation, plot_cooperation
from oppshape.eval.ipd_metrics import return_per_step
from oppshape.games.exact import exact_values
from oppshape.games.payoffs import payoff_table
from oppshape.learners.exact_shaping import ExactShapingLearner
from oppshape.modules.memory_one import make_memory_one_policy

GAMMA = 0.96
PAYOFF = payoff_table("ipd_cf", cf=1.33)


def _lola(seeds: int = 4) -> tuple[ExactShapingLearner, ExactIpdEvaluation]:
    torch.manual_seed(1)
    policies = [make_memory_one_policy("tabular", seeds, init_std=0.5, dtype=torch.float64) for _ in range(2)]
    learner = ExactShapingLearner(policies, PAYOFF, GAMMA, LolaConfig(inner_lr=3.0, outer_lr=25.0))
    return learner, ExactIpdEvaluation(learner.policies, PAYOFF, GAMMA)


def test_epoch_metrics_are_the_exact_values_of_the_updated_pair() -> None:
    learner, evaluation = _lola()
    learner.update()
    metrics = evaluation.after_update()
    with torch.no_grad():
        values = exact_values(learner.policies[0](), learner.policies[1](), PAYOFF.double(), GAMMA)
    assert metrics["loss_agent1"] == float(-values[:, 0].mean())
    assert metrics["return_per_step_agent2"] == float(return_per_step(values, GAMMA)[:, 1].mean())
    assert metrics["return_per_step"] == float(return_per_step(values, GAMMA).mean())


def test_tft_record_only_grows_and_resumes() -> None:
    learner, evaluation = _lola()
    fractions = []
    for _ in range(5):
        learner.update()
        fractions.append(evaluation.after_update()["tft_fraction"])
    assert fractions == sorted(fractions) and fractions[-1] > 0  # a seed that found TFT stays counted
    metrics = evaluation.evaluate()
    assert {"p_coop_agent2_DD", "p_coop_agent2_DD_std", "return_per_step", "tft_now_fraction"} <= set(metrics)
    assert metrics["tft_fraction"] == fractions[-1]
    saved = copy.deepcopy(evaluation.state_dict())
    fresh = ExactIpdEvaluation(learner.policies, PAYOFF, GAMMA)
    assert fresh.evaluate()["tft_fraction"] <= fractions[-1]
    fresh.load_state_dict(saved)
    assert fresh.evaluate() == evaluation.evaluate()


def test_plot_draws_cooperation_per_state(tmp_path: Path) -> None:
    learner, evaluation = _lola(seeds=2)
    history = []
    for iteration in range(1, 4):
        learner.update()
        history.append({"iteration": float(iteration), **evaluation.after_update(), **evaluation.evaluate()})
    plot_cooperation(history, tmp_path)
    assert (tmp_path / "p_coop.png").stat().st_size > 0
    plot_cooperation([{"iteration": 1.0, "tft_fraction": 0.0}], tmp_path / "none")
    assert not (tmp_path / "none").exists()  # nothing evaluated yet: no plot
