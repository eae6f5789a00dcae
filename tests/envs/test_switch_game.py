"""Rules of the switch riddle: rewards, termination, message routing, oracle, specs and devices."""

import itertools

import pytest
import torch
from tensordict import TensorDict
from torchrl.envs.utils import check_env_specs

from oppshape.envs.switch_game import (
    NONE,
    TELL,
    SwitchGame,
    expected_oracle_reward,
    last_day_rule_return,
    normalized_return,
    oracle_reward,
    switch_days,
)

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def play(env: SwitchGame, schedule: torch.Tensor, actions: torch.Tensor, messages: torch.Tensor | None = None):
    """Step ``env`` through ``actions`` ``[B, T, n]`` on ``schedule``; returns the list of step outputs."""
    td = env.reset(env.reset().set("schedule", schedule))
    outputs = []
    for t in range(actions.shape[1]):
        td["agents", "action"] = actions[:, t]
        if env.communication:
            m = torch.zeros(*actions[:, t].shape, env.message_size) if messages is None else messages[:, t]
            td["agents", "message"] = m
        td = env.step(td)
        outputs.append(td)
        td = td["next"].exclude(("agents", "reward"))
    return outputs


@pytest.mark.parametrize("n_agents", [2, 3, 4])
@pytest.mark.parametrize("device", DEVICES)
def test_specs(n_agents: int, device: str) -> None:
    env = SwitchGame(n_agents, num_envs=5, message_size=2, device=device)
    check_env_specs(env)
    assert env.days == 4 * n_agents - 6
    td = env.reset()
    assert td["schedule"].shape == (5, env.days) and td["schedule"].device.type == device
    assert td["agents", "observation"].shape == (5, n_agents, 1)


def test_constructor_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n_agents=1"):
        SwitchGame(1)
    with pytest.raises(ValueError, match="num_envs=0"):
        SwitchGame(3, num_envs=0)
    with pytest.raises(ValueError, match="message_size=0"):
        SwitchGame(3, message_size=0)


def test_reset_uses_given_schedule_and_rejects_bad_ones() -> None:
    env = SwitchGame(3, num_envs=2)
    schedule = torch.tensor([[0, 1, 2, 0, 1, 2], [2, 2, 2, 2, 2, 2]])
    td = env.reset(env.reset().set("schedule", schedule))
    assert torch.equal(td["schedule"], schedule)
    assert torch.equal(td["agents", "observation"][..., 0], torch.tensor([[1.0, 0, 0], [0, 0, 1]]))
    assert torch.equal(td["agents", "action_mask"][0], torch.tensor([[True, True], [True, False], [True, False]]))
    with pytest.raises(ValueError, match="agent indices"):
        env.reset(env.reset().set("schedule", schedule + 1))
    with pytest.raises(ValueError, match="shape"):
        env.reset(TensorDict({"schedule": torch.zeros(2, 5, dtype=torch.long)}, batch_size=[2]))


def test_schedules_are_uniform_and_independent() -> None:
    env = SwitchGame(4, num_envs=20000)
    schedule = env.reset()["schedule"]
    frequencies = torch.bincount(schedule.flatten(), minlength=4).float() / schedule.numel()
    assert torch.allclose(frequencies, torch.full((4,), 0.25), atol=0.01)
    same_as_yesterday = (schedule[:, 1:] == schedule[:, :-1]).float().mean()
    assert abs(same_as_yesterday.item() - 0.25) < 0.01


