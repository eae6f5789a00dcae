"""The exact best response to a memory-1 IPD policy over a finite episode, by backward induction.

Against a fixed memory-1 entrant the responder faces a finite-horizon MDP whose state is the last
joint action (or the start), so the optimal responder is deterministic and depends on (step, last
joint action) only: with ``k`` steps left and entrant cooperation probability ``p(s)`` in state ``s``,

    Q_k(s, a) = p(s) [r(C, a) + V_{k-1}(Ca)] + (1 - p(s)) [r(D, a) + V_{k-1}(Da)],   V_k(s) = max_a Q_k(s, a),

with ``V_0 = 0`` and ``r(b, a)`` the responder's payoff when the entrant plays ``b`` (Bellman 1957;
the finite-horizon value iteration of Puterman 1994, Sec. 4.5). The entrant sits in seat 0 (the
payoff table's row player), the responder in seat 1. Ties go to cooperation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from oppshape.eval.league.games import SeatView
from oppshape.eval.league.policy import LeaguePolicy
from oppshape.games.exact import SWAP_VIEW


@dataclass
class ExactBestResponse:
    """The best response to each entrant seed and the values it gets.

    Attributes:
        actions: ``[S, T, 5]`` the responder's action (0 C, 1 D) at step ``t`` in its own-view state.
        responder_reward: ``[S]`` the responder's expected mean reward per step.
        entrant_reward: ``[S]`` the entrant's expected mean reward per step against it.
    """

    actions: torch.Tensor
    responder_reward: torch.Tensor
    entrant_reward: torch.Tensor


def exact_best_response(p_cooperate: torch.Tensor, payoff: torch.Tensor, episode_length: int) -> ExactBestResponse:
    """Backward induction against ``p_cooperate [S, 5]`` (entrant's own view) under ``payoff [2, 2, 2]``.

    States are indexed from the entrant's view (its own action first): ``1 + 2 * b + a`` after the
    entrant played ``b`` and the responder ``a``.
    """
    p = p_cooperate.detach().to(torch.float64)
    table = payoff.to(torch.float64)
    seeds = p.shape[0]
    value = torch.zeros(seeds, 5, dtype=torch.float64)  # responder's V_k, entrant's view index
    entrant_value = torch.zeros_like(value)
    actions = torch.zeros(seeds, episode_length, 5, dtype=torch.long)
    swap = torch.tensor(SWAP_VIEW)
    for remaining in range(1, episode_length + 1):
        q, q_entrant = [], []
        for a in (0, 1):
            outcomes = [(p if b == 0 else 1 - p, 1 + 2 * b + a, b) for b in (0, 1)]
            q.append(sum(w * (table[b, a, 1] + value[:, nxt, None]) for w, nxt, b in outcomes))
            q_entrant.append(sum(w * (table[b, a, 0] + entrant_value[:, nxt, None]) for w, nxt, b in outcomes))
        q_values, q_entrant_values = torch.stack(q, -1), torch.stack(q_entrant, -1)  # [S, 5, 2]
        choice = (q_values[..., 1] > q_values[..., 0]).long()  # ties: cooperate
        value = q_values.gather(-1, choice[..., None]).squeeze(-1)
        entrant_value = q_entrant_values.gather(-1, choice[..., None]).squeeze(-1)
        actions[:, episode_length - remaining] = choice[:, swap]  # entrant's view -> responder's view
    return ExactBestResponse(actions, value[:, 0] / episode_length, entrant_value[:, 0] / episode_length)


class TimeTablePolicy(LeaguePolicy):
    """A deterministic IPD responder acting by (step, own-view memory-1 state), e.g. an exact best response.

    Args:
        actions: ``[S, T, 5]`` as :attr:`ExactBestResponse.actions`.
    """

    game = "ipd"

    def __init__(self, name: str, actions: torch.Tensor) -> None:
        self.name, self.actions, self.num_seeds = name, actions, actions.shape[0]

    def act(self, view: SeatView, generator: torch.Generator | None) -> torch.Tensor:
        return self.actions.to(view.game.device)[self.seeds, view.step, view.memory_one_state()]
