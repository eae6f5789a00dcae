"""RIAL / DIAL learner: unroll whole batched episodes of the switch riddle, then one Q-learning step.

One ``update`` is one epoch of the paper (and of the reference ports): play ``B`` episodes in
parallel with the shared C-Net (epsilon-greedy env actions; DIAL messages through the noisy DRU,
RIAL messages epsilon-greedy over their Q-values), take one RMSProp step on the recorded batch, and
copy the network into the target network every ``target_update_every`` epochs (TorchRL
``HardUpdate``). RIAL's action and message losses are one objective on one shared network, as in the
paper, so they are summed. ``evaluate`` plays greedy episodes with the hard channel and batch norm in
eval mode, and reports the return normalised by the oracle's on the same schedules.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.objectives import HardUpdate

from oppshape.envs.switch_game import TELL, SwitchGame, normalized_return, oracle_reward
from oppshape.learners.optim import clipped_step
from oppshape.modules.comm_net import CommNet
from oppshape.objectives.dial import DIALLoss
from oppshape.objectives.episode_td import alive_mask
from oppshape.objectives.rial import RIALLoss


def epsilon_greedy(values: torch.Tensor, mask: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Arg-max of ``values`` ``[..., K]`` over allowed entries, replaced with probability ``epsilon`` by a
    uniformly random allowed entry (vectorised over all leading dims)."""
    greedy = values.masked_fill(~mask, float("-inf")).argmax(dim=-1)
    if epsilon == 0.0:
        return greedy
    random_choice = torch.rand(values.shape, device=values.device).masked_fill(~mask, -1.0).argmax(dim=-1)
    explore = torch.rand(greedy.shape, device=values.device) < epsilon
    return torch.where(explore, random_choice, greedy)


