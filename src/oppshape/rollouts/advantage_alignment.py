"""Whole-episode rollouts of two seats for the Advantage Alignment family, batched over seeds and episodes.

Each seat is a policy over ``S x B`` games (``S`` seeds, ``B`` episodes each): a network seat wraps an
ensemble actor of :mod:`oppshape.modules.loqa_nets` (member ``s`` plays seed ``s``'s games) and a
scripted seat wraps a fixed strategy (always-defect, always-cooperate, ...). One call steps every game
of the env together for one episode; the only Python loop is over time. The result is laid out
``[2, S, B, T]`` (seat first), so ``batch[i]`` is seat ``i``'s own view in
:class:`~oppshape.objectives.advantage_alignment.AdvantageAlignmentLoss`'s default keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from tensordict import TensorDict, TensorDictBase
from torch import nn
from torchrl.envs import EnvBase


class Seat(Protocol):
    """One seat's behaviour: ``reset()`` at an episode's start, then logits ``[S, B, A]`` per step."""

    def reset(self) -> None: ...

    def __call__(self, state: TensorDictBase, observation: torch.Tensor, time: int) -> torch.Tensor: ...


class NetworkSeat:
    """An ensemble actor (``step(observation, time, hidden)``, ``initial_hidden(S, B)``) acting in a seat."""

    def __init__(self, actor: nn.Module, members: int, episodes: int) -> None:
        self.actor, self.members, self.episodes = actor, members, episodes
        self.hidden = torch.empty(0)

    def reset(self) -> None:
        self.hidden = self.actor.initial_hidden(self.members, self.episodes)

    def __call__(self, state: TensorDictBase, observation: torch.Tensor, time: int) -> torch.Tensor:
        clock = torch.tensor(float(time), device=observation.device)
        logits, self.hidden = self.actor.step(observation, clock, self.hidden)
        return logits


class ScriptedSeat:
    """A fixed strategy ``choose(state) -> actions [S * B]``, as logits that put all mass on its action."""

    def __init__(self, choose: Callable[[TensorDictBase], torch.Tensor], members: int, num_actions: int) -> None:
        self.choose, self.members, self.num_actions = choose, members, num_actions

    def reset(self) -> None:
        """Scripted strategies keep no memory."""

    def __call__(self, state: TensorDictBase, observation: torch.Tensor, time: int) -> torch.Tensor:
        chosen = torch.nn.functional.one_hot(self.choose(state).long(), self.num_actions).bool()
        logits = torch.zeros(chosen.shape, device=chosen.device).masked_fill(~chosen, float("-inf"))
        return logits.reshape(self.members, -1, self.num_actions)


@torch.no_grad()
def play_episodes(env: EnvBase, seats: tuple[Seat, Seat], members: int, steps: int) -> TensorDict:
    """One episode in each of the env's ``E = S * B`` games; seat ``i`` plays agent ``i``.

    Returns a ``[2, S, B, T]`` TensorDict: ``observation``, ``action``, ``sample_log_prob`` (log-prob of
    the taken action), ``policy`` (``[..., A]`` the acting distribution) and under ``"next"``:
    ``observation``, ``reward``, ``done``, ``terminated``, and the Coin Game's ``picked_coin`` /
    ``picked_own_coin`` when the env reports them.
    """
    games = env.batch_size[0]
    if games % members:
        raise ValueError(f"env has {games} games, not a multiple of members={members}")
    episodes = games // members
    state = env.reset()
    for seat in seats:
        seat.reset()
    record: dict[str, list[torch.Tensor]] = {}

    def keep(key: str, value: torch.Tensor) -> None:
        record.setdefault(key, []).append(value)

    def per_seat(value: torch.Tensor) -> torch.Tensor:
        """``[E, 2, ...]`` -> ``[2, S, B, ...]``."""
        return value.transpose(0, 1).reshape(2, members, episodes, *value.shape[2:])

    for t in range(steps):
        observation = per_seat(state["agents", "observation"])
        logits = torch.stack([seat(state, observation[i], t) for i, seat in enumerate(seats)])  # [2, S, B, A]
        log_policy = torch.log_softmax(logits, dim=-1)
        action = torch.distributions.Categorical(logits=log_policy, validate_args=False).sample()
        state["agents", "action"] = action.reshape(2, games).transpose(0, 1)
        state = env.step(state)
        after = state["next"]
        keep("observation", observation)
        keep("action", action)
        keep("sample_log_prob", log_policy.gather(-1, action.unsqueeze(-1)).squeeze(-1))
        keep("policy", log_policy.exp())
        keep("next_observation", per_seat(after["agents", "observation"]))
        keep("reward", per_seat(after["agents", "reward"]).squeeze(-1))
        for flag in ("done", "terminated"):
            keep(flag, after[flag].reshape(1, members, episodes).expand(2, members, episodes))
        for flag in ("picked_coin", "picked_own_coin"):
            if ("agents", flag) in after.keys(True):
                keep(flag, per_seat(after["agents", flag]).squeeze(-1))
        state = env.step_mdp(state)  # the env's cached key lists (LayoutStepMDP for the native envs)

    stacked = {key: torch.stack(values, dim=3) for key, values in record.items()}  # [2, S, B, T, ...]
    next_keys = ("next_observation", "reward", "done", "terminated", "picked_coin", "picked_own_coin")
    root = {key: value for key, value in stacked.items() if key not in next_keys}
    after_step = {key.removeprefix("next_"): stacked[key] for key in next_keys if key in stacked}
    return TensorDict({**root, "next": after_step}, batch_size=[2, members, episodes, steps])
