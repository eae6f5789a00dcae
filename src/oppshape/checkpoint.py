"""Checkpoints, written and read in one place, so a crash mid-run loses nothing and a resume is exact.

Checkpoints are written to a temporary file and renamed into place (a crash mid-write leaves the
previous checkpoint intact); the one before is kept as ``previous.pt`` (a hard link, renamed into place
too), so a file damaged later (a full disk, a bad copy) loses at most one checkpoint interval. They are
loaded with ``weights_only=True`` (a foreign file cannot run code), so everything in them is tensors,
numbers, strings and containers of those; a file that does not load is reported as damaged, naming the
previous one, never with advice to load it unsafely. :func:`save_training_state` and
:func:`restore_training_state` are the pair the Trainer and the CLI use: learner, extra state
(collectors, buffers), every RNG stream (``oppshape.rng``), the iteration, the elapsed time and the
metrics history.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Mapping, Protocol

import torch

from oppshape.rng import rng_state, set_rng_state

CHECKPOINT_NAME = "last.pt"
PREVIOUS_NAME = "previous.pt"
TRAINING_STATE_KEYS = ("iteration", "elapsed", "learner", "extra", "rng", "history")


class CheckpointError(RuntimeError):
    """A checkpoint is missing or does not load; the message names the file and what to do instead."""


class Stateful(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def save_checkpoint(directory: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``directory/last.pt`` atomically, keeping the one before as ``previous.pt``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_NAME
    temporary = path.with_suffix(".tmp")
    torch.save(payload, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    if path.is_file():
        _keep_as_previous(path, directory / PREVIOUS_NAME)
    os.replace(temporary, path)
    return path


def _keep_as_previous(path: Path, previous: Path) -> None:
    """Make ``previous`` the current content of ``path``, atomically: ``last.pt`` never goes missing."""
    staged = previous.with_suffix(".tmp")
    staged.unlink(missing_ok=True)
    try:
        os.link(path, staged)
    except OSError:  # a file system without hard links
        shutil.copyfile(path, staged)
    os.replace(staged, previous)


def checkpoint_file(location: Path) -> Path:
    """The checkpoint file meant by ``location``: a ``.pt`` file itself, a ``checkpoints/`` folder (its
    ``last.pt``) or a run directory (its ``checkpoints/last.pt``)."""
    if location.suffix == ".pt":
        return location
    if location.name == "checkpoints" or (location / CHECKPOINT_NAME).is_file():
        return location / CHECKPOINT_NAME
    return location / "checkpoints" / CHECKPOINT_NAME


def load_checkpoint(location: Path, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Load the checkpoint at ``location`` (see :func:`checkpoint_file`) with ``weights_only=True``.

    Raises :class:`CheckpointError` when the file is missing or damaged (empty, truncated, not a PyTorch
    checkpoint, holding objects other than plain data, or lacking one of ``required``), naming the
    previous checkpoint when there is one.
    """
    path = checkpoint_file(location)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}{_previous_hint(path)}")
    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of files it then refuses
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch.load fails with EOF, zip, key and unpickling errors
        raise CheckpointError(f"checkpoint {path} is damaged ({_damage(path, error)}){_previous_hint(path)}") from None
    missing = [key for key in required if not isinstance(payload, dict) or key not in payload]
    if missing:
        raise CheckpointError(f"checkpoint {path} is damaged (it lacks {', '.join(missing)}){_previous_hint(path)}")
    return payload


def _damage(path: Path, error: Exception) -> str:
    """What is wrong with the file, in a few words (never PyTorch's advice to load it unsafely)."""
    if path.stat().st_size == 0:
        return "empty file"
    with open(path, "rb") as handle:
        if handle.read(2) != b"PK":  # torch.save writes a zip archive
            return "not a PyTorch checkpoint: no zip archive"
    if isinstance(error, EOFError) or "zip archive" in str(error) or "central directory" in str(error):
        return "truncated, or not a PyTorch checkpoint"
    if "Weights only load failed" in str(error):
        return "it holds objects other than tensors and plain data, which are never loaded"
    return f"not a PyTorch checkpoint: {type(error).__name__}"


def _previous_hint(path: Path) -> str:
    previous = path.with_name(PREVIOUS_NAME)
    if path.name == PREVIOUS_NAME or not previous.is_file():
        return "; there is no previous checkpoint"
    return f"; the previous one is {previous}: resume from it with resume={previous}"


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