class CommunicationLearner:
    """Trains a shared C-Net with a :class:`DIALLoss` or :class:`RIALLoss` on a :class:`SwitchGame`.

    Args:
        loss: the DIAL or RIAL loss (holds the network and its target parameters).
        env: training env; its ``num_envs`` is the batch of episodes per epoch (32 in the paper).
        test_env: env of the greedy test episodes.
        epsilon: exploration rate of env actions (and RIAL messages) in training.
        lr: RMSProp learning rate.
        momentum: RMSProp momentum.
        grad_clip: max global norm of the gradient.
        target_update_every: epochs between hard target-network updates.
    """

    def __init__(
        self,
        loss: DIALLoss | RIALLoss,
        env: SwitchGame,
        test_env: SwitchGame,
        *,
        epsilon: float = 0.05,
        lr: float = 5e-4,
        momentum: float = 0.05,
        grad_clip: float = 10.0,
        target_update_every: int = 100,
    ) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon={epsilon} must be in [0, 1]")
        if lr <= 0 or grad_clip <= 0:
            raise ValueError(f"lr={lr} and grad_clip={grad_clip} must be > 0")
        if target_update_every < 1:
            raise ValueError(f"target_update_every={target_update_every} must be >= 1")
        self.loss, self.env, self.test_env = loss, env, test_env
        self.network: CommNet = loss.value_network
        self.is_dial = isinstance(loss, DIALLoss)
        self.epsilon, self.grad_clip = epsilon, grad_clip
        self.optimizer = torch.optim.RMSprop(self.network.parameters(), lr=lr, momentum=momentum)
        # HardUpdate copies when its counter reaches the interval and then restarts from 0, i.e. every
        # interval + 1 calls; interval - 1 gives a copy after every `target_update_every` epochs
        self.target_updater = HardUpdate(loss, value_network_update_interval=target_update_every - 1)
        self.epochs = 0

    def rollout(self, env: SwitchGame, explore: bool) -> TensorDict:
        """Play one batch of episodes; returns the ``[B, T]`` trajectory (TorchRL rollout layout).

        With ``explore`` (training) the unroll records the autograd graph and stores the Q-values
        under ``("agents", "action_value")`` (RIAL: also ``"message_value"``) for the loss; DIAL
        messages are ``DRU(m)`` with the drawn noise kept under ``("agents", "message_noise")``, and
        the env routes them with differentiable ops, so the graph crosses the channel (Algorithm 1).
        Without ``explore``: greedy, no graph, and whatever channel mode the DRU is in.
        """
        net = self.network
        batch, n = env.batch_size[0], env.n_agents
        epsilon = self.epsilon if explore else 0.0
        with torch.set_grad_enabled(explore):
            td = env.reset()
            hidden = net.initial_hidden(batch)
            previous_action = torch.zeros(batch, n, dtype=torch.long, device=env.device)
            previous_message = torch.zeros_like(previous_action)
            steps = []
            for day in range(env.days):
                agents = td["agents"]
                q_u, message_out, hidden = net(
                    agents["observation"], agents["received_message"], previous_action, hidden, previous_message, day
                )
                mask = agents["action_mask"]
                action = epsilon_greedy(q_u.detach(), mask, epsilon)
                if self.is_dial:
                    noise = self.loss.dru.noise_like(message_out) if explore else None
                    agents["message"] = self.loss.dru(message_out, noise)
                    if explore:
                        agents["message_noise"] = noise
                else:
                    can_send = mask[..., TELL]  # the prisoner in the room: the one whose message is delivered
                    everything = torch.ones_like(message_out, dtype=torch.bool)
                    choice = epsilon_greedy(message_out.detach(), everything, epsilon)
                    message = torch.nn.functional.one_hot(choice, net.message_size).to(message_out.dtype)
                    agents["message"] = message * can_send.unsqueeze(-1)
                    previous_message = torch.where(can_send, choice + 1, torch.zeros_like(choice))
                    if explore:
                        agents["message_value"] = message_out
                if explore:
                    agents["action_value"] = q_u
                agents["action"] = action
                previous_action = action + 1
                td = env.step(td)
                steps.append(td)
                if td["next", "done"].all():
                    break
                td = td["next"].exclude(("agents", "reward"))
            return torch.stack(steps, dim=1)

    @staticmethod
    def episode_stats(trajectory: TensorDictBase, n_agents: int) -> dict[str, float]:
        """Mean return, oracle return, normalised return (reference formula) and mean episode length."""
        alive = alive_mask(trajectory["next", "done"]).squeeze(-1)  # [B, T]
        returns = (trajectory["next", "agents", "reward"][..., 0, 0] * alive).sum(dim=1)
        oracle = oracle_reward(trajectory["schedule"][:, 0], n_agents)
        return {
            "reward": returns.mean().item(),
            "oracle_reward": oracle.mean().item(),
            "reward_normalized": normalized_return(returns, oracle).item(),
            "episode_days": alive.sum(dim=1).mean().item(),
        }

    def _set_training(self, training: bool) -> None:
        """Train or eval mode for the network (batch norm) and the channel (DRU); the loss keeps the
        network outside its children, so ``loss.train()`` alone would not reach it."""
        self.network.train(training)
        self.loss.train(training)

    def update(self, batch: TensorDictBase | None = None) -> dict[str, float]:
        """One epoch: roll out ``B`` episodes (or take the given recorded ``[B, T]`` batch), one RMSProp
        step on their TD loss, and a target-network copy every ``target_update_every`` epochs."""
        self._set_training(True)
        trajectory = self.rollout(self.env, explore=True) if batch is None else batch
        losses = self.loss(trajectory)
        total = losses["loss_action"] + (losses["loss_message"] if "loss_message" in losses.keys() else 0.0)
        grad_norm = clipped_step(self.optimizer, self.network.parameters(), total, self.grad_clip)
        self.target_updater.step()
        self.epochs += 1
        stats = self.episode_stats(trajectory, self.env.n_agents)
        metrics = {key: value.item() for key, value in losses.items()}
        metrics.update({f"train_{key}": value for key, value in stats.items()})
        metrics["grad_norm"] = grad_norm.item()
        return metrics

    def evaluate(self) -> dict[str, float]:
        """Greedy test episodes: hard DRU threshold at logit 0, batch norm with running statistics."""
        self._set_training(False)
        try:
            trajectory = self.rollout(self.test_env, explore=False)
        finally:
            self._set_training(True)
        return {f"test_{key}": value for key, value in self.episode_stats(trajectory, self.test_env.n_agents).items()}

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
