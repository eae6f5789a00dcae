"""What the Trainer needs from a learner: the contract every algorithm implements."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from tensordict import TensorDictBase


@runtime_checkable
class Learner(Protocol):
    """Turns one batch (or nothing, for closed-form games) into parameter updates.

    ``update`` returns plain floats keyed by metric name; names starting with ``loss`` are checked
    for NaN/inf by the Trainer, which stops and names the first bad one. ``state_dict`` must hold
    everything needed for an exact resume (parameters, optimizer states, buffers, counters); it
    may contain only tensors, numbers, strings, and nested dicts/lists of those, because
    checkpoints are loaded with ``weights_only=True``.
    """

    def update(self, batch: TensorDictBase | None) -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...
