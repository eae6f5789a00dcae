"""RIAL / DIAL learner: unroll whole batched episodes of the switch riddle, then one Q-learning step.

One ``update`` is one epoch of the paper (and of the reference ports): play ``num_envs`` episodes in
parallel with the shared C-Net (``rollouts.communication.play_episodes``: epsilon-greedy env actions;
DIAL messages through the noisy DRU, RIAL messages epsilon-greedy over their Q-values), take one RMSProp
step on the recorded batch, and copy the network into the target network every ``target_update_every``
epochs (TorchRL ``HardUpdate``). RIAL's action and message losses are one objective on one shared
network, as in the paper, so they are summed. The greedy test episodes are ``eval.communication``'s.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase
from torchrl.objectives import HardUpdate

from oppshape.config.communication import CommunicationConfig
from oppshape.envs.switch_game import SwitchGame
from oppshape.learners.optim import clipped_step
from oppshape.modules.comm_net import CommNet
from oppshape.modules.dru import DRU
from oppshape.objectives.dial import DIALLoss
from oppshape.objectives.rial import RIALLoss
from oppshape.rollouts.communication import episode_stats, play_episodes


class CommunicationLearner:
    """Trains a shared C-Net with a :class:`DIALLoss` or :class:`RIALLoss` on a :class:`SwitchGame`.

    Args:
        loss: the DIAL or RIAL loss (holds the network and its target parameters).
        env: training env; its batch is the ``num_envs`` episodes per epoch (32 in the paper).
        config: the algorithm's schema; reads ``epsilon``, ``lr``, ``momentum``, ``max_grad_norm`` and
            ``target_update_every``.
    """

    def __init__(self, loss: DIALLoss | RIALLoss, env: SwitchGame, config: CommunicationConfig) -> None:
        self.loss, self.env = loss, env
        self.network: CommNet = loss.value_network
        self.dru: DRU | None = loss.dru if isinstance(loss, DIALLoss) else None
        self.epsilon, self.max_grad_norm = config.epsilon, config.max_grad_norm
        self.optimizer = torch.optim.RMSprop(self.network.parameters(), lr=config.lr, momentum=config.momentum)
        # HardUpdate copies when its counter reaches the interval and then restarts from 0, i.e. every
        # interval + 1 calls; interval - 1 gives a copy after every `target_update_every` epochs
        self.target_updater = HardUpdate(loss, value_network_update_interval=config.target_update_every - 1)
        self.epochs = 0

    def set_training(self, training: bool) -> None:
        """Train or eval mode for the network (batch norm) and the channel (DRU); the loss keeps the
        network outside its children, so ``loss.train()`` alone would not reach it."""
        self.network.train(training)
        self.loss.train(training)

    def update(self, batch: TensorDictBase | None = None) -> dict[str, float]:
        """One epoch: roll out ``num_envs`` episodes (or take the given recorded ``[B, T]`` batch), one
        RMSProp step on their TD loss, and a target-network copy every ``target_update_every`` epochs."""
        self.set_training(True)
        if batch is None:
            batch = play_episodes(self.network, self.env, explore=True, epsilon=self.epsilon, dru=self.dru)
        losses = self.loss(batch)
        total = losses["loss_action"] + (losses["loss_message"] if "loss_message" in losses.keys() else 0.0)
        grad_norm = clipped_step(self.optimizer, self.network.parameters(), total, self.max_grad_norm)
        self.target_updater.step()
        self.epochs += 1
        metrics = {key: value.item() for key, value in losses.items()}
        metrics.update({f"train_{key}": value for key, value in episode_stats(batch, self.env.n_agents).items()})
        metrics["grad_norm"] = grad_norm.item()
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "target_updater": self.target_updater.state_dict(),
            "epochs": self.epochs,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss.load_state_dict(state["loss"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.target_updater.load_state_dict(state["target_updater"])
        self.epochs = int(state["epochs"])
