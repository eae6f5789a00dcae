"""CommunicationLearner: exploration, rollout replay, target-network period, eval modes, resume."""

import io

import pytest
import torch

from oppshape.envs.switch_game import TELL, SwitchGame
from oppshape.learners.communication import CommunicationLearner, epsilon_greedy
from oppshape.modules.comm_net import CommNet
from oppshape.objectives.dial import DIALLoss
from oppshape.objectives.rial import RIALLoss


def make_learner(protocol: str = "dial", n: int = 3, batch: int = 8, **kwargs) -> CommunicationLearner:
    message_size = 1 if protocol == "dial" else 2
    net = CommNet(n, protocol=protocol, message_size=message_size, hidden_size=16, max_steps=4 * n - 6)
    loss = DIALLoss(net) if protocol == "dial" else RIALLoss(net)
    env = SwitchGame(n, num_envs=batch, message_size=message_size)
    test_env = SwitchGame(n, num_envs=2 * batch, message_size=message_size)
    return CommunicationLearner(loss, env, test_env, **kwargs)


def test_epsilon_greedy_respects_the_mask() -> None:
    values = torch.tensor([[5.0, 1.0, 0.0]]).expand(30000, 3)
    mask = torch.tensor([[False, True, True]]).expand(30000, 3)
    assert (epsilon_greedy(values, mask, 0.0) == 1).all()
    explored = epsilon_greedy(values, mask, 1.0)
    assert (explored != 0).all()
    assert (explored == 2).float().mean().item() == pytest.approx(0.5, abs=0.02)
    mixed = epsilon_greedy(values, mask, 0.1)
    assert (mixed == 2).float().mean().item() == pytest.approx(0.05, abs=0.01)


@pytest.mark.parametrize("protocol", ["dial", "rial"])
def test_loss_on_recorded_values_equals_loss_on_replay(protocol: str) -> None:
    learner = make_learner(protocol, epsilon=0.0)
    trajectory = learner.rollout(learner.env, explore=True)
    recorded = trajectory["agents", "action_value"]
    assert recorded.requires_grad
    greedy = recorded.masked_fill(~trajectory["agents", "action_mask"], float("-inf")).argmax(dim=-1)
    assert torch.equal(greedy, trajectory["agents", "action"])
    from_rollout = learner.loss(trajectory)
    replayed = learner.loss(trajectory.exclude(("agents", "action_value"), ("agents", "message_value")))
    for key in from_rollout.keys():
        assert torch.allclose(from_rollout[key], replayed[key], atol=1e-6), key


def test_rial_rollout_sends_one_hot_from_the_room_only() -> None:
    learner = make_learner("rial")
    trajectory = learner.rollout(learner.env, explore=True)
    message = trajectory["agents", "message"]
    in_room = trajectory["agents", "action_mask"][..., TELL]
    assert torch.equal(message.sum(dim=-1), in_room.float())
    assert set(message.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("protocol", ["dial", "rial"])
def test_target_network_copied_every_period(protocol: str) -> None:
    learner = make_learner(protocol, target_update_every=3)
    online = learner.loss.value_network_params
    target = learner.loss.target_value_network_params
    synced = []
    for _ in range(7):
        learner.update(None)
        weight = ("rnn", "weight_hh_l0")
        synced.append(torch.equal(online[weight].data, target[weight]))
    assert synced == [False, False, True, False, False, True, False]


def test_update_metrics_and_eval_modes() -> None:
    learner = make_learner("dial")
    metrics = learner.update(None)
    assert {"loss_action", "train_reward_normalized", "grad_norm"} <= set(metrics)
    assert all(isinstance(v, float) for v in metrics.values())
    results = learner.evaluate()
    assert set(results) == {"test_reward", "test_oracle_reward", "test_reward_normalized", "test_episode_days"}
    assert results["test_reward_normalized"] <= 1.0
    assert learner.network.training and learner.loss.dru.training


def test_evaluate_uses_hard_channel_and_running_statistics() -> None:
    learner = make_learner("dial")
    learner.update(None)
    seen = {}

    def spy(module, args, output):
        seen["training"] = module.training
        seen["messages"] = output

    handle = learner.loss.dru.register_forward_hook(spy)
    learner.evaluate()
    handle.remove()
    assert seen["training"] is False
    assert set(seen["messages"].unique().tolist()) <= {0.0, 1.0}


def test_state_dict_round_trip_resumes_exactly() -> None:
    first = make_learner("rial")
    first.update(None)
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    buffer.seek(0)
    second = make_learner("rial")
    second.load_state_dict(torch.load(buffer, weights_only=True))
    torch.manual_seed(7)
    a = first.update(None)
    torch.manual_seed(7)
    b = second.update(None)
    assert a == b and second.epochs == 2


def test_rejects_bad_hyperparameters() -> None:
    with pytest.raises(ValueError, match="epsilon=1.5"):
        make_learner(epsilon=1.5)
    with pytest.raises(ValueError, match="target_update_every=0"):
        make_learner(target_update_every=0)
