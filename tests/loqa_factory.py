"""Tiny LOQA experiments shared by the family's tests (experiments, eval): built as the CLI builds them."""

from __future__ import annotations

from omegaconf import OmegaConf

from oppshape.config import LoggerConfig, RunConfig, TrainerConfig, check_section
from oppshape.config.loqa import ENV_SCHEMAS, LOQAConfig, check
from oppshape.experiments.base import Experiment
from oppshape.experiments.loqa import build as build_run

TINY_GRU = {"actor_hidden_size": 8, "qvalue_hidden_size": 8, "num_envs": 4}
TINY_IPD = {"actor": "tabular", "qvalue": "mlp", "qvalue_hidden_size": 4, "num_envs": 4, "num_seeds": 2,
            "snapshot_capacity": 0, "epsilon": 0.2}


def build(env: dict, **algo) -> Experiment:
    """The family's ``build`` on an algo and env group, validated and cross-checked as the CLI does."""
    cfg = OmegaConf.create({"algo": {"name": "loqa", **algo}, "env": env})
    run_config = RunConfig("loqa", 0, "cpu", check_section(cfg.algo, LOQAConfig, "algo"),
                           check_section(cfg.env, ENV_SCHEMAS[cfg.env.name], "env"), TrainerConfig(), LoggerConfig())
    check(run_config)
    return build_run(run_config, "cpu")
