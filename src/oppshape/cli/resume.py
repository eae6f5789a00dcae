"""What a resume may change: only what keeps the continuation exact; anything else is refused in one line.

A resume rebuilds the interrupted run from its saved ``config.yaml``, so algorithm, env and seed come from
the run directory. How long to train, how often to evaluate, checkpoint and log, where metrics go and the
device may change; a changed algorithm setting is a new run, started from the checkpoint's weights with
``init_from=<run dir>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from oppshape.cli.migrate import migrate
from oppshape.config import ConfigError

HONOURED_ON_RESUME = (
    "trainer.iterations", "trainer.max_seconds", "trainer.eval_every", "trainer.checkpoint_every",
    "trainer.stop_when", "trainer.log_every", "trainer.progress", "trainer.compile", "logger.*", "device",
)
#: Root keys saying where to run or start from, not what the run is.
NOT_SETTINGS = ("resume", "run_dir", "init_from")
SETTINGS = ("seed", "device", "name", "env", "algo", "trainer", "logger")
GROUP_CHOICES = ("env", "algo", "trainer", "logger", "experiment")


def key_of(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def is_honoured(key: str) -> bool:
    return key in HONOURED_ON_RESUME or key == "logger" or key.startswith("logger.")


def run_dir_of(resume: str) -> Path:
    """The run directory of ``resume=``: the directory itself, or the run holding a ``checkpoints/*.pt`` file."""
    location = Path(resume)
    return location.parent.parent if location.suffix == ".pt" else location


def changed_leaves(saved: Any, wanted: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose value in ``wanted`` differs from ``saved`` (both plain containers)."""
    if isinstance(wanted, dict) and isinstance(saved, dict):
        keys = list(wanted) + [key for key in saved if key not in wanted]
        return [leaf for key in keys
                for leaf in changed_leaves(saved.get(key), wanted.get(key), f"{prefix}.{key}" if prefix else key)]
    return [] if saved == wanted else [prefix]


def resumed_config(resume: Path, overrides: list[str], composed: DictConfig | None = None) -> DictConfig:
    """The saved config of the run at ``resume`` with the honoured overrides of ``overrides`` applied.

    An override that would change anything else (``algo.lr=5``, ``seed=5``, another ``experiment=``) raises
    :class:`ConfigError` naming it and the honoured keys, unless it repeats the saved value (so re-running a
    make target with ``resume=`` works). ``composed``, the command line's own composition, is needed for
    group choices (``experiment=``, ``algo=``, ...): they are compared by what they compose to.
    """
    run_dir = run_dir_of(str(resume))
    saved_path = run_dir / "config.yaml"
    if not saved_path.is_file():
        raise ConfigError(f"resume={str(resume)!r} is not a run directory (no config.yaml there)")
    saved = migrate(OmegaConf.load(saved_path))
    settings = [o for o in overrides if not o.startswith("hydra") and key_of(o) not in NOT_SETTINGS]
    values = [o for o in settings if key_of(o) not in GROUP_CHOICES]
    groups = {key_of(o) for o in settings if key_of(o) in GROUP_CHOICES}
    wanted = saved.copy()
    if groups and composed is not None:
        for scope in SETTINGS if "experiment" in groups else sorted(groups):
            wanted[scope] = composed[scope]
    wanted.merge_with_dotlist(values)
    typed = {key_of(o) for o in values} | ({"logger"} & groups)
    as_typed = {key_of(o): o for o in values}
    refused = []
    for leaf in changed_leaves(OmegaConf.to_container(saved, resolve=True), OmegaConf.to_container(wanted, resolve=True)):
        if not is_honoured(leaf):
            refused.append(as_typed.get(leaf, f"{leaf}={OmegaConf.select(wanted, leaf)}"))
        elif not any(leaf == key or leaf.startswith(f"{key}.") for key in typed):
            OmegaConf.update(wanted, leaf, OmegaConf.select(saved, leaf), merge=False)  # not asked for: keep it
    if refused:
        raise ConfigError(
            f"resume continues the saved run exactly and cannot change {', '.join(refused)}; honoured on resume: "
            f"{', '.join(HONOURED_ON_RESUME)}; to train on from its weights with a new setting start a new run: "
            f"init_from={run_dir} <overrides>"
        )
    wanted.resume = str(resume)
    return wanted