def test_tell_rewards_and_termination() -> None:
    env = SwitchGame(3, num_envs=4)
    # everyone has been in by day 2 in rows 0-1; agent 2 never comes in rows 2-3
    schedule = torch.tensor([[0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2], [0, 1, 0, 1, 0, 1], [0, 0, 0, 0, 0, 0]])
    actions = torch.zeros(4, 6, 3, dtype=torch.long)
    actions[0, 2, 2] = TELL  # right on the first day it is true: +1
    actions[1, 1, 1] = TELL  # too early (agent 2 not yet in): -1
    actions[2, 1, 0] = TELL  # agent 0 is not in the room on day 1: ignored
    outputs = play(env, schedule, actions)
    rewards = torch.stack([o["next", "agents", "reward"][..., 0] for o in outputs], dim=1)  # [B, T, n]
    done = torch.stack([o["next", "terminated"][:, 0] for o in outputs], dim=1)
    assert torch.equal(rewards[0, 2], torch.ones(3)) and rewards[0, :2].abs().sum() == 0
    assert torch.equal(rewards[1, 1], -torch.ones(3))
    assert rewards[2].abs().sum() == 0 and rewards[3].abs().sum() == 0  # nobody told: the game ends with 0
    assert done[0, 2] and not done[0, :2].any()
    assert done[1, 1] and not done[1, 0]
    assert not done[2, :5].any() and done[2, 5] and done[3, 5]
    assert not any(o["next", "truncated"].any() for o in outputs)


def test_messages_routed_from_yesterdays_prisoner_to_todays() -> None:
    env = SwitchGame(3, num_envs=1, message_size=1)
    schedule = torch.tensor([[0, 1, 1, 2, 0, 2]])  # includes a prisoner in the room twice in a row
    messages = torch.arange(1, 6 * 3 + 1, dtype=torch.float32).reshape(1, 6, 3, 1) / 100  # unique per (t, i)
    outputs = play(env, schedule, torch.zeros(1, 6, 3, dtype=torch.long), messages)
    for t in range(5):
        received = outputs[t]["next", "agents", "received_message"][0, :, 0]
        expected = torch.zeros(3)
        expected[schedule[0, t + 1]] = messages[0, t, schedule[0, t], 0]
        assert torch.equal(received, expected), t
        sources = outputs[t]["next", "agents", "message_sources"][0]
        assert sources.sum() == 1 and sources[schedule[0, t + 1], schedule[0, t]] == 1
    assert env.reset()["agents", "received_message"].abs().sum() == 0  # nobody hears anything on day 0


def test_routing_is_differentiable() -> None:
    env = SwitchGame(3, num_envs=2)
    td = env.reset(env.reset().set("schedule", torch.tensor([[0, 1, 2, 0, 1, 2], [2, 2, 0, 1, 1, 0]])))
    message = torch.rand(2, 3, 1, requires_grad=True)
    td["agents", "action"] = torch.full((2, 3), NONE)
    td["agents", "message"] = message
    received = env.step(td)["next", "agents", "received_message"]
    (grad,) = torch.autograd.grad(received.sum(), message)
    assert torch.equal(grad[..., 0], torch.tensor([[1.0, 0, 0], [0, 0, 1]]))


def test_partial_reset_keeps_running_games() -> None:
    env = SwitchGame(3, num_envs=2)
    td = env.reset()
    td["agents", "action"] = torch.zeros(2, 3, dtype=torch.long)
    td["agents", "message"] = torch.zeros(2, 3, 1)
    nxt = env.step(td)["next"]
    nxt["_reset"] = torch.tensor([[True], [False]])
    reset = env.reset(nxt)
    assert reset["day"].flatten().tolist() == [0, 1]
    assert torch.equal(reset["schedule"][1], td["schedule"][1])


def brute_force_oracle(n_agents: int) -> float:
    """Mean oracle reward over all n^days equally likely schedules, with bitmasks (no probability algebra)."""
    days = switch_days(n_agents)
    codes = torch.arange(n_agents**days)
    visited = torch.zeros_like(codes)
    for _ in range(days):
        visited |= 1 << (codes % n_agents)
        codes = codes // n_agents
    return (visited == (1 << n_agents) - 1).double().mean().item()


@pytest.mark.parametrize("n_agents, paper", [(3, 0.741), (4, 0.781)])
def test_oracle_expectation_exact(n_agents: int, paper: float) -> None:
    exact = expected_oracle_reward(n_agents)
    assert exact == pytest.approx(brute_force_oracle(n_agents), abs=1e-12)
    assert round(exact, 3) == paper
    if n_agents == 3:
        assert exact == pytest.approx(540 / 729)


