"""Recurrent policy and value networks of the POLA experiments: dense -> ReLU -> GRU cell -> dense.

The opponent-shaping learners differentiate through the opponent's SGD steps, so every forward is
available as a pure function of a parameter dict (:func:`gru_net_step`); the ``nn.Module`` only owns
the parameters and calls the same function, so a module and its looked-ahead copy share one piece
of math. One module holds ``num_seeds`` independent networks stacked on a leading dimension, so a
whole set of seeds trains in one batched computation (``torch.baddbmm`` per layer): at the small
batches a CPU affords, the number of operations, not their size, is the cost. The GRU cell is written
out (the equations of ``nn.GRUCell``) so that double backward works on every device.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from oppshape.hot_path import graphed_hot_path

ParamDict = dict[str, torch.Tensor]


def gru_cell(input_gates: torch.Tensor, hidden_gates: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """``nn.GRUCell``'s update from the (reset, update, new) gate pre-activations ``[..., 3 * hidden]``.

    With ``trainer.compile`` on, a no-grad call (a rollout that only samples) runs compiled, on CUDA
    as a CUDA graph (:func:`graphed_hot_path`); a call that needs gradients stays eager, because the DiCE
    look-ahead differentiates it twice and ``aot_autograd`` has no double backward. (Fewer eager ops,
    e.g. one add and one sigmoid for both the reset and update gates, measured no faster forward and
    ~14% slower in a POLA-DiCE step: slice backward costs more than ``chunk``'s.)
    """
    if torch.is_grad_enabled() and (input_gates.requires_grad or hidden_gates.requires_grad or hidden.requires_grad):
        return _fused_gru_cell.eager(input_gates, hidden_gates, hidden)
    return _fused_gru_cell(input_gates, hidden_gates, hidden)


def gru_cell_math(input_gates: torch.Tensor, hidden_gates: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """:func:`gru_cell` without the compile switch: what a larger compiled region calls."""
    input_reset, input_update, input_new = input_gates.chunk(3, dim=-1)
    hidden_reset, hidden_update, hidden_new = hidden_gates.chunk(3, dim=-1)
    reset = torch.sigmoid(input_reset + hidden_reset)
    update = torch.sigmoid(input_update + hidden_update)
    candidate = torch.tanh(input_new + reset * hidden_new)
    return candidate + update * (hidden - candidate)  # (1 - z) * n + z * h


_fused_gru_cell = graphed_hot_path(gru_cell_math)


def gru_input_gates(params: ParamDict, observation: torch.Tensor) -> torch.Tensor:
    """The GRU's input-gate pre-activations ``[S, N, 3 * hidden]`` (dense, ReLU, input projection).

    Split from :func:`gru_step_from_input_gates` because they depend on the observation alone: a game
    with few distinct observations (the IPD's five) computes them once per rollout and gathers them.
    """
    x = F.relu(torch.baddbmm(params["encoder_bias"], observation, params["encoder_weight"]))
    return torch.baddbmm(params["gru_bias_ih"], x, params["gru_weight_ih"])


def gru_step_from_input_gates(
    params: ParamDict, input_gates: torch.Tensor, hidden: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The rest of :func:`gru_net_step` given :func:`gru_input_gates`: GRU cell and output head."""
    hidden_gates = torch.baddbmm(params["gru_bias_hh"], hidden, params["gru_weight_hh"])
    hidden = gru_cell(input_gates, hidden_gates, hidden)
    return torch.baddbmm(params["head_bias"], hidden, params["head_weight"]), hidden


def gru_net_step(params: ParamDict, observation: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of :class:`GRUNet` with the parameters in ``params``, for every seed at once.

    Args:
        params: :meth:`GRUNet.params` (weights ``[S, in, out]``, biases ``[S, 1, out]``), or any
            tensors of those shapes (a looked-ahead copy).
        observation: ``[S, N, obs_dim]``.
        hidden: ``[S, N, hidden_size]``, the GRU state before this step.

    Returns:
        ``(output [S, N, out_dim], next hidden [S, N, hidden_size])``.
    """
    return gru_step_from_input_gates(params, gru_input_gates(params, observation), hidden)


def unroll(params: ParamDict, observations: torch.Tensor) -> torch.Tensor:
    """Outputs ``[T, S, N, out_dim]`` of GRU nets run from a zero state over ``observations [T, S, N, obs_dim]``."""
    hidden = observations.new_zeros(*observations.shape[1:3], params["gru_weight_hh"].shape[-2])
    outputs = []
    for observation in observations:
        output, hidden = gru_net_step(params, observation, hidden)
        outputs.append(output)
    return torch.stack(outputs)


class GRUNet(nn.Module):
    """``num_seeds`` independent nets: dense, ReLU, GRU cell, dense head (policy logits or a value).

    Every parameter is initialized as ``nn.Linear`` / ``nn.GRUCell`` do, uniform in
    ``+-1/sqrt(fan_in)``, independently per seed.

    Args:
        observation_dim: size of the flat observation.
        out_dim: number of outputs (actions for a policy, 1 for a value).
        hidden_size: width of the dense layer and of the GRU state (POLA: 64).
        num_seeds: independent copies ``S``.
    """

    def __init__(self, observation_dim: int, out_dim: int, hidden_size: int = 64, num_seeds: int = 1) -> None:
        for name, value in (("observation_dim", observation_dim), ("out_dim", out_dim),
                            ("hidden_size", hidden_size), ("num_seeds", num_seeds)):
            if value < 1:
                raise ValueError(f"{name}={value} must be >= 1")
        super().__init__()
        self.hidden_size, self.num_seeds = hidden_size, num_seeds
        shapes = {  # name: (fan_in, fan_out)
            "encoder": (observation_dim, hidden_size),
            "gru_ih": (hidden_size, 3 * hidden_size),
            "gru_hh": (hidden_size, 3 * hidden_size),
            "head": (hidden_size, out_dim),
        }
        for layer, (fan_in, fan_out) in shapes.items():
            bound = 1.0 / math.sqrt(fan_in)
            prefix, suffix = (layer, "") if layer in ("encoder", "head") else ("gru", "_" + layer.split("_")[1])
            weight = torch.empty(num_seeds, fan_in, fan_out).uniform_(-bound, bound)
            bias = torch.empty(num_seeds, 1, fan_out).uniform_(-bound, bound)
            self.register_parameter(f"{prefix}_weight{suffix}", nn.Parameter(weight))
            self.register_parameter(f"{prefix}_bias{suffix}", nn.Parameter(bias))

    def params(self) -> ParamDict:
        """The parameters as the dict :func:`gru_net_step` takes."""
        return dict(self.named_parameters())

    def initial_hidden(self, batch: int) -> torch.Tensor:
        """A zero GRU state ``[S, batch, hidden_size]`` on this module's device."""
        return self.head_weight.new_zeros(self.num_seeds, batch, self.hidden_size)

    def forward(self, observation: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(output, next hidden)`` for one step; see :func:`gru_net_step`."""
        return gru_net_step(self.params(), observation, hidden)
