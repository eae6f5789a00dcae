"""The iterated 2x2 game at tensor level, for the lean rollouts of the DiCE learners.

Same rules and observation as ``oppshape.envs.iterated_matrix_game.IteratedMatrixGame`` (action 0 =
cooperate, one-hot of (start, CC, CD, DC, DD) from each agent's own view), without a TensorDict per
step: the inner loops of POLA-DiCE run hundreds of rollouts per update. With a GRU policy this is
POLA's "IPD with full history" (the GRU carries the history; each step shows the last joint action).
It has the methods of :class:`oppshape.envs.coin_game.CoinGame` that the rollouts use.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from oppshape.games.exact import SWAP_VIEW

N_STATES = 5  # start, CC, CD, DC, DD


class MatrixStep(NamedTuple):
    """The next joint state ``[N]`` (agent 1's view) and the rewards ``[N, 2]``."""

    state: torch.Tensor
    reward: torch.Tensor


class IteratedGameCore:
    """Batched repeated 2x2 game from the start state.

    Args:
        payoff: ``[2, 2, 2]`` table ``[a1, a2, agent]`` (``oppshape.games.payoff_table``).
        device: where the tables live.
    """

    n_actions = 2
    observation_shape = (N_STATES,)

    def __init__(self, payoff: torch.Tensor, device: torch.device | str = "cpu") -> None:
        if payoff.shape != (2, 2, 2):
            raise ValueError(f"payoff must have shape [2, 2, 2] ([a1, a2, agent]); got {tuple(payoff.shape)}")
        self.device = torch.device(device)
        self.payoff = payoff.to(self.device, torch.float32)
        own_views = torch.tensor([list(range(N_STATES)), list(SWAP_VIEW)]).T  # [state, agent]
        self.observations = torch.eye(N_STATES, device=self.device)[own_views]  # [state, 2, 5]
        self.observation_table = self.observations  # every distinct observation (see dice_rollout)

    def initial_state(self, n: int) -> torch.Tensor:
        """``n`` games at the start state."""
        return torch.zeros(n, dtype=torch.long, device=self.device)

    def transition(self, state: torch.Tensor, actions: torch.Tensor, uniform: torch.Tensor | None = None) -> MatrixStep:
        """Play ``actions [N, 2]``; the game is deterministic, ``uniform`` is ignored."""
        first, second = actions[:, 0], actions[:, 1]
        return MatrixStep(1 + 2 * first + second, self.payoff[first, second])

    def observe(self, state: torch.Tensor) -> torch.Tensor:
        """Both agents' one-hot own-view states ``[N, 2, 5]``."""
        return self.observations[state]

    def observation_index(self, state: torch.Tensor) -> torch.Tensor:
        """Row of ``observation_table`` each game shows: the state itself."""
        return state
