"""LOQA's snapshot buffer: capacity, push cadence, sampling, in-place pushes, grouping by opponent."""

from __future__ import annotations

import math

import pytest
import torch
from tensordict import TensorDict

from oppshape.rollouts.loqa_snapshots import GroupBuckets, OpponentGroups, SnapshotBuffer

MEMBERS = 2


def snapshot(value: float) -> TensorDict:
    """A fake parameter snapshot ``[S, ...]`` whose every entry is ``value + seed / 10``."""
    seeds = torch.arange(MEMBERS, dtype=torch.float32) / 10
    return TensorDict(
        {"actor": {"w": (value + seeds).reshape(MEMBERS, 1, 1).expand(MEMBERS, 3, 2).clone()},
         "qvalue": {"b": (value + seeds).reshape(MEMBERS, 1).expand(MEMBERS, 4).clone()}},
        batch_size=[MEMBERS],
    )


def stored_values(buffer: SnapshotBuffer) -> list[float]:
    assert buffer.storage is not None
    return buffer.storage["qvalue", "b"][: len(buffer), 0, 0].tolist()


def test_ring_keeps_the_latest_capacity_snapshots() -> None:
    buffer = SnapshotBuffer(capacity=4, push_every=1)
    for value in range(6):
        buffer.push(snapshot(float(value)))
    assert len(buffer) == 4
    assert sorted(stored_values(buffer)) == [2.0, 3.0, 4.0, 5.0]  # 0 and 1 were overwritten
    assert stored_values(buffer) == [4.0, 5.0, 2.0, 3.0]  # in ring order


def test_pushes_copy_one_row_in_place_and_storage_grows_geometrically() -> None:
    capacity = 100
    buffer = SnapshotBuffer(capacity=capacity, push_every=1)
    pointers = []
    for value in range(250):
        buffer.push(snapshot(float(value)))
        assert buffer.storage is not None
        pointers.append(buffer.storage["actor", "w"].data_ptr())
    assert buffer.reallocations <= math.ceil(math.log2(capacity)) + 1
    assert len(set(pointers[capacity:])) == 1  # once full, no push reallocates or re-copies the buffer
    assert buffer.storage.batch_size == (capacity, MEMBERS)
    assert buffer.storage["actor", "w"][0, 1, 0, 0] == pytest.approx(200.1)  # row 0 now holds push 200, seed 1


def test_push_cadence() -> None:
    buffer = SnapshotBuffer(capacity=10, push_every=10)
    assert [i for i in range(35) if buffer.due(i)] == [0, 10, 20, 30]


def test_sampling_is_uniform_over_filled_rows() -> None:
    buffer = SnapshotBuffer(capacity=8, push_every=1)
    for value in range(5):
        buffer.push(snapshot(float(value)))
    index = buffer.sample(MEMBERS, 20000, generator=torch.Generator().manual_seed(0))
    assert index.shape == (MEMBERS, 20000)
    counts = torch.bincount(index.reshape(-1), minlength=8).float()
    assert counts[5:].sum() == 0
    torch.testing.assert_close(counts[:5] / counts.sum(), torch.full((5,), 0.2), atol=0.01, rtol=0)


def test_sampling_an_empty_buffer_raises() -> None:
    with pytest.raises(RuntimeError, match="empty SnapshotBuffer"):
        SnapshotBuffer(capacity=3, push_every=1).sample(1, 4)


@pytest.mark.parametrize("capacity,push_every", [(0, 1), (5, 0)])
def test_bad_arguments_raise(capacity: int, push_every: int) -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        SnapshotBuffer(capacity, push_every)


def test_state_dict_round_trip() -> None:
    buffer = SnapshotBuffer(capacity=3, push_every=2)
    for value in range(4):
        buffer.push(snapshot(float(value)))
    restored = SnapshotBuffer(capacity=3, push_every=2)
    restored.load_state_dict(buffer.state_dict())
    assert (len(restored), restored.cursor) == (3, 1)
    assert stored_values(restored) == stored_values(buffer)
    restored.push(snapshot(9.0))
    buffer.push(snapshot(9.0))
    assert stored_values(restored) == stored_values(buffer)


def test_groups_gather_each_snapshots_episodes_and_scatter_back() -> None:
    index = torch.tensor([[2, 0, 2, 2, 1], [0, 0, 1, 0, 0]])  # [S, B]
    groups = OpponentGroups(index)
    pairs = {(int(s), int(m)) for s, m in zip(groups.snapshot, groups.member)}
    assert pairs == {(0, 0), (1, 0), (2, 0), (0, 1), (1, 1)}
    assert groups.slots.shape == (5, 4)  # the largest group: snapshot 0 of seed 1 plays 4 episodes
    flat_snapshot, flat_member = index.reshape(-1), torch.arange(2).repeat_interleave(5)
    for k in range(len(groups.snapshot)):
        members = groups.slots[k]
        assert (flat_snapshot[members] == groups.snapshot[k]).all()
        assert (flat_member[members] == groups.member[k]).all()
    episodes = torch.randn(10, 3)
    torch.testing.assert_close(groups.scatter(groups.gather(episodes)), episodes)


def test_identity_groups_are_one_group_per_seed() -> None:
    groups = OpponentGroups.identity(3, 4, "cpu")
    assert groups.slots.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    episodes = torch.randn(12)
    assert torch.equal(groups.gather(episodes), episodes[groups.slots])  # a reshape, the same as indexing
    torch.testing.assert_close(groups.scatter(groups.gather(episodes)), episodes)


def test_buckets_pad_each_group_to_its_own_width_class_and_scatter_back() -> None:
    index = torch.tensor([[0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], [0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2]])  # [S, B]
    buckets = GroupBuckets(index)
    widths = sorted(part.slots.shape[1] for part in buckets.parts)
    assert widths == [1, 2, 3, 5]  # group sizes 1 | 2 | 3 | 5 (seed 1: 5 of snapshot 0, 5 of 2) -> classes 1, 2, 3-4, 5-8
    assert sum(len(part.snapshot) for part in buckets.parts) == len(OpponentGroups(index).snapshot)
    flat_snapshot, flat_member = index.reshape(-1), torch.arange(2).repeat_interleave(11)
    for part in buckets.parts:
        for k in range(len(part.snapshot)):
            assert (flat_snapshot[part.slots[k]] == part.snapshot[k]).all()
            assert (flat_member[part.slots[k]] == part.member[k]).all()
    episodes = torch.randn(22, 3)
    torch.testing.assert_close(buckets.scatter(buckets.gather(episodes)), episodes)


def test_gather_returns_the_pushed_values_with_matmul_weights_stored_transposed() -> None:
    buffer = SnapshotBuffer(capacity=8, push_every=1)
    pushed = [TensorDict({"actor": {"weight": torch.randn(MEMBERS, 3, 4), "bias": torch.randn(MEMBERS, 3)}},
                         batch_size=[MEMBERS]) for _ in range(5)]
    for snap in pushed:
        buffer.push(snap)
    snapshot, member = torch.tensor([4, 0, 2, 4]), torch.tensor([1, 0, 1, 0])
    gathered = buffer.gather(snapshot, member)
    assert gathered.batch_size == (4,)
    for k in range(4):
        for key in (("actor", "weight"), ("actor", "bias")):
            assert torch.equal(gathered[key][k], pushed[int(snapshot[k])][key][int(member[k])])
    assert gathered["actor", "weight"].transpose(-1, -2).is_contiguous()  # what baddbmm reads, row by row
    assert gathered["actor", "bias"].is_contiguous()
