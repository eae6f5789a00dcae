"""RIALLoss against a per-episode reference, and message Q-learning only where a message was sent."""

import copy

import pytest
import torch

from oppshape.envs.switch_game import TELL, SwitchGame
from oppshape.modules.comm_net import CommNet
from oppshape.objectives.rial import RIALLoss

pytestmark = pytest.mark.filterwarnings("ignore:No target network updater")

N, B, K = 3, 4, 2
SCHEDULE = torch.tensor([[0, 1, 2, 0, 1, 2], [2, 2, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0], [1, 2, 0, 2, 1, 0]])


def random_trajectory(env: SwitchGame, schedule: torch.Tensor, tell_prob: float, send: bool = True):
    """Random allowed actions; the prisoner in the room sends a random one-hot message (if ``send``)."""
    td = env.reset(env.reset().set("schedule", schedule))
    steps = []
    for _ in range(env.days):
        in_room = td["agents", "action_mask"][..., TELL]
        td["agents", "action"] = ((torch.rand(in_room.shape) < tell_prob) & in_room).long()
        message = torch.nn.functional.one_hot(torch.randint(0, K, in_room.shape), K).float()
        td["agents", "message"] = message * (in_room & send).unsqueeze(-1)
        td = env.step(td)
        steps.append(td)
        td = td["next"].exclude(("agents", "reward"))
    return torch.stack(steps, dim=1)


def reference_losses(net: CommNet, target: CommNet, trajectory, gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One episode at a time: V' = (max allowed Q_u' + max Q_m') / 2, Q_m' := max Q_u' when not in the room."""
    schedule, action = trajectory["schedule"][:, 0], trajectory["agents", "action"]
    message, reward = trajectory["agents", "message"], trajectory["next", "agents", "reward"]
    terminated = trajectory["next", "terminated"]
    batch, steps, n = action.shape
    loss_u, loss_m = torch.zeros(()), torch.zeros(())
    for b in range(batch):
        outputs = []
        for model in (net, target):
            hidden, out = model.initial_hidden(1), []
            for t in range(steps):
                previous_action = torch.zeros(1, n, dtype=torch.long)
                previous_message = torch.zeros(1, n, dtype=torch.long)
                if t > 0:
                    previous_action = action[b : b + 1, t - 1] + 1
                    previous_message[0, schedule[b, t - 1]] = message[b, t - 1, schedule[b, t - 1]].argmax() + 1
                q_u, q_m, hidden = model(
                    trajectory["agents", "observation"][b : b + 1, t],
                    trajectory["agents", "received_message"][b : b + 1, t],
                    previous_action,
                    hidden,
                    previous_message,
                    step=t,
                )
                out.append((q_u[0], q_m[0]))
            outputs.append(out)
        for t in range(steps):
            for i in range(n):
                y = reward[b, t, i, 0]
                if not terminated[b, t]:
                    q_u_next, q_m_next = outputs[1][t + 1]
                    in_room = schedule[b, t + 1] == i
                    v_u = q_u_next[i].max() if in_room else q_u_next[i, 0]
                    v_m = q_m_next[i].max() if in_room else v_u
                    y = y + gamma * 0.5 * (v_u + v_m).detach()
                q_u, q_m = outputs[0][t]
                loss_u = loss_u + (y - q_u[i, action[b, t, i]]) ** 2
                if schedule[b, t] == i:
                    loss_m = loss_m + (y - q_m[i, message[b, t, i].argmax()]) ** 2
            if terminated[b, t]:
                break
    return loss_u / (batch * n), loss_m / (batch * n)


def make_loss() -> tuple[RIALLoss, CommNet, CommNet]:
    net = CommNet(N, protocol="rial", message_size=K, hidden_size=16, batch_norm=False)
    loss = RIALLoss(net, gamma=0.9)
    target = copy.deepcopy(net)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return loss, net, target


def test_losses_match_per_episode_reference() -> None:
    loss, net, target = make_loss()
    trajectory = random_trajectory(SwitchGame(N, num_envs=B, message_size=K), SCHEDULE, tell_prob=0.4)
    out = loss(trajectory)
    reference_u, reference_m = reference_losses(net, target, trajectory, 0.9)
    assert out["loss_action"].item() == pytest.approx(reference_u.item(), rel=1e-5)
    assert out["loss_message"].item() == pytest.approx(reference_m.item(), rel=1e-5)


def test_message_q_learning_only_where_a_message_was_sent() -> None:
    loss, net, _ = make_loss()
    trajectory = random_trajectory(SwitchGame(N, num_envs=B, message_size=K), SCHEDULE, 0.0, send=False)
    out = loss(trajectory)
    assert out["loss_message"].item() == 0.0
    (grad,) = torch.autograd.grad(out["loss_action"], [net.head_out.weight])
    assert grad[2:].abs().sum() == 0  # message Q rows: no gradient crosses the channel in RIAL
    assert grad[:2].abs().sum() > 0


def test_message_q_moves_toward_its_target() -> None:
    loss, net, _ = make_loss()
    trajectory = random_trajectory(SwitchGame(N, num_envs=B, message_size=K), SCHEDULE, tell_prob=0.3)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    before = loss(trajectory)["loss_message"].item()
    for _ in range(60):
        optimizer.zero_grad()
        loss(trajectory)["loss_message"].backward()
        optimizer.step()
    assert loss(trajectory)["loss_message"].item() < 0.25 * before


def test_rejects_dial_network() -> None:
    with pytest.raises(ValueError, match="protocol='rial'"):
        RIALLoss(CommNet(N, protocol="dial"))
