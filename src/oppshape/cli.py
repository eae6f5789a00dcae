"""Command line: ``python -m oppshape experiment=<name> key=value ...`` (or the ``oppshape`` script).

``run(overrides)`` is the same thing from Python, for scripts that launch several runs (the demo).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from oppshape.checkpoint import load_checkpoint, restore_training_state
from oppshape.config import ConfigError, validate
from oppshape.experiments.registry import family_module
from oppshape.loggers import MetricLoggers
from oppshape.rng import seed_everything
from oppshape.trainer import Trainer

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name!r} was asked for but CUDA is not available; valid choices here: auto, cpu")
    return device


def resumed_config(run_dir: Path, overrides: list[str]) -> DictConfig:
    """The saved config of ``run_dir`` with only the ``trainer.*`` / ``logger.*`` overrides applied.

    A resume must rebuild exactly the run that was interrupted, so algorithm, env and seed come from
    the run directory; only how long and how verbosely to train may change.
    """
    saved = run_dir / "config.yaml"
    if not saved.is_file():
        raise ConfigError(f"resume={str(run_dir)!r} is not a run directory (no config.yaml there)")
    cfg = OmegaConf.load(saved)
    allowed = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") .startswith(("trainer.", "logger."))]
    cfg.merge_with_dotlist(allowed)
    cfg.resume = str(run_dir)
    return cfg


def execute(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Validate, build and train one run into ``run_dir``; returns the content of ``summary.json``."""
    run_config = validate(cfg)
    trainer_config, logger_config = run_config.trainer, run_config.logger
    device = resolve_device(run_config.device)
    if trainer_config.threads > 0:
        torch.set_num_threads(trainer_config.threads)
    checkpoint = load_checkpoint(run_dir / "checkpoints") if cfg.resume else None

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    seed_everything(int(cfg.seed))
    experiment = family_module(run_config.algo.name).build(run_config, device)
    start_iteration, elapsed, history = 0, 0.0, []
    if checkpoint is not None:
        start_iteration, elapsed, history = restore_training_state(
            checkpoint, experiment.learner, experiment.extra_state
        )

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
    if experiment.summarize is not None:
        summary.update(experiment.summarize(loggers.history))
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    plots_dir = run_dir / "plots"
    plots_dir.mkdir(exist_ok=True)
    if experiment.plot is not None and loggers.history:
        experiment.plot(loggers.history, plots_dir)
    return summary


def _run_dir_for(cfg: DictConfig) -> Path:
    if cfg.resume:
        return Path(str(cfg.resume))
    if cfg.run_dir:
        return Path(str(cfg.run_dir))
    return Path("runs") / str(cfg.name) / time.strftime("%Y-%m-%d_%H-%M-%S")


def compose(overrides: list[str]) -> DictConfig:
    """The composed config for ``overrides``, as the command line would build it (without Hydra's run dir)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=overrides)


def run(overrides: list[str]) -> Path:
    """Run one experiment from Python with command-line style overrides; returns its run directory."""
    cfg = compose(overrides)
    if cfg.resume:
        cfg = resumed_config(Path(str(cfg.resume)), overrides)
    run_dir = _run_dir_for(cfg)
    execute(cfg, run_dir)
    return run_dir


def _hydra_entry(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = HydraConfig.get()
    try:
        if cfg.resume:
            cfg = resumed_config(Path(str(cfg.resume)), list(hydra_cfg.overrides.task))
        run_dir = Path(str(cfg.resume or cfg.run_dir or hydra_cfg.runtime.output_dir))
        summary = execute(cfg, run_dir)
    except ConfigError as error:
        print(f"oppshape: config error: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"run directory: {run_dir}")
    print(json.dumps(summary["final"], indent=2))


def main() -> None:
    """Console-script entry point (``oppshape ...``)."""
    import hydra

    from oppshape.config_errors import explain_composition_error

    explain_composition_error(sys.argv[1:], compose)
    hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")(_hydra_entry)()
