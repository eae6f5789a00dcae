"""The GRU networks of the DiCE family: torch's GRUCell math per seed, functional, twice differentiable."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from oppshape.modules.gru_policy import GRUNet, gru_net_step, unroll


def torch_modules(net: GRUNet, seed: int) -> tuple[nn.Linear, nn.GRUCell, nn.Linear]:
    """The same seed's network built from torch's own layers."""
    observation_dim, hidden = net.encoder_weight.shape[1:]
    encoder, cell, head = nn.Linear(observation_dim, hidden), nn.GRUCell(hidden, hidden), nn.Linear(hidden, net.head_weight.shape[-1])
    with torch.no_grad():
        encoder.weight.copy_(net.encoder_weight[seed].T)
        encoder.bias.copy_(net.encoder_bias[seed, 0])
        cell.weight_ih.copy_(net.gru_weight_ih[seed].T)
        cell.bias_ih.copy_(net.gru_bias_ih[seed, 0])
        cell.weight_hh.copy_(net.gru_weight_hh[seed].T)
        cell.bias_hh.copy_(net.gru_bias_hh[seed, 0])
        head.weight.copy_(net.head_weight[seed].T)
        head.bias.copy_(net.head_bias[seed, 0])
    return encoder, cell, head


def test_each_seed_is_dense_relu_then_torch_gru_cell_then_head() -> None:
    net = GRUNet(observation_dim=5, out_dim=3, hidden_size=8, num_seeds=2)
    observation, hidden = torch.randn(2, 4, 5), torch.randn(2, 4, 8)
    output, next_hidden = net(observation, hidden)
    for seed in range(2):
        encoder, cell, head = torch_modules(net, seed)
        expected_hidden = cell(F.relu(encoder(observation[seed])), hidden[seed])
        torch.testing.assert_close(next_hidden[seed], expected_hidden)
        torch.testing.assert_close(output[seed], head(expected_hidden))


def test_seeds_are_initialized_independently_at_torch_scale() -> None:
    net = GRUNet(36, 4, 64, num_seeds=3)
    assert not torch.allclose(net.gru_weight_hh[0], net.gru_weight_hh[1])
    bound = 1 / 64**0.5
    assert net.gru_weight_hh.abs().max() <= bound and net.gru_weight_hh.abs().max() > 0.9 * bound
    assert net.encoder_weight.abs().max() <= 1 / 36**0.5


def test_functional_params_replace_the_module_parameters() -> None:
    net, other = GRUNet(5, 2, 8), GRUNet(5, 2, 8)
    shifted = {name: p + 0.5 for name, p in net.params().items()}
    with torch.no_grad():
        for name, p in other.named_parameters():
            p.copy_(shifted[name])
    observation, hidden = torch.randn(1, 3, 5), net.initial_hidden(3)
    torch.testing.assert_close(gru_net_step(shifted, observation, hidden)[0], other(observation, hidden)[0])


def test_second_derivatives_flow_through_a_parameter_step() -> None:
    """A look-ahead ``theta' = theta - lr * grad`` must stay differentiable (what LOLA/POLA need)."""
    params = {name: p.detach().requires_grad_() for name, p in GRUNet(5, 2, 8).params().items()}
    observations = torch.randn(6, 1, 4, 5)
    loss = unroll(params, observations).pow(2).mean()
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    stepped = {name: p - 0.1 * g for (name, p), g in zip(params.items(), grads)}
    second = torch.autograd.grad(unroll(stepped, observations).sum(), params["gru_weight_hh"])[0]
    assert torch.isfinite(second).all() and second.abs().sum() > 0


def test_seeds_do_not_interact() -> None:
    params = {name: p.detach().requires_grad_() for name, p in GRUNet(5, 2, 8, num_seeds=2).params().items()}
    output = unroll(params, torch.randn(4, 2, 3, 5))
    grad = torch.autograd.grad(output[:, 0].sum(), params["gru_weight_hh"])[0]
    assert grad[0].abs().sum() > 0 and grad[1].abs().sum() == 0


def test_unroll_runs_from_a_zero_state() -> None:
    net = GRUNet(5, 2, 8, num_seeds=2)
    observations = torch.randn(3, 2, 4, 5)
    hidden, outputs = net.initial_hidden(4), []
    for observation in observations:
        output, hidden = net(observation, hidden)
        outputs.append(output)
    torch.testing.assert_close(unroll(net.params(), observations), torch.stack(outputs))


def test_bad_sizes_are_named() -> None:
    with pytest.raises(ValueError, match="hidden_size=0"):
        GRUNet(5, 2, 0)
    with pytest.raises(ValueError, match="num_seeds=0"):
        GRUNet(5, 2, 8, num_seeds=0)
