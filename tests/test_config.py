import dataclasses
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from toy_family import install, toy_config

from oppshape.config import ConfigError, TrainerConfig, validate


@pytest.fixture(autouse=True)
def _toy(monkeypatch):
    install(monkeypatch)


@pytest.mark.parametrize(
    "path,value,message",
    [
        ("trainer.iterations", -5, r"trainer.iterations=-5; expected an integer >= 1"),
        ("trainer.iteratons", 5, r"unknown key\(s\) trainer.iteratons; valid keys: iterations, eval_every"),
        ("logger.wandb", "cloud", r"logger.wandb='cloud'; expected one of offline, online, disabled"),
        ("algo.lr", -1.0, r"algo.lr=-1.0 must be > 0"),
        ("algo.lr", "fast", r"invalid value for algo.lr"),
        ("algo.name", "dqn", r"unknown algo.name 'dqn'; valid choices: .*coma"),
        ("env.name", "cartpole", r"env.name='cartpole' is not valid for algo 'toy'; valid choices: toy_env"),
        ("env.nois", 1, r"unknown key\(s\) env.nois; valid keys: name, noise"),
        ("device", "gpu", r"device='gpu'; expected auto, cpu, cuda or cuda:N"),
        ("seed", -1, r"seed=-1; expected an integer >= 0"),
        ("trainer.max_seconds", -1.0, r"trainer.max_seconds=-1.0; expected a number of seconds >= 0"),
    ],
)
def test_bad_values_are_named_with_valid_choices(path, value, message):
    cfg = toy_config()
    section, _, key = path.rpartition(".")
    (cfg[section] if section else cfg)[key] = value
    with pytest.raises(ConfigError, match=message):
        validate(cfg)


def test_valid_config_passes():
    validate(toy_config())


def test_trainer_yaml_lists_every_trainer_field():
    """A field missing from configs/trainer/default.yaml cannot be overridden on the command line."""
    yaml = OmegaConf.load(Path(__file__).resolve().parents[1] / "configs" / "trainer" / "default.yaml")
    assert set(yaml.keys()) == {field.name for field in dataclasses.fields(TrainerConfig)}
