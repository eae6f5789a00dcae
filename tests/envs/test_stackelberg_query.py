"""StackelbergQueryGame: specs, the query mechanism, rewards per game, memory views, errors."""

import pytest
import torch
from torchrl.envs.utils import check_env_specs, step_mdp

from oppshape.envs.registry import make_env
from oppshape.envs.stackelberg_query import StackelbergQueryGame
from oppshape.games import STACKELBERG_GAMES
from oppshape.games.stackelberg import deterministic_returns, stackelberg_payoffs, strategy_code


def _step(env, td, leader_action, follower_action):
    td["agents", "action"] = torch.stack([leader_action, follower_action], -1)
    td = env.step(td)
    return td, step_mdp(td, exclude_action=False)


@pytest.mark.parametrize("memory", ["none", "small", "full"])
@pytest.mark.parametrize("tell_leader", [False, True])
def test_specs(memory, tell_leader):
    env = StackelbergQueryGame(num_envs=4, games=["prisoners_dilemma", "chicken"], memory=memory,
                               episode_length=3, tell_leader=tell_leader)
    check_env_specs(env)


def test_registry_builds_it():
    assert isinstance(make_env("stackelberg_query", num_envs=2, memory="small"), StackelbergQueryGame)


@pytest.mark.parametrize("tell_leader", [False, True])
def test_query_phase_then_play(tell_leader):
    """Small memory: 3 query steps then 2 play steps; answers reach the follower's observation."""
    env = StackelbergQueryGame(num_envs=1, games="prisoners_dilemma", memory="small", episode_length=2,
                               tell_leader=tell_leader)
    td = env.reset()
    shift = 3 if tell_leader else 0
    answers = [1, 0, 1]  # defect at start, cooperate after C, defect after D: code 1 + 4 = 5
    for i, answer in enumerate(answers):
        assert td["is_query"].item() and td["agents", "observation"][0, 0].item() == i + shift
        full, td = _step(env, td, torch.tensor([answer]), torch.tensor([1]))
        assert full["next", "agents", "reward"].abs().sum().item() == 0.0  # queries pay nothing
        assert not full["next", "done"].item()
    assert td["query_answers"].tolist() == [answers]
    assert not td["is_query"].item()
    # first play step: start state for both; the follower's index carries the answers' code
    assert td["agents", "observation"].tolist() == [[0, 0 * 8 + 5]]
    full, td = _step(env, td, torch.tensor([1]), torch.tensor([0]))  # DC: (4, 1) - 2.5
    assert full["next", "agents", "reward"].squeeze(-1).tolist() == [[1.5, -1.5]]
    # the leader sees the follower's C (state 1), the follower the leader's D (state 2)
    assert td["agents", "memory_state"].tolist() == [[1, 2]]
    assert td["agents", "observation"].tolist() == [[1, 2 * 8 + 5]]
    assert td["query_answers"].tolist() == [answers]  # play does not touch the answers
    full, td = _step(env, td, torch.tensor([0]), torch.tensor([1]))  # CD: (1, 4) - 2.5
    assert full["next", "agents", "reward"].squeeze(-1).tolist() == [[-1.5, 1.5]]
    assert full["next", "truncated"].item() and not full["next", "terminated"].item()


def test_full_memory_views():
    env = StackelbergQueryGame(num_envs=1, memory="full", episode_length=3)
    td = env.reset()
    for _ in range(5):
        _, td = _step(env, td, torch.tensor([0]), torch.tensor([0]))
    _, td = _step(env, td, torch.tensor([0]), torch.tensor([1]))  # leader's CD is the follower's DC
    assert td["joint_state"].item() == 2 and td["agents", "memory_state"].tolist() == [[2, 3]]


