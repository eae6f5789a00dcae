"""Turns Hydra's composition errors into one line naming the bad override and the valid keys.

Hydra already lists the valid options of a group (``algo=nope``); for a misspelled key
(``trainer.iteratons=5``) it only says the key is "not in struct". This pre-flight composes the
command line once and, on failure, finds the override responsible and lists its siblings.
"""

from __future__ import annotations

import sys
from typing import Callable

from omegaconf import DictConfig, OmegaConf

Compose = Callable[[list[str]], DictConfig]


def _key_of(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def describe_composition_error(error: Exception, overrides: list[str], compose: Compose) -> str:
    """A message naming the first override that breaks composition and the valid choices for it."""
    for index, override in enumerate(overrides):
        others = overrides[:index] + overrides[index + 1:]
        try:
            base = compose(others)
        except Exception:  # noqa: BLE001 - composition errors come in many Hydra/OmegaConf types
            continue
        key = _key_of(override)
        parent_path, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(base, parent_path) if parent_path else base
        if "/" not in key and isinstance(parent, DictConfig) and leaf not in parent:
            scope = parent_path or "the root config"
            return f"unknown key {key!r} in {override!r}; valid keys of {scope}: {', '.join(map(str, parent.keys()))}"
        return f"bad override {override!r}: {error}"
    return str(error)


def explain_composition_error(argv: list[str], compose: Compose) -> None:
    """Exit with a clear message if the command line's overrides do not compose (single runs only)."""
    if any(arg.startswith("-") for arg in argv):
        return  # multirun sweeps and Hydra flags (--help, --cfg, -m) are left to Hydra
    overrides = [arg for arg in argv if not arg.startswith("hydra")]
    try:
        compose(overrides)
    except Exception as error:  # noqa: BLE001
        print(f"oppshape: config error: {describe_composition_error(error, overrides, compose)}", file=sys.stderr)
        sys.exit(2)
