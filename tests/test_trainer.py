import csv
import json

import pytest
import torch
from omegaconf import OmegaConf
from toy_family import install, toy_config

from oppshape.checkpoint import load_checkpoint
from oppshape.cli import execute, resumed_config
from oppshape.config import ConfigError
from oppshape.trainer import NonFiniteError


@pytest.fixture(autouse=True)
def _toy(monkeypatch):
    install(monkeypatch)


def _rows(run_dir):
    with open(run_dir / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def test_run_directory_contents(tmp_path):
    summary = execute(toy_config(), tmp_path)
    for name in ("config.yaml", "metrics.csv", "summary.json", "checkpoints/last.pt", "plots"):
        assert (tmp_path / name).exists(), name
    assert json.loads((tmp_path / "summary.json").read_text())["iterations"] == 10
    rows = _rows(tmp_path)
    assert len(rows) == 10 and rows[-1]["iteration"] == "10.0"
    assert rows[4]["eval_distance"] != "" and rows[0]["eval_distance"] == ""  # eval at 5 and 10 only
    assert summary["final"]["eval_distance"] == pytest.approx(float(rows[-1]["eval_distance"]))
    assert OmegaConf.load(tmp_path / "config.yaml").algo.lr == 0.1


def test_checkpoint_loads_with_weights_only(tmp_path):
    execute(toy_config(), tmp_path)
    payload = load_checkpoint(tmp_path / "checkpoints")
    assert payload["iteration"] == 10 and len(payload["history"]) == 10


def test_resume_after_crash_equals_uninterrupted_run(tmp_path, monkeypatch):
    reference = execute(toy_config(), tmp_path / "reference")

    crashed_dir = tmp_path / "crashed"
    import toy_family

    original_update = toy_family.ToyLearner.update

    def crash_at_seven(self, batch):
        if self.steps == 6:
            raise KeyboardInterrupt  # the process dies after checkpoint 6, mid-way to 9
        return original_update(self, batch)

    monkeypatch.setattr(toy_family.ToyLearner, "update", crash_at_seven)
    with pytest.raises(KeyboardInterrupt):
        execute(toy_config(), crashed_dir)
    assert load_checkpoint(crashed_dir / "checkpoints")["iteration"] == 6
    monkeypatch.setattr(toy_family.ToyLearner, "update", original_update)

    resumed = execute(resumed_config(crashed_dir, ["trainer.progress=false"]), crashed_dir)
    assert resumed["iterations"] == 10
    ignore = {"wall_time_s"}
    final = {k: v for k, v in resumed["final"].items() if k not in ignore}
    assert final == {k: v for k, v in reference["final"].items() if k not in ignore}
    assert [r["theta_0"] for r in _rows(crashed_dir)] == [r["theta_0"] for r in _rows(tmp_path / "reference")]


def test_resume_honours_exact_keeping_overrides_and_refuses_the_others(tmp_path):
    execute(toy_config(iterations=4), tmp_path)
    cfg = resumed_config(tmp_path, ["trainer.iterations=8", "logger.tensorboard=true", "algo.lr=0.1", "seed=3"])
    assert cfg.algo.lr == 0.1 and cfg.trainer.iterations == 8 and cfg.logger.tensorboard
    for refused in ("algo.lr=5", "seed=5", "env.noise=0.5", "trainer.isolate_eval=true"):
        with pytest.raises(ConfigError, match=rf"cannot change {refused}; honoured on resume: trainer.iterations, "
                                              rf".*logger.\*, device; .* init_from={tmp_path} <overrides>"):
            resumed_config(tmp_path, ["trainer.iterations=8", refused])


def test_nan_guard_names_the_loss(tmp_path):
    cfg = toy_config()
    cfg.algo.blow_up_at = 4
    with pytest.raises(NonFiniteError, match=rf"loss_toy became nan at iteration 4; the last good checkpoint is "
                                             rf"{tmp_path}/checkpoints/last.pt \(iteration 3\); .*init_from={tmp_path}"):
        execute(cfg, tmp_path)
    assert load_checkpoint(tmp_path / "checkpoints")["iteration"] == 3


def test_nan_guard_before_any_checkpoint_names_none(tmp_path):
    cfg = toy_config()
    cfg.algo.blow_up_at = 2
    with pytest.raises(NonFiniteError, match="at iteration 2; no checkpoint was written before it") as error:
        execute(cfg, tmp_path)
    assert "checkpoints/" not in str(error.value) and "init_from" not in str(error.value)


@pytest.mark.parametrize("kind,message", [
    ("parameter", r"learner tensor theta became NaN or inf at iteration 4"),
    ("sampling", r"the policy's sampling probabilities became NaN or inf \(the last update's metrics: loss_toy="),
])
def test_nan_guard_names_a_parameter_or_the_sampling_probabilities(tmp_path, kind, message):
    cfg = toy_config()
    cfg.algo.blow_up_at, cfg.algo.blow_up = 4, kind
    with pytest.raises(NonFiniteError, match=message):
        execute(cfg, tmp_path)


def test_seed_makes_runs_repeatable(tmp_path):
    first = execute(toy_config(), tmp_path / "a")["final"]["theta_0"]
    second = execute(toy_config(), tmp_path / "b")["final"]["theta_0"]
    assert first == second
    cfg = toy_config()
    cfg.seed = 4
    assert execute(cfg, tmp_path / "c")["final"]["theta_0"] != first
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("isolate", [False, True])
def test_isolated_evaluation_leaves_training_as_it_was(tmp_path, isolate):
    """With a random evaluation, evaluating more often changes the training run unless it is isolated; isolated,
    the evaluation at a given iteration is the same number however often the run evaluates."""
    runs = {}
    for eval_every in (1, 5):
        cfg = toy_config(eval_every=eval_every, isolate_eval=isolate)
        cfg.env.eval_noise = 0.5
        execute(cfg, tmp_path / f"{isolate}-{eval_every}")
        runs[eval_every] = _rows(tmp_path / f"{isolate}-{eval_every}")
    same_training = [row["theta_0"] for row in runs[1]] == [row["theta_0"] for row in runs[5]]
    assert same_training == isolate
    if isolate:
        assert runs[1][4]["eval_distance"] == runs[5][4]["eval_distance"] != ""


def test_time_budget_ends_the_run_evaluated_and_saved_and_resume_goes_on(tmp_path):
    summary = execute(toy_config(max_seconds=1e-9), tmp_path)
    assert summary["iterations"] == 1
    rows = _rows(tmp_path)
    assert len(rows) == 1 and rows[0]["eval_distance"] != ""  # the cut-off iteration is evaluated
    assert load_checkpoint(tmp_path / "checkpoints")["iteration"] == 1
    resumed = execute(resumed_config(tmp_path, ["trainer.max_seconds=0"]), tmp_path)
    assert resumed["iterations"] == 10


def test_stop_when_a_metric_turns_positive(tmp_path):
    summary = execute(toy_config(stop_when="eval_distance"), tmp_path)
    assert summary["iterations"] == 5  # the first evaluation (eval_every=5) logs a positive distance
    assert load_checkpoint(tmp_path / "checkpoints")["iteration"] == 5


def test_stop_when_names_an_unknown_metric_with_the_valid_ones(tmp_path, monkeypatch):
    """Refused before the run directory exists when the family declares metric_names; at the first evaluation
    otherwise."""
    with pytest.raises(ConfigError, match=r"trainer.stop_when='eval_distanse' .* valid choices: .*eval_distance"):
        execute(toy_config(stop_when="eval_distanse"), tmp_path / "declared")
    assert not (tmp_path / "declared").exists()
    import sys

    monkeypatch.delattr(sys.modules["oppshape.config.toy"], "metric_names")
    with pytest.raises(ConfigError, match=r"trainer.stop_when='eval_distanse' .* valid choices: .*eval_distance"):
        execute(toy_config(stop_when="eval_distanse"), tmp_path / "undeclared")
    assert (tmp_path / "undeclared" / "metrics.csv").exists()


def test_compile_switch_is_logged_and_restored_after_the_run(tmp_path):
    from oppshape import hot_path

    execute(toy_config(compile=True), tmp_path / "compiled")
    assert not hot_path.is_enabled()  # the run's setting does not leak into the next run in this process
    assert all(row["compile_s"] != "" and float(row["compile_s"]) >= 0 for row in _rows(tmp_path / "compiled"))
    execute(toy_config(), tmp_path / "eager")
    assert "compile_s" not in _rows(tmp_path / "eager")[0]