def test_each_game_block_pays_its_own_table():
    games = list(STACKELBERG_GAMES)
    env = StackelbergQueryGame(num_envs=2 * len(games), games=games, memory="none", episode_length=1,
                               reward_offset=0.0)
    td = env.reset()
    _, td = _step(env, td, torch.zeros(env.batch_size[0], dtype=torch.long), torch.zeros(env.batch_size[0], dtype=torch.long))
    full, _ = _step(env, td, torch.ones(env.batch_size[0], dtype=torch.long), torch.zeros(env.batch_size[0], dtype=torch.long))
    expected = stackelberg_payoffs(games)[:, 1, 0].repeat_interleave(2, 0)  # DC of each game, 2 envs per game
    assert torch.equal(full["next", "agents", "reward"].squeeze(-1), expected)


@pytest.mark.parametrize("memory", ["none", "small", "full"])
def test_rollout_of_fixed_strategies_matches_the_solver(memory):
    """Every game, random deterministic leader and follower strategies: env returns == brute-force returns."""
    games = list(STACKELBERG_GAMES)
    env = StackelbergQueryGame(num_envs=3 * len(games), games=games, memory=memory, episode_length=6)
    n = env.n_states
    leader, follower = torch.randint(0, 2, (env.batch_size[0], n)), torch.randint(0, 2, (env.batch_size[0], n))

    def policy(td):
        obs = td["agents", "observation"]
        follower_state = obs[:, 1] // 2**n
        td["agents", "action"] = torch.stack(
            [leader.gather(1, (obs[:, 0] % n).unsqueeze(-1)).squeeze(-1),
             follower.gather(1, follower_state.unsqueeze(-1)).squeeze(-1)], -1)
        return td

    rollout = env.rollout(n + 6, policy=policy)
    assert torch.equal(rollout["query_answers"][:, -1], leader)  # the answers are the leader's strategy
    assert torch.equal(rollout["agents", "observation"][:, -1, 1] % 2**n, strategy_code(leader))
    returns = rollout["next", "agents", "reward"].sum(1).squeeze(-1)
    payoff = stackelberg_payoffs(games)[env.game_index]
    assert torch.allclose(returns, deterministic_returns(leader, follower, payoff, memory, 6, -2.5))


def test_partial_reset_keeps_other_envs():
    env = StackelbergQueryGame(num_envs=2, memory="small", episode_length=4)
    td = env.reset()
    for _ in range(4):
        _, td = _step(env, td, torch.tensor([1, 1]), torch.tensor([0, 0]))
    td["_reset"] = torch.tensor([[True], [False]])
    after = env.reset(td)
    assert after["step_count"].squeeze(-1).tolist() == [0, 4]
    assert after["query_answers"].tolist() == [[0, 0, 0], [1, 1, 1]]


def test_bad_arguments_raise_before_any_work():
    with pytest.raises(ValueError, match="unknown memory 'long'; valid choices: none, small, full"):
        StackelbergQueryGame(memory="long")
    with pytest.raises(ValueError, match="num_envs=3 must be a positive multiple of the number of games \\(2\\)"):
        StackelbergQueryGame(num_envs=3, games=["prisoners_dilemma", "chicken"])
    with pytest.raises(ValueError, match="episode_length=0 must be >= 1"):
        StackelbergQueryGame(episode_length=0)
    with pytest.raises(ValueError, match="payoff_table must have shape"):
        StackelbergQueryGame(payoff_table=torch.zeros(2, 2))
    with pytest.raises(ValueError, match="unknown game\\(s\\) \\['tennis'\\]"):
        StackelbergQueryGame(games=["tennis"])


def test_custom_payoff_table():
    table = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 2.0]]])
    env = StackelbergQueryGame(num_envs=1, payoff_table=table, memory="none", episode_length=1, reward_offset=0.0)
    td = env.reset()
    _, td = _step(env, td, torch.tensor([1]), torch.tensor([0]))
    full, _ = _step(env, td, torch.tensor([1]), torch.tensor([1]))
    assert full["next", "agents", "reward"].squeeze(-1).tolist() == [[0.0, 2.0]]


@pytest.mark.cuda
def test_runs_on_cuda():
    env = StackelbergQueryGame(num_envs=4, games=["prisoners_dilemma", "chicken"], device="cuda")
    check_env_specs(env)
    assert env.rollout(15).device.type == "cuda"
