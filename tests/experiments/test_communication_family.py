"""The dial / rial family end to end through the CLI's Python entry, and its config validation."""

import json

import pytest
import torch

from oppshape.cli import compose, run
from oppshape.config import ConfigError, validate
from oppshape.config.communication import DIALConfig, RIALConfig
from oppshape.config.envs import SwitchEnvConfig
from oppshape.experiments.communication import make_learner

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


def test_every_knob_reaches_the_learner() -> None:
    algo = DIALConfig(message_bits=2, dru="softmax", sigma=0.5, hidden_size=8, rnn_layers=1, batch_norm=False,
                      gamma=0.9, epsilon=0.2, lr=0.01, momentum=0.5, max_grad_norm=3.0, target_update_every=7,
                      num_envs=5)
    learner = make_learner(algo, SwitchEnvConfig(n_agents=4), torch.device("cpu"))
    network = learner.network
    assert (network.message_size, network.hidden_size, network.rnn.num_layers) == (4, 8, 1)
    assert network.message_norm is None and network.head_norm is None
    assert (learner.dru.kind, learner.dru.sigma, learner.loss.gamma) == ("softmax", 0.5, 0.9)
    assert (learner.epsilon, learner.max_grad_norm) == (0.2, 3.0)
    group = learner.optimizer.param_groups[0]
    assert (group["lr"], group["momentum"]) == (0.01, 0.5)
    assert learner.target_updater.value_network_update_interval == 6  # a copy after every 7 epochs
    assert (learner.env.batch_size[0], learner.env.n_agents, learner.env.message_size) == (5, 4, 4)
    rial = make_learner(RIALConfig(message_bits=2, batch_norm=True), SwitchEnvConfig(), torch.device("cpu"))
    assert rial.dru is None and rial.network.protocol == "rial" and rial.env.message_size == 4
