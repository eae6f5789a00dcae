"""Shared C-Net: shapes, inputs that matter, GRU init, batch norm modes."""

import pytest
import torch

from oppshape.modules.comm_net import RNN_INIT_RANGE, CommNet, StepBatchNorm


def inputs(batch: int, n: int, message_size: int):
    observation = torch.randint(0, 2, (batch, n, 1)).float()
    received = torch.rand(batch, n, message_size)
    previous = torch.randint(0, 3, (batch, n))
    return observation, received, previous


@pytest.mark.parametrize("protocol, message_size", [("dial", 1), ("rial", 2)])
def test_shapes(protocol: str, message_size: int) -> None:
    net = CommNet(4, protocol=protocol, message_size=message_size, hidden_size=16)
    observation, received, previous = inputs(5, 4, message_size)
    extra = {"previous_message": previous} if protocol == "rial" else {}
    q, message, hidden = net(observation, received, previous, net.initial_hidden(5), **extra)
    assert q.shape == (5, 4, 2) and message.shape == (5, 4, message_size) and hidden.shape == (2, 20, 16)


def test_gru_init_range_and_agent_index_matters() -> None:
    net = CommNet(3, hidden_size=8, batch_norm=False)
    assert all(p.abs().max() <= RNN_INIT_RANGE for p in net.rnn.parameters())
    observation = torch.zeros(1, 3, 1)
    q, _, _ = net(observation, torch.zeros(1, 3, 1), torch.zeros(1, 3, dtype=torch.long), net.initial_hidden(1))
    assert not torch.allclose(q[0, 0], q[0, 1])  # same inputs, different agent index


def test_received_message_changes_the_output() -> None:
    net = CommNet(3, hidden_size=8, batch_norm=False)
    observation, _, previous = inputs(2, 3, 1)
    h = net.initial_hidden(2)
    q0, _, _ = net(observation, torch.zeros(2, 3, 1), previous, h)
    q1, _, _ = net(observation, torch.ones(2, 3, 1), previous, h)
    assert not torch.allclose(q0, q1)


def test_eval_mode_batch_norm_is_independent_of_the_batch() -> None:
    net = CommNet(3, hidden_size=8, max_steps=2)
    observation, received, previous = inputs(6, 3, 1)
    for _ in range(3):
        net(observation, received, previous, net.initial_hidden(6), step=1)  # fills step 1's statistics
    net.eval()
    q_all, _, _ = net(observation, received, previous, net.initial_hidden(6), step=1)
    q_one, _, _ = net(observation[:1], received[:1], previous[:1], net.initial_hidden(1), step=1)
    assert torch.allclose(q_all[:1], q_one, atol=1e-6)


def test_step_batch_norm_keeps_statistics_per_step() -> None:
    norm = StepBatchNorm(2, max_steps=3, momentum=1.0)  # momentum 1: running stats = last batch's
    x0 = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    x2 = torch.tensor([[10.0, 0.0], [14.0, 0.0]])
    out = norm(x0, step=0)
    assert torch.allclose(out, torch.nn.functional.batch_norm(x0, None, None, training=True), atol=1e-4)
    norm(x2, step=5)  # past the last step: uses (and updates) the last row
    assert torch.allclose(norm.running_mean, torch.tensor([[1.0, 2.0], [0.0, 0.0], [12.0, 0.0]]))
    assert torch.allclose(norm.running_var[:, 0], torch.tensor([2.0, 1.0, 8.0]))  # unbiased batch variances
    norm.eval()
    assert torch.allclose(norm(x2, step=2), (x2 - norm.running_mean[2]) / torch.sqrt(norm.running_var[2] + norm.eps))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="'qmix'"):
        CommNet(3, protocol="qmix")
    with pytest.raises(ValueError, match="hidden_size=0"):
        CommNet(3, hidden_size=0)
    net = CommNet(3, protocol="rial", message_size=2, hidden_size=8)
    observation, received, previous = inputs(2, 3, 2)
    with pytest.raises(ValueError, match="previous_message"):
        net(observation, received, previous, net.initial_hidden(2))
