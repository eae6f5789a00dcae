"""RIAL: reinforced inter-agent learning (Foerster et al. 2016, Sec. 4).

Messages are discrete actions: the shared C-Net outputs Q-values for env actions (``Q_u``) and for
messages (``Q_m``), and both are learned by independent one-step Q-learning against a target network
(DQN with parameter sharing). No gradient crosses the channel; a received message is an observation.
A learner that unrolled the episode with gradients enabled may hand its Q-values in under
``("agents", "action_value")`` and ``("agents", "message_value")``; otherwise the loss re-unrolls.
As in the authors' code (``model_avg_q``), both heads bootstrap from the same next-step value
``V' = (max_u Q_u' + max_m Q_m') / 2``, where an agent that cannot send at the next step (not in the
room) has no message choice and uses ``max_u Q_u'`` for both halves.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tensordict import TensorDict, TensorDictBase
from tensordict.utils import NestedKey

from oppshape.modules.comm_net import CommNet
from oppshape.objectives.episode_td import (
    EpisodeQLoss,
    action_td_loss,
    masked_max,
    previous_index,
    summed_squared_error,
    taken_value,
)


class RIALLoss(EpisodeQLoss):
    """RIAL loss on a batch of whole episodes ``[B, T]``.

    Args:
        network: a :class:`~oppshape.modules.comm_net.CommNet` with ``protocol="rial"``; its
            ``message_size`` is the number of discrete messages, sent one-hot.

    Keyword Args:
        gamma: discount (1 in the switch riddle).

    Returns ``loss_action`` ``= sum (y - Q_u(h, u))^2 / (B * n)`` and ``loss_message``
    ``= sum (y - Q_m(h, m))^2 / (B * n)`` (the latter over the steps where the agent sent a message),
    both over steps up to each episode's end, plus detached ``q_taken`` and ``td_error_abs``.

    Example:
        >>> net = CommNet(n_agents=3, protocol="rial", message_size=2, max_steps=6)
        >>> loss = RIALLoss(net)
        >>> # trajectory: a [B, T] switch-riddle rollout (oppshape.rollouts.communication.play_episodes)
        >>> out = loss(trajectory)  # doctest: +SKIP
        >>> (out["loss_action"] + out["loss_message"]).backward()  # doctest: +SKIP
    """

    @dataclass
    class _AcceptedKeys:
        """Trajectory keys; ``reward``, ``done`` and ``terminated`` are read under ``"next"``.

        Attributes:
            observation: ``[B, T, n, 1]`` discrete observation.
            received_message: ``[B, T, n, K]`` message each agent received at step ``t``.
            action: ``[B, T, n]`` env action taken.
            action_value: optional ``[B, T, n, A]`` ``Q_u`` of this loss's network, with their graph.
            message_value: optional ``[B, T, n, K]`` ``Q_m`` of this loss's network, with their graph.
            action_mask: ``[B, T, n, A]`` allowed env actions.
            message: ``[B, T, n, K]`` one-hot message sent (all zeros where the agent could not send).
            reward: ``[B, T, n, 1]``.
            done: ``[B, T, 1]``.
            terminated: ``[B, T, 1]``.
        """

        observation: NestedKey = ("agents", "observation")
        received_message: NestedKey = ("agents", "received_message")
        action: NestedKey = ("agents", "action")
        action_value: NestedKey = ("agents", "action_value")
        message_value: NestedKey = ("agents", "message_value")
        action_mask: NestedKey = ("agents", "action_mask")
        message: NestedKey = ("agents", "message")
        reward: NestedKey = ("agents", "reward")
        done: NestedKey = "done"
        terminated: NestedKey = "terminated"

    tensor_keys: _AcceptedKeys
    default_keys = _AcceptedKeys
    out_keys = ["loss_action", "loss_message", "q_taken", "td_error_abs"]
    protocol = "rial"

    def __init__(self, network: CommNet, *, gamma: float = 1.0) -> None:
        super().__init__(network, gamma=gamma)

    def unroll(
        self,
        observation: torch.Tensor,
        received_message: torch.Tensor,
        previous_action: torch.Tensor,
        previous_message: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(Q_u [B, T, n, A], Q_m [B, T, n, K])`` of the network's current parameters."""
        net: CommNet = self.value_network
        batch, steps, _ = previous_action.shape
        hidden = net.initial_hidden(batch)
        action_values, message_values = [], []
        for t in range(steps):
            q_u, q_m, hidden = net(
                observation[:, t],
                received_message[:, t],
                previous_action[:, t],
                hidden,
                previous_message[:, t],
                step=t,
            )
            action_values.append(q_u)
            message_values.append(q_m)
        return torch.stack(action_values, dim=1), torch.stack(message_values, dim=1)

    def forward(self, tensordict: TensorDictBase) -> TensorDict:
        """Independent Q-learning losses of env actions and messages (RIAL, Sec. 4)."""
        keys = self.tensor_keys
        action = tensordict.get(keys.action).long()
        message = tensordict.get(keys.message)
        sent = message.sum(dim=-1) > 0  # [B, T, n]
        message_index = message.argmax(dim=-1)
        inputs = (
            tensordict.get(keys.observation),
            tensordict.get(keys.received_message),
            previous_index(action),
            previous_index(message_index, sent),
        )
        q_u, q_m = tensordict.get(keys.action_value, None), tensordict.get(keys.message_value, None)
        recorded = None if q_u is None or q_m is None else (q_u, q_m)
        (q_u, q_m), (target_q_u, target_q_m) = self.online_and_target(recorded, inputs)
        action_value = masked_max(target_q_u, tensordict.get(keys.action_mask))
        message_value = torch.where(sent, target_q_m.amax(dim=-1), action_value)
        target, alive = self.targets(tensordict, 0.5 * (action_value + message_value))
        action_terms = action_td_loss(target, taken_value(q_u, action), alive)
        message_error = (target - taken_value(q_m, message_index)) * alive * sent
        return TensorDict(
            {
                "loss_action": action_terms["loss_action"],
                "loss_message": summed_squared_error(message_error),
                "q_taken": action_terms["q_taken"],
                "td_error_abs": action_terms["td_error_abs"],
            },
            batch_size=[],
        )
