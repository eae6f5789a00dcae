"""checkpoint: last.pt written atomically with the one before kept as previous.pt; a damaged file is named with
its reason and the previous one (never with advice to load it unsafely), and a resume can start from it."""

import io
import pickle

import pytest
import torch
from toy_family import install, toy_config

from oppshape.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from oppshape.cli import execute, resumed_config


@pytest.fixture(autouse=True)
def _toy(monkeypatch):
    install(monkeypatch)


def test_saving_keeps_the_previous_checkpoint(tmp_path):
    for iteration in (1, 2, 3):
        save_checkpoint(tmp_path, {"iteration": iteration})
    assert load_checkpoint(tmp_path)["iteration"] == 3
    assert load_checkpoint(tmp_path / "previous.pt")["iteration"] == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == ["last.pt", "previous.pt"]


class _Foreign:
    pass


def _saved(payload) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("damage,reason", [
    (lambda data: b"", "empty file"),
    (lambda data: data[: len(data) // 2], "truncated, or not a PyTorch checkpoint"),
    (lambda data: b"garbage" * 20, "not a PyTorch checkpoint"),
    (lambda data: pickle.dumps(_Foreign()), "not a PyTorch checkpoint"),
    (lambda data: _saved({"weights": _Foreign()}), "objects other than tensors and plain data"),
])
def test_a_damaged_checkpoint_is_named_with_the_previous_one(tmp_path, damage, reason):
    save_checkpoint(tmp_path, {"iteration": 1, "weights": torch.ones(100)})
    save_checkpoint(tmp_path, {"iteration": 2, "weights": torch.ones(100)})
    last = tmp_path / "last.pt"
    last.write_bytes(damage(last.read_bytes()))
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(tmp_path)
    message = str(error.value)
    assert message.startswith(f"checkpoint {last} is damaged (") and reason in message
    assert f"the previous one is {tmp_path / 'previous.pt'}: resume from it with resume={tmp_path / 'previous.pt'}" in message
    assert "weights_only" not in message and "\n" not in message


def test_without_a_previous_checkpoint_it_says_so(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"is damaged \(empty file\); there is no previous checkpoint"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match=r"lacks learner"):
        save_checkpoint(tmp_path / "other", {"iteration": 1})
        load_checkpoint(tmp_path / "other", ("iteration", "learner"))


def test_resume_from_the_previous_checkpoint_reaches_the_uninterrupted_result(tmp_path):
    reference = execute(toy_config(iterations=10), tmp_path / "reference")
    run_dir = tmp_path / "damaged"
    execute(toy_config(iterations=6), run_dir)  # checkpoints at 3 and 6
    (run_dir / "checkpoints" / "last.pt").write_bytes(b"\0" * 10)
    with pytest.raises(CheckpointError, match="the previous one is"):
        execute(resumed_config(run_dir, ["trainer.iterations=10"]), run_dir)
    previous = run_dir / "checkpoints" / "previous.pt"
    resumed = execute(resumed_config(previous, ["trainer.iterations=10"]), run_dir)
    assert resumed["iterations"] == 10
    drop = {"wall_time_s"}
    assert {k: v for k, v in resumed["final"].items() if k not in drop} == {
        k: v for k, v in reference["final"].items() if k not in drop}
