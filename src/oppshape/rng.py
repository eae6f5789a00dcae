"""Every random generator a run draws from, in one place: seeding, saving and restoring them.

A checkpoint holds ``rng_state()`` so a resumed run equals an uninterrupted one; ``isolated_rng`` lets a
block (an evaluation) draw its own seeded numbers without moving the training streams.
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


@contextlib.contextmanager
def isolated_rng(seed: int) -> Iterator[None]:
    """Run the block on generators seeded from ``seed`` (VMAS's private one too) and restore every generator
    afterwards, so the block draws the same numbers wherever it runs and the code around it never sees it."""
    saved = rng_state()
    try:
        seed_everything(seed)
        vmas_state = _vmas_random_state()
        if vmas_state is not None:
            vmas_state[:] = [torch.get_rng_state(), np.random.get_state(), random.getstate()]
        yield
    finally:
        set_rng_state(saved)


def rng_state() -> dict[str, Any]:
    """The state of every random generator a run draws from (torch CPU/CUDA, NumPy, Python, and VMAS's own)."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": _numpy_state_to_tensor(np.random.get_state()),
        "python": _python_state_to_tensor(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    vmas_state = _vmas_random_state()
    if vmas_state is not None:
        torch_state, numpy_state, python_state = vmas_state
        state["vmas"] = {"torch": torch_state.clone(), "numpy": _numpy_state_to_tensor(numpy_state),
                         "python": _python_state_to_tensor(python_state)}
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(_numpy_state_from_tensor(state["numpy"]))
    random.setstate(_python_state_from_tensor(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    vmas_state = _vmas_random_state()
    if "vmas" in state and vmas_state is not None:
        saved = state["vmas"]
        vmas_state[:] = [saved["torch"].clone(), _numpy_state_from_tensor(saved["numpy"]),
                         _python_state_from_tensor(saved["python"])]


def _vmas_random_state() -> list | None:
    """VMAS (>= 1.4) swaps in a private, class-wide [torch, numpy, python] RNG state around every reset and step,
    so the global generators do not cover it. ``None`` when VMAS has not been imported (nothing to save)."""
    module = sys.modules.get("vmas.simulator.environment.environment")
    return getattr(getattr(module, "Environment", None), "vmas_random_state", None)


def _numpy_state_to_tensor(state: tuple) -> dict[str, Any]:
    kind, keys, position, has_gauss, cached = state
    return {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def _numpy_state_from_tensor(state: dict[str, Any]) -> tuple:
    return (state["kind"], state["keys"].numpy().astype(np.uint32), state["position"], state["has_gauss"],
            state["cached"])


def _python_state_to_tensor(state: tuple) -> dict[str, Any]:
    version, internal, gauss = state
    return {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss": gauss}


def _python_state_from_tensor(state: dict[str, Any]) -> tuple:
    return (state["version"], tuple(int(x) for x in state["internal"].tolist()), state["gauss"])
