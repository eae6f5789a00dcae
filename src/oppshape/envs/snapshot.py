"""Snapshots of the simulator state that lives outside the tensordict, so a resumed run continues mid-episode.

TorchRL envs keep most of their state in the tensordict that a collector carries from step to step, but not
all: VMAS keeps positions, velocities, forces and each scenario's running values (e.g. transport's shaping
reference) on its Python objects, and a seeded ``SwitchGame`` draws schedules from a private generator.
``env_snapshot`` gathers those tensors (clones, device-independent) into a flat ``{path: tensor}`` dict that
``torch.load(weights_only=True)`` accepts; ``restore_env_snapshot`` writes them back into an env built from
the same config. The walk over VMAS objects is generic, so a scenario with new attributes needs no code here.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import torch
from torchrl.envs import EnvBase, TransformedEnv

GENERATOR_KEY = "generator_state"


def _base(env: EnvBase) -> EnvBase:
    while isinstance(env, TransformedEnv):
        env = env.base_env
    return env


def _is_vmas_object(value: Any) -> bool:
    """An instance of a VMAS class or of a subclass of one (scenarios are loaded from files outside the package)."""
    return hasattr(value, "__dict__") and any(cls.__module__.startswith("vmas.") for cls in type(value).__mro__)


def _children(value: Any) -> list[tuple[str, Any]]:
    """(name, child) pairs of a VMAS object, list or dict: what the walk descends into."""
    if isinstance(value, (list, tuple)):
        return [(f"[{index}]", item) for index, item in enumerate(value)]
    if isinstance(value, dict):
        return [(f"[{key!r}]", item) for key, item in value.items() if isinstance(key, (str, int))]
    return [(f".{name}", item) for name, item in vars(value).items()]


def _walk(root: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The VMAS objects, lists and dicts reachable from the ``Environment``, and the tensors they hold, by path.

    Each container is visited once, under the first path that reaches it (entities are shared between the
    world and the scenario), so paths are unique, the same for two envs of one config, and cycles end.
    """
    objects: dict[str, Any] = {}
    tensors: dict[str, torch.Tensor] = {}
    stack: list[tuple[str, Any]] = [("env", root)]
    seen: set[int] = set()
    while stack:
        path, value = stack.pop()
        if isinstance(value, torch.Tensor):
            tensors[path] = value
            continue
        if id(value) in seen or not (_is_vmas_object(value) or isinstance(value, (list, tuple, dict))):
            continue
        seen.add(id(value))
        objects[path] = value
        stack.extend((path + name, child) for name, child in reversed(_children(value)))
    return objects, tensors


def env_snapshot(env: EnvBase) -> dict[str, torch.Tensor]:
    """The state of ``env`` (or of the env under its transforms) that the tensordict does not carry."""
    base = _base(env)
    vmas_env = getattr(base, "_env", None)
    if vmas_env is not None and _is_vmas_object(vmas_env):
        return {path: tensor.detach().clone().cpu() for path, tensor in _walk(vmas_env)[1].items()}
    generator = getattr(base, "_generator", None)
    if isinstance(generator, torch.Generator):
        return {GENERATOR_KEY: generator.get_state()}
    return {}


def restore_env_snapshot(env: EnvBase, snapshot: dict[str, torch.Tensor]) -> None:
    """Write ``snapshot`` (from ``env_snapshot`` of an env with the same config) back into ``env``.

    Tensors are copied in place where the env already holds one of the same shape, so references shared
    inside the simulator stay shared; the others are set. A path the env does not have means the snapshot
    comes from a different task, which is an error rather than a silent partial restore.
    """
    base = _base(env)
    if GENERATOR_KEY in snapshot:
        generator = getattr(base, "_generator", None)
        if not isinstance(generator, torch.Generator):
            raise ValueError(f"the snapshot holds a generator state but {type(base).__name__} has no seeded generator")
        generator.set_state(snapshot[GENERATOR_KEY])
        return
    if not snapshot:
        return
    vmas_env = getattr(base, "_env", None)
    if vmas_env is None or not _is_vmas_object(vmas_env):
        raise ValueError(f"the snapshot holds VMAS state but the env is a {type(base).__name__}")
    objects, current = _walk(vmas_env)
    for path, saved in snapshot.items():
        value = saved.to(base.device)
        target = current.get(path)
        if target is not None and target.shape == value.shape and target.dtype == value.dtype:
            target.copy_(value)
            continue
        parent, name = _split(path)
        if parent not in objects:
            raise ValueError(f"the env has no {parent!r} for {path!r}; the snapshot comes from another task or config")
        _assign(objects[parent], name, value)


_LAST_STEP = re.compile(r"^(.*?)(\.[A-Za-z_]\w*|\[[^\[\]]*\])$")


def _split(path: str) -> tuple[str, str]:
    """``"env.world._agents[0]._state._pos"`` -> ``("env.world._agents[0]._state", "._pos")``."""
    match = _LAST_STEP.match(path)
    if match is None:
        raise ValueError(f"{path!r} is not a snapshot path")
    return match.group(1), match.group(2)


def _assign(owner: Any, name: str, value: torch.Tensor) -> None:
    if name.startswith("."):
        setattr(owner, name[1:], value)
    elif isinstance(owner, (list, dict)):
        owner[ast.literal_eval(name[1:-1])] = value  # an index or a key's repr, as _children wrote it
    else:
        raise ValueError(f"cannot write {name} into a {type(owner).__name__}")
