"""Fixed Coin Game strategies against brute-force torus distances."""

from __future__ import annotations

import pytest
import torch

from oppshape.envs.coin_game import CoinGame
from oppshape.eval.coin_strategies import always_cooperate, always_defect, shortest_path_action


def torus_distance(a: torch.Tensor, b: torch.Tensor, height: int, width: int) -> torch.Tensor:
    rows, cols = (a[..., 0] - b[..., 0]) % height, (a[..., 1] - b[..., 1]) % width
    return torch.minimum(rows, height - rows) + torch.minimum(cols, width - cols)


def all_pairs(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    cells = torch.cartesian_prod(torch.arange(height), torch.arange(width))
    index = torch.cartesian_prod(torch.arange(len(cells)), torch.arange(len(cells)))
    return cells[index[:, 0]], cells[index[:, 1]]


@pytest.mark.parametrize("height,width", [(3, 3), (4, 5), (2, 2), (7, 7)])
def test_shortest_path_move_always_gets_one_step_closer(height: int, width: int) -> None:
    position, target = all_pairs(height, width)
    action = shortest_path_action(position, target, height, width)
    landing = (position + CoinGame.MOVES[action]) % torch.tensor([height, width])
    before, after = torus_distance(position, target, height, width), torus_distance(landing, target, height, width)
    away = before > 0
    assert torch.equal(after[away], before[away] - 1)


def test_shortest_path_closes_the_vertical_distance_first() -> None:
    position = torch.tensor([[0, 0], [0, 0], [2, 2]])
    target = torch.tensor([[1, 1], [2, 2], [2, 0]])
    assert shortest_path_action(position, target, 3, 3).tolist() == [2, 3, 0]  # down, up (wrap), right (wrap)


@pytest.mark.parametrize("height,width", [(3, 3), (2, 2), (2, 5), (4, 4)])
def test_always_cooperate_chases_own_coins_and_never_takes_the_others(height: int, width: int) -> None:
    position, coin = all_pairs(height, width)
    keep = (position != coin).any(-1)  # the coin is never under an agent in play
    position, coin = position[keep], coin[keep]
    n = len(position)
    agent_pos = torch.stack([position, torch.zeros_like(position)], dim=1)  # agent 1 is the one tested
    limits = torch.tensor([height, width])
    for owner, mine in ((torch.zeros(n, dtype=torch.long), True), (torch.ones(n, dtype=torch.long), False)):
        action = always_cooperate(agent_pos, coin, owner, 0, height, width)
        landing = (position + CoinGame.MOVES[action]) % limits
        if mine:
            assert torch.equal(torus_distance(landing, coin, height, width),
                               torus_distance(position, coin, height, width) - 1)
        else:
            assert not (landing == coin).all(-1).any()


def test_always_defect_takes_any_coin_and_agent_two_uses_its_own_position() -> None:
    agent_pos = torch.tensor([[[0, 0], [2, 2]]])
    coin = torch.tensor([[2, 1]])
    for owner in (0, 1):
        owner_t = torch.tensor([owner])
        assert always_defect(agent_pos, coin, owner_t, 0, 3, 3).tolist() == [3]  # up, wrapping to row 2
        assert always_defect(agent_pos, coin, owner_t, 1, 3, 3).tolist() == [1]  # left


def test_bad_agent_index_is_rejected() -> None:
    with pytest.raises(ValueError, match="agent=2"):
        always_defect(torch.zeros(1, 2, 2, dtype=torch.long), torch.ones(1, 2, dtype=torch.long),
                      torch.zeros(1, dtype=torch.long), 2, 3, 3)


def test_defector_beats_cooperator_in_the_env() -> None:
    env = CoinGame(num_envs=200)
    td = env.reset()
    total = torch.zeros(200, 2)
    for _ in range(50):
        args = (td["agent_pos"], td["coin_pos"], td["coin_owner"])
        actions = torch.stack([always_defect(*args, 0, 3, 3), always_cooperate(*args, 1, 3, 3)], dim=-1)
        td["agents", "action"] = actions
        out = env.step(td)
        total += out["next", "agents", "reward"].squeeze(-1)
        td = out["next"]
    assert total[:, 0].mean() > 10 and total[:, 1].mean() < 0
