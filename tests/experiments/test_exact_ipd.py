"""The exact-IPD family: schemas reject bad values naming them, configs (the 30 Figure 3 cells included)
validate, ``build`` gives a working Experiment that resumes exactly, and the CLI runs it end to end."""

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from oppshape.cli import compose
from oppshape.config import ConfigError, LoggerConfig, RunConfig, TrainerConfig, check_section, validate
from oppshape.config import exact_ipd as schemas
from oppshape.config.envs import IpdExactEnvConfig
from oppshape.experiments import exact_ipd
from oppshape.experiments.registry import family_module

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_registry_serves_naive_lola_pola_from_this_family() -> None:
    for name in ("naive", "lola", "pola"):
        assert family_module(name) is exact_ipd
        assert name in schemas.ALGO_SCHEMAS


@pytest.mark.parametrize("name", ["naive", "lola", "pola"])
def test_shipped_algo_configs_validate(name: str) -> None:
    config = check_section(OmegaConf.load(CONFIGS / "algo" / f"{name}.yaml"), schemas.ALGO_SCHEMAS[name], "algo")
    assert config.name == name


def test_shipped_env_config_validates() -> None:
    env = check_section(OmegaConf.load(CONFIGS / "env" / "ipd_exact.yaml"), IpdExactEnvConfig, "env")
    assert (env.cf, env.gamma) == (1.33, 0.96)


