"""The one environment registry: ``make_env(name, **kwargs)``.

Entries are import paths, resolved on first use, so importing the registry costs nothing and an env
that needs an optional package (VMAS) only imports it when asked for.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from torchrl.envs import EnvBase

ENV_CLASSES: dict[str, str] = {
    "iterated_matrix_game": "oppshape.envs.iterated_matrix_game:IteratedMatrixGame",
    "coin_game": "oppshape.envs.coin_game:CoinGame",
    "switch": "oppshape.envs.switch_game:SwitchGame",
    "stackelberg_query": "oppshape.envs.stackelberg_query:StackelbergQueryGame",
    "vmas": "oppshape.envs.vmas_factory:make_vmas_env",
}


def resolve_env(name: str) -> Any:
    """The class (or factory) registered under ``name``; a clear error lists the valid names."""
    if name not in ENV_CLASSES:
        raise ValueError(f"unknown env {name!r}; valid choices: {', '.join(sorted(ENV_CLASSES))}")
    module_name, attr = ENV_CLASSES[name].split(":")
    return getattr(importlib.import_module(module_name), attr)


def check_env_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    """Reject keyword arguments the env does not take, naming them and the valid ones."""
    factory = resolve_env(name)
    # EnvBase's metaclass hides the constructor signature behind ``__call__(*args, **kwargs)``
    signature = inspect.signature(factory.__init__ if inspect.isclass(factory) else factory)
    parameters = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    unknown = sorted(set(kwargs) - set(parameters))
    if unknown:
        valid = ", ".join(p for p in parameters if p not in ("self",))
        raise ValueError(f"env {name!r} got unknown argument(s) {unknown}; valid arguments: {valid}")


def make_env(name: str, **kwargs: Any) -> EnvBase:
    """Build a registered env by name, validating its arguments before any work is done."""
    check_env_kwargs(name, kwargs)
    return resolve_env(name)(**kwargs)
