"""Trained recurrent policies through the league interface: DiCE-family GRUs and LOQA actors.

Both hold ``S`` seed-stacked networks (:mod:`oppshape.modules.gru_policy`, :mod:`oppshape.modules.loqa_nets`)
and run them group-wise with :class:`~oppshape.eval.league.policy.SeedGroups`; the GRU state is
carried from :meth:`reset` across the episode. What each network reads is the convention it was
trained on, asked of the :class:`~oppshape.eval.league.games.SeatView`.
"""

from __future__ import annotations

import torch
from torch import nn

from oppshape.eval.league.games import SeatView
from oppshape.eval.league.policy import LeaguePolicy, SeedGroups, sample
from oppshape.modules.gru_policy import ParamDict, gru_net_step


def observation(view: SeatView, coin_shared_as: int | None) -> torch.Tensor:
    """The flat observation a DiCE or LOQA network reads: the one-hot IPD state or the Coin Game planes."""
    if view.game.n_actions == 2:
        return view.one_hot_state()
    return view.coin_planes(coin_shared_as)


class DiceGRUPolicy(LeaguePolicy):
    """A LOLA-DiCE / POLA-DiCE / POLA-OM policy: dense, ReLU, GRU cell, logits (POLA's network).

    Args:
        name: entrant name.
        game: ``"ipd"`` or ``"coin_game"``.
        params: the policy's parameters in :meth:`oppshape.modules.gru_policy.GRUNet.params` layout (``[S, ...]``).
        coin_shared_as: on the Coin Game with POLA's shared observation, which agent (0 or 1) this
            policy was in training; ``None`` for egocentric observations.
    """

    def __init__(self, name: str, game: str, params: ParamDict, coin_shared_as: int | None = None) -> None:
        self.name, self.game, self.coin_shared_as = name, game, coin_shared_as
        self.params = {key: value.detach() for key, value in params.items()}
        self.num_seeds = self.params["gru_weight_hh"].shape[0]

    def reset(self, seeds: torch.Tensor) -> None:
        super().reset(seeds)
        self.groups = SeedGroups(seeds, self.num_seeds)
        hidden_size = self.params["gru_weight_hh"].shape[-2]
        self.hidden = self.params["gru_weight_hh"].new_zeros(*self.groups.shape, hidden_size)

    @torch.no_grad()
    def act(self, view: SeatView, generator: torch.Generator | None) -> torch.Tensor:
        obs = self.groups.gather(observation(view, self.coin_shared_as))
        logits, self.hidden = gru_net_step(self.params, obs, self.hidden)
        return sample(torch.softmax(self.groups.scatter(logits), dim=-1), generator)


class LoqaActorPolicy(LeaguePolicy):
    """A LOQA actor (:mod:`oppshape.modules.loqa_nets`: tabular on the IPD, GRU on the Coin Game).

    Args:
        name: entrant name.
        game: ``"ipd"`` or ``"coin_game"``.
        actor: the actor network, its parameters ``[S, ...]`` (one ensemble member per seed).
        num_seeds: ``S``.
        coin_shared_as: as :class:`DiceGRUPolicy` (LOQA's own runs are egocentric: ``None``).
    """

    def __init__(self, name: str, game: str, actor: nn.Module, num_seeds: int, coin_shared_as: int | None = None
                 ) -> None:
        self.name, self.game, self.actor, self.num_seeds = name, game, actor.eval(), num_seeds
        self.coin_shared_as = coin_shared_as

    def reset(self, seeds: torch.Tensor) -> None:
        super().reset(seeds)
        self.groups = SeedGroups(seeds, self.num_seeds)
        self.hidden = self.actor.initial_hidden(*self.groups.shape)

    @torch.no_grad()
    def act(self, view: SeatView, generator: torch.Generator | None) -> torch.Tensor:
        obs = self.groups.gather(observation(view, self.coin_shared_as)).reshape(*self.groups.shape, *self.actor.obs_shape)
        clock = torch.tensor(float(view.step), device=obs.device)
        logits, self.hidden = self.actor.step(obs, clock, self.hidden)
        return sample(torch.softmax(self.groups.scatter(logits), dim=-1), generator)
