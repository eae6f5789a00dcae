"""LOQA's evaluation: rewards against itself and fixed strategies per seed, Coin Game thresholds and
own-coin rate, IPD cooperation, the summary of seconds to each threshold, and the plot."""

from __future__ import annotations

import pytest

from loqa_factory import TINY_GRU, TINY_IPD, build

from oppshape.eval.loqa import plot_curves, summarize


def test_ipd_evaluation_reports_per_seed_rewards_and_cooperation() -> None:
    experiment = build({"name": "iterated_matrix_game", "episode_length": 5}, **TINY_IPD)
    experiment.learner.update(experiment.collect())
    evaluation = experiment.evaluate()
    for key in ("eval_reward_vs_self", "eval_reward_vs_alld", "eval_reward_vs_allc", "eval_reward_vs_self_seed1",
                "p_coop_agent1_CD", "eval_retaliating_fraction", "eval_reciprocal_fraction"):
        assert key in evaluation
    assert -3.0 <= evaluation["eval_reward_vs_alld"] <= -2.0  # the agent gets -3 (C) or -2 (D) against ALLD
    assert -1.0 <= evaluation["eval_reward_vs_allc"] <= 0.0


def test_coin_evaluation_reports_thresholds_and_own_coin_rate() -> None:
    experiment = build({"name": "coin_game", "height": 3, "width": 3, "episode_length": 6}, **TINY_GRU)
    experiment.learner.update(experiment.collect())
    evaluation = experiment.evaluate()
    assert 0.0 <= evaluation["eval_own_coin_rate"] <= 1.0
    assert evaluation["eval_normalized_vs_alld"] == pytest.approx(2 * evaluation["eval_reward_vs_alld"])
    assert {evaluation[f"eval_{level}"] for level in ("weak", "medium", "strong")} <= {0.0, 1.0}


def test_summary_reports_the_wall_clock_of_the_first_eval_past_each_threshold() -> None:
    def row(iteration: int, seconds: float, weak: float, medium: float) -> dict:
        return {"iteration": iteration, "wall_time_s": seconds, "eval_reward_vs_self": 0.1,
                "eval_weak": weak, "eval_medium": medium, "eval_strong": 0.0}

    history = [{"iteration": 1, "loss_actor": 0.0}, row(10, 5.0, 0, 0), row(20, 9.0, 1, 0), row(30, 14.0, 1, 1)]
    summary = summarize(history)
    assert (summary["seconds_to_weak"], summary["iteration_to_weak"]) == (9.0, 20)
    assert (summary["seconds_to_medium"], summary["iteration_to_medium"]) == (14.0, 30)
    assert summary["seconds_to_strong"] is None


def test_plot_draws_rewards_and_the_tabular_cooperation(tmp_path) -> None:
    row = {"iteration": 10, "wall_time_s": 1.0, "eval_reward_vs_self": -1.0, "eval_reward_vs_alld": -2.1,
           "eval_reward_vs_allc": -0.5, **{f"p_coop_agent1_{s}": 0.5 for s in ("start", "CC", "CD", "DC", "DD")}}
    plot_curves([{"iteration": 1, "loss_actor": 0.0}], tmp_path / "empty")
    assert not (tmp_path / "empty").exists()  # nothing to plot before the first evaluation
    plot_curves([row, {**row, "iteration": 20, "wall_time_s": 2.0}], tmp_path / "plots")
    assert (tmp_path / "plots" / "loqa.png").stat().st_size > 0
