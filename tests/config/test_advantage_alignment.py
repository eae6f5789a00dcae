"""Advantage Alignment schema: bad beta, clip or lambda fail before any work, naming the valid range."""

import pytest
from omegaconf import OmegaConf

from oppshape.cli import compose
from oppshape.config import ConfigError, validate
from oppshape.config.advantage_alignment import AdvantageAlignmentConfig


@pytest.mark.parametrize("field,value,message", [
    ("beta", -0.5, "invalid value algo.beta=-0.5; expected a number >= 0"),
    ("clip_epsilon", 1.5, "invalid value algo.clip_epsilon=1.5; expected a ratio clip in \\(0, 1\\)"),
    ("lmbda", 1.2, "invalid value algo.lmbda=1.2; expected a GAE lambda in \\[0, 1\\]"),
    ("gamma", 0.0, "invalid value algo.gamma=0.0; expected a discount in \\(0, 1\\]"),
    ("actor", "lstm", "invalid algo.actor='lstm'; valid choices: gru, tabular"),
    ("name", "aaa", "invalid algo.name='aaa'; valid choices: aa, paa"),
    ("num_envs", 0, "invalid value algo.num_envs=0; expected an integer >= 1"),
])
def test_bad_settings_raise(field, value, message):
    with pytest.raises(ConfigError, match=message):
        AdvantageAlignmentConfig(**{field: value})


@pytest.mark.parametrize("override,message", [
    ("algo.beta=-1", "algo.beta=-1.0; expected a number >= 0"),
    ("algo.clip_epsilon=0", "algo.clip_epsilon=0.0; expected a ratio clip in \\(0, 1\\)"),
    ("algo.lmbda=2", "algo.lmbda=2.0; expected a GAE lambda in \\[0, 1\\]"),
])
def test_validate_names_the_bad_value(override, message):
    with pytest.raises(ConfigError, match=message):
        validate(compose(["experiment=aa_coin", override]))


def test_tabular_actor_needs_the_matrix_game():
    with pytest.raises(ConfigError, match="algo.actor=tabular needs env=iterated_matrix_game"):
        validate(compose(["experiment=aa_coin", "algo.actor=tabular"]))


@pytest.mark.parametrize("experiment,algo", [("aa_ipd", "aa"), ("aa_coin", "aa"), ("aa_coin_scaling", "paa")])
def test_shipped_experiments_validate(experiment, algo):
    run = validate(compose([f"experiment={experiment}"]))
    assert (run.algo.name, run.algo.proximal) == (algo, algo == "paa")


def test_paa_is_the_proximal_form():
    run = validate(compose(["experiment=aa_coin", "algo=paa"]))
    assert run.algo.proximal and run.algo.ppo_epochs == 4
    assert OmegaConf.to_container(compose(["experiment=aa_coin", "algo=paa"]).algo)["name"] == "paa"


@pytest.mark.parametrize("overrides", [["experiment=aa_coin"], ["experiment=aa_coin_scaling", "env.height=5"],
                                       ["experiment=aa_coin", "algo=paa"]])
def test_coin_game_experiments_use_the_measured_entropy_bonus(overrides):
    """The Coin Game rows of docs/RESULTS.md (issue #20's fix) are measured with 0.05; aa.yaml keeps 0.01."""
    assert validate(compose(overrides)).algo.entropy_coeff == 0.05
    assert compose(["algo=aa"]).algo.entropy_coeff == 0.01
