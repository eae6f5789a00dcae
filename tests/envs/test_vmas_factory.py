"""The VMAS factory: discrete (or bounded continuous) multi-agent keys, truncation at the time limit, clear errors."""

import pytest
import torch
from torchrl.data import Bounded
from torchrl.envs.utils import check_env_specs

from oppshape.envs.vmas_factory import VMAS_SCENARIOS, make_vmas_env


@pytest.mark.parametrize("scenario", VMAS_SCENARIOS)
def test_every_scenario_has_discrete_multiagent_specs(scenario: str) -> None:
    env = make_vmas_env(scenario, num_envs=3, max_steps=5, seed=0)
    check_env_specs(env)
    td = env.rand_step(env.reset())
    n_agents = env.n_agents
    assert td["agents", "action"].shape == (3, n_agents) and td["agents", "action"].dtype == torch.int64
    assert td["next", "agents", "reward"].shape == (3, n_agents, 1)
    assert td["next", "done"].shape == td["next", "terminated"].shape == td["next", "truncated"].shape == (3, 1)


def test_continuous_actions_are_bounded_forces() -> None:
    env = make_vmas_env("transport", num_envs=3, max_steps=5, seed=0, continuous_actions=True)
    check_env_specs(env)
    spec = env.full_action_spec["agents", "action"]
    assert isinstance(spec, Bounded) and spec.shape == (3, env.n_agents, 2)
    assert (spec.space.low == -1).all() and (spec.space.high == 1).all()  # VMAS's default u_range
    td = env.rand_step(env.reset())
    assert td["agents", "action"].is_floating_point() and td["agents", "action"].abs().max() <= 1


def test_time_limit_truncates_without_terminating() -> None:
    env = make_vmas_env("balance", num_envs=4, max_steps=3, seed=0)
    rollout = env.rollout(3, break_when_any_done=False)
    assert rollout["next", "truncated"][:, -1].all() and rollout["next", "done"][:, -1].all()
    assert not rollout["next", "truncated"][:, :-1].any()
    assert rollout["is_init"][:, 0].all() and not rollout["is_init"][:, 1:].any()
    torch.testing.assert_close(
        rollout["next", "agents", "episode_reward"][:, -1], rollout["next", "agents", "reward"].sum(1)
    )


def test_scenario_kwargs_reach_vmas() -> None:
    assert make_vmas_env("navigation", num_envs=2, n_agents=2).n_agents == 2


def test_bad_arguments_are_named_before_any_work() -> None:
    with pytest.raises(ValueError, match="unknown VMAS scenario 'flocking'; valid choices: navigation, balance"):
        make_vmas_env("flocking")
    with pytest.raises(ValueError, match="num_envs must be >= 1"):
        make_vmas_env("navigation", num_envs=0)
    with pytest.raises(ValueError, match=r"does not take these arguments.*n_robots"):
        make_vmas_env("navigation", num_envs=2, n_robots=3)
