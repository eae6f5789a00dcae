"""Actor and Q-networks of LOQA agents, written as ensembles so that seeds and snapshots run batched.

Every parameter carries a leading *member* dimension ``N`` and every input has the matching leading
dimension: a network whose parameters are ``[N, ...]`` maps ``[N, M, ..., *obs_shape]`` to
``[N, M, ..., num_actions]``, member ``n`` using its own weights. One module therefore serves three
jobs without ``vmap``: ``N = num_seeds`` independent learners trained at once (per-seed Adam is exact
because Adam is elementwise), and, with ``[K, ...]`` parameters gathered from the snapshot buffer and
swapped in (``TensorDict.to_module``), ``N = K`` past opponents each playing its own group of episodes.

All networks share one interface (LOQA, Sec. 4: an actor ``pi(a | s)`` and a critic ``Q(s, a)``):

* ``step(observation, time, hidden) -> (output, hidden)``: one environment step, for acting;
* ``forward(observation_sequence) -> outputs``: a whole episode ``[N, M, T, *obs_shape]`` from its
  first step, with the time index ``0 .. T-1`` supplied internally, for the losses;
* ``initial_hidden(N, M)``: the recurrent state at an episode's start (width 0 when stateless).

The Q-networks read ``[observation, t]`` with ``t`` the raw step index, as in the authors' code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class EnsembleLinear(nn.Module):
    """``y = x W_n^T + b_n`` for each member ``n``: weight ``[N, out, in]``, bias ``[N, out]``.

    Initialised like ``torch.nn.Linear`` member by member. The member count is read from the weight
    at call time, so swapping in gathered ``[K, out, in]`` weights runs ``K`` members.
    """

    def __init__(self, in_features: int, out_features: int, num_members: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        # kaiming_uniform(a=sqrt(5)) of nn.Linear reduces to U(-1/sqrt(in), 1/sqrt(in)) for the weight too
        self.weight = nn.Parameter(torch.empty(num_members, out_features, in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(num_members, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, *, in] -> [N, *, out]``."""
        members = self.weight.shape[0]
        flat = x.reshape(members, -1, x.shape[-1])
        out = torch.baddbmm(self.bias.unsqueeze(1), flat, self.weight.transpose(1, 2))
        return out.reshape(*x.shape[:-1], self.weight.shape[1])


