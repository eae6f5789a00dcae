"""The run's own schemas (trainer, logger, the root keys) and :func:`validate`, which checks a whole composed config.

Hydra composes ``configs/``; :func:`validate` checks each group against its dataclass once, at the CLI, and
returns a :class:`RunConfig` of typed schemas that is handed unchanged to the family's ``build``. ``algo``
schemas live in ``config/<family>.py`` (``ALGO_SCHEMAS`` and the ``ENV_SCHEMAS`` the family plays), env
schemas in ``config/envs.py``; :data:`ALGORITHM_FAMILIES` says which family serves each ``algo.name``.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from omegaconf import DictConfig

from oppshape.config.validation import ConfigError, check_section, require

WANDB_MODES = ("offline", "online", "disabled")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


@dataclass
class TrainerConfig:
    """The common training loop (``oppshape.trainer.Trainer``)."""

    iterations: int = 100  # learner updates in the whole run (an "epoch" in the exact-IPD papers)
    eval_every: int = 10  # run the experiment's evaluation every this many iterations (0: only at the end)
    checkpoint_every: int = 50  # checkpoint (last.pt; the one before kept as previous.pt) this often (0: at the end)
    log_every: int = 1  # write a metrics row every this many iterations
    threads: int = 1  # torch CPU threads; 1 is fastest for small batched ops on 2 cores, 0 keeps torch's default
    progress: bool = True  # show a live progress bar with the experiment's key metrics
    max_seconds: float = 0.0  # stop (evaluate, log, checkpoint) once training wall time passes this; 0: no limit
    stop_when: str = ""  # stop once this logged metric is > 0 (e.g. eval_strong for LOQA's thresholds); "": never
    # evaluate on generators seeded from (seed, iteration), restored afterwards, so eval_every cannot change the
    # training run; off (the default) keeps the documented runs, whose evaluations drew from the training streams
    isolate_eval: bool = False
    # run the fused hot paths (env transitions and observations, recurrent policy steps) through torch.compile;
    # the first call of each pays the compile time (logged as compile_s: this process's seconds of compiling)
    compile: bool = False

    def __post_init__(self) -> None:
        require(self.iterations >= 1, "trainer.iterations", self.iterations, "an integer >= 1")
        for name in ("eval_every", "checkpoint_every", "threads"):
            require(getattr(self, name) >= 0, f"trainer.{name}", getattr(self, name), "an integer >= 0")
        require(self.log_every >= 1, "trainer.log_every", self.log_every, "an integer >= 1")
        require(self.max_seconds >= 0, "trainer.max_seconds", self.max_seconds, "a number of seconds >= 0 (0: no limit)")


@dataclass
class LoggerConfig:
    """Where metrics go besides the always-written ``metrics.csv``."""

    wandb: str = "offline"  # offline | online | disabled; offline never touches the network
    project: str = "oppshape"  # wandb project name
    tensorboard: bool = False  # also write TensorBoard event files (needs the `tensorboard` extra)

    def __post_init__(self) -> None:
        require(self.wandb in WANDB_MODES, "logger.wandb", self.wandb, f"one of {', '.join(WANDB_MODES)}")


ROOT_KEYS = ("seed", "device", "resume", "init_from", "run_dir", "name", "env", "algo", "trainer", "logger")


ALGORITHM_FAMILIES: dict[str, str] = {
    # exact opponent shaping on the analytic IPD (POLA paper, Section 5.1)
    "naive": "exact_ipd",
    "lola": "exact_ipd",
    "pola": "exact_ipd",
    # sample-based opponent shaping with DiCE (POLA paper, Section 5.2-5.3)
    "lola_dice": "dice",
    "pola_dice": "dice",
    "pola_om": "dice",
    # Q-value shaping (LOQA)
    "loqa": "loqa",
    # learned communication (DIAL / RIAL)
    "dial": "communication",
    "rial": "communication",
    # counterfactual credit assignment and its baselines
    "coma": "coma",
    "mappo": "coma",
    "ippo": "coma",
    # Stackelberg learning with follower oracles
    "stackelberg": "stackelberg",
    # Advantage Alignment and its proximal form (Duque et al., ICLR 2025)
    "aa": "advantage_alignment",
    "paa": "advantage_alignment",
}


def family_of(algo_name: str) -> str:
    """The family (``experiments/<family>.py``, ``config/<family>.py``) serving ``algo_name``."""
    if algo_name not in ALGORITHM_FAMILIES:
        raise ConfigError(f"unknown algo.name {algo_name!r}; valid choices: {', '.join(sorted(ALGORITHM_FAMILIES))}")
    return ALGORITHM_FAMILIES[algo_name]


def family_schemas(family: str) -> ModuleType:
    """The module declaring ``ALGO_SCHEMAS`` and ``ENV_SCHEMAS`` of ``family`` (``oppshape.config.<family>``)."""
    return importlib.import_module(f"oppshape.config.{family}")


@dataclass(frozen=True)
class RunConfig:
    """A validated run: the typed schema of every group, handed unchanged to ``experiments.<family>.build``."""

    name: str
    seed: int
    device: str
    algo: Any  # the dataclass of ALGO_SCHEMAS[algo.name]
    env: Any  # the dataclass of ENV_SCHEMAS[env.name]
    trainer: TrainerConfig
    logger: LoggerConfig


def validate(cfg: DictConfig) -> RunConfig:
    """Check the whole composed config; raises :class:`ConfigError` naming the first bad key or value."""
    unknown = sorted(set(cfg.keys()) - set(ROOT_KEYS))
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {unknown}; valid keys: {', '.join(ROOT_KEYS)}")
    require(isinstance(cfg.seed, int) and cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    require(bool(DEVICE_PATTERN.match(str(cfg.device))), "device", cfg.device, "auto, cpu, cuda or cuda:N")
    trainer = check_section(cfg.trainer, TrainerConfig, "trainer")
    logger = check_section(cfg.logger, LoggerConfig, "logger")
    algo_name = cfg.algo.get("name") if isinstance(cfg.algo, DictConfig) else None
    schemas = family_schemas(family_of(str(algo_name)))
    algo_schemas: dict[str, type] = schemas.ALGO_SCHEMAS
    env_schemas: dict[str, type] = schemas.ENV_SCHEMAS
    if algo_name not in algo_schemas:
        raise ConfigError(f"algo {algo_name!r} is not implemented yet; implemented: {', '.join(algo_schemas)}")
    algo = check_section(cfg.algo, algo_schemas[algo_name], "algo")
    env_name = cfg.env.get("name") if isinstance(cfg.env, DictConfig) else None
    if env_name not in env_schemas:
        raise ConfigError(
            f"env.name={env_name!r} is not valid for algo {algo_name!r}; valid choices: {', '.join(env_schemas)}"
        )
    env = check_section(cfg.env, env_schemas[env_name], "env")
    run = RunConfig(str(cfg.name), int(cfg.seed), str(cfg.device), algo, env, trainer, logger)
    cross_check = getattr(schemas, "check", None)  # the family's checks across groups (algo x env x trainer)
    if cross_check is not None:
        cross_check(run)
    check_stop_metric(run, getattr(schemas, "metric_names", None))
    return run


def check_stop_metric(run: RunConfig, metric_names: Callable[[RunConfig], set[str]] | None) -> None:
    """``trainer.stop_when`` must name a metric the run logs; a family declaring ``metric_names(run)`` in
    ``config/<family>.py`` has a typo refused here, before any work (otherwise the Trainer names it at the
    first evaluation). ``wall_time_s`` is logged by the Trainer for every family."""
    name = run.trainer.stop_when
    if not name or metric_names is None:
        return
    names = set(metric_names(run)) | {"wall_time_s"}
    if name not in names:
        raise ConfigError(f"trainer.stop_when={name!r} is not a metric of this experiment; "
                          f"valid choices: {', '.join(sorted(names))}")
