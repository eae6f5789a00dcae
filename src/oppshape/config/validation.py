"""The one validation helper set: every bad key or value fails before any work, naming the valid choices.

Schemas (``config/run.py``, ``config/envs.py``, ``config/<family>.py``) call :func:`require` and
:func:`check_choice` in ``__post_init__``; :func:`check_section` turns one composed config group into
its typed dataclass, reporting unknown keys, wrong types and bad values in one line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ValidationError


class ConfigError(ValueError):
    """A config value or key is invalid; the message names it and the valid choices."""


def require(ok: bool, key: str, value: Any, valid: str) -> None:
    """Raise :class:`ConfigError` ``invalid value key=value; expected valid`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"invalid value {key}={value!r}; expected {valid}")


def check_choice(key: str, value: Any, choices: Sequence[Any]) -> None:
    """Raise :class:`ConfigError` naming ``key``, the bad ``value`` and the valid ``choices``."""
    if value not in choices:
        raise ConfigError(f"invalid {key}={value!r}; valid choices: {', '.join(map(str, choices))}")


def check_section(node: Any, schema: type, path: str) -> Any:
    """Validate one config group against its dataclass and return the typed instance.

    Unknown keys are reported with the list of valid keys; wrong types with the expected type; value
    ranges by the dataclass's ``__post_init__``.
    """
    if dataclasses.is_dataclass(node) and isinstance(node, schema):
        return node  # already validated (a schema instance handed on unchanged)
    if not isinstance(node, DictConfig):
        raise ConfigError(f"config group {path!r} must be a mapping; got {node!r}")
    valid = [f.name for f in dataclasses.fields(schema)]
    unknown = sorted(set(node.keys()) - set(valid))
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(f'{path}.{k}' for k in unknown)}; valid keys: {', '.join(valid)}")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), node)
    except ValidationError as error:
        key = f"{path}.{error.key}" if getattr(error, "key", None) else path
        raise ConfigError(f"invalid value for {key}: {error.msg}") from None
    try:
        return OmegaConf.to_object(merged)
    except ConfigError:
        raise
    except ValueError as error:  # a schema's __post_init__ check written with a plain ValueError
        raise ConfigError(str(error)) from None
