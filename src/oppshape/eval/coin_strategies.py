"""Fixed Coin Game strategies, the yardsticks of the POLA and LOQA evaluations.

Always-defect (ALLD) takes the shortest path on the torus to the coin whatever its owner; always-
cooperate (ALLC) walks to its own coins and otherwise makes a move that does not take the other's
coin (the move away from it when that is safe, as POLA's ``get_coop_action``). Both work on the
TensorDict's (row, col) state, vectorized over games. Actions index ``CoinGame.MOVES`` (right, left,
down, up).
"""

from __future__ import annotations

import torch

from oppshape.envs.coin_game import CoinGame

RIGHT, LEFT, DOWN, UP = range(4)
#: the opposite of each move
OPPOSITE = (LEFT, RIGHT, UP, DOWN)


def _check_agent(agent: int) -> None:
    if agent not in (0, 1):
        raise ValueError(f"agent={agent!r} must be 0 or 1")


def shortest_path_action(position: torch.Tensor, target: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A first move of a shortest torus path from ``position`` to ``target`` (both ``[N, 2]`` row, col).

    Vertical distance is closed first (as in POLA); a tie between the two directions (half the board
    on an even side) goes down or right. On the target itself the move is right.
    """
    down = (target[:, 0] - position[:, 0]) % height
    up = (position[:, 0] - target[:, 0]) % height
    right = (target[:, 1] - position[:, 1]) % width
    left = (position[:, 1] - target[:, 1]) % width
    horizontal = torch.where(right <= left, RIGHT, LEFT)
    vertical = torch.where(down <= up, DOWN, UP)
    return torch.where(down != 0, vertical, horizontal)


def always_defect(
    agent_pos: torch.Tensor, coin_pos: torch.Tensor, coin_owner: torch.Tensor, agent: int, height: int, width: int
) -> torch.Tensor:
    """ALLD's actions ``[N]`` for ``agent``: straight to the coin, whoever owns it.

    Args:
        agent_pos: ``[N, 2, 2]`` (row, col) of both agents; coin_pos: ``[N, 2]``; coin_owner: ``[N]``.
    """
    _check_agent(agent)
    return shortest_path_action(agent_pos[:, agent], coin_pos, height, width)


def always_cooperate(
    agent_pos: torch.Tensor, coin_pos: torch.Tensor, coin_owner: torch.Tensor, agent: int, height: int, width: int
) -> torch.Tensor:
    """ALLC's actions ``[N]`` for ``agent``: to its own coin; never onto the other's coin.

    When the coin is the other's, the move away from it is taken if it does not land on the coin
    (on a 2-wide side it can), otherwise the first move (in ``MOVES`` order) that does not.
    """
    _check_agent(agent)
    position = agent_pos[:, agent]
    toward = shortest_path_action(position, coin_pos, height, width)
    moves = CoinGame.MOVES.to(position.device)
    limits = torch.tensor([height, width], device=position.device)
    landing = (position[:, None, :] + moves) % limits  # [N, 4, 2]
    safe = (landing != coin_pos[:, None, :]).any(dim=-1)  # [N, 4]
    away = torch.tensor(OPPOSITE, device=position.device)[toward]
    first_safe = safe.long().argmax(dim=-1)
    avoid = torch.where(safe.gather(1, away[:, None]).squeeze(1), away, first_safe)
    return torch.where(coin_owner == agent, toward, avoid)
