"""LOQA's schema, its env constraints (check) and the shipped experiments, validated as the CLI does."""

from __future__ import annotations

import pytest

from oppshape.cli import compose
from oppshape.config import ConfigError, validate
from oppshape.config.envs import CoinGameEnvConfig
from oppshape.config.loqa import RETURN_ESTIMATORS, LOQAConfig
from oppshape.objectives import loqa as loqa_objective


@pytest.mark.parametrize(
    "schema,kwargs,match",
    [
        (LOQAConfig, {"actor": "mlp"}, "algo.actor='mlp'; valid choices: gru, tabular"),
        (LOQAConfig, {"return_estimator": "dice"}, "valid choices: loaded_dice, n_step"),
        (LOQAConfig, {"epsilon": 1.5}, "algo.epsilon=1.5"),
        (LOQAConfig, {"n_step": 1}, "algo.n_step=1"),
        (LOQAConfig, {"lmbda": -0.1}, "algo.lmbda=-0.1"),
        (LOQAConfig, {"num_envs": 0}, "algo.num_envs=0"),
        (CoinGameEnvConfig, {"width": 1}, "env.width=1"),
    ],
)
def test_schemas_reject_bad_values_naming_them(schema: type, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        schema(**kwargs)


def test_return_estimators_are_the_losss_choices() -> None:
    assert RETURN_ESTIMATORS == loqa_objective.RETURN_ESTIMATORS


@pytest.mark.parametrize(
    "overrides,match",
    [
        (["experiment=loqa_coin", "algo.actor=tabular"], "algo.actor='tabular'"),
        (["experiment=loqa_coin", "env.egocentric=false"], "env.egocentric=False"),
        (["experiment=loqa_coin", "env.episode_length=1"], "env.episode_length=1"),
        (["experiment=loqa_ipd", "env.payoff=ipd_cf", "env.cf=1.33"], "env.payoff='ipd_cf'"),
        (["experiment=loqa_ipd", "env.episode_length=1"], "env.episode_length=1"),
    ],
)
def test_env_constraints_fail_at_start(overrides: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        validate(compose(overrides))


@pytest.mark.parametrize("experiment", ["loqa_ipd", "loqa_coin", "loqa_coin_scaling"])
def test_shipped_experiments_validate(experiment: str) -> None:
    validate(compose([f"experiment={experiment}"]))


def test_scaling_board_is_square_unless_the_width_is_given() -> None:
    assert (validate(compose(["experiment=loqa_coin_scaling", "env.height=5"])).env.width,
            validate(compose(["experiment=loqa_coin_scaling", "env.height=5", "env.width=4"])).env.width) == (5, 4)


def test_scaling_uses_the_authors_differentiated_advantage_and_loqa_coin_does_not() -> None:
    """The scaling table (#23) is measured with it; loqa_coin's documented rows without it."""
    scaling, coin = (validate(compose([f"experiment={name}"])) for name in ("loqa_coin_scaling", "loqa_coin"))
    assert (scaling.algo.advantage_grad, coin.algo.advantage_grad) == (True, False)
    assert scaling.trainer.iterations >= 3000  # 7x7 reaches strong at ~2600 iterations


def test_unknown_algo_key_fails_at_start() -> None:
    with pytest.raises(ConfigError, match="algo.batchsize"):
        validate(compose(["experiment=loqa_coin", "+algo.batchsize=3"]))
