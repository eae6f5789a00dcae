"""CommunicationLearner: target-network period, update metrics, resume."""

import io

import pytest
import torch

from oppshape.config.communication import DIALConfig, RIALConfig
from oppshape.envs.switch_game import SwitchGame
from oppshape.learners.communication import CommunicationLearner
from oppshape.modules.comm_net import CommNet
from oppshape.objectives.dial import DIALLoss
from oppshape.objectives.rial import RIALLoss


def make_learner(protocol: str = "dial", n: int = 3, batch: int = 8, **config) -> CommunicationLearner:
    message_size = 1 if protocol == "dial" else 2
    net = CommNet(n, protocol=protocol, message_size=message_size, hidden_size=16, max_steps=4 * n - 6)
    loss = DIALLoss(net) if protocol == "dial" else RIALLoss(net)
    schema = DIALConfig(**config) if protocol == "dial" else RIALConfig(**config)
    return CommunicationLearner(loss, SwitchGame(n, num_envs=batch, message_size=message_size), schema)


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


def test_update_metrics() -> None:
    learner = make_learner("dial")
    metrics = learner.update(None)
    assert {"loss_action", "train_reward_normalized", "grad_norm"} <= set(metrics)
    assert all(isinstance(v, float) for v in metrics.values())
    assert learner.network.training and learner.loss.dru.training


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
