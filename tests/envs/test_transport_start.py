"""Transport's start curriculum: share 0 is VMAS's transport, share 1 puts agents next to the package (also
on a single-env reset), and the share falls linearly to 0."""

import pytest
import torch

from oppshape.envs.transport_start import TransportNearStart, start_share
from oppshape.envs.vmas_factory import make_vmas_env

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def positions(env) -> tuple[torch.Tensor, torch.Tensor]:
    scenario = env.base_env.scenario
    agents = torch.stack([agent.state.pos for agent in scenario.world.agents], dim=1)  # [B, n, 2]
    return agents, scenario.packages[0].state.pos


def gaps(env) -> torch.Tensor:
    """Distance of every agent from the package centre, [B, n]."""
    agents, package = positions(env)
    return (agents - package.unsqueeze(1)).norm(dim=-1)


def test_share_zero_is_vmas_transport() -> None:
    # VMAS's RNG is class-wide and seeded by each construction: reset each env straight after building it
    plain = make_vmas_env("transport", num_envs=50, seed=4)
    plain.reset()
    expected = positions(plain)
    curriculum = make_vmas_env("transport", num_envs=50, seed=4, near_package_starts=True)
    curriculum.reset()
    assert isinstance(curriculum.base_env.scenario, TransportNearStart)
    for got, want in zip(positions(curriculum), expected):
        torch.testing.assert_close(got, want)


def test_share_one_starts_agents_round_the_package() -> None:
    env = make_vmas_env("transport", num_envs=400, seed=0, near_package_starts=True)
    scenario = env.base_env.scenario
    scenario.near_share, scenario.near_radius = 1.0, 0.2
    observation = env.reset()["agents", "observation"]
    inner = scenario.packages[0].shape.circumscribed_radius() + scenario.agent_radius
    near = (gaps(env) >= inner - 1e-6) & (gaps(env) <= inner + 0.2 + 1e-6)
    assert near.float().mean() > 0.75  # the rest would have started outside the arena (package by a wall)
    assert (gaps(make_vmas_env("transport", num_envs=400, seed=0)) <= inner + 0.2).float().mean() < 0.1
    agents, package = positions(env)
    torch.testing.assert_close(observation[..., 6:8], package.unsqueeze(1) - agents)  # observations follow


def test_single_env_resets_move_only_those_envs() -> None:
    """The collector resets finished envs one index at a time."""
    env = make_vmas_env("transport", num_envs=200, seed=1, near_package_starts=True)
    env.reset()
    before, _ = positions(env)
    scenario = env.base_env.scenario
    scenario.near_share, scenario.near_radius = 1.0, 0.05
    for index in range(0, 200, 2):
        env.base_env._env.reset_at(index)
    after, _ = positions(env)
    torch.testing.assert_close(after[1::2], before[1::2])
    inner = scenario.packages[0].shape.circumscribed_radius() + scenario.agent_radius
    assert (gaps(env)[0::2] <= inner + 0.05 + 1e-6).float().mean() > 0.75
    assert (gaps(env)[1::2] <= inner + 0.05 + 1e-6).float().mean() < 0.1


def test_share_falls_linearly_to_zero() -> None:
    assert start_share(0, 1000) == 1.0
    assert start_share(250, 1000) == pytest.approx(0.75)
    assert start_share(1000, 1000) == start_share(5000, 1000) == 0.0
    assert start_share(0, 0) == 0.0  # no curriculum


def test_only_transport_takes_near_package_starts() -> None:
    with pytest.raises(ValueError, match="near_package_starts needs scenario 'transport', got 'navigation'"):
        make_vmas_env("navigation", num_envs=2, near_package_starts=True)