@pytest.mark.parametrize(
    ("name", "values", "match"),
    [
        ("pola", {"parameterization": "lstm"}, "algo.parameterization='lstm'; valid choices: tabular, nn, preconditioned"),
        ("pola", {"precondition_state": "cc"}, "algo.precondition_state='cc'; valid choices: dd, cd"),
        ("pola", {"backend": "jax"}, "backend='jax'; valid choices: vectorized, higher"),
        ("pola", {"inner_optimizer": "adam"}, "needs backend='higher'"),
        ("pola", {"outer_beta": -0.1}, "outer_beta=-0.1"),
        ("pola", {"om_parameterization": "cnn"}, "algo.om_parameterization='cnn'"),
        ("lola", {"lookahead": "sos"}, "lookahead='sos'; valid choices: none, exact, taylor"),
        ("lola", {"inner_lr": 0.0}, "algo.inner_lr=0.0"),
        ("lola", {"om_lr": -1.0}, "om_lr=-1.0"),
        ("lola", {"lookahead": "taylor", "inner_steps": 2}, "taylor is one first-order step"),
        ("naive", {"num_seeds": 0}, "algo.num_seeds=0"),
        ("naive", {"dtype": "float16"}, "algo.dtype='float16'; valid choices: float32, float64"),
        ("naive", {"inner_lr": 1.0}, "unknown key.*algo.inner_lr"),
        ("naive", {"outer_lr": 0.0}, "invalid value algo.outer_lr=0.0; expected > 0"),
        ("pola", {"outer_max_iters": 0}, "algo.outer_max_iters=0"),
        ("pola", {"outer_threshold": 0.0}, "algo.outer_threshold=0.0"),
    ],
)
def test_bad_algo_values_raise_naming_key_and_choices(name: str, values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_section(OmegaConf.create({"name": name, **values}), schemas.ALGO_SCHEMAS[name], "algo")


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
        check_section(OmegaConf.create({"name": "ipd_exact", **values}), IpdExactEnvConfig, "env")


def test_build_gives_an_experiment_that_learns_evaluates_and_plots(tmp_path: Path) -> None:
    cfg = OmegaConf.create(
        {
            "algo": {"name": "lola", "num_seeds": 3, "inner_lr": 3.0, "outer_lr": 25.0},
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
    assert learner.evaluation.cooperation()[0].dtype == torch.float64


def test_precondition_state_reaches_policies_and_opponent_models() -> None:
    from oppshape.modules.memory_one import preconditioning_matrix

    cfg = OmegaConf.create(
        {
            "algo": {"name": "pola", "num_seeds": 2, "parameterization": "preconditioned", "precondition_state": "cd",
                     "opponent_model": True, "om_parameterization": "preconditioned", "outer_max_iters": 2},
            "env": {"name": "ipd_exact"},
        }
    )
    learner = build(cfg, torch.device("cpu")).learner.learner
    for module in (*learner.policies, *learner.opponent_models):
        torch.testing.assert_close(module.matrix, preconditioning_matrix("cd"))


def test_cli_runs_the_demo_experiment_end_to_end(tmp_path: Path) -> None:
    from oppshape.cli import run

    run_dir = run(["experiment=demo", "algo.num_seeds=2", "algo.outer_max_iters=20", "trainer.iterations=1",
                   f"run_dir={tmp_path / 'run'}"])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["algo"] == "pola" and summary["iterations"] == 1
    assert 0.0 <= summary["final"]["tft_fraction"] <= 1.0
    assert (run_dir / "plots" / "p_coop.png").is_file()


def test_resume_restores_policies_and_the_tft_record_in_the_old_checkpoint_layout() -> None:
    cfg = OmegaConf.create({"algo": {"name": "lola", "num_seeds": 4, "inner_lr": 3.0, "outer_lr": 25.0},
                            "env": {"name": "ipd_exact"}})
    torch.manual_seed(1)
    learner = build(cfg, torch.device("cpu")).learner
    for _ in range(5):
        learner.update(None)
    saved = copy.deepcopy(learner.state_dict())
    assert set(saved) == {"policies", "opponent_models", "tft_found", "updates"}  # the layout before the split
    assert bool(saved["tft_found"].any())
    expected = learner.update(None)
    resumed = build(cfg, torch.device("cpu")).learner
    resumed.load_state_dict(saved)
    assert resumed.update(None) == expected


FIG3_CELLS = sorted(path.stem for path in (CONFIGS / "experiment").glob("pola_fig3_*.yaml"))


def test_figure_3_has_its_30_cells_with_the_readme_settings() -> None:
    assert len(FIG3_CELLS) == 30
    runs = {name: validate(compose([f"experiment={name}"])) for name in FIG3_CELLS}
    cells = {(run.algo.name, run.algo.parameterization, run.env.cf): run for run in runs.values()}
    assert len(cells) == 30 and {run.algo.num_seeds for run in runs.values()} == {20}
    lola_nn = cells[("lola", "nn", 1.4)]
    assert (lola_nn.algo.inner_lr, lola_nn.algo.outer_lr, lola_nn.trainer.iterations) == (0.3, 0.1, 100)
    pola_nn = cells[("pola", "nn", 1.25)]
    assert (pola_nn.algo.inner_lr, pola_nn.algo.outer_lr, pola_nn.algo.outer_beta, pola_nn.trainer.iterations) == (
        0.25, 0.03, 0.13, 2)
    pola_pre = cells[("pola", "preconditioned", 1.1)]
    assert (pola_pre.algo.inner_lr, pola_pre.algo.outer_lr, pola_pre.algo.outer_beta, pola_pre.trainer.iterations) == (
        0.4, 0.05, 0.5, 10)
    assert cells[("lola", "preconditioned", 1.6)].algo.outer_lr == 25.0


def test_cd_preconditioning_config_is_the_cf125_cell_with_the_earlier_matrix() -> None:
    cd = validate(compose(["experiment=pola_precond_cd_cf125"]))
    cell = validate(compose(["experiment=pola_fig3_pola_preconditioned_cf125"]))
    assert (cd.algo.precondition_state, cell.algo.precondition_state) == ("cd", "dd")
    assert dataclasses.replace(cd.algo, precondition_state="dd") == cell.algo
    assert (cd.env, cd.trainer) == (cell.env, cell.trainer)


def build(cfg, device):
    """The family's ``build`` on an algo and env group, validated as the CLI does."""
    algo = check_section(cfg.algo, schemas.ALGO_SCHEMAS[cfg.algo.name], "algo")
    env = check_section(cfg.env, IpdExactEnvConfig, "env")
    return exact_ipd.build(RunConfig("exact", 0, "cpu", algo, env, TrainerConfig(), LoggerConfig()), device)
