"""Stackelberg leader / follower learners: per-run independence and frozen runs."""

import torch
from stackelberg_factory import scripted_episodes

from oppshape.learners.stackelberg_leaders import PolicyGradientAgent
from oppshape.rollouts.stackelberg import FOLLOWER, agent_rows


def test_policy_gradient_runs_are_independent():
    """Two runs trained in one batch end exactly where each ends when trained alone."""
    env, episodes = scripted_episodes()
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
    env, episodes = scripted_episodes()
    rows = agent_rows(episodes, FOLLOWER, env.n_queries, n_runs=2)
    agent = PolicyGradientAgent(2, env.n_follower_obs, 0.1, 0.01, torch.device("cpu"))
    before = agent.table.table.detach().clone()
    agent.update(rows, frozen=torch.tensor([True, False]))
    assert torch.equal(agent.table.table[0], before[0]) and not torch.equal(agent.table.table[1], before[1])
