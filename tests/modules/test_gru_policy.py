"""The GRU networks of the DiCE family: torch's GRUCell math per seed, functional, twice differentiable."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from oppshape import hot_path
from oppshape.envs.coin_game import CoinGame
from oppshape.hot_path import uses_cuda_graph
from oppshape.modules.gru_policy import GRUNet, gru_cell, gru_cell_math, gru_net_step, unroll
from oppshape.rollouts.dice import AgentParams, rollout


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


def cell_inputs(device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    gates = [3 * torch.randn(2, 500, 3 * 64, generator=generator) for _ in range(2)]
    return gates[0].to(device), gates[1].to(device), torch.randn(2, 500, 64, generator=generator).tanh().to(device)


def test_cpu_takes_the_plain_path_and_gradients_stay_eager_with_compile_on() -> None:
    with hot_path.enabled():
        assert not uses_cuda_graph(torch.device("cpu"))  # CUDA graphs only where a GPU is
        assert uses_cuda_graph(torch.device("cuda"))
    assert not uses_cuda_graph(torch.device("cuda"))  # and only with trainer.compile on
    input_gates, hidden_gates, hidden = (t.requires_grad_() for t in cell_inputs())
    before = hot_path.compile_seconds()
    with hot_path.enabled():
        out = gru_cell(input_gates, hidden_gates, hidden)  # needs grad: must not compile (no double backward)
    assert hot_path.compile_seconds() == before
    (grad,) = torch.autograd.grad(out.sum(), hidden, create_graph=True)
    assert grad.requires_grad


def eager_and_compiled_coin_rollouts(device: str) -> tuple:
    """The same no-grad Coin Game rollout (same seed), eager and with ``trainer.compile`` on."""
    game = CoinGame(height=3, width=3, device=device)
    policies = [{k: v.to(device) for k, v in GRUNet(36, 4, 64, num_seeds=2).params().items()} for _ in range(2)]
    played = []
    with torch.no_grad():
        for compiled in (False, True):
            with hot_path.enabled(compiled):
                torch.manual_seed(4)
                played.append(rollout(game, [AgentParams(p) for p in policies], n=64, horizon=12))
    return tuple(played)


@pytest.mark.compile
def test_compiled_no_grad_rollout_plays_the_eager_games() -> None:
    """Compiled (inductor) and eager policy steps agree to float rounding and sample the same Coin Game actions."""
    eager, compiled = eager_and_compiled_coin_rollouts("cpu")
    assert torch.equal(compiled.action, eager.action)
    torch.testing.assert_close(compiled.log_prob, eager.log_prob, rtol=0, atol=1e-6)


@pytest.mark.cuda
def test_cuda_graph_rollout_plays_the_eager_games_and_outputs_survive_the_next_replay() -> None:
    inputs = cell_inputs("cuda")
    with torch.no_grad(), hot_path.enabled():
        first = gru_cell(*inputs)
        second = gru_cell(inputs[0], inputs[1], first)  # replays the graph: ``first`` must not be overwritten
        expected_first = gru_cell_math(*inputs)
        torch.testing.assert_close(first, expected_first, rtol=0, atol=1e-6)
        torch.testing.assert_close(second, gru_cell_math(inputs[0], inputs[1], expected_first), rtol=0, atol=1e-6)
    eager, graphed = eager_and_compiled_coin_rollouts("cuda")
    assert torch.equal(graphed.action, eager.action)
    torch.testing.assert_close(graphed.log_prob, eager.log_prob, rtol=0, atol=1e-5)
