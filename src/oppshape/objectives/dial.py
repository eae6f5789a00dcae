"""DIAL: differentiable inter-agent learning (Foerster et al. 2016, Sec. 5 and Algorithm 1).

Every agent's message logit goes through the DRU, ``sigmoid(m + N(0, sigma^2))``, into the receivers'
networks on the next step, so the receivers' TD errors are backpropagated into the sender's
parameters (across agents and time). Env actions are learned by one-step Q-learning against a target
network (DQN). A learner that unrolled the episode with gradients enabled (messages routed by the
env, which is differentiable) hands its Q-values in under ``("agents", "action_value")``; otherwise
the loss re-unrolls the shared C-Net itself with the channel noise the rollout drew and the env's
``message_sources`` matrices, which reproduces the rollout's forward pass exactly. The target
network is always unrolled here, on its own messages through the same channel noise.

TorchRL's value estimators call the value network on ``("next", obs)`` one step at a time; here the
next step's value depends on a recurrent state and on messages the target network itself sends, so
the targets come from a full target-network unroll instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tensordict import TensorDict, TensorDictBase
from tensordict.utils import NestedKey

from oppshape.modules.comm_net import CommNet
from oppshape.modules.dru import DRU
from oppshape.objectives.episode_td import EpisodeQLoss, action_td_loss, masked_max, previous_index, taken_value


class DIALLoss(EpisodeQLoss):
    """DIAL loss on a batch of whole episodes ``[B, T]``.

    Args:
        network: a :class:`~oppshape.modules.comm_net.CommNet` with ``protocol="dial"``.

    Keyword Args:
        sigma: DRU noise standard deviation (2 in the paper); ``self.dru`` is the channel.
        dru_kind: ``"sigmoid"`` (independent bits) or ``"softmax"`` (one of ``message_size``).
        gamma: discount (1 in the switch riddle).

    Returns ``loss_action``: ``sum_{b,t,i} (y - Q(h, u))^2 / (B * n)`` over steps up to each episode's
    end, with ``y = r + gamma * max_{u' allowed} Q_target(h', u')``; the gradient of ``Q`` reaches the
    senders of every message that shaped ``h``. Also ``q_taken`` and ``td_error_abs`` (detached).

    Example:
        >>> net = CommNet(n_agents=3, protocol="dial", max_steps=6)
        >>> loss = DIALLoss(net, sigma=2.0)
        >>> # trajectory: a [B, T] switch-riddle rollout (oppshape.rollouts.communication.play_episodes)
        >>> loss(trajectory)["loss_action"].backward()  # doctest: +SKIP
    """

    @dataclass
    class _AcceptedKeys:
        """Trajectory keys; ``reward``, ``done`` and ``terminated`` are read under ``"next"``.

        Attributes:
            observation: ``[B, T, n, 1]`` discrete observation.
            action: ``[B, T, n]`` env action taken.
            action_value: optional ``[B, T, n, A]`` Q-values of this loss's network, with their graph.
            action_mask: ``[B, T, n, A]`` allowed env actions.
            message_noise: ``[B, T, n, M]`` DRU noise the rollout drew.
            message_sources: ``[B, T, n, n]`` who each agent heard at step ``t`` (from step ``t - 1``).
            reward: ``[B, T, n, 1]``.
            done: ``[B, T, 1]``.
            terminated: ``[B, T, 1]``.
        """

        observation: NestedKey = ("agents", "observation")
        action: NestedKey = ("agents", "action")
        action_value: NestedKey = ("agents", "action_value")
        action_mask: NestedKey = ("agents", "action_mask")
        message_noise: NestedKey = ("agents", "message_noise")
        message_sources: NestedKey = ("agents", "message_sources")
        reward: NestedKey = ("agents", "reward")
        done: NestedKey = "done"
        terminated: NestedKey = "terminated"

    tensor_keys: _AcceptedKeys
    default_keys = _AcceptedKeys
    out_keys = ["loss_action", "q_taken", "td_error_abs"]
    protocol = "dial"

    def __init__(
        self, network: CommNet, *, sigma: float = 2.0, dru_kind: str = "sigmoid", gamma: float = 1.0
    ) -> None:
        super().__init__(network, gamma=gamma)
        self.dru = DRU(sigma=sigma, kind=dru_kind)

    def unroll(
        self,
        observation: torch.Tensor,
        message_sources: torch.Tensor,
        message_noise: torch.Tensor,
        previous_action: torch.Tensor,
    ) -> torch.Tensor:
        """Q-values ``[B, T, n, A]`` of the network's current parameters, messages routed through the DRU.

        The received message at step ``t`` is ``message_sources[:, t] @ DRU(m_{t-1})``: differentiable,
        so the gradient reaches the sender (DIAL, Algorithm 1).
        """
        net: CommNet = self.value_network
        batch, steps, n = previous_action.shape
        hidden = net.initial_hidden(batch)
        sent = observation.new_zeros(batch, n, net.message_size)
        values = []
        for t in range(steps):
            received = message_sources[:, t] @ sent
            q, logits, hidden = net(observation[:, t], received, previous_action[:, t], hidden, step=t)
            sent = self.dru(logits, message_noise[:, t])
            values.append(q)
        return torch.stack(values, dim=1)

    def forward(self, tensordict: TensorDictBase) -> TensorDict:
        """TD loss of env actions over a ``[B, T]`` trajectory (DIAL, Algorithm 1)."""
        keys = self.tensor_keys
        action = tensordict.get(keys.action).long()
        inputs = (
            tensordict.get(keys.observation),
            tensordict.get(keys.message_sources),
            tensordict.get(keys.message_noise),
            previous_index(action),
        )
        q, target_q = self.online_and_target(tensordict.get(keys.action_value, None), inputs)
        target, alive = self.targets(tensordict, masked_max(target_q, tensordict.get(keys.action_mask)))
        return TensorDict(action_td_loss(target, taken_value(q, action), alive), batch_size=[])
