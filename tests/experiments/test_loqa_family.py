"""The LOQA family: schemas, builds on both envs, evaluation, thresholds, and a CLI run end to end."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from oppshape.cli import compose, run
from oppshape.config import ConfigError, LoggerConfig, RunConfig, TrainerConfig, check_section, validate
from oppshape.experiments.loqa import ENV_SCHEMAS, LoqaCoinEnvConfig, LoqaIpdEnvConfig, LOQAConfig, summarize
from oppshape.experiments.loqa import build as build_run

TINY_GRU = {"actor_hidden_size": 8, "qvalue_hidden_size": 8, "batch_size": 4}
TINY_IPD = {"actor": "tabular", "qvalue": "mlp", "qvalue_hidden_size": 4, "batch_size": 4, "num_seeds": 2,
            "snapshot_capacity": 0, "epsilon": 0.2}


def build(cfg, device):
    """The family's ``build`` on an algo and env group, validated as the CLI does."""
    algo = check_section(cfg.algo, LOQAConfig, "algo")
    env = check_section(cfg.env, ENV_SCHEMAS[cfg.env.name], "env")
    return build_run(RunConfig("loqa", 0, "cpu", algo, env, TrainerConfig(), LoggerConfig()), device)


def config(env: dict, **algo):
    return OmegaConf.create({"algo": {"name": "loqa", **algo}, "env": env})


def test_ipd_build_collects_trains_and_evaluates_per_seed() -> None:
    experiment = build(config({"name": "loqa_ipd", "episode_length": 5}, **TINY_IPD), "cpu")
    metrics = experiment.learner.update(experiment.collect())
    assert metrics["loss_qvalue"] >= 0
    evaluation = experiment.evaluate()
    for key in ("eval_reward_vs_self", "eval_reward_vs_alld", "eval_reward_vs_allc", "eval_reward_vs_self_seed1",
                "p_coop_agent1_CD", "eval_retaliating_fraction", "eval_reciprocal_fraction"):
        assert key in evaluation
    assert -3.0 <= evaluation["eval_reward_vs_alld"] <= -2.0  # the agent gets -3 (C) or -2 (D) against ALLD
    assert -1.0 <= evaluation["eval_reward_vs_allc"] <= 0.0


def test_coin_build_evaluates_thresholds_and_own_coin_rate() -> None:
    experiment = build(config({"name": "loqa_coin", "height": 3, "width": 3, "episode_length": 6}, **TINY_GRU), "cpu")
    experiment.learner.update(experiment.collect())
    evaluation = experiment.evaluate()
    assert 0.0 <= evaluation["eval_own_coin_rate"] <= 1.0
    assert evaluation["eval_normalized_vs_alld"] == pytest.approx(2 * evaluation["eval_reward_vs_alld"])
    assert {evaluation[f"eval_{level}"] for level in ("weak", "medium", "strong")} <= {0.0, 1.0}


def test_tabular_actor_on_the_coin_game_is_rejected() -> None:
    with pytest.raises(ValueError, match="algo.actor='tabular'"):
        build(config({"name": "loqa_coin"}, actor="tabular"), "cpu")


@pytest.mark.parametrize(
    "schema,kwargs,match",
    [
        (LOQAConfig, {"actor": "mlp"}, "algo.actor='mlp'; expected one of gru, tabular"),
        (LOQAConfig, {"return_estimator": "dice"}, "one of loaded_dice, n_step"),
        (LOQAConfig, {"epsilon": 1.5}, "algo.epsilon=1.5"),
        (LOQAConfig, {"n_step": 1}, "algo.n_step=1"),
        (LoqaIpdEnvConfig, {"payoff": "ipd_cf"}, "env.payoff='ipd_cf'"),
        (LoqaCoinEnvConfig, {"width": 1}, "env.width=1"),
    ],
)
def test_schemas_reject_bad_values_naming_them(schema: type, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        schema(**kwargs)


def test_summary_reports_the_wall_clock_of_the_first_eval_past_each_threshold() -> None:
    def row(iteration: int, seconds: float, weak: float, medium: float) -> dict:
        return {"iteration": iteration, "wall_time_s": seconds, "eval_reward_vs_self": 0.1,
                "eval_weak": weak, "eval_medium": medium, "eval_strong": 0.0}

    history = [{"iteration": 1, "loss_actor": 0.0}, row(10, 5.0, 0, 0), row(20, 9.0, 1, 0), row(30, 14.0, 1, 1)]
    summary = summarize(history)
    assert (summary["seconds_to_weak"], summary["iteration_to_weak"]) == (9.0, 20)
    assert (summary["seconds_to_medium"], summary["iteration_to_medium"]) == (14.0, 30)
    assert summary["seconds_to_strong"] is None


@pytest.mark.parametrize("experiment", ["loqa_ipd", "loqa_coin", "loqa_coin_scaling"])
def test_shipped_experiments_validate(experiment: str) -> None:
    validate(compose([f"experiment={experiment}"]))


def test_unknown_algo_key_fails_at_start() -> None:
    with pytest.raises(ConfigError, match="algo.batchsize"):
        validate(compose(["experiment=loqa_coin", "+algo.batchsize=3"]))


def test_cli_run_end_to_end(tmp_path) -> None:
    run_dir = run([
        "experiment=loqa_coin_scaling", "env.height=4", "env.width=4", "env.episode_length=5",
        "algo.batch_size=4", "algo.actor_hidden_size=8", "algo.qvalue_hidden_size=8",
        "trainer.iterations=3", "trainer.eval_every=2", "logger=quiet", "trainer.progress=false",
        f"run_dir={tmp_path / 'run'}",
    ])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["name"] == "loqa_coin_4x4" and summary["iterations"] == 3
    assert "seconds_to_weak" in summary and "eval_own_coin_rate" in summary["final_eval"]
    assert (run_dir / "plots" / "loqa.png").exists()
