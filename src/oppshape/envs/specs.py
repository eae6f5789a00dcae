"""Spec and output builders shared by the multi-agent envs of this package.

Every env here keeps its per-agent leaves under one group ``"agents"`` (nested batch
``[*batch_size, n_agents]``) and root ``done`` / ``terminated`` / ``truncated`` ``[*batch_size, 1]``
(see ``docs/DEVELOPING.md``); these helpers build that layout once, and :class:`CompleteStepEnv` lets an
env whose step output is complete skip TorchRL's per-step completion pass.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch
from tensordict import TensorDict, TensorDictBase
from tensordict.utils import NestedKey
from torchrl.data import Categorical, Composite, TensorSpec, Unbounded
from torchrl.envs import EnvBase


def agents_spec(batch_size: torch.Size, n_agents: int, device: torch.device, **leaves: TensorSpec) -> Composite:
    """``Composite`` with ``leaves`` (each ``[*batch_size, n_agents, ...]``) under ``"agents"``."""
    agents_shape = (*batch_size, n_agents)
    return Composite(
        agents=Composite(**leaves, shape=agents_shape, device=device), shape=batch_size, device=device
    )


def agents_action_spec(
    batch_size: torch.Size, n_agents: int, n_actions: int, device: torch.device, **extra: TensorSpec
) -> Composite:
    """Categorical ``("agents", "action")`` ``[*batch_size, n_agents]`` over ``n_actions``, plus any
    ``extra`` per-agent action leaves (the switch riddle's message)."""
    action = Categorical(n_actions, shape=(*batch_size, n_agents), device=device)
    return agents_spec(batch_size, n_agents, device, action=action, **extra)


def agents_reward_spec(batch_size: torch.Size, n_agents: int, device: torch.device) -> Composite:
    """Unbounded per-agent reward ``("agents", "reward")`` ``[*batch_size, n_agents, 1]``."""
    reward = Unbounded(shape=(*batch_size, n_agents, 1), device=device)
    return agents_spec(batch_size, n_agents, device, reward=reward)


def done_spec(batch_size: torch.Size, device: torch.device) -> Composite:
    """Root boolean ``done``, ``terminated`` and ``truncated``, each ``[*batch_size, 1]``."""
    done = Categorical(2, shape=(*batch_size, 1), dtype=torch.bool, device=device)
    return Composite(
        done=done.clone(), terminated=done.clone(), truncated=done.clone(), shape=batch_size, device=device
    )


class CompleteStepEnv(EnvBase):
    """Base of the envs whose ``_step`` returns :func:`step_output`'s TensorDict: the reward and every done
    key already in their spec shapes, so ``EnvBase._step_proc_data`` (reshape the reward, fill missing done
    keys: ~1/3 of a 2000-game IPD ``step``) has nothing to do and is skipped. With ``run_type_checks`` on,
    TorchRL's pass runs as usual. ``tests/envs/test_specs.py`` checks the skipped pass would change nothing.
    """

    def _step_proc_data(self, next_tensordict_out: TensorDictBase) -> TensorDictBase:
        if self.run_type_checks:
            return super()._step_proc_data(next_tensordict_out)
        return next_tensordict_out

    @property
    def _step_mdp(self) -> Callable[[TensorDictBase], TensorDictBase]:
        """TorchRL's cached ``step_mdp`` (``env.step_mdp``, ``step_and_maybe_reset``), wrapped by
        :class:`LayoutStepMDP` while the specs are locked (TorchRL caches its own under the same rule)."""
        generic = super()._step_mdp
        if self.run_type_checks or not self.is_spec_locked:
            return generic
        cached = self.__dict__.get("_layout_step_mdp")
        if cached is None or cached.generic is not generic:
            cached = self.__dict__["_layout_step_mdp"] = LayoutStepMDP(self, generic)
        return cached


class LayoutStepMDP:
    """``step_mdp`` as TorchRL's ``EnvBase._step_mdp`` does it (actions and other root entries kept, the
    next observations and done flags moved up, rewards dropped), for this package's two-level layout.

    When the root and ``"next"`` hold exactly the env's own keys (what ``reset``/``step`` produce and a
    rollout adds actions to), the output is built in one pass from precomputed key lists: ~10 vs ~24 us
    at 2000 IPD games, a sixth of a TorchRL ``step_and_maybe_reset``. Anything else (extra keys, deeper
    nesting, lazy stacks) goes to TorchRL's ``generic``. ``tests/envs/test_specs.py`` compares the two.
    """

    def __init__(self, env: EnvBase, generic: Callable[[TensorDictBase], TensorDictBase]) -> None:
        self.generic = generic
        observations = [_as_tuple(key) for key in env.full_observation_spec.keys(True, True)]
        dones, actions = [_as_tuple(key) for key in env.done_keys], [_as_tuple(key) for key in env.action_keys]
        rewards = [_as_tuple(key) for key in env.reward_keys]
        every = observations + dones + actions + rewards
        self.enabled = not env.full_state_spec.keys() and all(len(key) <= 2 for key in every)
        groups = sorted({key[0] for key in every if len(key) == 2})
        self.groups = groups
        # per level (None: the root, else a group): leaves taken from the root / from "next"
        self.from_root = {level: _leaves(actions, level) for level in [None, *groups]}
        self.from_next = {level: _leaves(observations + dones, level) for level in [None, *groups]}
        self.root_allowed = {level: set(_leaves(observations + dones + actions, level)) for level in [None, *groups]}
        self.root_allowed[None] |= {"next", *groups}
        self.next_keys = {level: set(_leaves(observations + dones + rewards, level)) for level in [None, *groups]}
        self.next_keys[None] |= set(groups)

    def __call__(self, tensordict: TensorDictBase) -> TensorDictBase:
        out = self._fast(tensordict) if self.enabled else None
        return self.generic(tensordict) if out is None else out

    def _fast(self, tensordict: TensorDictBase) -> TensorDict | None:
        if type(tensordict) is not TensorDict:
            return None
        following = tensordict._get_str("next", None)
        if type(following) is not TensorDict or not self._matches(tensordict, following, None):
            return None
        entries = self._level(tensordict, following, None)
        for group in self.groups:
            root_group, next_group = tensordict._get_str(group, None), following._get_str(group, None)
            if type(root_group) is not TensorDict or type(next_group) is not TensorDict:
                return None
            if not self._matches(root_group, next_group, group):
                return None
            entries[group] = TensorDict._new_unsafe(
                self._level(root_group, next_group, group), batch_size=next_group.batch_size, device=next_group.device
            )
        return TensorDict._new_unsafe(entries, batch_size=tensordict.batch_size, device=tensordict.device)

    def _matches(self, root: TensorDict, following: TensorDict, level: str | None) -> bool:
        root_keys = root.keys()
        return (
            set(root_keys) <= self.root_allowed[level]
            and all(key in root_keys for key in self.from_root[level])
            and set(following.keys()) == self.next_keys[level]
        )

    def _level(self, root: TensorDict, following: TensorDict, level: str | None) -> dict:
        entries = {key: root._get_str(key, None) for key in self.from_root[level]}
        entries.update((key, following._get_str(key, None)) for key in self.from_next[level])
        return entries


def _as_tuple(key: NestedKey) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else tuple(key)


def _leaves(keys: list[tuple[str, ...]], level: str | None) -> list[str]:
    """The leaf names of ``keys`` at the root (``level`` None) or under group ``level``."""
    if level is None:
        return [key[0] for key in keys if len(key) == 1]
    return [key[1] for key in keys if len(key) == 2 and key[0] == level]


def step_output(
    env: EnvBase,
    n_agents: int,
    agents: Mapping[str, torch.Tensor],
    root: Mapping[str, torch.Tensor],
    *,
    terminated: torch.Tensor | None = None,
    truncated: torch.Tensor | None = None,
) -> TensorDict:
    """The TensorDict ``env``'s ``_reset`` or ``_step`` returns: ``agents`` under ``"agents"``, then
    ``root``, then ``done`` / ``terminated`` / ``truncated``, on ``env.batch_size`` and ``env.device``.

    Args:
        env: the env whose output this is.
        n_agents: size of the nested ``"agents"`` batch dim.
        agents: per-agent leaves ``[*batch_size, n_agents, ...]``.
        root: root leaves ``[*batch_size, ...]`` (state, step counters).
        terminated, truncated: ``[*batch_size, 1]`` bool; give one or both, a missing one is all False.
            ``done`` is ``terminated | truncated``.
    """
    if terminated is None and truncated is None:
        raise ValueError("step_output needs terminated, truncated or both")
    terminated = torch.zeros_like(truncated) if terminated is None else terminated
    truncated = torch.zeros_like(terminated) if truncated is None else truncated
    # built unchecked (``_new_unsafe``, as TorchRL builds its own step outputs): the leaves are the env's
    # own, on its device and in its specs' shapes, which every env's check_env_specs test verifies
    agents_td = TensorDict._new_unsafe(dict(agents), batch_size=(*env.batch_size, n_agents), device=env.device)
    return TensorDict._new_unsafe(
        {"agents": agents_td, **root, "done": terminated | truncated, "terminated": terminated, "truncated": truncated},
        batch_size=env.batch_size,
        device=env.device,
    )