def test_oracle_reward_per_schedule() -> None:
    schedules = torch.tensor(list(itertools.product(range(2), repeat=2)))  # n=2, days=2
    assert oracle_reward(schedules, 2).tolist() == [0.0, 1.0, 1.0, 0.0]


def test_normalized_return_follows_reference_formula() -> None:
    oracle = torch.tensor([1.0, 1.0, 0.0, 1.0])
    assert normalized_return(torch.tensor([1.0, 1.0, 0.0, 1.0]), oracle) == 1.0
    assert normalized_return(torch.tensor([1.0, 0.0, 0.0, 0.0]), oracle) == pytest.approx(1 / 3)
    assert normalized_return(torch.tensor([1.0, -1.0, -1.0, 0.0]), oracle) == pytest.approx(-1 / 3)
    assert normalized_return(torch.zeros(2), torch.zeros(2)) == 1.0
    assert normalized_return(torch.tensor([-1.0, 0.0]), torch.zeros(2)) == 0.0


@pytest.mark.parametrize("device", DEVICES)
def test_without_communication_specs_and_layout(device: str) -> None:
    env = SwitchGame(3, num_envs=2, communication=False, device=device)
    check_env_specs(env)
    assert ("agents", "message") not in env.full_action_spec.keys(True)
    assert ("agents", "received_message") not in env.full_observation_spec.keys(True)
    schedule = torch.tensor([[0, 1, 0, 0, 2, 1], [2, 2, 2, 2, 2, 2]], device=device)
    outputs = play(env, schedule, torch.zeros(2, 3, 3, dtype=torch.long))
    td = outputs[-1]["next"]  # day 3
    obs = td["agents", "observation"][0].cpu()  # [n, 1 + D]: in_room, one_hot(day)
    assert obs[:, 0].tolist() == [1.0, 0.0, 0.0] and (obs[:, 1:] == torch.eye(6)[3]).all()
    state = td["state"][0].cpu()  # visited (n) | visits / D (n) | in_room (n) | one_hot(day) (D)
    assert state[:3].tolist() == [1.0, 1.0, 0.0]
    assert torch.allclose(state[3:6], torch.tensor([3.0, 1.0, 0.0]) / 6)
    assert state[6:9].tolist() == [1.0, 0.0, 0.0] and state[9:].tolist() == torch.eye(6)[3].tolist()
    assert td["state"][1, :3].tolist() == [0.0, 0.0, 1.0]


def test_without_communication_the_rules_are_unchanged() -> None:
    schedule = torch.tensor([[0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2], [0, 0, 0, 0, 0, 0]])
    actions = torch.zeros(3, 6, 3, dtype=torch.long)
    actions[0, 2, 2] = TELL
    actions[1, 1, 1] = TELL
    rewards = []
    for communication in (True, False):
        env = SwitchGame(3, num_envs=3, communication=communication)
        outputs = play(env, schedule, actions)
        rewards.append(torch.stack([o["next", "agents", "reward"] for o in outputs], dim=1))
    assert torch.equal(rewards[0], rewards[1])


def brute_force_last_day_rule(n_agents: int) -> float:
    """Apply the last-day rule to every one of the n^days schedules, deciding by exact conditional
    frequencies counted over the schedules themselves (no inclusion-exclusion)."""
    days = switch_days(n_agents)
    schedules = torch.tensor(list(itertools.product(range(n_agents), repeat=days)))
    everyone = oracle_reward(schedules, n_agents)
    last = schedules[:, -1:]
    own_visits = (schedules == last).sum(-1)
    value = 0.0
    for k in own_visits.unique():
        group = own_visits == k
        p_all = everyone[group].mean()
        if p_all > 0.5:
            value += (2 * everyone[group] - 1).sum().item()
    return value / len(schedules)


@pytest.mark.parametrize("n_agents", [2, 3, 4])
def test_last_day_rule_value_matches_brute_force(n_agents: int) -> None:
    assert last_day_rule_return(n_agents) == pytest.approx(brute_force_last_day_rule(n_agents), abs=1e-9)
    assert last_day_rule_return(n_agents) <= expected_oracle_reward(n_agents) + 1e-12
