"""DIALLoss against a per-episode reference unroll, and the gradient path through the channel."""

import copy

import pytest
import torch

from oppshape.envs.switch_game import TELL, SwitchGame
from oppshape.modules.comm_net import CommNet
from oppshape.modules.dru import DRU
from oppshape.objectives.dial import DIALLoss

pytestmark = pytest.mark.filterwarnings("ignore:No target network updater")

N, B, SIGMA = 3, 4, 2.0


def random_trajectory(env: SwitchGame, schedule: torch.Tensor, tell_prob: float = 0.25) -> torch.Tensor:
    """Random allowed actions and DRU noise on ``schedule``; the ``[B, T]`` trajectory."""
    td = env.reset(env.reset().set("schedule", schedule))
    steps = []
    for _ in range(env.days):
        in_room = td["agents", "action_mask"][..., TELL]
        td["agents", "action"] = ((torch.rand(in_room.shape) < tell_prob) & in_room).long()
        td["agents", "message_noise"] = torch.randn(*in_room.shape, 1) * SIGMA
        td["agents", "message"] = torch.zeros(*in_room.shape, 1)
        td = env.step(td)
        steps.append(td)
        td = td["next"].exclude(("agents", "reward"))
    return torch.stack(steps, dim=1)


def reference_loss(net: CommNet, target: CommNet, trajectory, gamma: float) -> torch.Tensor:
    """Sum over episodes, steps until the end, and agents of the squared TD error / (B * n), one episode
    at a time, routing each message by the schedule (not by message_sources)."""
    dru = DRU(SIGMA)
    schedule, action = trajectory["schedule"][:, 0], trajectory["agents", "action"]
    noise, reward = trajectory["agents", "message_noise"], trajectory["next", "agents", "reward"]
    terminated = trajectory["next", "terminated"]
    batch, steps, n = action.shape
    total = torch.zeros(())
    for b in range(batch):
        q_values = []
        for model in (net, target):
            hidden, logits, qs = model.initial_hidden(1), None, []
            for t in range(steps):
                received = torch.zeros(1, n, 1)
                if t > 0:
                    sender, receiver = schedule[b, t - 1], schedule[b, t]
                    received[0, receiver] = dru(logits[0, sender], noise[b, t - 1, sender])
                previous = torch.zeros(1, n, dtype=torch.long) if t == 0 else action[b : b + 1, t - 1] + 1
                observation = trajectory["agents", "observation"][b : b + 1, t]
                q, logits, hidden = model(observation, received, previous, hidden, step=t)
                qs.append(q[0])
            q_values.append(qs)
        for t in range(steps):
            for i in range(n):
                y = reward[b, t, i, 0]
                if not terminated[b, t]:
                    allowed = [0, 1] if schedule[b, t + 1] == i else [0]
                    y = y + gamma * q_values[1][t + 1][i, allowed].max().detach()
                total = total + (y - q_values[0][t][i, action[b, t, i]]) ** 2
            if terminated[b, t]:
                break
    return total / (batch * n)


def make_loss() -> tuple[DIALLoss, CommNet, CommNet]:
    net = CommNet(N, protocol="dial", hidden_size=16, batch_norm=False)
    loss = DIALLoss(net, sigma=SIGMA, gamma=0.9)
    target = copy.deepcopy(net)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))  # the online net drifts away from the target
    return loss, net, target


SCHEDULE = torch.tensor([[0, 1, 2, 0, 1, 2], [2, 2, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0], [1, 2, 0, 2, 1, 0]])


def test_loss_matches_per_episode_reference() -> None:
    loss, net, target = make_loss()
    trajectory = random_trajectory(SwitchGame(N, num_envs=B), SCHEDULE, tell_prob=0.4)
    value = loss(trajectory)["loss_action"]
    assert value.item() == pytest.approx(reference_loss(net, target, trajectory, 0.9).item(), rel=1e-5)


def test_gradient_reaches_the_sender_through_the_message() -> None:
    loss, net, _ = make_loss()
    trajectory = random_trajectory(SwitchGame(N, num_envs=B), SCHEDULE, tell_prob=0.0)
    noise = trajectory["agents", "message_noise"].requires_grad_(True)
    value = loss(trajectory)["loss_action"]
    logit_row = net.head_out.weight  # row 2 = the message logit, used only by receivers
    grad_row, grad_noise = torch.autograd.grad(value, [logit_row, noise])
    assert grad_row[2].abs().sum() > 0
    sender = torch.nn.functional.one_hot(SCHEDULE, N).bool()  # [B, T, n]: the only messages delivered
    assert grad_noise[..., 0][~sender].abs().sum() == 0
    assert (grad_noise[:, :-1, :, 0][sender[:, :-1]] != 0).all()  # every delivered message gets a gradient
    assert grad_noise[:, -1].abs().sum() == 0  # a message sent on the last day reaches nobody


def test_no_channel_no_message_gradient() -> None:
    loss, net, _ = make_loss()
    trajectory = random_trajectory(SwitchGame(N, num_envs=B), SCHEDULE)
    trajectory["agents", "message_sources"] = torch.zeros_like(trajectory["agents", "message_sources"])
    (grad_row,) = torch.autograd.grad(loss(trajectory)["loss_action"], [net.head_out.weight])
    assert grad_row[2].abs().sum() == 0


def test_target_parameters_get_no_gradient_and_start_equal() -> None:
    net = CommNet(N, protocol="dial", hidden_size=8)
    loss = DIALLoss(net)
    pairs = zip(loss.value_network_params.values(True, True), loss.target_value_network_params.values(True, True))
    for source, target in pairs:
        assert torch.equal(source, target) and not target.requires_grad


def test_rejects_rial_network() -> None:
    with pytest.raises(ValueError, match="protocol='dial'"):
        DIALLoss(CommNet(N, protocol="rial", message_size=2))
