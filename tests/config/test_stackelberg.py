"""Stackelberg schemas: every bad value is named with what is valid; the trainer runs exactly the three phases."""

import pytest
from omegaconf import OmegaConf

from oppshape.cli import CONFIG_DIR, compose
from oppshape.config import ConfigError, validate
from oppshape.config.envs import StackelbergQueryEnvConfig
from oppshape.config.stackelberg import StackelbergConfig

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("stackelberg_*.yaml"))


@pytest.mark.parametrize("field,value,message", [
    ("leader", "sac", "invalid algo.leader='sac'; valid choices: pg, ppo, dqn"),
    ("num_seeds", 0, "invalid value algo.num_seeds=0; expected an integer >= 1"),
    ("leader_iterations", -1, "invalid value algo.leader_iterations=-1; expected an integer >= 0"),
    ("leader_lr", 0.0, "invalid value algo.leader_lr=0.0; expected a number > 0"),
    ("dqn_tau", 1.5, "invalid value algo.dqn_tau=1.5; expected a number in \\[0, 1\\]"),
])
def test_bad_settings_raise(field, value, message):
    with pytest.raises(ConfigError, match=message):
        StackelbergConfig(**{field: value})


def test_missing_follower_checkpoint_is_named():
    with pytest.raises(ConfigError, match="algo.follower_checkpoint='nowhere.pt'; expected the checkpoints/last.pt"):
        StackelbergConfig(follower_checkpoint="nowhere.pt")


@pytest.mark.parametrize("kwargs,message", [
    ({"games": ["tennis"]}, "invalid env.games\\[\\]='tennis'; valid choices: ipd, prisoners_dilemma"),
    ({"games": []}, "invalid value env.games=\\[\\]; expected a non-empty list"),
    ({"games": ["chicken", "chicken"]}, "expected each game once"),
    ({"memory": "long"}, "invalid env.memory='long'; valid choices: none, small, full"),
    ({"episode_length": 0}, "invalid value env.episode_length=0; expected an integer >= 1"),
])
def test_bad_env_config_raises(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        StackelbergQueryEnvConfig(**kwargs)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_iterations_cover_the_three_phases(experiment):
    cfg = compose([f"experiment={experiment}"])
    validate(cfg)
    algo = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(StackelbergConfig), cfg.algo))
    assert cfg.trainer.iterations == algo.total_iterations


def test_mismatched_iterations_fail_before_any_work():
    cfg = compose(["experiment=stackelberg_leader_memory_pg", "trainer.iterations=7"])
    with pytest.raises(ConfigError, match="trainer.iterations=7 must equal .* = 2550"):
        validate(cfg)
