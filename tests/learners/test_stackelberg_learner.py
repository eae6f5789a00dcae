"""Stackelberg learner: hidden-query masking, follower best responses, phases, resume."""

import io

import pytest
import torch
from stackelberg_factory import make_learner, run

from oppshape.eval.stackelberg import evaluate, results


@pytest.mark.parametrize("hidden", [False, True])
def test_learner_hands_the_leader_the_right_rows(hidden, monkeypatch):
    learner = make_learner(leader="pg", hidden_queries=hidden, pretrain_iterations=0, leader_iterations=1,
                           post_iterations=0)
    seen = {}

    def capture(rows):
        seen["rows"] = rows
        return {"loss": 0.0}

    monkeypatch.setattr(learner.leader, "update", capture)
    learner.update(learner.collect())
    steps = 5 if hidden else 8
    assert seen["rows"].batch_size == (2 * 13 * steps,)
    queried = seen["rows"].reshape(2 * 13, steps)["observation"][:, :3]
    assert hidden != bool((queried == torch.tensor([0, 1, 2])).all())


@pytest.mark.slow
def test_pretrained_follower_best_responds_to_every_leader_strategy():
    learner = make_learner(num_seeds=3, pretrain_iterations=200, leader_iterations=0, post_iterations=0)
    assert evaluate(learner, ["prisoners_dilemma"], 0.5)["follower_br_frac"] == 0.0
    run(learner, 200)
    assert torch.all(learner.follower_gaps() == 0)
    assert learner.frozen.all()


@pytest.mark.slow
def test_pg_leader_reaches_the_stackelberg_value_and_survives_retraining():
    learner = make_learner(leader="pg", pretrain_iterations=150, leader_iterations=150, post_iterations=10)
    run(learner, 310)
    outcome = results(learner, ["prisoners_dilemma"], learner.config)
    assert outcome["stackelberg_value"] == [3.5]
    assert outcome["reached_vs_oracle"] == [True, True] and outcome["reached_final"] == [True, True]
    assert evaluate(learner, ["prisoners_dilemma"], 0.5)["leader_reached_frac"] == 1.0


@pytest.mark.parametrize("leader", ["pg", "ppo", "dqn"])
def test_resume_from_a_weights_only_checkpoint_is_exact(leader):
    kwargs = dict(leader=leader, pretrain_iterations=2, leader_iterations=4, post_iterations=2, ppo_epochs=2,
                  dqn_updates=2, dqn_batch_size=4)
    torch.manual_seed(3)
    reference = make_learner(**kwargs)
    run(reference, 4)
    buffer = io.BytesIO()
    torch.save({"learner": reference.state_dict(), "rng": torch.get_rng_state()}, buffer)
    run(reference, 4)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed = make_learner(**kwargs)
    resumed.load_state_dict(saved["learner"])
    torch.set_rng_state(saved["rng"])
    run(resumed, 4)
    assert torch.equal(resumed.leader.greedy(), reference.leader.greedy())
    assert torch.equal(resumed.leader.table.table, reference.leader.table.table)
    assert torch.equal(resumed.follower.table.table, reference.follower.table.table)
    games = ["prisoners_dilemma"]
    assert results(resumed, games, resumed.config) == results(reference, games, reference.config)


def test_a_checkpoint_from_before_the_redesign_still_loads():
    """Old checkpoints also held the oracle's gap and return, which evaluation now derives."""
    reference = make_learner(pretrain_iterations=1, leader_iterations=1, post_iterations=1)
    run(reference, 2)
    state = {**reference.state_dict(), "oracle_gap": torch.zeros(2), "oracle_leader_return": torch.zeros(2)}
    resumed = make_learner(pretrain_iterations=1, leader_iterations=1, post_iterations=1)
    resumed.load_state_dict(state)
    assert resumed.iteration == 2 and torch.equal(resumed.pretrained_follower, reference.pretrained_follower)


def test_update_needs_a_batch():
    with pytest.raises(ValueError, match="needs the batch from StackelbergLearner.collect"):
        make_learner().update(None)
