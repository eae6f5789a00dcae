"""Round robin: every ordered pair of entrants plays ``episodes`` games per pair of their seeds, in one batch.

A match between an entrant with ``S_r`` seeds (seat 0) and one with ``S_c`` seeds (seat 1) is one
rollout of ``N = S_r * S_c * episodes`` games stepped together for ``episode_length`` steps; game
``n`` pairs row seed ``n // (S_c * episodes)`` with column seed ``(n // episodes) % S_c``. Rewards are
per-step means over the episode (no discount). Each match draws from its own generators, seeded from
the league seed and the pair's position, so any cell can be replayed alone.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from oppshape.eval.league.games import SeatView
from oppshape.eval.league.policy import LeaguePolicy

#: two-sided 95% normal quantile
Z95 = 1.959963984540054


@dataclass
class MatchResult:
    """Per-episode outcome of one match, seat 0 first.

    Attributes:
        reward: ``[N, 2]`` mean reward per step of each seat in each episode.
        seed_pair: ``[N]`` index ``row_seed * S_c + col_seed`` of the pairing that played the episode.
        coins: ``[N, 2]`` coins picked per episode by each seat (Coin Game), else None.
        own_coins: ``[N, 2]`` of those, the picker's own (Coin Game), else None.
    """

    reward: torch.Tensor
    seed_pair: torch.Tensor
    coins: torch.Tensor | None = None
    own_coins: torch.Tensor | None = None

    def mean(self) -> list[float]:
        return self.reward.mean(dim=0).tolist()

    def ci95(self) -> list[float]:
        """Half-width of the 95% interval of the mean over episodes (all seed pairs pooled)."""
        n = self.reward.shape[0]
        return (Z95 * self.reward.std(dim=0, correction=1) / math.sqrt(n)).tolist() if n > 1 else [0.0, 0.0]

    def ci95_seeds(self) -> list[float] | None:
        """Half-width of the 95% interval over the seed pairs' means; None with a single pair."""
        pairs = int(self.seed_pair.max()) + 1
        if pairs < 2:
            return None
        means = torch.zeros(pairs, 2).index_add_(0, self.seed_pair.cpu(), self.reward.cpu())
        means = means / torch.bincount(self.seed_pair.cpu(), minlength=pairs).unsqueeze(-1)
        return (Z95 * means.std(dim=0, correction=1) / math.sqrt(pairs)).tolist()

    def own_coin_rate(self) -> list[float] | None:
        """Share of each seat's picked coins that were its own, pooled over episodes (Coin Game)."""
        if self.coins is None or self.own_coins is None:
            return None
        return (self.own_coins.sum(dim=0) / self.coins.sum(dim=0).clamp_min(1)).tolist()


def match_generator(seed: int, device: torch.device | str) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


@torch.no_grad()
def play_match(game, row: LeaguePolicy, col: LeaguePolicy, episodes: int, seed: int) -> MatchResult:
    """``row`` (seat 0) against ``col`` (seat 1): ``episodes`` games per seed pair, one batched rollout.

    Args:
        game: a league env (:func:`~oppshape.eval.league.games.make_game`); its ``episode_length`` is played.
        seed: seeds the actions' generator and the env's own (Coin Game placements).
    """
    device = game.device
    if col is row:  # self-play: each seat carries its own recurrent state
        col = copy.copy(row)
    rows, cols = row.num_seeds, col.num_seeds
    n = rows * cols * episodes
    index = torch.arange(n, device=device)
    row.reset(index // (cols * episodes))
    col.reset((index // episodes) % cols)
    generator = match_generator(seed, device)
    game.set_seed(seed)
    state = game.initial_state(n)
    total = torch.zeros(n, 2, device=device)
    coins = torch.zeros(n, 2, device=device) if hasattr(game, "place_coin") else None
    own = torch.zeros_like(coins) if coins is not None else None
    for step in range(game.episode_length):
        actions = torch.stack([policy.act(SeatView(game, state, seat, step), generator)
                               for seat, policy in enumerate((row, col))], dim=-1)
        outcome = game.transition(state, actions)
        state = outcome.state
        total += outcome.reward
        if coins is not None:
            coins += outcome.picked_coin.float()
            own += outcome.picked_own_coin.float()
    return MatchResult(total / game.episode_length, index // episodes, coins, own)


def tournament(game, entrants: Sequence[LeaguePolicy], episodes: int, seed: int) -> list[list[MatchResult]]:
    """Every ordered pair ``(i, j)``, entrant ``i`` in seat 0: ``results[i][j]``."""
    count = len(entrants)
    return [[play_match(game, entrants[i], entrants[j], episodes, seed * count * count + i * count + j)
             for j in range(count)] for i in range(count)]
