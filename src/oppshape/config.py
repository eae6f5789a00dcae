"""Config schemas and validation: every typo or bad value fails before any work, naming the valid choices.

Hydra composes ``configs/``; here each group is checked against a dataclass. ``trainer`` and ``logger``
schemas live in this file; ``algo`` and ``env`` schemas belong to the experiment family that serves
``algo.name`` (see ``experiments/registry.py``), so a new family brings its own validation.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ValidationError

from oppshape.experiments.registry import family_module


class ConfigError(ValueError):
    """A config value or key is invalid; the message names it and the valid choices."""


WANDB_MODES = ("offline", "online", "disabled")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


@dataclass
class TrainerConfig:
    """The common training loop (``oppshape.trainer.Trainer``)."""

    iterations: int = 100  # learner updates in the whole run (an "epoch" in the exact-IPD papers)
    eval_every: int = 10  # run the experiment's evaluation every this many iterations (0: only at the end)
    checkpoint_every: int = 50  # write checkpoints/last.pt every this many iterations (0: only at the end)
    log_every: int = 1  # write a metrics row every this many iterations
    threads: int = 1  # torch CPU threads; 1 is fastest for small batched ops on 2 cores, 0 keeps torch's default
    progress: bool = True  # show a live progress bar with the experiment's key metrics
    max_seconds: float = 0.0  # stop (evaluate, log, checkpoint) once training wall time passes this; 0: no limit
    stop_when: str = ""  # stop once this logged metric is > 0 (e.g. eval_strong for LOQA's thresholds); "": never
    # evaluate on generators seeded from (seed, iteration), restored afterwards, so eval_every cannot change the
    # training run; off (the default) keeps the documented runs, whose evaluations drew from the training streams
    isolate_eval: bool = False

    def __post_init__(self) -> None:
        _require(self.iterations >= 1, "trainer.iterations", self.iterations, "an integer >= 1")
        for name in ("eval_every", "checkpoint_every", "threads"):
            _require(getattr(self, name) >= 0, f"trainer.{name}", getattr(self, name), "an integer >= 0")
        _require(self.log_every >= 1, "trainer.log_every", self.log_every, "an integer >= 1")
        _require(self.max_seconds >= 0, "trainer.max_seconds", self.max_seconds, "a number of seconds >= 0 (0: no limit)")


@dataclass
class LoggerConfig:
    """Where metrics go besides the always-written ``metrics.csv``."""

    wandb: str = "offline"  # offline | online | disabled; offline never touches the network
    project: str = "oppshape"  # wandb project name
    tensorboard: bool = False  # also write TensorBoard event files (needs the `tensorboard` extra)

    def __post_init__(self) -> None:
        _require(self.wandb in WANDB_MODES, "logger.wandb", self.wandb, f"one of {', '.join(WANDB_MODES)}")


ROOT_KEYS = ("seed", "device", "resume", "run_dir", "name", "env", "algo", "trainer", "logger")


def _require(ok: bool, key: str, value: Any, valid: str) -> None:
    if not ok:
        raise ConfigError(f"invalid value {key}={value!r}; expected {valid}")


def check_choice(key: str, value: str, choices: Sequence[str]) -> None:
    """Raise ``ValueError`` naming ``key``, the bad ``value`` and the valid ``choices``."""
    if value not in choices:
        raise ValueError(f"invalid {key}={value!r}; valid choices: {', '.join(choices)}")


def check_section(node: Any, schema: type, path: str) -> Any:
    """Validate one config group against its dataclass and return the typed instance.

    Unknown keys are reported with the list of valid keys; wrong types with the expected type; value
    ranges by the dataclass's ``__post_init__``.
    """
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
    except ValueError as error:  # a family's __post_init__ check
        raise ConfigError(str(error)) from None


def validate(cfg: DictConfig) -> None:
    """Check the whole composed config; raises :class:`ConfigError` naming the first bad key or value."""
    unknown = sorted(set(cfg.keys()) - set(ROOT_KEYS))
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {unknown}; valid keys: {', '.join(ROOT_KEYS)}")
    _require(isinstance(cfg.seed, int) and cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    _require(bool(DEVICE_PATTERN.match(str(cfg.device))), "device", cfg.device, "auto, cpu, cuda or cuda:N")
    check_section(cfg.trainer, TrainerConfig, "trainer")
    check_section(cfg.logger, LoggerConfig, "logger")
    algo_name = cfg.algo.get("name") if isinstance(cfg.algo, DictConfig) else None
    try:
        family = family_module(str(algo_name))
    except ValueError as error:
        raise ConfigError(str(error).replace("unknown algo", "unknown algo.name")) from None
    algo_schemas: dict[str, type] = family.ALGO_SCHEMAS
    env_schemas: dict[str, type] = family.ENV_SCHEMAS
    if algo_name not in algo_schemas:
        raise ConfigError(f"algo {algo_name!r} is not implemented yet; implemented: {', '.join(algo_schemas)}")
    check_section(cfg.algo, algo_schemas[algo_name], "algo")
    env_name = cfg.env.get("name") if isinstance(cfg.env, DictConfig) else None
    if env_name not in env_schemas:
        raise ConfigError(
            f"env.name={env_name!r} is not valid for algo {algo_name!r}; valid choices: {', '.join(env_schemas)}"
        )
    check_section(cfg.env, env_schemas[env_name], "env")
