"""Returns of the episodes that finished inside a collected batch (the training curve of on-policy runs)."""

from __future__ import annotations

from tensordict import TensorDictBase
from tensordict.utils import NestedKey


def episode_stats(
    batch: TensorDictBase,
    return_key: NestedKey = ("agents", "episode_reward"),
    done_key: NestedKey = "done",
) -> dict[str, float]:
    """``train_return``: mean over finished episodes and agents of each agent's summed reward.

    Reads ``("next", return_key)`` ``[*B, n, 1]`` (TorchRL's ``RewardSum``) at the steps where
    ``("next", done_key)`` is set; returns ``{}`` when no episode ended in the batch.
    """
    done = batch.get(("next", done_key)).squeeze(-1)
    returns = batch.get(("next", *_as_tuple(return_key)), None)
    if returns is None or not bool(done.any()):
        return {}
    return {"train_return": float(returns[done].mean()), "train_episodes": float(done.sum())}


def _as_tuple(key: NestedKey) -> tuple[str, ...]:
    return key if isinstance(key, tuple) else (key,)
