"""Greedy test episodes of RIAL / DIAL (hard channel, running statistics) and the run's test-reward plot."""

from oppshape.config.communication import DIALConfig
from oppshape.envs.switch_game import SwitchGame
from oppshape.eval.communication import greedy_test, plot_test_reward
from oppshape.learners.communication import CommunicationLearner
from oppshape.modules.comm_net import CommNet
from oppshape.objectives.dial import DIALLoss


def make_dial(n: int = 3, batch: int = 8) -> tuple[CommunicationLearner, SwitchGame]:
    net = CommNet(n, protocol="dial", message_size=1, hidden_size=16, max_steps=4 * n - 6)
    learner = CommunicationLearner(DIALLoss(net), SwitchGame(n, num_envs=batch), DIALConfig())
    return learner, SwitchGame(n, num_envs=2 * batch)


def test_greedy_test_metrics_and_modes_restored() -> None:
    learner, test_env = make_dial()
    learner.update(None)
    results = greedy_test(learner, test_env)
    assert set(results) == {"test_reward", "test_oracle_reward", "test_reward_normalized", "test_episode_days"}
    assert results["test_reward_normalized"] <= 1.0
    assert learner.network.training and learner.loss.dru.training


def test_greedy_test_uses_hard_channel_and_running_statistics() -> None:
    learner, test_env = make_dial()
    learner.update(None)
    seen = {}

    def spy(module, args, output):
        seen["training"] = module.training
        seen["network_training"] = learner.network.training
        seen["messages"] = output

    handle = learner.loss.dru.register_forward_hook(spy)
    greedy_test(learner, test_env)
    handle.remove()
    assert seen["training"] is False and seen["network_training"] is False
    assert set(seen["messages"].unique().tolist()) <= {0.0, 1.0}


def test_plot_test_reward_draws_the_evaluated_rows(tmp_path) -> None:
    history = [{"iteration": 1.0}, {"iteration": 2.0, "test_reward_normalized": 0.5}]
    plot_test_reward(history, tmp_path / "plots")
    assert (tmp_path / "plots" / "test_reward.png").exists()
    plot_test_reward([{"iteration": 1.0}], tmp_path / "empty")
    assert not (tmp_path / "empty").exists()
