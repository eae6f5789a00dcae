"""The DiCE family end to end: configs validate, each algorithm builds on each env, updates, evaluates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from oppshape.cli import compose, execute, run
from oppshape.config import ConfigError, validate
from oppshape.experiments.dice import build as build_run


def build(cfg, device):
    """The family's ``build`` on a composed config, validated as the CLI does."""
    return build_run(validate(cfg), device)

EXPERIMENTS = ("pola_dice_ipd", "pola_om_ipd", "lola_dice_ipd", "pola_dice_coin", "pola_om_coin", "lola_dice_coin")
TINY = ["algo.num_envs=8", "algo.eval_envs=8", "algo.hidden_size=8", "env.episode_length=4"]


def tiny(experiment: str, *extra: str):
    overrides = [f"experiment={experiment}", *TINY, *extra]
    if not experiment.startswith("lola"):
        overrides += ["algo.outer_steps=1", "algo.inner_steps=1"]
    if experiment.startswith("pola_om"):
        overrides += ["algo.om_batches=1"]
    cfg = compose(overrides)
    validate(cfg)
    return cfg


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_paper_experiment_builds_updates_and_evaluates(experiment: str) -> None:
    built = build(tiny(experiment), torch.device("cpu"))
    metrics = built.learner.update(None)
    assert all(torch.isfinite(torch.tensor(v)) for k, v in metrics.items() if k.startswith("loss"))
    evaluation = built.evaluate()
    assert {"score_mean", "score_vs_alld", "score_vs_allc"} <= set(evaluation)
    assert ("own_coin_rate" in evaluation) == experiment.endswith("coin")


def test_small_variants_validate() -> None:
    for experiment in EXPERIMENTS:
        validate(compose([f"experiment={experiment}_small"]))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_ipd_experiments_play_the_contribution_ipd_and_the_schema_reaches_the_learner(experiment: str) -> None:
    run = validate(compose([f"experiment={experiment}", *TINY]))
    if experiment.endswith("ipd"):
        assert (run.env.name, run.env.payoff, run.env.cf) == ("iterated_matrix_game", "ipd_cf", 1.33)
    else:
        assert (run.env.name, run.env.egocentric) == ("coin_game", False)
    built = build_run(run, torch.device("cpu"))
    assert built.learner.config is run.algo
    assert built.learner.game.batch_size == (8,) and built.learner.game.episode_length == 4


@pytest.mark.parametrize("override,key", [("algo.inner_steps=0", "algo.inner_steps"),
                                          ("env.cf=2.5", "env.cf"), ("algo.gamma=1.0", "algo.gamma"),
                                          ("algo.om_batches=0", "algo.om_batches"),
                                          ("algo.lmbda=1.5", "algo.lmbda"), ("algo.eval_envs=0", "algo.eval_envs"),
                                          ("env.height=1", "env.height")])
def test_bad_values_fail_before_any_work_naming_the_key(override: str, key: str) -> None:
    experiment = "pola_om_coin" if key.startswith(("env.height", "algo.om")) else "pola_om_ipd"
    with pytest.raises(ConfigError, match=key):
        validate(compose([f"experiment={experiment}", override]))


def test_end_to_end_run_writes_metrics_summary_and_plots(tmp_path: Path) -> None:
    cfg = tiny("pola_dice_coin", "trainer.iterations=2", "trainer.progress=false", "logger.wandb=disabled")
    summary = execute(cfg, tmp_path)
    assert summary["iterations"] == 2 and "own_coin_rate" in summary["final"]
    assert (tmp_path / "plots" / "dice_training.png").is_file()
    assert (tmp_path / "metrics.csv").is_file()


def test_resume_continues_exactly(tmp_path: Path) -> None:
    quiet = ("trainer.progress=false", "logger.wandb=disabled", "trainer.checkpoint_every=1")
    straight = execute(tiny("pola_om_ipd", "trainer.iterations=2", *quiet), tmp_path / "straight")
    execute(tiny("pola_om_ipd", "trainer.iterations=1", *quiet), tmp_path / "split")
    resumed = json.loads((run([f"resume={tmp_path / 'split'}", "trainer.iterations=2"]) / "summary.json").read_text())
    for key in ("score_mean", "loss_value_1", "loss_model_policy_2", "score_vs_alld"):
        assert resumed["final"][key] == pytest.approx(straight["final"][key], rel=1e-6), key
