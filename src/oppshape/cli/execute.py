"""One run, from a composed config to a finished run directory; ``run(overrides)`` does it from Python.

Everything that can be refused (the config, the device, the run folder, the checkpoint to resume or start
from) is checked before the run directory is created, so a rejected command leaves nothing behind. Heavy
imports (torch, the family's modules) happen here, inside the functions, so ``--help`` and config errors
stay fast.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from oppshape.cli.compose import compose, default_run_dir
from oppshape.cli.resume import resumed_config, run_dir_of
from oppshape.config import ConfigError, validate

if TYPE_CHECKING:
    import torch

    from oppshape.experiments.base import Experiment


def resolve_device(name: str) -> torch.device:
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name!r} was asked for but CUDA is not available; valid choices here: auto, cpu")
    return device


def check_run_dir(run_dir: Path) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"run_dir={str(run_dir)!r} is an existing file; give a directory path (it is created)")


def init_learner(experiment: Experiment, learner_state: dict[str, Any], source: str) -> None:
    """Start a new run's learner from another run's checkpointed learner state (``init_from=``).

    The family's ``Experiment.init_from`` decides what carries over when it sets one; otherwise the whole
    learner state is loaded and every optimizer then takes back the new config's hyperparameters (learning
    rates, betas, ...), so ``init_from=<run> algo.lr=0.01`` trains at 0.01 from the old weights.
    """
    try:
        if experiment.init_from is not None:
            experiment.init_from(learner_state)
            return
        optimizers = _optimizers(experiment.learner)
        settings = [[{k: v for k, v in group.items() if k != "params"} for group in o.param_groups] for o in optimizers]
        experiment.learner.load_state_dict(learner_state)
        for optimizer, groups in zip(optimizers, settings):
            for group, setting in zip(optimizer.param_groups, groups):
                group.update(setting)
    except (RuntimeError, KeyError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"init_from={source!r}: its learner does not fit this config ({reason})") from None


def _optimizers(learner: Any) -> list[Any]:
    import torch

    found = []
    for value in vars(learner).values():
        items = value if isinstance(value, (list, tuple)) else [value]
        found += [item for item in items if isinstance(item, torch.optim.Optimizer)]
    return found


def execute(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Validate, build and train one run into ``run_dir``; returns the content of ``summary.json``.

    The run sets the process-wide compile switch from ``trainer.compile``; it is restored afterwards, so
    runs in one process (tests, a multirun's basic launcher) do not inherit each other's setting.
    """
    from oppshape import hot_path

    with hot_path.enabled(hot_path.is_enabled()):
        return _execute(cfg, run_dir)


def _execute(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    import torch

    from oppshape import hot_path
    from oppshape.checkpoint import TRAINING_STATE_KEYS, load_checkpoint, restore_training_state
    from oppshape.experiments.registry import family_module
    from oppshape.loggers import MetricLoggers
    from oppshape.rng import seed_everything
    from oppshape.trainer import Trainer

    run_config = validate(cfg)
    trainer_config, logger_config = run_config.trainer, run_config.logger
    check_run_dir(run_dir)
    device = resolve_device(run_config.device)
    if trainer_config.threads > 0:
        torch.set_num_threads(trainer_config.threads)
    hot_path.set_enabled(trainer_config.compile)
    resume, init_from = cfg.get("resume"), cfg.get("init_from")
    checkpoint = load_checkpoint(Path(str(resume)), TRAINING_STATE_KEYS) if resume else None
    initial = load_checkpoint(Path(str(init_from)), ("learner", "iteration")) if init_from and not resume else None

    seed_everything(int(cfg.seed))
    experiment = family_module(run_config.algo.name).build(run_config, device)
    start_iteration, elapsed, history = 0, 0.0, []
    if checkpoint is not None:
        start_iteration, elapsed, history = restore_training_state(
            checkpoint, experiment.learner, experiment.extra_state
        )
    if initial is not None:
        init_learner(experiment, initial["learner"], str(init_from))
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))

    hparams = OmegaConf.to_container(cfg, resolve=True)
    loggers = MetricLoggers(run_dir, str(cfg.name), logger_config, hparams, history)
    started = time.perf_counter()
    try:
        trainer = Trainer(experiment, trainer_config, run_dir, loggers, start_iteration, elapsed, int(cfg.seed))
        last_row = trainer.run()
    finally:
        loggers.close()
    summary = {
        "name": str(cfg.name),
        "algo": str(cfg.algo.name),
        "env": str(cfg.env.name),
        "seed": int(cfg.seed),
        "device": str(device),
        "iterations": trainer.iteration,
        "wall_time_s": trainer.elapsed,
        "wall_time_this_session_s": time.perf_counter() - started,
        "final": last_row,
    }
    if initial is not None:
        summary["init_from"] = {"run": str(init_from), "iteration": int(initial["iteration"])}
    if experiment.summarize is not None:
        summary.update(experiment.summarize(loggers.history))
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    plots_dir = run_dir / "plots"
    plots_dir.mkdir(exist_ok=True)
    if experiment.plot is not None and loggers.history:
        experiment.plot(loggers.history, plots_dir)
    return summary


def prepare(overrides: list[str]) -> tuple[DictConfig, Path]:
    """The config and run directory of a command line: composed, with a resume's saved config when
    ``resume=`` is given (refusing overrides a resume cannot honour), validated."""
    cfg, hydra_run_dir = default_run_dir(overrides)
    if cfg.resume:
        cfg = resumed_config(Path(str(cfg.resume)), overrides, cfg)
        run_dir = run_dir_of(str(cfg.resume))
    else:
        run_dir = Path(str(cfg.run_dir)) if cfg.run_dir else hydra_run_dir
    validate(cfg)
    check_run_dir(run_dir)
    return cfg, run_dir


def run(overrides: list[str]) -> Path:
    """Run one experiment from Python with command-line style overrides; returns its run directory."""
    cfg, run_dir = prepare(overrides)
    execute(cfg, run_dir)
    return run_dir


__all__ = ["compose", "execute", "init_learner", "prepare", "resolve_device", "resumed_config", "run"]