class _SequenceNet(nn.Module):
    """Shared input handling: flatten the observation, optionally append the step index."""

    hidden_size: int = 0

    def __init__(self, obs_shape: Sequence[int], time_input: bool) -> None:
        super().__init__()
        if not obs_shape or any(int(d) < 1 for d in obs_shape):
            raise ValueError(f"obs_shape={tuple(obs_shape)} must be a non-empty shape of positive sizes")
        self.obs_shape = tuple(int(d) for d in obs_shape)
        self.time_input = time_input
        self.in_features = math.prod(self.obs_shape) + int(time_input)

    def _features(self, observation: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        """``[N, *lead, *obs_shape]`` and time ``[N, *lead]`` -> ``[N, *lead, in_features]``."""
        flat = observation.flatten(start_dim=observation.dim() - len(self.obs_shape)).to(torch.float32)
        if not self.time_input:
            return flat
        return torch.cat([flat, time.to(flat).expand(flat.shape[:-1]).unsqueeze(-1)], dim=-1)

    def _sequence_time(self, observation_sequence: torch.Tensor) -> torch.Tensor:
        """The step index ``0 .. T-1`` broadcast to ``[N, M, T]`` for a ``[N, M, T, *obs]`` input."""
        lead = observation_sequence.shape[: observation_sequence.dim() - len(self.obs_shape)]
        steps = torch.arange(lead[-1], device=observation_sequence.device, dtype=torch.float32)
        return steps.expand(lead)

    def initial_hidden(self, members: int, batch: int) -> torch.Tensor:
        """Zero recurrent state ``[N, M, hidden_size]`` at an episode's first step."""
        device = next(self.parameters()).device
        return torch.zeros(members, batch, self.hidden_size, device=device)


class TabularActor(_SequenceNet):
    """One row of logits per one-hot state: the IPD actor over (start, CC, CD, DC, DD), zeros at start.

    ``logits = observation @ table_n`` with ``table`` ``[N, num_states, num_actions]``; time is ignored.
    """

    def __init__(self, num_states: int, num_actions: int, num_members: int = 1) -> None:
        super().__init__((num_states,), time_input=False)
        self.table = nn.Parameter(torch.zeros(num_members, num_states, num_actions))

    def _logits(self, observation: torch.Tensor) -> torch.Tensor:
        members = self.table.shape[0]
        flat = observation.to(torch.float32)
        out = torch.bmm(flat.reshape(members, -1, flat.shape[-1]), self.table)
        return out.reshape(*flat.shape[:-1], self.table.shape[-1])

    def step(
        self, observation: torch.Tensor, time: torch.Tensor, hidden: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self._logits(observation), hidden

    def forward(self, observation_sequence: torch.Tensor) -> torch.Tensor:
        return self._logits(observation_sequence)


class MLPNet(_SequenceNet):
    """Feed-forward ReLU network (the IPD Q-function: hidden sizes (16, 16) on ``[observation, t]``)."""

    def __init__(
        self,
        obs_shape: Sequence[int],
        num_actions: int,
        hidden_sizes: Sequence[int] = (16, 16),
        time_input: bool = True,
        num_members: int = 1,
    ) -> None:
        super().__init__(obs_shape, time_input)
        sizes = [self.in_features, *hidden_sizes, num_actions]
        self.layers = nn.ModuleList(
            EnsembleLinear(sizes[i], sizes[i + 1], num_members) for i in range(len(sizes) - 1)
        )

    def _apply_layers(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)

    def step(
        self, observation: torch.Tensor, time: torch.Tensor, hidden: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self._apply_layers(self._features(observation, time)), hidden

    def forward(self, observation_sequence: torch.Tensor) -> torch.Tensor:
        time = self._sequence_time(observation_sequence)
        return self._apply_layers(self._features(observation_sequence, time))


class GRUNet(_SequenceNet):
    """Dense layers, a GRU cell, a linear head: the Coin Game actor (hidden 128) and Q-net (hidden 64).

    ``layers_before_gru`` = 0, 1 (``relu(W1 x)``) or 2 (``W2 relu(W1 x)``), as in the POLA/LOQA GRU.
    The cell follows ``torch.nn.GRUCell``: ``r, z = sigmoid(.)``, ``n = tanh(W_in x + r * (W_hn h))``,
    ``h' = (1 - z) n + z h``. It is written out with ensemble matmuls so that batched snapshot
    parameters cost one ``bmm`` per gate block.
    """

    def __init__(
        self,
        obs_shape: Sequence[int],
        num_actions: int,
        hidden_size: int,
        layers_before_gru: int = 2,
        time_input: bool = False,
        num_members: int = 1,
    ) -> None:
        super().__init__(obs_shape, time_input)
        if layers_before_gru not in (0, 1, 2):
            raise ValueError(f"layers_before_gru={layers_before_gru} must be 0, 1 or 2")
        if hidden_size < 1:
            raise ValueError(f"hidden_size={hidden_size} must be >= 1")
        self.hidden_size = hidden_size
        sizes = [self.in_features] + [hidden_size] * layers_before_gru
        self.pre = nn.ModuleList(EnsembleLinear(sizes[i], sizes[i + 1], num_members) for i in range(layers_before_gru))
        self.input_gates = EnsembleLinear(sizes[-1], 3 * hidden_size, num_members)
        self.hidden_gates = EnsembleLinear(hidden_size, 3 * hidden_size, num_members)
        self.head = EnsembleLinear(hidden_size, num_actions, num_members)

    def _encode(self, features: torch.Tensor) -> torch.Tensor:
        """Dense layers and the input half of the gates, batched over all steps at once."""
        x = features
        for index, layer in enumerate(self.pre):
            x = layer(x)
            if index == 0:
                x = torch.relu(x)
        return self.input_gates(x)

    def _cell(self, input_gates: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        reset_in, update_in, new_in = input_gates.chunk(3, dim=-1)
        reset_h, update_h, new_h = self.hidden_gates(hidden).chunk(3, dim=-1)
        reset = torch.sigmoid(reset_in + reset_h)
        update = torch.sigmoid(update_in + update_h)
        candidate = torch.tanh(new_in + reset * new_h)
        return (1 - update) * candidate + update * hidden

    def step(
        self, observation: torch.Tensor, time: torch.Tensor, hidden: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self._cell(self._encode(self._features(observation, time)), hidden)
        return self.head(hidden), hidden

    def forward(self, observation_sequence: torch.Tensor) -> torch.Tensor:
        """``[N, M, T, *obs_shape] -> [N, M, T, num_actions]``, starting from a zero state."""
        time = self._sequence_time(observation_sequence)
        gates = self._encode(self._features(observation_sequence, time))  # [N, M, T, 3H]
        hidden = gates.new_zeros(*gates.shape[:2], self.hidden_size)
        states = []
        for step_gates in gates.unbind(dim=2):  # unbind, not indexing: one gradient buffer, not T
            hidden = self._cell(step_gates, hidden)
            states.append(hidden)
        return self.head(torch.stack(states, dim=2))
