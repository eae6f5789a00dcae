"""The two games a league is played on, at tensor level, and what each seat sees of them.

A league steps the envs' tensor-level rules (``initial_state`` / ``transition`` / ``observe`` of
:class:`~oppshape.envs.iterated_matrix_game.IteratedMatrixGame` and
:class:`~oppshape.envs.coin_game.CoinGame`), as the DiCE evaluation does: one batched rollout of all
episodes of a pairing, no TensorDict per step. :class:`SeatView` is the observation adapter: each
policy asks it for the convention it was trained on (the memory-1 state, the one-hot state, the Coin
Game's egocentric planes, or POLA's shared planes as agent 1 or agent 2 saw them), so one game serves
every family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from oppshape.envs.coin_game import CoinGame
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.envs.registry import make_env

#: Games a league can be played on.
GAMES: tuple[str, ...] = ("ipd", "coin_game")

#: Egocentric planes ``[me, other, coin if mine, coin if other's]`` reordered into agent 2's shared view
#: ``[agent 1, agent 2, agent 1's coin, agent 2's coin]`` = ``[other, me, other's coin, my coin]``.
SHARED_AS_SECOND_AGENT = (1, 0, 3, 2)


@dataclass(frozen=True)
class SeatView:
    """One seat's view of ``N`` games at one step: every observation convention, computed on demand.

    Attributes:
        game: the league's env (its tensor-level rules).
        state: the games' state (a joint-state tensor ``[N]`` for the IPD, a ``CoinState`` for the Coin Game).
        seat: 0 or 1.
        step: steps already played in the episode (0 at the first action).
    """

    game: Any
    state: Any
    seat: int
    step: int

    @property
    def num_games(self) -> int:
        return int(self.state.shape[0]) if isinstance(self.state, torch.Tensor) else int(self.state.coin_owner.shape[0])

    def memory_one_state(self) -> torch.Tensor:
        """IPD: the own-view memory-1 state ``[N]`` (0 start, 1 CC, 2 CD, 3 DC, 4 DD; own action first)."""
        return self.game.state_views[self.state, self.seat]

    def one_hot_state(self) -> torch.Tensor:
        """IPD: the env's observation, one-hot own-view state ``[N, 5]``."""
        return self.game.observe(self.state)[:, self.seat]

    def coin_planes(self, shared_as: int | None = None) -> torch.Tensor:
        """Coin Game: flat planes ``[N, 4 * H * W]``.

        Args:
            shared_as: ``None`` for the egocentric view (LOQA); 0 or 1 for POLA's shared view as seen by
                the agent that was agent ``shared_as + 1`` in training (agent 1's shared view is the
                egocentric one; agent 2's swaps the agents' and the coins' planes).
        """
        planes = self.game.observe(self.state)[:, self.seat]  # [N, 4, H, W], egocentric
        if shared_as == 1:
            planes = planes[:, list(SHARED_AS_SECOND_AGENT)]
        return planes.flatten(start_dim=1)

    def coin_positions(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Coin Game: ``(agent (row, col) [N, 2, 2], coin (row, col) [N, 2], coin owner [N])`` for scripted play."""
        game, state = self.game, self.state
        return game.positions(state.agent_cell), game.positions(state.coin_cell), state.coin_owner


@dataclass(frozen=True)
class GameSpec:
    """Which game a league plays (``name`` in :data:`GAMES`) and its parameters."""

    name: str = "ipd"
    payoff: str = "ipd"  # IPD payoff preset (oppshape.games.PAYOFF_NAMES); classic -1/-3/0/-2 by default
    cf: float | None = None  # contribution factor, for payoff=ipd_cf only
    episode_length: int = 50
    height: int = 3  # Coin Game board
    width: int = 3

    def describe(self) -> str:
        if self.name == "ipd":
            return f"ipd ({self.payoff}, {self.episode_length} steps)"
        return f"coin_game ({self.height}x{self.width}, {self.episode_length} steps)"


def make_game(spec: GameSpec, device: torch.device | str = "cpu") -> IteratedMatrixGame | CoinGame:
    """The env whose tensor-level rules the league steps (built through the one env registry)."""
    if spec.name == "ipd":
        return make_env("iterated_matrix_game", num_envs=1, payoff=spec.payoff, cf=spec.cf,
                        episode_length=spec.episode_length, device=device)
    if spec.name == "coin_game":
        return make_env("coin_game", num_envs=1, height=spec.height, width=spec.width,
                        episode_length=spec.episode_length, egocentric=True, device=device)
    raise ValueError(f"unknown league game {spec.name!r}; valid choices: {', '.join(GAMES)}")
