"""LOQA's ensemble networks: per-member maths, sequence vs step unrolls, torch GRUCell equivalence."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from tensordict import TensorDict

from oppshape.modules.loqa_nets import EnsembleLinear, GRUNet, MLPNet, TabularActor


def test_ensemble_linear_applies_each_members_own_weights() -> None:
    layer = EnsembleLinear(4, 3, num_members=2)
    x = torch.randn(2, 5, 6, 4)
    out = layer(x)
    assert out.shape == (2, 5, 6, 3)
    for n in range(2):
        torch.testing.assert_close(out[n], F.linear(x[n], layer.weight[n], layer.bias[n]))


def test_swapped_in_parameters_set_the_member_count() -> None:
    """Gathered [K, ...] weights run K members: how snapshots play their own groups of episodes."""
    net = MLPNet((5,), 2, (8, 8), num_members=1)
    params = TensorDict.from_module(net).detach().apply(lambda p: p.expand(3, *p.shape[1:]).clone())
    params["layers", "2", "bias"][1] += 1.0
    x = torch.randn(3, 4, 5)
    with params.to_module(net):
        out = net.step(x, torch.tensor(2.0), x.new_zeros(3, 4, 0))[0]
    expected = net.step(x.reshape(1, 12, 5), torch.tensor(2.0), x.new_zeros(1, 12, 0))[0].reshape(3, 4, 2)
    torch.testing.assert_close(out[0], expected[0])
    torch.testing.assert_close(out[1], expected[1] + 1.0)


def test_tabular_actor_reads_the_row_of_the_one_hot_state() -> None:
    actor = TabularActor(5, 2, num_members=2)
    with torch.no_grad():
        actor.table.copy_(torch.arange(20.0).reshape(2, 5, 2))
    states = torch.tensor([[[0, 3, 4]], [[2, 2, 1]]])  # [N=2, M=1, T=3]
    logits = actor(F.one_hot(states, 5).float())
    for n in range(2):
        torch.testing.assert_close(logits[n, 0], actor.table[n, states[n, 0]].detach())


@pytest.mark.parametrize("layers_before_gru", [0, 1, 2])
def test_gru_sequence_forward_equals_the_step_unroll(layers_before_gru: int) -> None:
    net = GRUNet((4, 3, 3), 4, hidden_size=8, layers_before_gru=layers_before_gru, time_input=True, num_members=2)
    obs = torch.rand(2, 5, 7, 4, 3, 3)
    sequence = net(obs)
    hidden = net.initial_hidden(2, 5)
    for t in range(7):
        out, hidden = net.step(obs[:, :, t], torch.tensor(float(t)), hidden)
        torch.testing.assert_close(sequence[:, :, t], out)


def test_gru_cell_is_torch_gru_cell() -> None:
    net = GRUNet((6,), 3, hidden_size=5, layers_before_gru=0, num_members=1)
    cell = torch.nn.GRUCell(6, 5)
    with torch.no_grad():
        cell.weight_ih.copy_(net.input_gates.weight[0])
        cell.bias_ih.copy_(net.input_gates.bias[0])
        cell.weight_hh.copy_(net.hidden_gates.weight[0])
        cell.bias_hh.copy_(net.hidden_gates.bias[0])
    x, h = torch.randn(1, 4, 6), torch.randn(1, 4, 5)
    _, new_h = net.step(x, torch.tensor(0.0), h)
    torch.testing.assert_close(new_h[0], cell(x[0], h[0]))


def test_mlp_sequence_feeds_the_step_index() -> None:
    net = MLPNet((5,), 2, (16, 16), time_input=True)
    obs = F.one_hot(torch.zeros(1, 1, 4, dtype=torch.long), 5).float()  # same state at t = 0..3
    sequence = net(obs)
    for t in range(4):
        step, _ = net.step(obs[:, :, t], torch.tensor(float(t)), obs.new_zeros(1, 1, 0))
        torch.testing.assert_close(sequence[:, :, t], step)
    assert not torch.allclose(sequence[0, 0, 0], sequence[0, 0, 3])


def test_members_are_independent() -> None:
    net = GRUNet((5,), 2, hidden_size=4, num_members=2)
    obs = torch.rand(2, 3, 6, 5)
    before = net(obs)
    with torch.no_grad():
        for param in net.parameters():
            param[1].add_(0.5)
    after = net(obs)
    torch.testing.assert_close(after[0], before[0])
    assert not torch.allclose(after[1], before[1])


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: GRUNet((5,), 2, hidden_size=4, layers_before_gru=3), "layers_before_gru=3"),
        (lambda: GRUNet((5,), 2, hidden_size=0), "hidden_size=0"),
        (lambda: MLPNet((0, 3), 2), r"obs_shape=\(0, 3\)"),
    ],
)
def test_bad_shapes_raise(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()
