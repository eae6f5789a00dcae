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
from tensordict import TensorDict, TensorDictBase, TensorDictParams
from tensordict.utils import NestedKey
from torchrl.objectives import LossModule

from oppshape.modules.comm_net import CommNet
from oppshape.objectives.episode_td import alive_mask, masked_max, one_step_targets, previous_index


class RIALLoss(LossModule):
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
        >>> # trajectory: a [B, T] rollout of oppshape.envs.switch_game.SwitchGame (see CommunicationLearner)
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

    value_network: CommNet
    value_network_params: TensorDictParams
    target_value_network_params: TensorDictParams

    def __init__(self, network: CommNet, *, gamma: float = 1.0) -> None:
        if network.protocol != "rial":
            raise ValueError(f"RIALLoss needs a CommNet with protocol='rial', got {network.protocol!r}")
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma={gamma} must be in [0, 1]")
        super().__init__()
        self.convert_to_functional(network, "value_network", create_target_params=True)
        self.gamma = gamma

    def _forward_value_estimator_keys(self, **kwargs) -> None:
        """No TorchRL value estimator: targets come from a target-network unroll."""

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
        if q_u is None or q_m is None:
            with self.value_network_params.to_module(self.value_network):
                q_u, q_m = self.unroll(*inputs)
        with torch.no_grad(), self.target_value_network_params.to_module(self.value_network):
            target_q_u, target_q_m = self.unroll(*inputs)
            action_value = masked_max(target_q_u, tensordict.get(keys.action_mask))
            message_value = torch.where(sent, target_q_m.amax(dim=-1), action_value)
            next_value = 0.5 * (action_value + message_value)
        reward = tensordict.get(("next", keys.reward)).squeeze(-1)
        target = one_step_targets(reward, tensordict.get(("next", keys.terminated)), next_value, self.gamma)
        alive = alive_mask(tensordict.get(("next", keys.done)))
        q_taken = q_u.gather(-1, action.unsqueeze(-1)).squeeze(-1)
        message_taken = q_m.gather(-1, message_index.unsqueeze(-1)).squeeze(-1)
        action_error = (target - q_taken) * alive
        message_error = (target - message_taken) * alive * sent
        batch, _, n = action.shape
        alive_count = alive.sum().clamp_min(1) * n
        return TensorDict(
            {
                "loss_action": action_error.pow(2).sum() / (batch * n),
                "loss_message": message_error.pow(2).sum() / (batch * n),
                "q_taken": ((q_taken * alive).sum() / alive_count).detach(),
                "td_error_abs": (action_error.abs().sum() / alive_count).detach(),
            },
            batch_size=[],
        )
