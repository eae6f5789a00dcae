"""Whole-episode rollouts of a LOQA agent (seat 0) against batched opponents (seat 1).

Written as a plain loop over ``env.step`` rather than a TorchRL collector because LOQA needs three
things a collector does not give: every episode's opponent has its own parameters (a snapshot, run
group-wise by :class:`~oppshape.rollouts.loqa_snapshots.OpponentGroups`), the opponent's Q-values and
state values must be recorded next to its actions (they are the data of the opponent model), and
the losses want whole episodes from reset laid out ``[S, B, T]`` (seeds, episodes, time).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Protocol

import torch
from tensordict import TensorDict, TensorDictBase
from torch import nn
from torchrl.envs import EnvBase

from oppshape.modules.action_softmax import softmax_actions
from oppshape.rollouts.loqa_snapshots import GroupBuckets, OpponentGroups


class SeatPolicy(Protocol):
    """One seat's behaviour over a batch of ``E`` games: logits per step, Q-values per episode."""

    def reset(self) -> None: ...

    def __call__(self, state: TensorDictBase, observation: torch.Tensor, time: int) -> torch.Tensor: ...

    def qvalues(self, observations: torch.Tensor) -> torch.Tensor: ...


class NetworkPolicy:
    """An actor (stepped while playing) and a Q-network (run on whole episodes afterwards), group-wise.

    Args:
        actor, qvalue: :mod:`oppshape.modules.loqa_nets` networks (their own parameters are used
            where ``actor_params`` / ``qvalue_params`` are None).
        groups: which episodes each parameter set plays: ``[K, G]`` slots, or buckets of them
            (:class:`~oppshape.rollouts.loqa_snapshots.GroupBuckets`), each run as its own batch.
        actor_params, qvalue_params: ``[K, ...]`` parameters in ``TensorDict.from_module`` layout
            (one per bucket for buckets), swapped in with ``to_module``.
    """

    def __init__(
        self,
        actor: nn.Module,
        qvalue: nn.Module,
        groups: OpponentGroups | GroupBuckets,
        actor_params: TensorDictBase | Sequence[TensorDictBase] | None = None,
        qvalue_params: TensorDictBase | Sequence[TensorDictBase] | None = None,
    ) -> None:
        self.actor, self.qvalue = actor, qvalue
        self.groups = GroupBuckets.single(groups) if isinstance(groups, OpponentGroups) else groups
        parts = len(self.groups.parts)
        self.actor_params, self.qvalue_params = _per_bucket(actor_params, parts), _per_bucket(qvalue_params, parts)
        self.hidden: list[torch.Tensor] = []

    def reset(self) -> None:
        self.hidden = [self.actor.initial_hidden(*part.slots.shape) for part in self.groups.parts]

    def __call__(self, state: TensorDictBase, observation: torch.Tensor, time: int) -> torch.Tensor:
        clock = torch.tensor(float(time), device=observation.device)
        logits = []
        for k, grouped in enumerate(self.groups.gather(observation)):
            with _swapped(self.actor_params[k], self.actor):
                out, self.hidden[k] = self.actor.step(grouped, clock, self.hidden[k])
            logits.append(out)
        return self.groups.scatter(logits)

    def qvalues(self, observations: torch.Tensor) -> torch.Tensor:
        """``Q(s_t, .)`` ``[E, T + 1, A]`` for whole episodes ``[E, T + 1, *obs]``."""
        values = []
        for k, grouped in enumerate(self.groups.gather(observations)):
            with _swapped(self.qvalue_params[k], self.qvalue):
                values.append(self.qvalue(grouped))
        return self.groups.scatter(values)


def _per_bucket(params: TensorDictBase | Sequence[TensorDictBase] | None, parts: int) -> list[TensorDictBase | None]:
    if params is None or isinstance(params, TensorDictBase):
        if parts != 1 and params is not None:
            raise ValueError(f"one parameter TensorDict for {parts} buckets; pass one per bucket")
        return [params] * parts
    if len(params) != parts:
        raise ValueError(f"{len(params)} parameter TensorDicts for {parts} buckets")
    return list(params)


def _swapped(params: TensorDictBase | None, net: nn.Module) -> contextlib.AbstractContextManager:
    return contextlib.nullcontext() if params is None else params.to_module(net)


