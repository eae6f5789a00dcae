"""Switch-riddle rollouts of the C-Net: exploration, RIAL's one-hot messages, and replay by the losses."""

import pytest
import torch

from oppshape.envs.switch_game import TELL, SwitchGame
from oppshape.modules.comm_net import CommNet
from oppshape.objectives.dial import DIALLoss
from oppshape.objectives.rial import RIALLoss
from oppshape.rollouts.communication import epsilon_greedy, play_episodes

pytestmark = pytest.mark.filterwarnings("ignore:No target network updater")


def make_loss_and_env(protocol: str, n: int = 3, batch: int = 8) -> tuple[DIALLoss | RIALLoss, SwitchGame]:
    message_size = 1 if protocol == "dial" else 2
    net = CommNet(n, protocol=protocol, message_size=message_size, hidden_size=16, max_steps=4 * n - 6)
    loss = DIALLoss(net) if protocol == "dial" else RIALLoss(net)
    return loss, SwitchGame(n, num_envs=batch, message_size=message_size)


def play(loss: DIALLoss | RIALLoss, env: SwitchGame, epsilon: float = 0.05):
    dru = loss.dru if isinstance(loss, DIALLoss) else None
    return play_episodes(loss.value_network, env, explore=True, epsilon=epsilon, dru=dru)


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
    loss, env = make_loss_and_env(protocol)
    trajectory = play(loss, env, epsilon=0.0)
    recorded = trajectory["agents", "action_value"]
    assert recorded.requires_grad
    greedy = recorded.masked_fill(~trajectory["agents", "action_mask"], float("-inf")).argmax(dim=-1)
    assert torch.equal(greedy, trajectory["agents", "action"])
    from_rollout = loss(trajectory)
    replayed = loss(trajectory.exclude(("agents", "action_value"), ("agents", "message_value")))
    for key in from_rollout.keys():
        assert torch.allclose(from_rollout[key], replayed[key], atol=1e-6), key


def test_rial_rollout_sends_one_hot_from_the_room_only() -> None:
    loss, env = make_loss_and_env("rial")
    trajectory = play(loss, env)
    message = trajectory["agents", "message"]
    in_room = trajectory["agents", "action_mask"][..., TELL]
    assert torch.equal(message.sum(dim=-1), in_room.float())
    assert set(message.unique().tolist()) <= {0.0, 1.0}
