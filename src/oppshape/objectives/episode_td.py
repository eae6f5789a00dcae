"""What the RIAL and DIAL losses share: one-step Q-learning of a C-Net over whole batched episodes.

Trajectories are ``[B, T, ...]`` TensorDicts in TorchRL's rollout layout (current step at the root,
reward and done under ``"next"``); a batch element whose episode ended before ``T`` is padded with
steps that these helpers mask out. :class:`EpisodeQLoss` is the base of both losses: the online and
target copies of the network, their unrolls over the recorded episodes, and the TD targets.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from tensordict import TensorDictBase, TensorDictParams
from torchrl.objectives import LossModule

from oppshape.modules.comm_net import CommNet

Unrolled = torch.Tensor | tuple[torch.Tensor, ...]


def alive_mask(done: torch.Tensor) -> torch.Tensor:
    """``[B, T, 1]`` float: 1 for steps taken before (and including) the first ``done`` of each episode."""
    done = done.to(torch.float32)
    return ((done.cumsum(dim=1) - done) == 0).to(torch.float32)


def previous_index(index: torch.Tensor, taken: torch.Tensor | None = None) -> torch.Tensor:
    """Shift ``[B, T, n]`` choices one step later as embedding indices: 0 on step 0 (or when nothing was
    ``taken``), else ``1 + index`` of the step before."""
    shifted = index + 1 if taken is None else torch.where(taken, index + 1, torch.zeros_like(index))
    return torch.cat([torch.zeros_like(shifted[:, :1]), shifted[:, :-1]], dim=1)


def masked_max(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max over the last dim among the entries where ``mask`` is True (every row has at least one)."""
    return values.masked_fill(~mask, float("-inf")).amax(dim=-1)


def one_step_targets(
    reward: torch.Tensor, terminated: torch.Tensor, next_value: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Q-learning targets ``y_t = r_t + gamma * (1 - terminated_t) * V_{t+1}`` (DQN; paper eq. for RIAL).

    Args:
        reward: ``[B, T, n]``.
        terminated: ``[B, T, 1]``.
        next_value: ``[B, T, n]``, the target network's ``V`` at each step; ``V_T`` is taken as 0, so
            the last step of a trajectory must be terminal (the switch riddle's last day is).
    """
    shifted = torch.cat([next_value[:, 1:], torch.zeros_like(next_value[:, :1])], dim=1)
    return reward + gamma * (1.0 - terminated.to(reward.dtype)) * shifted


def taken_value(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``[B, T, n]`` value of the choice taken: ``values[..., index]`` from ``[B, T, n, K]`` values."""
    return values.gather(-1, index.unsqueeze(-1)).squeeze(-1)


def summed_squared_error(td_error: torch.Tensor) -> torch.Tensor:
    """``sum_{b,t,i} delta^2 / (B * n)`` of masked TD errors ``[B, T, n]``: each episode's summed squared
    error, averaged over episodes and agents."""
    batch, _, n = td_error.shape
    return td_error.pow(2).sum() / (batch * n)


def action_td_loss(target: torch.Tensor, q_taken: torch.Tensor, alive: torch.Tensor) -> dict[str, torch.Tensor]:
    """``loss_action`` ``= sum (y - Q(h, u))^2 / (B * n)`` over the ``alive`` steps, with the detached
    diagnostics ``q_taken`` and ``td_error_abs`` (means over alive agent-steps).

    Args:
        target: ``[B, T, n]`` targets ``y``.
        q_taken: ``[B, T, n]`` Q-values of the env actions taken.
        alive: ``[B, T, 1]`` :func:`alive_mask`.
    """
    td_error = (target - q_taken) * alive
    alive_count = alive.sum().clamp_min(1) * q_taken.shape[-1]
    return {
        "loss_action": summed_squared_error(td_error),
        "q_taken": ((q_taken * alive).sum() / alive_count).detach(),
        "td_error_abs": (td_error.abs().sum() / alive_count).detach(),
    }


class EpisodeQLoss(LossModule):
    """Base of :class:`~oppshape.objectives.dial.DIALLoss` and :class:`~oppshape.objectives.rial.RIALLoss`:
    one-step Q-learning (DQN) of a shared :class:`~oppshape.modules.comm_net.CommNet` over ``[B, T]``
    episodes, against a target copy of the network.

    A subclass sets ``protocol``, declares ``_AcceptedKeys`` (with ``reward``, ``done`` and
    ``terminated``, read under ``"next"``) and defines ``unroll``: its network's step-by-step pass over
    the recorded episode, which differs between the two (DIAL feeds each step's messages through the
    DRU into the next step; RIAL reads the received messages from the trajectory).

    Args:
        network: a CommNet with the subclass's ``protocol``.

    Keyword Args:
        gamma: discount in ``[0, 1]``.
    """

    protocol: ClassVar[str]
    value_network: CommNet
    value_network_params: TensorDictParams
    target_value_network_params: TensorDictParams

    def __init__(self, network: CommNet, *, gamma: float) -> None:
        if network.protocol != self.protocol:
            raise ValueError(
                f"{type(self).__name__} needs a CommNet with protocol={self.protocol!r}, got {network.protocol!r}"
            )
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma={gamma} must be in [0, 1]")
        super().__init__()
        self.convert_to_functional(network, "value_network", create_target_params=True)
        self.gamma = gamma

    def _forward_value_estimator_keys(self, **kwargs) -> None:
        """No TorchRL value estimator: targets come from a target-network unroll."""

    def unroll(self, *inputs: torch.Tensor) -> Unrolled:
        """The network's Q-values over ``[B, T]`` episode inputs with its current parameters."""
        raise NotImplementedError(f"{type(self).__name__} must define unroll")

    def online_and_target(
        self, recorded: Unrolled | None, inputs: tuple[torch.Tensor, ...]
    ) -> tuple[Unrolled, Unrolled]:
        """``(online, target)`` Q-values over the episodes.

        ``online`` is ``recorded`` (what a learner that unrolled with gradients enabled handed in, with its
        graph) or else a re-unroll with the online parameters; ``target`` is the target parameters'
        unroll, without gradient.
        """
        online = recorded
        if online is None:
            with self.value_network_params.to_module(self.value_network):
                online = self.unroll(*inputs)
        with torch.no_grad(), self.target_value_network_params.to_module(self.value_network):
            target = self.unroll(*inputs)
        return online, target

    def targets(self, tensordict: TensorDictBase, next_value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y [B, T, n], alive [B, T, 1])``: :func:`one_step_targets` from the trajectory's reward
        ``[B, T, n, 1]`` and ``terminated``, and :func:`alive_mask` of its ``done``."""
        keys = self.tensor_keys
        reward = tensordict.get(("next", keys.reward)).squeeze(-1)
        target = one_step_targets(reward, tensordict.get(("next", keys.terminated)), next_value, self.gamma)
        return target, alive_mask(tensordict.get(("next", keys.done)))
