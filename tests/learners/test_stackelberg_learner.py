"""Stackelberg learner: hidden-query masking, per-run independence, follower best responses, phases, resume."""

import io

import pytest
import torch

from oppshape.envs.stackelberg_query import StackelbergQueryGame
from oppshape.learners.stackelberg import StackelbergLearner, StackelbergSettings
from oppshape.learners.stackelberg_agents import PolicyGradientAgent
from oppshape.learners.stackelberg_rollout import FOLLOWER, LEADER, agent_rows, play_episodes, returns_to_go


def make_learner(games=("prisoners_dilemma",), memory="small", length=5, tell_leader=False, **settings):
    settings = StackelbergSettings(**{"num_seeds": 2, "follower_episodes": 13, "leader_episodes": 13, **settings})
    runs = len(games) * settings.num_seeds

    def env(episodes):
        return StackelbergQueryGame(num_envs=runs * episodes, games=list(games), memory=memory,
                                    episode_length=length, tell_leader=tell_leader)

    return StackelbergLearner(settings, env(settings.follower_episodes), env(settings.leader_episodes), list(games))


def run(learner, iterations):
    for _ in range(iterations):
        learner.update(learner.collect())


def test_returns_to_go():
    assert returns_to_go(torch.tensor([[0.0, 0.0, 1.0, -2.0, 3.0]])).tolist() == [[2.0, 2.0, 2.0, 1.0, 3.0]]


def _scripted_episodes(n_runs=2, episodes=3):
    env = StackelbergQueryGame(num_envs=n_runs * episodes, memory="small", episode_length=5)
    leader = torch.tensor([1, 0, 1])
    return env, play_episodes(env, lambda obs: leader[obs % 3], lambda obs: torch.zeros_like(obs))


def test_observed_queries_credit_answers_with_the_whole_return():
    env, episodes = _scripted_episodes()
    rows = agent_rows(episodes, LEADER, 0, n_runs=2)
    assert rows.batch_size == (6 * 8,)
    per_episode = rows.reshape(6, 8)
    total = episodes["next", "agents", "reward"][:, :, LEADER, 0].sum(-1)
    assert torch.equal(per_episode["return"][:, 0, 0], total)  # first query's return = episode return
    assert per_episode["observation"][0, :3].tolist() == [0, 1, 2]  # the queried states
    assert per_episode["next", "terminated"][:, -1].all() and not per_episode["next", "terminated"][:, :-1].any()


def test_hidden_queries_drop_the_query_steps_from_the_leader_batch():
    env, episodes = _scripted_episodes()
    rows = agent_rows(episodes, LEADER, env.n_queries, n_runs=2)
    assert rows.batch_size == (6 * 5,)
    play = ~episodes["is_query"].squeeze(-1)
    assert torch.equal(rows["observation"], episodes["agents", "observation"][:, :, LEADER][play])
    assert torch.equal(rows["run"], torch.arange(2).repeat_interleave(15))  # run-major rows


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


def test_policy_gradient_runs_are_independent():
    """Two runs trained in one batch end exactly where each ends when trained alone."""
    env, episodes = _scripted_episodes()
    rows = agent_rows(episodes, FOLLOWER, env.n_queries, n_runs=2)
    torch.manual_seed(1)
    together = PolicyGradientAgent(2, env.n_follower_obs, 0.1, 0.01, torch.device("cpu"))
    alone = [PolicyGradientAgent(1, env.n_follower_obs, 0.1, 0.01, torch.device("cpu")) for _ in range(2)]
    for run_index, agent in enumerate(alone):
        agent.table.table.data.copy_(together.table.table.data[run_index : run_index + 1])
    for _ in range(3):
        together.update(rows)
        for run_index, agent in enumerate(alone):
            mine = rows[rows["run"] == run_index].clone()
            mine["run"] = torch.zeros_like(mine["run"])
            agent.update(mine)
    for run_index, agent in enumerate(alone):
        assert torch.allclose(together.table.table[run_index], agent.table.table[0], atol=1e-6)


def test_frozen_runs_do_not_move():
    env, episodes = _scripted_episodes()
    rows = agent_rows(episodes, FOLLOWER, env.n_queries, n_runs=2)
    agent = PolicyGradientAgent(2, env.n_follower_obs, 0.1, 0.01, torch.device("cpu"))
    before = agent.table.table.detach().clone()
    agent.update(rows, frozen=torch.tensor([True, False]))
    assert torch.equal(agent.table.table[0], before[0]) and not torch.equal(agent.table.table[1], before[1])


@pytest.mark.slow
def test_pretrained_follower_best_responds_to_every_leader_strategy():
    learner = make_learner(num_seeds=3, pretrain_iterations=200, leader_iterations=0, post_iterations=0)
    assert learner.evaluate()["follower_br_frac"] == 0.0
    run(learner, 200)
    assert torch.all(learner.follower_gaps() == 0)
    assert learner.frozen.all()


@pytest.mark.slow
def test_pg_leader_reaches_the_stackelberg_value_and_survives_retraining():
    learner = make_learner(leader="pg", pretrain_iterations=150, leader_iterations=150, post_iterations=10)
    run(learner, 310)
    results = learner.results()
    assert results["stackelberg_value"] == [3.5]
    assert results["reached_vs_oracle"] == [True, True] and results["reached_final"] == [True, True]
    assert learner.evaluate()["leader_reached_frac"] == 1.0


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
    assert resumed.results() == reference.results()


def test_tell_leader_separates_answers_from_play():
    learner = make_learner(tell_leader=True, pretrain_iterations=0, leader_iterations=0, post_iterations=0)
    with torch.no_grad():
        learner.leader.table.table.zero_()
        learner.leader.table.table[:, :3, 1] = 1.0  # play: always defect
        learner.leader.table.table[:, 3:, 0] = 1.0  # answers: always cooperate
    play, answers = learner.leader_strategies()
    assert play.tolist() == [[1, 1, 1]] * 2 and answers.tolist() == [[0, 0, 0]] * 2
    metrics = learner.evaluate()
    assert metrics["leader_answers_match_play_frac"] == 0.0
    # an exact best response to always-defect play is to defect: DD (2 - 2.5) for 5 steps
    assert learner.exact_best_response_returns().tolist() == [-2.5, -2.5]
    assert metrics["leader_reached_exact_br_frac"] == 0.0


def test_returns_above_the_stackelberg_value_are_misses():
    learner = make_learner(pretrain_iterations=0, leader_iterations=0, post_iterations=0)  # value 3.5
    assert learner.reached(torch.tensor([3.2, 7.5])).tolist() == [True, False]
    assert learner.reached(torch.tensor([2.5, 3.5])).tolist() == [False, True]


def test_update_needs_a_batch():
    with pytest.raises(ValueError, match="needs the batch from StackelbergLearner.collect"):
        make_learner().update(None)


@pytest.mark.parametrize("field,value,message", [
    ("leader", "sac", "leader='sac' is not valid; valid choices: pg, ppo, dqn"),
    ("tie_break", "coin", "tie_break='coin' is not valid; valid choices: leader_favourable, leader_adverse"),
    ("num_seeds", 0, "num_seeds=0 must be an integer >= 1"),
    ("leader_iterations", -1, "leader_iterations=-1 must be an integer >= 0"),
    ("leader_lr", 0.0, "leader_lr=0.0 must be > 0"),
    ("dqn_tau", 1.5, "dqn_tau=1.5 must lie in \\[0, 1\\]"),
])
def test_bad_settings_raise(field, value, message):
    with pytest.raises(ValueError, match=message):
        StackelbergSettings(**{field: value})
