"""The one interface every league entrant plays through: a frozen, seeded, batched two-player policy.

An entrant may hold several independently trained seeds (a run with ``num_seeds`` > 1 is one entrant
with that many seeds). Before an episode batch, :meth:`LeaguePolicy.reset` says which of its seeds
plays each of the ``N`` games (and clears recurrent state); :meth:`LeaguePolicy.act` then maps one
step's :class:`~oppshape.eval.league.games.SeatView` to actions ``[N]``, drawing from the
``torch.Generator`` it is given, so a league is reproducible from its seed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from oppshape.eval.league.games import SeatView


def sample(probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Actions ``[N]`` drawn from ``probs [N, A]`` by inverse CDF with ``generator`` (one uniform per game)."""
    uniform = torch.rand(probs.shape[0], 1, generator=generator, device=probs.device)
    return (probs.cumsum(dim=-1)[:, :-1] < uniform).sum(dim=-1)


class LeaguePolicy(ABC):
    """A frozen player of one game.

    Attributes:
        name: the entrant's name in tables.
        game: the game it plays (``"ipd"`` or ``"coin_game"``).
        num_seeds: independently trained copies it holds (1 for a fixed strategy).
    """

    name: str
    game: str
    num_seeds: int = 1

    def reset(self, seeds: torch.Tensor) -> None:
        """Start ``len(seeds)`` episodes; ``seeds [N]`` (long, in ``0 .. num_seeds - 1``) says who plays each.

        Stateless strategies ignore it; recurrent policies clear their state here.
        """
        self.seeds = seeds

    @abstractmethod
    def act(self, view: SeatView, generator: torch.Generator | None) -> torch.Tensor:
        """Actions ``[N]`` (long) for one step."""


class SeedGroups:
    """Runs seed-stacked networks (parameters ``[S, ...]``) on games assigned to seeds in any order.

    The games of each seed are gathered into one row of a ``[S, G, ...]`` batch (every seed must play
    the same number ``G`` of games) and the outputs scattered back, so each game uses its own seed's
    weights at the cost of one batched matmul per layer.
    """

    def __init__(self, seeds: torch.Tensor, num_seeds: int) -> None:
        counts = torch.bincount(seeds, minlength=num_seeds)
        if len(counts) != num_seeds or (counts != counts[0]).any():
            raise ValueError(f"every seed must play the same number of games; got counts {counts.tolist()}")
        self.order = torch.argsort(seeds, stable=True)
        self.inverse = torch.argsort(self.order)
        self.shape = (num_seeds, int(counts[0]))

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, ...]`` -> ``[S, G, ...]``."""
        return x[self.order].reshape(*self.shape, *x.shape[1:])

    def scatter(self, x: torch.Tensor) -> torch.Tensor:
        """``[S, G, ...]`` -> ``[N, ...]`` in the games' order."""
        return x.reshape(-1, *x.shape[2:])[self.inverse]
