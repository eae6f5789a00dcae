"""Stackelberg evaluation: success against the Stackelberg value, answers vs play, the oracle's record, plots."""

import math

import torch
from stackelberg_factory import make_learner, run

from oppshape.eval.stackelberg import (
    evaluate,
    exact_best_response_returns,
    leader_follower_returns,
    oracle_leader_returns,
    plot,
    reached,
    results,
)
from oppshape.rollouts.stackelberg import LEADER


def test_tell_leader_separates_answers_from_play():
    learner = make_learner(tell_leader=True, pretrain_iterations=0, leader_iterations=0, post_iterations=0)
    with torch.no_grad():
        learner.leader.table.table.zero_()
        learner.leader.table.table[:, :3, 1] = 1.0  # play: always defect
        learner.leader.table.table[:, 3:, 0] = 1.0  # answers: always cooperate
    play, answers = learner.leader_strategies()
    assert play.tolist() == [[1, 1, 1]] * 2 and answers.tolist() == [[0, 0, 0]] * 2
    metrics = evaluate(learner, ["prisoners_dilemma"], 0.5)
    assert metrics["leader_answers_match_play_frac"] == 0.0
    # an exact best response to always-defect play is to defect: DD (2 - 2.5) for 5 steps
    assert exact_best_response_returns(learner).tolist() == [-2.5, -2.5]
    assert metrics["leader_reached_exact_br_frac"] == 0.0


def test_returns_above_the_stackelberg_value_are_misses():
    learner = make_learner(pretrain_iterations=0, leader_iterations=0, post_iterations=0)  # value 3.5
    assert reached(learner, torch.tensor([3.2, 7.5]), 0.5).tolist() == [True, False]
    assert reached(learner, torch.tensor([2.5, 3.5]), 0.5).tolist() == [False, True]


def test_the_oracle_record_is_the_leader_against_the_pretrained_follower():
    """Before phase 2 ends there is no record; after it, the final leader meets the oracle of phase 1."""
    learner = make_learner(leader="pg", pretrain_iterations=2, leader_iterations=2, post_iterations=3)
    run(learner, 3)
    assert all(math.isnan(value) for value in oracle_leader_returns(learner).tolist())
    run(learner, 1)
    at_handover = leader_follower_returns(learner)[:, LEADER]
    assert torch.equal(oracle_leader_returns(learner), at_handover)
    oracle_gap = learner.follower_gaps().mean(-1)
    run(learner, 3)  # the follower re-trains; the record stays
    assert torch.equal(oracle_leader_returns(learner), at_handover)
    outcome = results(learner, ["prisoners_dilemma"], learner.config)
    assert outcome["oracle_br_gap"] == oracle_gap.tolist()
    assert outcome["leader_return_vs_oracle"] == at_handover.tolist()
    assert outcome["run_game"] == ["prisoners_dilemma"] * 2 and outcome["run_seed"] == [0, 1]


def test_plot_draws_the_three_phases(tmp_path):
    history = [{"iteration": i, "phase": float(i >= 2) + float(i >= 4), "follower_br_frac": 0.5, "follower_br_gap": 0.1,
                "leader_return": 1.0, "leader_reached_frac": 0.5} for i in range(1, 6)]
    plot(history, tmp_path)
    assert (tmp_path / "stackelberg.png").stat().st_size > 0
