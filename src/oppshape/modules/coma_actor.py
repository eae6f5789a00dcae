"""COMA's decentralised actors: MLP or per-agent GRU bodies and the epsilon-bounded softmax head.

Foerster et al., "Counterfactual Multi-Agent Policy Gradients" (AAAI 2018), Sec. 5 ("Architecture &
Training"): each agent's policy is a GRU over its action-observation history; exploration mixes the
softmax with a uniform distribution, ``pi = (1 - eps) softmax(z) + eps / |U|``, with ``eps`` annealed
linearly (0.5 -> 0.02). The loss differentiates through this mixed policy, so the head is part of the actor.

Why our own GRU: TorchRL's ``GRUModule`` does not accept an agent dimension, and per-agent (unshared)
parameters need a batched-weight cell; :class:`MultiAgentGRU` is a ``GRUCell`` whose weights carry a leading
``[n_param_sets]`` dim, unrolled over time with a reset wherever ``is_init`` is set.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule, TensorDictModuleBase, TensorDictSequential
from tensordict.utils import NestedKey
from torch import nn
from torch.distributions import Categorical
from torchrl.data import Composite, Unbounded
from torchrl.envs import TensorDictPrimer
from torchrl.modules import MultiAgentMLP, ProbabilisticActor
from torchrl.modules.tensordict_module.rnn import recurrent_mode


class EpsilonSoftmax(nn.Module):
    """``pi = (1 - eps) * softmax(logits) + eps / n_available`` over the available actions (COMA Sec. 5).

    ``eps`` anneals linearly from ``eps_init`` to ``eps_end`` over ``annealing_frames`` frames; call
    :meth:`step` with the number of new frames after every collection. Unavailable actions (``mask``
    False) get probability exactly 0. Both ``epsilon`` and the frame counter are buffers, so they move
    with ``.to(device)`` and are restored by ``load_state_dict``.
    """

    def __init__(
        self,
        *,
        eps_init: float = 0.5,
        eps_end: float = 0.02,
        annealing_frames: int = 100_000,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= eps_end <= eps_init <= 1.0:
            raise ValueError(f"need 0 <= eps_end <= eps_init <= 1, got eps_init={eps_init}, eps_end={eps_end}")
        if annealing_frames < 1:
            raise ValueError(f"annealing_frames must be >= 1, got {annealing_frames}")
        self.eps_init = eps_init
        self.eps_end = eps_end
        self.annealing_frames = annealing_frames
        self.register_buffer("epsilon", torch.tensor(eps_init, device=device))
        self.register_buffer("frames", torch.zeros((), dtype=torch.long, device=device))

    def schedule(self, frames: int) -> float:
        """The linearly annealed epsilon after ``frames`` frames."""
        fraction = min(frames / self.annealing_frames, 1.0)
        return self.eps_init + fraction * (self.eps_end - self.eps_init)

    def step(self, frames: int) -> None:
        """Advance the schedule by ``frames`` collected frames."""
        self.frames.add_(frames)
        self.epsilon.fill_(self.schedule(int(self.frames)))

    def forward(self, logits: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            return (1 - self.epsilon) * torch.softmax(logits, -1) + self.epsilon / logits.shape[-1]
        mask = mask.bool()
        logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
        n_available = mask.sum(-1, keepdim=True).clamp_min(1)
        softmax = torch.softmax(logits, -1) * mask
        return (1 - self.epsilon) * softmax + self.epsilon * mask / n_available


class _AgentLinear(nn.Module):
    """``y[..., a, :] = W_a x[..., a, :] + b_a`` with one weight set per agent, or one shared set."""

    def __init__(self, in_features: int, out_features: int, n_param_sets: int, device=None) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(n_param_sets, out_features, in_features, device=device))
        self.bias = nn.Parameter(torch.empty(n_param_sets, out_features, device=device))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.weight.shape[0] == 1:
            return F.linear(x, self.weight[0], self.bias[0])
        return torch.einsum("...ai,aoi->...ao", x, self.weight) + self.bias


class MultiAgentGRU(TensorDictModuleBase):
    """Per-agent recurrent policy body ``obs -> ReLU(fc) -> GRUCell -> logits`` (pymarl's RNN agent).

    Keys: reads ``observation_key`` ``[*B, n, O]``, ``hidden_key`` ``[*B, n, H]`` and ``"is_init"``
    ``[*B, 1]``; writes ``logits_key`` ``[*B, n, A]`` and ``("next", hidden_key)``.

    Outside recurrent mode every batch element is one step. Inside
    ``torchrl.modules.set_recurrent_mode(True)`` (which every TorchRL ``LossModule.forward`` sets) the last
    batch dim is time: the hidden state of the first step is read, the cell is unrolled over time, and the
    state is zeroed wherever ``is_init`` is True, so parallel envs whose episodes end at different times
    are handled in one batch.
    """

    def __init__(
        self,
        *,
        n_agents: int,
        observation_dim: int,
        n_actions: int,
        hidden_size: int = 64,
        share_params: bool = True,
        observation_key: NestedKey = ("agents", "observation"),
        hidden_key: NestedKey = ("agents", "rnn_hidden"),
        logits_key: NestedKey = ("agents", "logits"),
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        n_sets = 1 if share_params else n_agents
        self.n_agents = n_agents
        self.hidden_size = hidden_size
        self.hidden_key = hidden_key
        self.in_keys = [observation_key, hidden_key, "is_init"]
        self.out_keys = [logits_key, ("next", *_as_tuple(hidden_key))]
        self.encoder = _AgentLinear(observation_dim, hidden_size, n_sets, device)
        self.input_gates = _AgentLinear(hidden_size, 3 * hidden_size, n_sets, device)
        self.hidden_gates = _AgentLinear(hidden_size, 3 * hidden_size, n_sets, device)
        self.head = _AgentLinear(hidden_size, n_actions, n_sets, device)

    def cell(self, x: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        """One GRU step (same gate equations as ``torch.nn.GRUCell``) for ``[*B, n, H]`` tensors."""
        r_i, z_i, n_i = self.input_gates(x).chunk(3, -1)
        r_h, z_h, n_h = self.hidden_gates(hidden).chunk(3, -1)
        reset = torch.sigmoid(r_i + r_h)
        update = torch.sigmoid(z_i + z_h)
        candidate = torch.tanh(n_i + reset * n_h)
        return (1 - update) * candidate + update * hidden

    def forward(self, tensordict: TensorDictBase) -> TensorDictBase:
        observation_key, hidden_key, is_init_key = self.in_keys
        observation = tensordict.get(observation_key)
        hidden = tensordict.get(hidden_key, None)
        if hidden is None:
            hidden = observation.new_zeros(*observation.shape[:-1], self.hidden_size)
        is_init = tensordict.get(is_init_key, None)
        if is_init is None:
            is_init = torch.zeros(*tensordict.batch_size, 1, dtype=torch.bool, device=observation.device)
        reset = is_init.unsqueeze(-1)  # [*B, 1, 1] broadcasts over agents and features
        features = torch.relu(self.encoder(observation))
        if recurrent_mode() and tensordict.batch_dims >= 1:
            time_dim = tensordict.batch_dims - 1
            h = hidden.select(time_dim, 0)
            outputs = []
            for t in range(observation.shape[time_dim]):
                h = torch.where(reset.select(time_dim, t), torch.zeros_like(h), h)
                h = self.cell(features.select(time_dim, t), h)
                outputs.append(h)
            next_hidden = torch.stack(outputs, time_dim)
        else:
            next_hidden = self.cell(features, torch.where(reset, torch.zeros_like(hidden), hidden))
        tensordict.set(self.out_keys[0], self.head(next_hidden))
        tensordict.set(self.out_keys[1], next_hidden)
        return tensordict

    def make_tensordict_primer(self) -> TensorDictPrimer:
        """Env transform that adds a zero hidden state ``[n, H]`` to every reset, as TorchRL's RNNs do."""
        spec = Unbounded(shape=(self.n_agents, self.hidden_size))
        return TensorDictPrimer(Composite({self.hidden_key: spec}), expand_specs=True)


def _as_tuple(key: NestedKey) -> tuple[str, ...]:
    return key if isinstance(key, tuple) else (key,)


def make_coma_actor(
    *,
    n_agents: int,
    observation_dim: int,
    n_actions: int,
    recurrent: bool = False,
    share_params: bool = True,
    hidden_size: int = 64,
    eps_init: float = 0.5,
    eps_end: float = 0.02,
    annealing_frames: int = 100_000,
    observation_key: NestedKey = ("agents", "observation"),
    action_key: NestedKey = ("agents", "action"),
    action_mask_key: NestedKey | None = None,
    probs_key: NestedKey = ("agents", "probs"),
    device: torch.device | str | None = None,
) -> ProbabilisticActor:
    """A COMA policy: body (2-layer MLP or :class:`MultiAgentGRU`) -> :class:`EpsilonSoftmax` -> Categorical.

    The actor writes ``probs_key`` (the epsilon-bounded policy that COMALoss differentiates) and samples
    ``action_key``; in deterministic exploration mode it takes the most likely action. For the recurrent
    body, add ``actor_body(actor).make_tensordict_primer()`` and ``InitTracker()`` to the env.
    """
    logits_key = (*_as_tuple(probs_key)[:-1], "logits")
    if recurrent:
        body: TensorDictModuleBase = MultiAgentGRU(
            n_agents=n_agents,
            observation_dim=observation_dim,
            n_actions=n_actions,
            hidden_size=hidden_size,
            share_params=share_params,
            observation_key=observation_key,
            logits_key=logits_key,
            device=device,
        )
    else:
        mlp = MultiAgentMLP(
            n_agent_inputs=observation_dim,
            n_agent_outputs=n_actions,
            n_agents=n_agents,
            centralized=False,
            share_params=share_params,
            depth=2,
            num_cells=hidden_size,
            activation_class=nn.ReLU,
            device=device,
        )
        body = TensorDictModule(mlp, in_keys=[observation_key], out_keys=[logits_key])
    head_in_keys = [logits_key] + ([action_mask_key] if action_mask_key is not None else [])
    head = TensorDictModule(
        EpsilonSoftmax(eps_init=eps_init, eps_end=eps_end, annealing_frames=annealing_frames, device=device),
        in_keys=head_in_keys,
        out_keys=[probs_key],
    )
    return ProbabilisticActor(
        TensorDictSequential(body, head),
        in_keys={"probs": probs_key},
        out_keys=[action_key],
        distribution_class=Categorical,
        distribution_kwargs={"validate_args": False},
    )


def epsilon_head(actor: nn.Module) -> EpsilonSoftmax:
    """The :class:`EpsilonSoftmax` inside an actor built by :func:`make_coma_actor` (to call ``step``)."""
    heads = [m for m in actor.modules() if isinstance(m, EpsilonSoftmax)]
    if len(heads) != 1:
        raise ValueError(f"expected exactly one EpsilonSoftmax in the actor, found {len(heads)}")
    return heads[0]


def actor_body(actor: nn.Module) -> MultiAgentGRU:
    """The :class:`MultiAgentGRU` of a recurrent actor (for its ``make_tensordict_primer``)."""
    bodies = [m for m in actor.modules() if isinstance(m, MultiAgentGRU)]
    if len(bodies) != 1:
        raise ValueError(f"expected exactly one MultiAgentGRU in the actor, found {len(bodies)}")
    return bodies[0]
