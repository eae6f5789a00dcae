"""Atomic, code-free checkpoints, so a crash mid-run loses nothing (the RNG states in them: ``oppshape.rng``).

Checkpoints are written to a temporary file and renamed into place (a crash mid-write leaves the
previous checkpoint intact) and loaded with ``weights_only=True`` (a foreign file cannot run code), so
everything in them is tensors, numbers, strings and containers of those.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

CHECKPOINT_NAME = "last.pt"


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
