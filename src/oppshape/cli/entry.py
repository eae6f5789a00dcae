"""``python -m oppshape ...``: one run, or a Hydra multirun (``-m``), with one-line errors.

A single run is composed, checked and executed here (no Hydra app, so a rejected command creates no
folder); ``-m`` checks every job first, then hands the sweep to Hydra (its launchers, its sweep folder).
Every user mistake ends with one line and a non-zero exit; ``--debug`` (or ``HYDRA_FULL_ERROR=1``) shows
the full trace instead. SIGINT / SIGTERM during training save a checkpoint and exit 130 / 143.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Callable

from omegaconf import DictConfig

from oppshape.cli.compose import CONFIG_DIR, compose
from oppshape.config import ConfigError

CONFIG_EXIT, STOPPED_EXIT, INTERRUPTED_EXIT = 2, 1, 130
MULTIRUN_FLAGS = ("-m", "--multirun")


def _fail(kind: str, message: str, code: int) -> None:
    print(f"oppshape: {kind}: {message}", file=sys.stderr)
    sys.exit(code)


def _compose_or_explain(overrides: list[str]) -> None:
    from oppshape.config_errors import describe_composition_error

    try:
        compose(overrides)
    except Exception as error:  # noqa: BLE001 - composition errors come in many Hydra/OmegaConf types
        raise ConfigError(describe_composition_error(error, overrides, compose)) from None


def _single_run(overrides: list[str]) -> None:
    from oppshape.cli.execute import execute, prepare

    _compose_or_explain(overrides)
    cfg, run_dir = prepare(overrides)
    summary = execute(cfg, run_dir)
    print(f"run directory: {run_dir}")
    print(json.dumps(summary["final"], indent=2))


def _multirun(argv: list[str]) -> None:
    import hydra

    from oppshape.cli.sweep import check_jobs

    from oppshape.cli.sweep_summary import FAILED_JOBS

    check_jobs([arg for arg in argv if not arg.startswith("-")])
    FAILED_JOBS.clear()
    hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")(_hydra_job)()
    if FAILED_JOBS:
        _fail("sweep", f"{len(FAILED_JOBS)} job(s) failed: {', '.join(FAILED_JOBS)}; their reasons are in the "
              "sweep's summary.md", STOPPED_EXIT)


def _hydra_job(cfg: DictConfig) -> None:
    """One job of a multirun, in Hydra's job folder; a job that fails writes its one-line reason to
    ``error.txt`` there (the sweep summary shows it) and the sweep goes on."""
    from hydra.core.hydra_config import HydraConfig

    from oppshape.checkpoint import CheckpointError
    from oppshape.cli.execute import execute
    from oppshape.trainer import NonFiniteError

    run_dir = Path(str(cfg.run_dir or HydraConfig.get().runtime.output_dir))
    try:
        summary = execute(cfg, run_dir)
    except (ConfigError, CheckpointError, NonFiniteError) as error:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "error.txt").write_text(f"{error}\n")
        print(f"oppshape: job {run_dir} failed: {error}", file=sys.stderr)
        return
    print(f"run directory: {run_dir}")
    print(json.dumps(summary["final"], indent=2))


def _run(argv: list[str]) -> None:
    if any(arg in ("-h", "--help") for arg in argv):
        from oppshape.cli.help import help_text

        print(help_text())
        return
    if any(arg in MULTIRUN_FLAGS for arg in argv):
        _multirun(argv)
        return
    if any(arg.startswith("-") for arg in argv):  # Hydra's own flags (--cfg job, --info, --hydra-help)
        import hydra

        hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")(_hydra_job)()
        return
    _single_run(argv)


def main() -> None:
    """Console-script entry point (``oppshape ...``)."""
    debug = "--debug" in sys.argv
    sys.argv = [arg for arg in sys.argv if arg != "--debug"]
    guarded(lambda: _run(sys.argv[1:]), debug)


def guarded(action: Callable[[], None], debug: bool = False) -> None:
    """Run ``action``, turning every user-facing error into one line on stderr and its exit code (2: config or
    checkpoint, 1: NaN guard, 130 / 143: interrupted); ``debug`` or ``HYDRA_FULL_ERROR=1`` keeps the trace."""
    if debug or os.environ.get("HYDRA_FULL_ERROR") == "1":
        action()
        return
    try:
        action()
    except ConfigError as error:
        _fail("config error", str(error), CONFIG_EXIT)
    except KeyboardInterrupt:
        _fail("interrupted", "before training started; nothing was saved", INTERRUPTED_EXIT)
    except Exception as error:  # noqa: BLE001 - reported in one line if it is one of ours, else re-raised
        _report(error)
        raise


def _report(error: Exception) -> None:
    """Exit with one line for the errors training raises (their modules import torch, so they are imported
    only once training has started: a config error stays fast)."""
    from oppshape.checkpoint import CheckpointError
    from oppshape.trainer import NonFiniteError, TrainingInterrupted

    if isinstance(error, CheckpointError):
        _fail("checkpoint error", str(error), CONFIG_EXIT)
    if isinstance(error, NonFiniteError):
        _fail("stopped", str(error), STOPPED_EXIT)
    if isinstance(error, TrainingInterrupted):
        run_dir = error.checkpoint.parent.parent
        _fail("interrupted", f"{error.signal_name} at iteration {error.iteration}; checkpoint {error.checkpoint}; "
              f"resume with: python -m oppshape resume={run_dir}", error.exit_code)
