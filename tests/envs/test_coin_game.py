"""Rules of the Coin Game, cell by cell."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from torchrl.envs.utils import check_env_specs, step_mdp

from oppshape.envs.coin_game import CoinGame, CoinState


def explicit_reset(env: CoinGame, agent_pos, coin_pos, coin_owner) -> TensorDict:
    state = TensorDict(
        {
            "agent_pos": torch.as_tensor(agent_pos).reshape(-1, 2, 2),
            "coin_pos": torch.as_tensor(coin_pos).reshape(-1, 2),
            "coin_owner": torch.as_tensor(coin_owner).reshape(-1),
        },
        batch_size=env.batch_size,
    )
    return env.reset(state, set_state=True)


def step(env: CoinGame, td: TensorDict, actions) -> TensorDict:
    td["agents", "action"] = torch.as_tensor(actions).reshape(-1, 2)
    return env.step(td)["next"]


def test_moves_are_right_left_down_up_with_rows_increasing_downward() -> None:
    assert CoinGame.MOVES.tolist() == [[0, 1], [0, -1], [1, 0], [-1, 0]]


@pytest.mark.parametrize("height,width", [(3, 3), (2, 2), (3, 4)])
def test_every_move_from_every_cell_wraps_around_the_torus(height: int, width: int) -> None:
    cells = [(r, c) for r in range(height) for c in range(width)]
    cases = [(cell, action) for cell in cells for action in range(4)]
    env = CoinGame(num_envs=len(cases), height=height, width=width)
    # only agent 1's new cell is checked here; pick-ups have their own tests
    agent_pos = [[cell, (0, 0)] for cell, _ in cases]
    td = explicit_reset(env, agent_pos, [(height - 1, width - 1)] * len(cases), [0] * len(cases))
    out = step(env, td, [[action, 0] for _, action in cases])
    expected = [((r + CoinGame.MOVES[a, 0].item()) % height, (c + CoinGame.MOVES[a, 1].item()) % width)
                for (r, c), a in cases]
    assert out["agent_pos"][:, 0].tolist() == [list(e) for e in expected]


# (agent positions, coin owner, actions) -> (rewards, picked, picked own); coin at (1, 1), agents move onto it
PICKUP_CASES = {
    "agent 1 takes its own coin": ([(1, 0), (0, 0)], 0, [0, 1], [1.0, 0.0], [True, False], [True, False]),
    "agent 1 takes agent 2's coin": ([(1, 0), (0, 0)], 1, [0, 1], [1.0, -2.0], [True, False], [False, False]),
    "agent 2 takes its own coin": ([(0, 0), (0, 1)], 1, [1, 2], [0.0, 1.0], [False, True], [False, True]),
    "agent 2 takes agent 1's coin": ([(0, 0), (0, 1)], 0, [1, 2], [-2.0, 1.0], [False, True], [False, False]),
    "both take agent 1's coin": ([(1, 0), (0, 1)], 0, [0, 2], [-1.0, 1.0], [True, True], [True, False]),
    "both take agent 2's coin": ([(1, 0), (0, 1)], 1, [0, 2], [1.0, -1.0], [True, True], [False, True]),
    "nobody takes it": ([(0, 0), (2, 2)], 1, [1, 3], [0.0, 0.0], [False, False], [False, False]),
}


@pytest.mark.parametrize("case", list(PICKUP_CASES))
def test_pickup_rewards_owner_flip_and_new_coin(case: str) -> None:
    agents, owner, actions, rewards, picked, picked_own = PICKUP_CASES[case]
    env = CoinGame(num_envs=64)  # the same case in many games, so the new coin's cell is sampled often
    td = explicit_reset(env, [agents] * 64, [(1, 1)] * 64, [owner] * 64)
    out = step(env, td, [actions] * 64)
    assert out["agents", "reward"].squeeze(-1).tolist() == [rewards] * 64
    assert out["agents", "picked_coin"].squeeze(-1).tolist() == [picked] * 64
    assert out["agents", "picked_own_coin"].squeeze(-1).tolist() == [picked_own] * 64
    if any(picked):
        assert (out["coin_owner"] == 1 - owner).all()
        on_agent = (out["coin_pos"][:, None, :] == out["agent_pos"]).all(-1).any(-1)
        assert not on_agent.any()
        assert len({tuple(p) for p in out["coin_pos"].tolist()}) > 1  # redrawn, not fixed
    else:
        assert (out["coin_owner"] == owner).all()
        assert out["coin_pos"].tolist() == [[1, 1]] * 64


def test_coin_is_placed_uniformly_on_exactly_the_free_cells() -> None:
    env = CoinGame(height=3, width=4)
    pairs = torch.cartesian_prod(torch.arange(12), torch.arange(12))  # every pair of agent cells [144, 2]
    for pair in pairs:  # each pair: the draws (k + 0.5) / n_free must hit every free cell once, in order
        free = [c for c in range(12) if c not in pair.tolist()]
        draws = (torch.arange(len(free)) + 0.5) / len(free)
        placed = env.place_coin(pair.expand(len(free), 2), draws)
        assert placed.tolist() == free


def test_coin_never_lands_on_an_agent_over_random_play() -> None:
    env = CoinGame(num_envs=500, height=3, width=3)
    rollout = env.rollout(50, break_when_any_done=False)
    coin, agents = rollout["next", "coin_pos"], rollout["next", "agent_pos"]
    assert not (coin[:, :, None, :] == agents).all(-1).any()
    picked = rollout["next", "agents", "picked_coin"].squeeze(-1).any(-1)
    assert picked.float().mean() > 0.1  # the check above saw many redraws


def test_reset_draws_independent_agents_fair_owner_and_a_free_coin() -> None:
    env = CoinGame(num_envs=20000)
    td = env.reset()
    same_cell = (td["agent_pos"][:, 0] == td["agent_pos"][:, 1]).all(-1).float().mean()
    assert abs(same_cell - 1 / 9) < 0.015  # agents placed independently: they coincide 1 time in 9
    assert abs(td["coin_owner"].float().mean() - 0.5) < 0.02
    assert not (td["coin_pos"][:, None, :] == td["agent_pos"]).all(-1).any()
    cells = td["agent_pos"][:, 0, 0] * 3 + td["agent_pos"][:, 0, 1]
    assert torch.bincount(cells, minlength=9).min() > 20000 / 9 * 0.9


def test_explicit_state_reset_and_bad_states() -> None:
    env = CoinGame(num_envs=2, height=3, width=4)
    agent_pos = [[(0, 3), (2, 1)], [(1, 1), (1, 1)]]
    td = explicit_reset(env, agent_pos, [(2, 3), (0, 0)], [1, 0])
    assert td["agent_pos"].tolist() == [[[0, 3], [2, 1]], [[1, 1], [1, 1]]]
    assert td["coin_pos"].tolist() == [[2, 3], [0, 0]]
    assert td["coin_owner"].tolist() == [1, 0]
    assert td["step_count"].flatten().tolist() == [0, 0]
    with pytest.raises(ValueError, match="agent_pos"):
        explicit_reset(env, [[(3, 0), (0, 0)]] * 2, [(0, 1)] * 2, [0, 0])
    with pytest.raises(ValueError, match="coin_owner"):
        explicit_reset(env, agent_pos, [(2, 3), (0, 0)], [2, 0])


def test_egocentric_observation_is_the_same_board_with_roles_swapped() -> None:
    env = CoinGame(num_envs=1, height=3, width=4)
    td = explicit_reset(env, [[(0, 1), (2, 3)]], [(1, 2)], [1])
    obs = td["agents", "observation"][0]  # [2, 4, 3, 4]
    expected_0 = torch.zeros(4, 3, 4)
    expected_0[0, 0, 1] = expected_0[1, 2, 3] = expected_0[3, 1, 2] = 1  # the coin is agent 2's: plane 3
    assert torch.equal(obs[0], expected_0)
    assert torch.equal(obs[1], expected_0[[1, 0, 3, 2]])


def test_shared_observation_is_agent_one_view_for_both_and_flattening() -> None:
    env = CoinGame(num_envs=1, egocentric=False, flatten_observation=True)
    td = explicit_reset(env, [[(0, 0), (2, 2)]], [(1, 1)], [1])
    obs = td["agents", "observation"][0]
    assert obs.shape == (2, 36)
    expected = torch.zeros(4, 3, 3)
    expected[0, 0, 0] = expected[1, 2, 2] = expected[3, 1, 1] = 1
    assert torch.equal(obs[0], expected.flatten()) and torch.equal(obs[1], expected.flatten())


def test_episodes_are_truncated_at_episode_length_and_never_terminated() -> None:
    env = CoinGame(num_envs=3, episode_length=7)
    rollout = env.rollout(7, break_when_any_done=False)
    assert rollout["next", "truncated"].squeeze(-1).tolist() == [[False] * 6 + [True]] * 3
    assert not rollout["next", "terminated"].any()
    assert torch.equal(rollout["next", "done"], rollout["next", "truncated"])


@pytest.mark.parametrize("kwargs", [{}, {"egocentric": False}, {"flatten_observation": True},
                                    {"height": 2, "width": 2}, {"height": 4, "width": 5}])
def test_check_env_specs(kwargs: dict) -> None:
    check_env_specs(CoinGame(num_envs=4, **kwargs))


def test_seeded_env_reproduces_its_games() -> None:
    def play() -> torch.Tensor:
        env = CoinGame(num_envs=8)
        env.set_seed(3)
        td = env.reset()
        for t in range(20):
            td = step_mdp(env.step(td.set(("agents", "action"), torch.full((8, 2), t % 4))))
        return torch.cat([td["agent_pos"].flatten(), td["coin_pos"].flatten(), td["coin_owner"]])

    assert torch.equal(play(), play())


def test_tensor_level_transition_matches_the_env_step() -> None:
    env = CoinGame(num_envs=256, height=3, width=4)
    td = env.reset()
    state = CoinState(env.cells(td["agent_pos"]), env.cells(td["coin_pos"]), td["coin_owner"])
    actions = torch.randint(4, (256, 2))
    uniform = torch.rand(256)
    moved = env.transition(state, actions, uniform)
    out = step(env, td, actions)
    assert torch.equal(out["agent_pos"], env.positions(moved.state.agent_cell))
    assert torch.equal(out["agents", "reward"].squeeze(-1), moved.reward)
    assert torch.equal(out["agents", "observation"], env.observe(CoinState(
        env.cells(out["agent_pos"]), env.cells(out["coin_pos"]), out["coin_owner"])))


@pytest.mark.parametrize("egocentric", [True, False])
def test_observation_table_row_of_a_state_is_its_observation(egocentric: bool) -> None:
    game = CoinGame(height=3, width=4, egocentric=egocentric)
    state = game.initial_state(2000)
    for _ in range(5):
        table = game.observation_table
        assert table.shape == (2 * 12**3, 2, 4, 3, 4)
        assert torch.equal(table[game.observation_index(state)], game.observe(state))
        state = game.transition(state, torch.randint(4, (2000, 2))).state
    assert CoinGame(height=5, width=5).observation_table is None  # 31250 rows: not worth it


@pytest.mark.parametrize("kwargs", [{"num_envs": 0}, {"height": 1}, {"width": 1}, {"episode_length": 0}])
def test_bad_arguments_name_the_value(kwargs: dict) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        CoinGame(**kwargs)


@pytest.mark.cuda
def test_runs_on_cuda() -> None:
    env = CoinGame(num_envs=16, device="cuda")
    rollout = env.rollout(10, break_when_any_done=False)
    assert rollout["next", "agents", "reward"].device.type == "cuda"


def rule_transition(env: CoinGame, state: CoinState, actions: torch.Tensor, uniform: torch.Tensor) -> tuple:
    """The rules written out step by step, no tables: what the table-driven hot path must reproduce."""
    agent_cell = env.next_cell[state.agent_cell, actions]
    picked = agent_cell == state.coin_cell[:, None]
    owns = state.coin_owner[:, None] == torch.arange(2)
    reward = picked.float() - 2.0 * (owns & picked.flip(-1)).float()
    any_pick = picked.any(-1)
    coin_cell = torch.where(any_pick, env.place_coin(agent_cell, uniform), state.coin_cell)
    coin_owner = torch.where(any_pick, 1 - state.coin_owner, state.coin_owner)
    return agent_cell, coin_cell, coin_owner, reward, picked, picked & owns


def test_table_driven_transition_is_the_rule_for_every_state_and_joint_action() -> None:
    env = CoinGame(height=3, width=4)
    cells = torch.arange(12)
    grid = torch.cartesian_prod(cells, cells, cells, torch.arange(2), torch.arange(4), torch.arange(4))
    state = CoinState(grid[:, :2], grid[:, 2], grid[:, 3])
    actions = grid[:, 4:]
    torch.manual_seed(0)
    uniform = torch.rand(len(grid))
    uniform[::5], uniform[1::5] = 1 - 2**-24, 0.0  # edge draws: u * n_free rounds up to n_free in float32
    step = env.transition(state, actions, uniform)
    got = (*step.state, step.reward, step.picked_coin, step.picked_own_coin)
    for name, mine, rule in zip(("agent_cell", "coin_cell", "coin_owner", "reward", "picked", "picked_own"),
                                got, rule_transition(env, state, actions, uniform)):
        assert torch.equal(mine, rule), name


@pytest.mark.parametrize("kwargs", [{"egocentric": True}, {"egocentric": False}, {"height": 5, "width": 5}])
def test_observe_is_the_plane_by_plane_rule_and_follows_the_egocentric_flag(kwargs: dict) -> None:
    env = CoinGame(**kwargs)
    state = env.initial_state(500)
    assert torch.equal(env.observe(state), env._observe_planes(state))
    env.egocentric = not env.egocentric  # the table is rebuilt for the other view
    assert torch.equal(env.observe(state), env._observe_planes(state))


@pytest.mark.compile
def test_compiled_hot_path_plays_the_same_games_as_eager_without_recompiling() -> None:
    from oppshape import hot_path

    def play(compiled: bool) -> list[torch.Tensor]:
        env = CoinGame(num_envs=64)
        env.set_seed(5)
        state, seen = env.initial_state(64), []
        with hot_path.enabled(compiled):
            for t in range(6):
                # compiled on the first step; the others must reuse it
                with torch._dynamo.config.patch(error_on_recompile=compiled and t > 0):
                    step = env.transition(state, torch.arange(128).reshape(64, 2).add(t) % 4)
                    state = step.state
                    seen += [*state, step.reward, step.picked_coin, step.picked_own_coin, env.observe(state)]
        return seen

    for eager, compiled in zip(play(False), play(True)):
        assert torch.equal(eager, compiled)
