"""Spec and output builders shared by the multi-agent envs of this package.

Every env here keeps its per-agent leaves under one group ``"agents"`` (nested batch
``[*batch_size, n_agents]``) and root ``done`` / ``terminated`` / ``truncated`` ``[*batch_size, 1]``
(see ``docs/DEVELOPING.md``); these helpers build that layout once, and :class:`CompleteStepEnv` lets an
env whose step output is complete skip TorchRL's per-step completion pass.
"""

from __future__ import annotations

from typing import Mapping

import torch
from tensordict import TensorDict, TensorDictBase
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
