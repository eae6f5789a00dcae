"""LOQA's opponent buffer: past parameter snapshots of the self-playing agent, sampled per episode.

LOQA (Sec. 4, "self-play with a replay buffer of previous agents") plays each training episode
against a past version of itself. Snapshots are ``TensorDict`` s of parameters with a leading member
dimension ``[S, ...]`` (one learner per seed). Storage is one stacked ``TensorDict`` ``[rows, S, ...]``
written in place at a ring index, so a push copies one snapshot, never the buffer. Rows are allocated
geometrically (1, 2, 4, ... up to ``capacity``): a run that stops early never holds the memory of a
full buffer (10 000 Coin Game snapshots are ~6 GB), and the whole history is re-copied at most
``log2(capacity)`` times. Linear-layer weights are kept in the memory order their batched matmuls
read (see :meth:`SnapshotBuffer.gather`).

:class:`OpponentGroups` turns per-episode sampled indices into one group per distinct snapshot, so
each snapshot's weights are read once per step however many episodes it plays; :class:`GroupBuckets`
splits those groups by size so that little padding is played.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase


class SnapshotBuffer:
    """A ring of at most ``capacity`` parameter snapshots, pushed every ``push_every`` iterations.

    Args:
        capacity: the most snapshots kept; the oldest is overwritten after that (paper: 10 000).
        push_every: :meth:`due` is true on iterations ``0, push_every, 2 * push_every, ...`` (paper: 10).
    """

    def __init__(self, capacity: int, push_every: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity={capacity} must be >= 1")
        if push_every < 1:
            raise ValueError(f"push_every={push_every} must be >= 1")
        self.capacity = capacity
        self.push_every = push_every
        self.storage: TensorDictBase | None = None
        self.size = 0  # filled rows
        self.cursor = 0  # next row to write
        self.reallocations = 0

    def __len__(self) -> int:
        return self.size

    def due(self, iteration: int) -> bool:
        """Whether a snapshot should be pushed before collecting at ``iteration`` (counted from 0)."""
        return iteration % self.push_every == 0

    def _allocate(self, rows: int, like: TensorDictBase) -> None:
        def empty(key: str, leaf: torch.Tensor) -> torch.Tensor:
            if _matmul_weight(key, leaf, batch_dims=1):  # stored [rows, S, in, out], seen as [rows, S, out, in]
                return leaf.new_empty(rows, *leaf.shape[:-2], leaf.shape[-1], leaf.shape[-2]).transpose(-1, -2)
            return leaf.new_empty(rows, *leaf.shape)

        storage = like.detach().named_apply(empty, nested_keys=False, batch_size=[rows, *like.batch_size])
        if self.storage is not None:
            storage[: self.size] = self.storage[: self.size]
        self.storage = storage
        self.reallocations += 1

    def push(self, snapshot: TensorDictBase) -> None:
        """Copy ``snapshot`` (parameters ``[S, ...]``) into the next row."""
        allocated = 0 if self.storage is None else self.storage.batch_size[0]
        if self.cursor >= allocated:  # only while filling up for the first time
            self._allocate(min(max(2 * allocated, 1), self.capacity), snapshot)
        assert self.storage is not None
        self.storage[self.cursor].copy_(snapshot.detach())
        self.cursor = (self.cursor + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, members: int, episodes: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Uniform snapshot indices ``[members, episodes]``, one opponent per episode of each seed."""
        if self.size == 0:
            raise RuntimeError("sample() from an empty SnapshotBuffer; push a snapshot first")
        device = self.storage.device if self.storage is not None else None
        return torch.randint(self.size, (members, episodes), generator=generator, device=device)

    def gather(self, snapshot: torch.Tensor, member: torch.Tensor) -> TensorDictBase:
        """The parameters of the ``K`` pairs ``(snapshot[k], member[k])``, batch size ``[K]``, ready to play.

        One ``index_select`` per leaf on the rows flattened with the seeds (a row copy, not two-tensor
        advanced indexing). Every ``weight`` leaf of matrix shape (an ensemble linear layer's
        ``[out, in]``, which its batched matmul reads transposed) is stored, and comes back, as a
        transposed view of memory laid out ``[.., in, out]``: the matmul then streams contiguous rows,
        about a quarter faster on the Coin Game's ``K ~ 400`` opponents (issue #21). Values are those
        pushed; only the memory layout differs (the matmul may round differently in the last bit).
        """
        if self.storage is None:
            raise RuntimeError("gather() from an empty SnapshotBuffer; push a snapshot first")
        rows = snapshot * self.storage.batch_size[1] + member

        def pick(key: str, leaf: torch.Tensor) -> torch.Tensor:
            flat = leaf.flatten(0, 1)
            if _matmul_weight(key, leaf, batch_dims=2):
                return flat.transpose(-1, -2).index_select(0, rows).transpose(-1, -2)
            return flat.index_select(0, rows)

        return self.storage.named_apply(pick, nested_keys=False, batch_size=[len(rows)])

    def state_dict(self) -> dict[str, Any]:
        storage = None if self.storage is None else self.storage[: self.size].to_dict()
        return {"storage": storage, "size": self.size, "cursor": self.cursor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.size, self.cursor = int(state["size"]), int(state["cursor"])
        self.storage = None
        if state["storage"] is not None:
            saved = TensorDict(state["storage"], batch_size=[self.size]).auto_batch_size_(batch_dims=2)
            self._allocate(self.size, saved[0])
            self.storage[: self.size] = saved


class OpponentGroups:
    """Episodes grouped by the snapshot they play against, padded to the largest group.

    For ``index`` ``[S, B]`` (snapshot per episode of each seed) this holds the distinct
    ``(snapshot, seed)`` pairs ``K``, a padded layout ``slots`` ``[K, G]`` of flat episode indices
    (padding repeats an episode of the same group; its outputs are discarded) and ``position`` ``[S*B]``
    mapping each episode to its flat slot in ``[K * G]``.

    Attributes:
        snapshot, member: ``[K]`` the snapshot row and seed of each group.
        slots: ``[K, G]`` flat episode index (``seed * B + episode``) per slot.
        position: ``[S * B]`` flat slot of each episode.
    """

    def __init__(self, index: torch.Tensor) -> None:
        members, episodes = index.shape
        self._build(_pair_keys(index), torch.arange(members * episodes, device=index.device), members)

    def _build(self, keys: torch.Tensor, episode: torch.Tensor, members: int) -> None:
        """Group the episodes ``episode`` (flat indices) by their ``(snapshot, seed)`` keys; ``position``
        then indexes ``episode``'s order."""
        distinct, inverse, counts = torch.unique(keys, return_inverse=True, return_counts=True)
        order = torch.argsort(inverse, stable=True)
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.empty_like(order)
        rank[order] = torch.arange(order.numel(), device=keys.device) - starts[inverse[order]]
        width = int(counts.max())
        slots = order[starts].unsqueeze(1).expand(len(distinct), width).clone()  # pad with the group's first
        slots[inverse, rank] = torch.arange(order.numel(), device=keys.device)
        self.snapshot = torch.div(distinct, members, rounding_mode="floor")
        self.member = distinct % members
        self.slots = episode[slots]
        self.position = inverse * width + rank

    @classmethod
    def identity(cls, members: int, episodes: int, device: torch.device | str) -> "OpponentGroups":
        """One group per seed holding all of its episodes (the opponent is the current agent)."""
        groups = cls.__new__(cls)
        groups.member = torch.arange(members, device=device)
        groups.snapshot = torch.zeros_like(groups.member)
        groups.slots = torch.arange(members * episodes, device=device).reshape(members, episodes)
        groups.position = torch.arange(members * episodes, device=device)
        groups.in_order = True
        return groups

    in_order = False  # slots are 0, 1, 2, ... row by row: gather and scatter are reshapes, not copies

    def gather(self, flat: torch.Tensor) -> torch.Tensor:
        """Per-episode ``[S*B, ...]`` -> grouped ``[K, G, ...]``."""
        if self.in_order:
            return flat.reshape(*self.slots.shape, *flat.shape[1:])
        return flat[self.slots]

    def scatter(self, grouped: torch.Tensor) -> torch.Tensor:
        """Grouped ``[K, G, ...]`` -> per-episode ``[S*B, ...]``."""
        flat = grouped.reshape(-1, *grouped.shape[2:])
        return flat if self.in_order else flat[self.position]


def _matmul_weight(key: str, leaf: torch.Tensor, batch_dims: int) -> bool:
    """An ensemble linear layer's ``weight`` (``[*batch, N... , out, in]``), which its matmul reads transposed."""
    return key == "weight" and leaf.dim() == batch_dims + 2


def _pair_keys(index: torch.Tensor) -> torch.Tensor:
    """One integer per episode naming its ``(snapshot, seed)`` pair, flat ``[S * B]``."""
    members, episodes = index.shape
    member = torch.arange(members, device=index.device).unsqueeze(1).expand(members, episodes)
    return (index * members + member).reshape(-1)


class GroupBuckets:
    """:class:`OpponentGroups` split by group size into buckets of widths 1, 2, 3-4, 5-8, ...

    Padding every group to the largest one (a few episodes) multiplies the rows of the batched
    matmuls: on the Coin Game, 512 episodes against ~400 distinct snapshots are mostly groups of one,
    padded to ~4. Bucketed, each bucket pads only to its own width (at most 2x its smallest group),
    for a few more, smaller matmuls per step (issue #21: the opponents' layers are ~half of a LOQA
    Coin iteration). ``position`` maps each episode to its row in the buckets' flattened slots,
    concatenated in bucket order.
    """

    def __init__(self, index: torch.Tensor) -> None:
        members, episodes = index.shape
        keys = _pair_keys(index)
        _, inverse, counts = torch.unique(keys, return_inverse=True, return_counts=True)
        bucket = torch.ceil(torch.log2(counts[inverse].to(torch.float32))).long()  # 1 -> 0, 2 -> 1, 3-4 -> 2, ...
        self.parts: list[OpponentGroups] = []
        self.position = torch.empty_like(keys)
        offset = 0
        for value in torch.unique(bucket).tolist():
            episode = torch.nonzero(bucket == value).squeeze(1)
            part = OpponentGroups.__new__(OpponentGroups)
            part._build(keys[episode], episode, members)
            self.position[episode] = offset + part.position
            offset += part.slots.numel()
            self.parts.append(part)

    @classmethod
    def single(cls, groups: OpponentGroups) -> "GroupBuckets":
        """One bucket holding ``groups`` as they are."""
        buckets = cls.__new__(cls)
        buckets.parts, buckets.position = [groups], groups.position
        return buckets

    def gather(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Per-episode ``[S*B, ...]`` -> one grouped ``[K_b, G_b, ...]`` per bucket."""
        return [part.gather(flat) for part in self.parts]

    def scatter(self, grouped: list[torch.Tensor]) -> torch.Tensor:
        """One grouped ``[K_b, G_b, ...]`` per bucket -> per-episode ``[S*B, ...]``."""
        flat = [g.reshape(-1, *g.shape[2:]) for g in grouped]
        return (flat[0] if len(flat) == 1 else torch.cat(flat))[self.position]
