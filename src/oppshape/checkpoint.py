"""Checkpoints, written and read in one place, so a crash mid-run loses nothing and a resume is exact.

Checkpoints are written to a temporary file and renamed into place (a crash mid-write leaves the
previous checkpoint intact) and loaded with ``weights_only=True`` (a foreign file cannot run code), so
everything in them is tensors, numbers, strings and containers of those. :func:`save_training_state` and
:func:`restore_training_state` are the pair the Trainer and the CLI use: learner, extra state (collectors,
buffers), every RNG stream (``oppshape.rng``), the iteration, the elapsed time and the metrics history.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Protocol

import torch

from oppshape.rng import rng_state, set_rng_state

CHECKPOINT_NAME = "last.pt"


class Stateful(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def save_checkpoint(directory: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``directory/last.pt`` atomically and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_NAME
    temporary = path.with_suffix(".tmp")
    torch.save(payload, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path


def load_checkpoint(directory: Path) -> dict[str, Any]:
    path = directory / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from at {path}")
    return torch.load(path, map_location="cpu", weights_only=True)


def save_training_state(
    directory: Path,
    *,
    iteration: int,
    elapsed: float,
    learner: Stateful,
    extra_state: Mapping[str, Stateful],
    history: list[dict[str, float]],
) -> Path:
    """Checkpoint everything an exact resume needs, the RNG streams included."""
    payload = {
        "iteration": iteration,
        "elapsed": elapsed,
        "learner": learner.state_dict(),
        "extra": {name: obj.state_dict() for name, obj in extra_state.items()},
        "rng": rng_state(),
        "history": history,
    }
    return save_checkpoint(directory, payload)


def restore_training_state(
    checkpoint: dict[str, Any], learner: Stateful, extra_state: Mapping[str, Stateful]
) -> tuple[int, float, list[dict[str, float]]]:
    """Load a checkpoint into a freshly built learner and extra state and restore the RNG streams;
    returns ``(iteration, elapsed, history)`` for the Trainer to continue from."""
    learner.load_state_dict(checkpoint["learner"])
    for name, state in checkpoint["extra"].items():
        extra_state[name].load_state_dict(state)
    set_rng_state(checkpoint["rng"])
    return checkpoint["iteration"], checkpoint["elapsed"], checkpoint["history"]
