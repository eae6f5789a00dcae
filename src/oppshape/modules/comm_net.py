"""C-Net: the recurrent Q-network that RIAL and DIAL share across agents (Foerster et al. 2016, Sec. 6.1).

One network serves every agent (parameter sharing, the agent index is an input). Per step, embeddings
of the agent index, the observation, the previous action and (RIAL) the previous message, plus an
MLP of the received message, are summed into a 2-layer GRU; an MLP head outputs Q-values of the env
actions and the message part: one logit per bit for DIAL (fed to the DRU), or Q-values of the
``message_size`` discrete messages for RIAL.

Batch norm keeps separate running statistics per time step (Cooijmans et al., "Recurrent Batch
Normalization", ICLR 2017, Sec. 4): in training each step is normalised with its own batch
statistics, and the hidden state's distribution drifts with the step, so one set of running
statistics averaged over steps would not match what the network was trained with at test time.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

PROTOCOLS = ("dial", "rial")
RNN_INIT_RANGE = 0.08  # GRU weights uniform(-0.08, 0.08), as in the authors' code


class StepBatchNorm(nn.Module):
    """``BatchNorm1d`` with running statistics per time step ``[max_steps, C]`` and shared affine
    parameters; steps past ``max_steps - 1`` use the last step's statistics."""

    def __init__(self, num_features: int, max_steps: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(max_steps, num_features))
        self.register_buffer("running_var", torch.ones(max_steps, num_features))

    def forward(self, x: torch.Tensor, step: int) -> torch.Tensor:
        """Normalise ``x`` ``[N, C]`` of time step ``step`` (batch statistics in training)."""
        row = min(step, self.running_mean.shape[0] - 1)
        mean, var = self.running_mean[row], self.running_var[row]  # views: updated in place in training
        return F.batch_norm(x, mean, var, self.weight, self.bias, self.training, self.momentum, self.eps)


class CommNet(nn.Module):
    """Shared C-Net for ``n_agents`` agents, stepped one day at a time over ``[B, n]`` agents.

    Args:
        n_agents: number of agents (size of the agent-index embedding).
        protocol: ``"dial"`` (message head = ``message_size`` logits; the message MLP ends with a
            ReLU, as for the paper's narrow channel) or ``"rial"`` (message head = Q-values of
            ``message_size`` one-hot messages; the previous message is embedded like the previous
            action).
        message_size: width of a message (DIAL: bits; RIAL: number of discrete messages).
        n_observations: number of discrete observations (2 in the switch riddle: outside / inside).
        n_actions: number of env actions (2: None / Tell).
        hidden_size: embedding and GRU width (128).
        rnn_layers: GRU layers (2).
        batch_norm: batch-normalise the received message and the head's hidden layer (batch statistics
            over all ``B * n`` agent rows of a step in training, per-step running statistics in
            ``eval()``).
        max_steps: steps with their own batch-norm running statistics (the episode length).
    """

    def __init__(
        self,
        n_agents: int,
        protocol: str = "dial",
        message_size: int = 1,
        n_observations: int = 2,
        n_actions: int = 2,
        hidden_size: int = 128,
        rnn_layers: int = 2,
        batch_norm: bool = True,
        max_steps: int = 1,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; valid choices: {', '.join(PROTOCOLS)}")
        for name, value in (
            ("n_agents", n_agents),
            ("message_size", message_size),
            ("n_observations", n_observations),
            ("n_actions", n_actions),
            ("hidden_size", hidden_size),
            ("rnn_layers", rnn_layers),
            ("max_steps", max_steps),
        ):
            if value < 1:
                raise ValueError(f"{name}={value} must be >= 1")
        super().__init__()
        self.n_agents, self.protocol, self.message_size = n_agents, protocol, message_size
        self.n_actions, self.hidden_size, self.rnn_layers = n_actions, hidden_size, rnn_layers
        self.agent_embedding = nn.Embedding(n_agents, hidden_size)
        self.observation_embedding = nn.Embedding(n_observations, hidden_size)
        # index 0 = no previous action (day 0), 1 + a otherwise; same scheme for RIAL's messages
        self.previous_action_embedding = nn.Embedding(n_actions + 1, hidden_size)
        self.previous_message_embedding = nn.Embedding(message_size + 1, hidden_size) if protocol == "rial" else None
        self.message_norm = StepBatchNorm(message_size, max_steps) if batch_norm else None
        self.message_linear = nn.Linear(message_size, hidden_size)
        self.message_relu = protocol == "dial"
        self.rnn = nn.GRU(hidden_size, hidden_size, num_layers=rnn_layers)
        self.head_linear = nn.Linear(hidden_size, hidden_size)
        self.head_norm = StepBatchNorm(hidden_size, max_steps) if batch_norm else None
        self.head_out = nn.Linear(hidden_size, n_actions + message_size)
        self.register_buffer("agent_index", torch.arange(n_agents), persistent=False)
        for weight in self.rnn.parameters():
            nn.init.uniform_(weight, -RNN_INIT_RANGE, RNN_INIT_RANGE)

    def initial_hidden(self, batch: int) -> torch.Tensor:
        """Zero GRU state ``[rnn_layers, batch * n_agents, hidden_size]`` for a new episode."""
        weight = self.agent_embedding.weight
        return weight.new_zeros(self.rnn_layers, batch * self.n_agents, self.hidden_size)

    def forward(
        self,
        observation: torch.Tensor,
        received_message: torch.Tensor,
        previous_action: torch.Tensor,
        hidden: torch.Tensor,
        previous_message: torch.Tensor | None = None,
        step: int = 0,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One day for every agent.

        Args:
            observation: ``[B, n, 1]`` discrete observation (in the room: 1.0).
            received_message: ``[B, n, message_size]``.
            previous_action: ``[B, n]`` long, 0 on day 0, else 1 + yesterday's action.
            hidden: ``[rnn_layers, B * n, hidden_size]``.
            previous_message: RIAL only, ``[B, n]`` long, 0 if none was sent yesterday, else 1 + message.
            step: the day ``t`` (selects the batch-norm running statistics).

        Returns:
            ``(action_values [B, n, n_actions], message_output [B, n, message_size], hidden)``.
        """
        batch, n = previous_action.shape
        z = (
            self.agent_embedding(self.agent_index).expand(batch, n, self.hidden_size)
            + self.observation_embedding(observation.squeeze(-1).long())
            + self.previous_action_embedding(previous_action)
        )
        if self.previous_message_embedding is not None:
            if previous_message is None:
                raise ValueError("protocol 'rial' needs previous_message")
            z = z + self.previous_message_embedding(previous_message)
        message = received_message.reshape(batch * n, -1)
        if self.message_norm is not None:
            message = self.message_norm(message, step)
        message = self.message_linear(message)
        if self.message_relu:
            message = torch.relu(message)
        out, hidden = self.rnn((z.reshape(batch * n, self.hidden_size) + message).unsqueeze(0), hidden)
        head = self.head_linear(out.squeeze(0))
        if self.head_norm is not None:
            head = self.head_norm(head, step)
        head = self.head_out(torch.relu(head)).reshape(batch, n, -1)
        return head[..., : self.n_actions], head[..., self.n_actions :], hidden
