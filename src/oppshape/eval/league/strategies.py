"""Fixed strategies through the league interface: memory-1 IPD policies and the Coin Game yardsticks.

Every fixed IPD strategy of the league is memory-1 (grim trigger too: it defects in every state but
start and CC, so once the other defects it never returns to CC), so all of them, and every trained
memory-1 agent, are one class, :class:`MemoryOnePolicy`, and all have an exact best response. The
Coin Game strategies reuse :mod:`oppshape.eval.coin_strategies`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from oppshape.eval.coin_strategies import always_cooperate, always_defect
from oppshape.eval.league.games import SeatView
from oppshape.eval.league.policy import LeaguePolicy, sample

#: P(cooperate) in the own-view states (start, CC, CD, DC, DD); own action first (CD: I cooperated).
IPD_STRATEGIES: dict[str, tuple[float, ...]] = {
    "allc": (1.0, 1.0, 1.0, 1.0, 1.0),
    "alld": (0.0, 0.0, 0.0, 0.0, 0.0),
    "tft": (1.0, 1.0, 0.0, 1.0, 0.0),
    "grim": (1.0, 1.0, 0.0, 0.0, 0.0),
    "random": (0.5, 0.5, 0.5, 0.5, 0.5),
}

#: Coin Game strategies: always-cooperate (own coins only), always-defect (greedy for any coin), random.
COIN_STRATEGIES: tuple[str, ...] = ("allc", "alld", "random")


class MemoryOnePolicy(LeaguePolicy):
    """An IPD policy given by P(cooperate | own-view state), one row per seed.

    Args:
        name: entrant name.
        p_cooperate: ``[S, 5]`` over (start, CC, CD, DC, DD), own action first.
    """

    game = "ipd"

    def __init__(self, name: str, p_cooperate: torch.Tensor) -> None:
        if p_cooperate.dim() != 2 or p_cooperate.shape[1] != 5:
            raise ValueError(f"p_cooperate must be [num_seeds, 5]; got {tuple(p_cooperate.shape)}")
        self.name, self.p_cooperate = name, p_cooperate.detach().to(torch.float32)
        self.num_seeds = p_cooperate.shape[0]

    def act(self, view: SeatView, generator: torch.Generator | None) -> torch.Tensor:
        p = self.p_cooperate.to(view.game.device)[self.seeds, view.memory_one_state()]
        return sample(torch.stack((p, 1 - p), dim=-1), generator)


def ipd_strategy(name: str) -> MemoryOnePolicy:
    """A fixed IPD strategy by name (one of :data:`IPD_STRATEGIES`)."""
    if name not in IPD_STRATEGIES:
        raise ValueError(f"unknown IPD strategy {name!r}; valid choices: {', '.join(IPD_STRATEGIES)}")
    return MemoryOnePolicy(name, torch.tensor([IPD_STRATEGIES[name]]))


class CoinStrategyPolicy(LeaguePolicy):
    """A scripted Coin Game player: ``choose(view, generator) -> actions [N]``."""

    game = "coin_game"

    def __init__(self, name: str, choose: Callable[[SeatView, torch.Generator | None], torch.Tensor]) -> None:
        self.name, self.choose = name, choose

    def act(self, view: SeatView, generator: torch.Generator | None) -> torch.Tensor:
        return self.choose(view, generator)


def _scripted(strategy: Callable[..., torch.Tensor]) -> Callable[[SeatView, torch.Generator | None], torch.Tensor]:
    def choose(view: SeatView, generator: torch.Generator | None) -> torch.Tensor:
        agents, coin, owner = view.coin_positions()
        return strategy(agents, coin, owner, view.seat, view.game.height, view.game.width)

    return choose


def _uniform(view: SeatView, generator: torch.Generator | None) -> torch.Tensor:
    probs = torch.full((view.num_games, view.game.n_actions), 1.0 / view.game.n_actions, device=view.game.device)
    return sample(probs, generator)


def coin_strategy(name: str) -> CoinStrategyPolicy:
    """A fixed Coin Game strategy by name (one of :data:`COIN_STRATEGIES`)."""
    choices = {"allc": _scripted(always_cooperate), "alld": _scripted(always_defect), "random": _uniform}
    if name not in choices:
        raise ValueError(f"unknown Coin Game strategy {name!r}; valid choices: {', '.join(COIN_STRATEGIES)}")
    return CoinStrategyPolicy(name, choices[name])