class FixedPolicy:
    """A scripted seat (always-defect, always-cooperate, ...): ``choose(state) -> actions [E]``.

    Its Q-values are zeros: they only feed the opponent model, which evaluation does not use.
    """

    def __init__(self, choose: Callable[[TensorDictBase], torch.Tensor], num_actions: int) -> None:
        self.choose, self.num_actions = choose, num_actions

    def reset(self) -> None:
        """Scripted strategies keep no memory."""

    def __call__(self, state: TensorDictBase, observation: torch.Tensor, time: int) -> torch.Tensor:
        chosen = torch.nn.functional.one_hot(self.choose(state).long(), self.num_actions).bool()
        return torch.zeros(chosen.shape, device=chosen.device).masked_fill(~chosen, float("-inf"))

    def qvalues(self, observations: torch.Tensor) -> torch.Tensor:
        return torch.zeros(*observations.shape[:2], self.num_actions, device=observations.device)


def _act(logits: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Sample from ``softmax(logits)``; with probability ``epsilon`` a uniform action instead."""
    cumulative = softmax_actions(logits).cumsum(dim=-1)
    uniform = torch.rand(cumulative.shape[:-1], device=logits.device).unsqueeze(-1)
    action = (cumulative[..., :-1] < uniform).sum(dim=-1)  # inverse-CDF draw; faster than multinomial here
    if epsilon > 0.0:
        explore = torch.rand(action.shape, device=action.device) < epsilon
        action = torch.where(explore, torch.randint_like(action, logits.shape[-1]), action)
    return action


@torch.no_grad()
def play_episodes(
    env: EnvBase, agent: SeatPolicy, opponent: SeatPolicy, members: int, steps: int, epsilon: float = 0.0
) -> TensorDict:
    """Play one episode in each of the env's ``E = S * B`` games; seat 0 is the agent.

    Returns a ``[S, B, T]`` TensorDict in :class:`~oppshape.objectives.loqa.LOQALoss`'s default keys
    (the agent's observation, action, reward; the opponent's action, reward, Q-values and state value
    ``V^op = sum_b pi^op(b) Q^op(b)``, also at the final state), plus ``("next", "picked_coin")`` and
    ``("next", "picked_own_coin")`` ``[S, B, T, 2]`` (both seats) when the env reports them.
    """
    games = env.batch_size[0]
    if games % members:
        raise ValueError(f"env has {games} games, not a multiple of members={members}")
    state = env.reset()
    agent.reset()
    opponent.reset()
    record: dict[str, list[torch.Tensor]] = {}
    flags: list[str] | None = None  # the env's coin flags, looked up once: its keys do not change

    def keep(key: str, value: torch.Tensor) -> None:
        record.setdefault(key, []).append(value)

    for t in range(steps + 1):
        observation = state["agents", "observation"]
        opponent_logits = opponent(state, observation[:, 1], t)
        keep("opponent_logits", opponent_logits)
        keep("opponent_observation", observation[:, 1])
        if t == steps:
            break
        actions = torch.stack([_act(agent(state, observation[:, 0], t), epsilon), _act(opponent_logits, epsilon)], -1)
        state["agents", "action"] = actions
        state = env.step(state)
        after = state["next"]
        reward = after["agents", "reward"].reshape(games, 2)
        keep("observation", observation[:, 0])
        keep("action", actions[:, 0])
        keep("opponent_action", actions[:, 1])
        keep("next_observation", after["agents", "observation"][:, 0])
        keep("reward", reward[:, :1])
        keep("opponent_reward", reward[:, 1:])
        keep("done", after["done"])
        keep("terminated", after["terminated"])
        if flags is None:
            flags = [flag for flag in ("picked_coin", "picked_own_coin") if ("agents", flag) in after.keys(True)]
        for flag in flags:
            keep(flag, after["agents", flag].reshape(games, 2))
        state = env.step_mdp(state)  # the env's cached key lists: ~1/4 the time of torchrl's step_mdp

    stacked = {key: torch.stack(values, dim=1) for key, values in record.items()}  # [E, T(+1), ...]
    qvalues = opponent.qvalues(stacked.pop("opponent_observation"))  # [E, T+1, A]
    policy = softmax_actions(stacked.pop("opponent_logits"))
    values = (policy * qvalues).sum(-1)  # V^op(s_t) = sum_b pi^op(b | s_t) Q^op(s_t, b)
    stacked["opponent_qvalue"] = qvalues[:, :-1]
    stacked["opponent_value"], stacked["next_opponent_value"] = values[:, :-1], values[:, 1:]
    shaped = {key: value.reshape(members, games // members, *value.shape[1:]) for key, value in stacked.items()}
    next_keys = ("next_observation", "reward", "opponent_reward", "next_opponent_value", "done", "terminated",
                 "picked_coin", "picked_own_coin")
    root = {key: value for key, value in shaped.items() if key not in next_keys}
    after_step = {key.removeprefix("next_"): shaped[key] for key in next_keys if key in shaped}
    return TensorDict({**root, "next": after_step}, batch_size=[members, games // members, steps])
