"""A TorchRL collector's in-flight episodes as checkpoint state, so a resumed run goes on mid-episode.

TorchRL's ``Collector.state_dict`` saves counters and transforms but not the running episodes ("runtime
environment state is not generally serializable"), so a resume would start every env afresh and the run
would no longer equal an uninterrupted one. ``CollectorState`` saves the tensordict the collector carries
between batches (observations, step counts, recurrent states, running returns) and the simulator state
outside it (``oppshape.envs.snapshot``); with the RNG states in the checkpoint the continuation is exact.
"""

from __future__ import annotations

from typing import Any

from torchrl.collectors import Collector

from oppshape.envs.snapshot import env_snapshot, restore_env_snapshot

SEPARATOR = "/"


class CollectorState:
    """``state_dict`` / ``load_state_dict`` for ``collector`` (an ``Experiment.extra_state`` entry)."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def state_dict(self) -> dict[str, Any]:
        carrier = self.collector._carrier  # TorchRL keeps the running tensordict here (no public accessor)
        return {
            "carrier": {key: value.detach().clone().cpu() for key, value in carrier.flatten_keys(SEPARATOR).items()},
            "env": env_snapshot(self.collector.env),
            "frames": int(self.collector._frames),
            "iter": int(self.collector._iter),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        carrier = self.collector._carrier
        fresh = set(carrier.flatten_keys(SEPARATOR).keys())
        missing = fresh - set(state["carrier"])
        if missing:
            raise ValueError(
                f"the checkpoint's running episodes lack {sorted(missing)}, which this collector carries; "
                "resume with the run's own config"
            )
        for key, value in state["carrier"].items():
            if key in fresh:  # env and transform state: copied into the tensors the collector already holds
                carrier.set_(tuple(key.split(SEPARATOR)), value)
            else:  # the policy's last outputs (action, logits): rewritten at the next step, kept for equality
                carrier.set(tuple(key.split(SEPARATOR)), value.to(carrier.device) if carrier.device else value)
        restore_env_snapshot(self.collector.env, state["env"])
        self.collector._frames = state["frames"]
        self.collector._iter = state["iter"]
