"""The dial / rial family end to end through the CLI's Python entry, and its config validation."""

import json

import pytest

from oppshape.cli import compose, run
from oppshape.config import ConfigError, validate
from oppshape.config.communication import DIALConfig, RIALConfig

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

QUICK = ["logger=quiet", "trainer.progress=false", "trainer.eval_every=2", "trainer.checkpoint_every=0",
         "algo.hidden_size=16", "algo.num_envs=4", "algo.eval_envs=8"]


@pytest.mark.parametrize("experiment", ["dial_switch_3", "rial_switch_4"])
def test_experiment_runs_and_writes_summary(tmp_path, experiment):
    run_dir = run([f"experiment={experiment}", "trainer.iterations=3", f"run_dir={tmp_path / 'run'}", *QUICK])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["iterations"] == 3
    assert "test_reward_normalized" in summary["final"]
    assert (run_dir / "plots" / "test_reward.png").exists()


@pytest.mark.parametrize(
    "override, message",
    [
        ("env.n_agents=1", "env.n_agents=1"),
        ("algo.dru=tanh", "valid choices: sigmoid, softmax"),
        ("algo.epsilon=2", "algo.epsilon=2"),
        ("algo.epsilon=1.5", "epsilon=1.5"),
        ("algo.target_update_every=0", "target_update_every=0"),
        ("algo.lr=0", "algo.lr=0"),
        ("algo.num_envs=0", "algo.num_envs=0"),
        ("algo.eval_envs=0", "algo.eval_envs=0"),
        ("env.communication=false", "needs env.communication=true"),
    ],
)
def test_bad_values_are_rejected_before_any_work(override, message):
    with pytest.raises(ConfigError, match=message):
        validate(compose(["experiment=dial_switch_3", override]))


def test_rial_refuses_the_riddle_without_its_channel():
    with pytest.raises(ConfigError, match="algo 'rial' learns the switch riddle's channel"):
        validate(compose(["experiment=rial_switch_3", "env.communication=false"]))


def test_message_sizes_and_batch_defaults() -> None:
    assert DIALConfig().message_size == 1 and DIALConfig(message_bits=2, dru="softmax").message_size == 4
    assert RIALConfig().message_size == 2
    assert RIALConfig().num_envs == 32 and DIALConfig().eval_envs == 256
