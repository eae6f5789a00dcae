"""Stackelberg rollouts: returns-to-go and the run-major learning rows of one agent (observed / hidden queries)."""

import torch
from stackelberg_factory import scripted_episodes

from oppshape.rollouts.stackelberg import LEADER, agent_rows, returns_to_go


def test_returns_to_go():
    assert returns_to_go(torch.tensor([[0.0, 0.0, 1.0, -2.0, 3.0]])).tolist() == [[2.0, 2.0, 2.0, 1.0, 3.0]]


def test_observed_queries_credit_answers_with_the_whole_return():
    env, episodes = scripted_episodes()
    rows = agent_rows(episodes, LEADER, 0, n_runs=2)
    assert rows.batch_size == (6 * 8,)
    per_episode = rows.reshape(6, 8)
    total = episodes["next", "agents", "reward"][:, :, LEADER, 0].sum(-1)
    assert torch.equal(per_episode["return"][:, 0, 0], total)  # first query's return = episode return
    assert per_episode["observation"][0, :3].tolist() == [0, 1, 2]  # the queried states
    assert per_episode["next", "terminated"][:, -1].all() and not per_episode["next", "terminated"][:, :-1].any()


def test_hidden_queries_drop_the_query_steps_from_the_leader_batch():
    env, episodes = scripted_episodes()
    rows = agent_rows(episodes, LEADER, env.n_queries, n_runs=2)
    assert rows.batch_size == (6 * 5,)
    play = ~episodes["is_query"].squeeze(-1)
    assert torch.equal(rows["observation"], episodes["agents", "observation"][:, :, LEADER][play])
    assert torch.equal(rows["run"], torch.arange(2).repeat_interleave(15))  # run-major rows
