"""COMA's centralised critic: one network, all of agent a's action values in one forward pass.

Foerster et al., "Counterfactual Multi-Agent Policy Gradients" (AAAI 2018), Sec. 4 and Fig. 1c: for agent
``a`` the critic reads the global state ``s``, agent ``a``'s own observation and one-hot id, and the other
agents' one-hot actions ``u^{-a}``, and outputs ``Q(s, (u^{-a}, u'_a))`` for every action ``u'_a`` of agent
``a``. The counterfactual baseline (COMA eq. 4) then needs no extra forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from tensordict.nn import TensorDictModule
from tensordict.utils import NestedKey
from torch import nn
from torchrl.modules import MLP


class COMACritic(nn.Module):
    """Agent-shared MLP ``Q_a(s, (u^{-a}, .))`` (COMA Fig. 1c), vectorised over batch and agents.

    The input row of agent ``a`` is laid out as (see :meth:`build_inputs`)::

        [ state (S) | observation_a (O) | one_hot(a) (n) | one_hot(u_b) for b != a, in order ((n-1) * A) ]

    where ``state`` is the environment's global state, or all agents' observations concatenated when the
    environment has no state (``state_dim=None``).

    Args:
        n_agents: number of agents ``n`` (at least 2: with one agent there is no counterfactual).
        n_actions: number of discrete actions ``A`` of every agent.
        observation_dim: size ``O`` of one agent's flat observation.
        state_dim: size ``S`` of the global state, or ``None`` to use the concatenated observations.
        num_cells: hidden layer sizes of the MLP (pymarl's COMA critic uses two layers of 128).
        activation_class: hidden activation.
        device: where to allocate parameters and buffers.
    """

    def __init__(
        self,
        *,
        n_agents: int,
        n_actions: int,
        observation_dim: int,
        state_dim: int | None = None,
        num_cells: Sequence[int] = (128, 128),
        activation_class: type[nn.Module] = nn.ReLU,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if n_agents < 2:
            raise ValueError(f"COMA needs n_agents >= 2, got n_agents={n_agents}")
        if n_actions < 2:
            raise ValueError(f"COMA needs n_actions >= 2, got n_actions={n_actions}")
        if observation_dim < 1:
            raise ValueError(f"observation_dim must be >= 1, got {observation_dim}")
        if state_dim is not None and state_dim < 1:
            raise ValueError(f"state_dim must be >= 1 or None (concatenated observations), got {state_dim}")
        self.n_agents = n_agents
        self.n_actions = n_actions
        self.observation_dim = observation_dim
        self.state_dim = state_dim
        global_dim = n_agents * observation_dim if state_dim is None else state_dim
        self.input_dim = global_dim + observation_dim + n_agents + (n_agents - 1) * n_actions
        # others[a] lists the agents b != a in increasing order: the slots of u^{-a} in the input row.
        others = torch.tensor([[b for b in range(n_agents) if b != a] for a in range(n_agents)], device=device)
        self.register_buffer("others", others, persistent=False)
        self.register_buffer("agent_ids", torch.eye(n_agents, device=device), persistent=False)
        self.mlp = MLP(
            in_features=self.input_dim,
            out_features=n_actions,
            num_cells=list(num_cells),
            activation_class=activation_class,
            device=device,
        )

    def build_inputs(
        self, observation: torch.Tensor, action: torch.Tensor, state: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per-agent critic inputs ``[*B, n, input_dim]``.

        Args:
            observation: ``[*B, n, O]`` every agent's observation.
            action: ``[*B, n]`` integer joint action (a trailing singleton dim is accepted).
            state: ``[*B, S]`` global state, required iff the critic was built with ``state_dim``.
        """
        if action.shape[-1:] == (1,) and action.dim() == observation.dim():
            action = action.squeeze(-1)
        if observation.shape[-2:] != (self.n_agents, self.observation_dim):
            raise ValueError(
                f"observation must end in (n_agents, observation_dim)=({self.n_agents}, {self.observation_dim}), "
                f"got shape {tuple(observation.shape)}"
            )
        if action.shape != observation.shape[:-1]:
            raise ValueError(
                f"action must have shape {tuple(observation.shape[:-1])} (batch, n_agents), got {tuple(action.shape)}"
            )
        batch_shape = observation.shape[:-2]
        if self.state_dim is None:
            if state is not None:
                raise ValueError("this critic was built with state_dim=None (concatenated observations); got a state")
            global_input = observation.flatten(-2)
        else:
            if state is None or state.shape != (*batch_shape, self.state_dim):
                got = None if state is None else tuple(state.shape)
                raise ValueError(f"state must have shape {(*batch_shape, self.state_dim)}, got {got}")
            global_input = state
        global_input = global_input.unsqueeze(-2).expand(*batch_shape, self.n_agents, global_input.shape[-1])
        one_hot = F.one_hot(action.long(), self.n_actions).to(observation.dtype)  # [*B, n, A]
        others = one_hot[..., self.others, :].flatten(-2)  # [*B, n, (n-1) * A]
        ids = self.agent_ids.to(observation.dtype).expand(*batch_shape, self.n_agents, self.n_agents)
        return torch.cat([global_input, observation, ids, others], dim=-1)

    def forward(
        self, observation: torch.Tensor, action: torch.Tensor, state: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``Q_a(s, (u^{-a}, u'))`` for every agent ``a`` and action ``u'``: ``[*B, n, A]``."""
        return self.mlp(self.build_inputs(observation, action, state))


def make_coma_critic(
    *,
    n_agents: int,
    n_actions: int,
    observation_dim: int,
    state_dim: int | None = None,
    num_cells: Sequence[int] = (128, 128),
    observation_key: NestedKey = ("agents", "observation"),
    action_key: NestedKey = ("agents", "action"),
    state_key: NestedKey = "state",
    out_key: NestedKey = ("agents", "action_value"),
    device: torch.device | str | None = None,
) -> TensorDictModule:
    """A :class:`COMACritic` reading TorchRL multi-agent keys and writing ``out_key`` ``[*B, n, A]``.

    ``state_key`` is read only when ``state_dim`` is given.
    """
    critic = COMACritic(
        n_agents=n_agents,
        n_actions=n_actions,
        observation_dim=observation_dim,
        state_dim=state_dim,
        num_cells=num_cells,
        device=device,
    )
    in_keys = [observation_key, action_key] + ([state_key] if state_dim is not None else [])
    return TensorDictModule(critic, in_keys=in_keys, out_keys=[out_key])
