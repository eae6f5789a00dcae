"""Run directories saved before the one-house redesign resume: their config.yaml migrates to today's names."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from oppshape.cli.migrate import migrate
from oppshape.config import ConfigError, validate

OLD = Path(__file__).parent / "data"  # config.yaml files written by commit d854ee6 (small runs of each family)


@pytest.mark.parametrize("name", ["coma_vmas", "mappo", "coma_switch", "loqa_coin", "dial", "dice"])
def test_an_old_run_config_validates_after_migration(name: str) -> None:
    old = OmegaConf.load(OLD / f"{name}.yaml")
    with pytest.raises(ConfigError):
        validate(old)  # today's schemas refuse the old names ...
    validate(migrate(old))  # ... and accept the migrated config


def test_renamed_and_moved_keys_keep_their_values() -> None:
    old = OmegaConf.load(OLD / "coma_vmas.yaml")
    new = migrate(old)
    assert new.algo.num_envs == old.env.num_envs and new.algo.eval_envs == old.env.eval_envs
    assert new.algo.lmbda == old.algo.td_lambda and new.algo.actor_hidden_size == old.algo.actor_hidden
    assert "reward_scale" not in new.algo and "start_curriculum_frames" not in new.env
    switch = migrate(OmegaConf.load(OLD / "coma_switch.yaml"))
    assert switch.env.name == "switch" and switch.env.communication is False
    dial = migrate(OmegaConf.load(OLD / "dial.yaml"))
    assert dial.algo.num_envs == 32 and dial.algo.eval_envs == 256 and "batch_size" not in dial.env
    mappo = migrate(OmegaConf.load(OLD / "mappo.yaml"))
    assert mappo.algo.clip_epsilon == 0.2  # PPO's own clip is no retired knob


def test_a_run_that_used_a_retired_knob_is_refused_naming_it() -> None:
    old = OmegaConf.load(OLD / "coma_vmas.yaml")
    old.algo.reward_scale = 100.0
    with pytest.raises(ConfigError, match=r"algo.reward_scale=100.0, a knob retired after commit d854ee6"):
        migrate(old)


def test_a_current_config_is_left_as_it_is() -> None:
    current = migrate(OmegaConf.load(OLD / "dice.yaml"))
    assert migrate(current) == current
