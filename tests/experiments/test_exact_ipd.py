"""The exact-IPD family: schemas reject bad values naming them, configs validate, ``build`` gives a
working Experiment, and the CLI runs it end to end."""

import json
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from oppshape.config import ConfigError, LoggerConfig, RunConfig, TrainerConfig, check_section, validate
from oppshape.experiments import exact_ipd
from oppshape.experiments.registry import family_module

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_registry_serves_naive_lola_pola_from_this_family() -> None:
    for name in ("naive", "lola", "pola"):
        assert family_module(name) is exact_ipd
        assert name in exact_ipd.ALGO_SCHEMAS


@pytest.mark.parametrize("name", ["naive", "lola", "pola"])
def test_shipped_algo_configs_validate(name: str) -> None:
    config = check_section(OmegaConf.load(CONFIGS / "algo" / f"{name}.yaml"), exact_ipd.ALGO_SCHEMAS[name], "algo")
    assert config.name == name


def test_shipped_env_config_validates() -> None:
    env = check_section(OmegaConf.load(CONFIGS / "env" / "ipd_exact.yaml"), exact_ipd.IpdExactEnvConfig, "env")
    assert (env.cf, env.gamma) == (1.33, 0.96)


@pytest.mark.parametrize(
    ("name", "values", "match"),
    [
        ("pola", {"parameterization": "lstm"}, "algo.parameterization='lstm'; valid choices: tabular, nn, preconditioned"),
        ("pola", {"backend": "jax"}, "backend='jax'; valid choices: vectorized, higher"),
        ("pola", {"inner_optimizer": "adam"}, "needs backend='higher'"),
        ("pola", {"outer_beta": -0.1}, "outer_beta=-0.1"),
        ("pola", {"om_parameterization": "cnn"}, "algo.om_parameterization='cnn'"),
        ("lola", {"lookahead": "sos"}, "lookahead='sos'; valid choices: none, exact, taylor"),
        ("lola", {"lr_in": 0.0}, "lr_in=0.0"),
        ("lola", {"om_lr": -1.0}, "lr=-1.0"),
        ("naive", {"num_seeds": 0}, "algo.num_seeds=0"),
        ("naive", {"dtype": "float16"}, "algo.dtype='float16'; valid choices: float32, float64"),
        ("naive", {"lr_in": 1.0}, "unknown key.*algo.lr_in"),
    ],
)
def test_bad_algo_values_raise_naming_key_and_choices(name: str, values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_section(OmegaConf.create({"name": name, **values}), exact_ipd.ALGO_SCHEMAS[name], "algo")


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"payoff": "snowdrift"}, "env.payoff='snowdrift'; valid choices: ipd_cf, ipd"),
        ({"cf": 2.0}, "env.cf=2.0"),
        ({"gamma": 1.0}, "env.gamma=1.0"),
    ],
)
def test_bad_env_values_raise(values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_section(OmegaConf.create({"name": "ipd_exact", **values}), exact_ipd.IpdExactEnvConfig, "env")


def test_build_gives_an_experiment_that_learns_evaluates_and_plots(tmp_path: Path) -> None:
    cfg = OmegaConf.create(
        {
            "algo": {"name": "lola", "num_seeds": 3, "lr_in": 3.0, "lr_out": 25.0},
            "env": {"name": "ipd_exact", "payoff": "ipd_cf", "cf": 1.33, "gamma": 0.96},
        }
    )
    experiment = build(cfg, torch.device("cpu"))
    history = []
    for iteration in range(1, 4):
        row = {"iteration": float(iteration), **experiment.learner.update(None), **experiment.evaluate()}
        history.append(row)
    assert all(key.startswith(("loss", "return", "tft", "outer")) for key in experiment.learner.update(None))
    assert {"p_coop_agent1_CD", "p_coop_agent2_DD_std", "tft_fraction"} <= set(history[-1])
    experiment.plot(history, tmp_path)
    assert (tmp_path / "p_coop.png").stat().st_size > 0


def test_build_with_opponent_models_and_float64() -> None:
    cfg = OmegaConf.create(
        {
            "algo": {"name": "pola", "num_seeds": 2, "opponent_model": True, "om_lr": 1.0,
                     "om_threshold": 1e-4, "outer_max_iters": 3, "dtype": "float64"},
            "env": {"name": "ipd_exact", "payoff": "ipd", "gamma": 0.9},
        }
    )
    learner = build(cfg, torch.device("cpu")).learner
    metrics = learner.update(None)
    assert metrics["om_kl_agent1"] < 1e-4
    assert learner.cooperation()[0].dtype == torch.float64


def test_cli_runs_the_demo_experiment_end_to_end(tmp_path: Path) -> None:
    from oppshape.cli import run

    run_dir = run(["experiment=demo", "algo.num_seeds=2", "algo.outer_max_iters=20", "trainer.iterations=1",
                   f"run_dir={tmp_path / 'run'}"])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["algo"] == "pola" and summary["iterations"] == 1
    assert 0.0 <= summary["final"]["tft_fraction"] <= 1.0
    assert (run_dir / "plots" / "p_coop.png").is_file()


def build(cfg, device):
    """The family's ``build`` on an algo and env group, validated as the CLI does."""
    algo = check_section(cfg.algo, exact_ipd.ALGO_SCHEMAS[cfg.algo.name], "algo")
    env = check_section(cfg.env, exact_ipd.IpdExactEnvConfig, "env")
    return exact_ipd.build(RunConfig("exact", 0, "cpu", algo, env, TrainerConfig(), LoggerConfig()), device)
