"""Turns Hydra's composition errors into one line naming the bad override and the valid keys or choices.

Hydra lists the valid options of a group only in a multi-line message, and for a misspelled key
(``trainer.iteratons=5``) it only says the key is "not in struct". Group choices (``experiment=``,
``algo=``) are composed first, then the value overrides one at a time, so the override blamed is the first
one that breaks composition, judged against the config WITH the experiment applied (``experiment=loqa_ipd
algo.hidden_size=8`` blames ``algo.hidden_size``, listing LOQA's keys).
"""

from __future__ import annotations

import re
from typing import Callable

from omegaconf import DictConfig, OmegaConf

Compose = Callable[[list[str]], DictConfig]
GROUPS = ("env", "algo", "trainer", "logger", "experiment")


def _key_of(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def is_group_choice(override: str) -> bool:
    key = _key_of(override)
    return key in GROUPS or "/" in key


def one_line(error: Exception) -> str:
    """Hydra's message on one line; a group's "Available options" become ``valid choices: a, b``."""
    text = str(error)
    match = re.search(r"Could not find '([^']+)/([^']+)'.*?Available options in '[^']+':\n((?:[ \t]+\S+\n?)*)", text, re.S)
    if match:  # the options are Hydra's indented lines; its "Config search path" paragraph follows them
        group, value, options = match.groups()
        return f"invalid {group}={value!r}; valid choices: {', '.join(options.split())}"
    return " ".join(text.split())


def describe_composition_error(error: Exception, overrides: list[str], compose: Compose) -> str:
    """A message naming the override that breaks composition and the valid choices for it."""
    groups = [o for o in overrides if is_group_choice(o)]
    values = [o for o in overrides if not is_group_choice(o)]
    try:
        compose(groups)
    except Exception as group_error:  # noqa: BLE001 - composition errors come in many Hydra/OmegaConf types
        return f"bad override: {one_line(group_error)}"
    for count in range(1, len(values) + 1):
        try:
            compose(groups + values[:count])
        except Exception as value_error:  # noqa: BLE001
            return _describe(values[count - 1], compose(groups + values[: count - 1]), value_error)
    return one_line(error)


def _describe(override: str, base: DictConfig, error: Exception) -> str:
    key = _key_of(override)
    parent_path, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(base, parent_path) if parent_path else base
    if isinstance(parent, DictConfig) and leaf not in parent:
        scope = parent_path or "the root config"
        return f"unknown key {key!r} in {override!r}; valid keys of {scope}: {', '.join(map(str, parent.keys()))}"
    return f"bad override {override!r}: {one_line(error)}"
