"""The Advantage Alignment learner: two agents, each stepping only its own actor and critic.

One iteration (paper, Sec. 4 and its Algorithm): play a batch of episodes of agent 1 against agent 2;
estimate each agent's GAE advantage with its own critic; give each agent the other's advantage as
``opponent_advantage`` (data, no graph); then, ``ppo_epochs`` times, take for each agent one Adam step
of its actor on ``loss_actor + loss_entropy`` and one of its critic on ``loss_critic``. Every network
has its own optimizer and its gradient is taken with ``torch.autograd.grad`` with respect to its own
parameters only, so no loss ever moves the other agent. With ``S`` seeds as ensemble members the
per-seed gradient clipping is exact (Adam is elementwise).
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase

from oppshape.learners.optim import clip_per_member
from oppshape.objectives.advantage_alignment import AdvantageAlignmentLoss

AGENTS = (0, 1)


class AdvantageAlignmentLearner:
    """Trains two agents (``losses[i]`` holds agent ``i``'s actor and critic) on the batches they play together.

    Args:
        losses: one :class:`AdvantageAlignmentLoss` per agent.

    Keyword Args:
        members: number of seeds ``S`` (the networks' ensemble size).
        actor_lr, critic_lr: Adam step sizes.
        max_grad_norm: per-seed global-norm clip of each network's gradient (0: off).
        ppo_epochs: gradient steps per agent and network on each batch.
    """

    def __init__(
        self,
        losses: tuple[AdvantageAlignmentLoss, AdvantageAlignmentLoss],
        *,
        members: int,
        actor_lr: float,
        critic_lr: float,
        max_grad_norm: float,
        ppo_epochs: int,
    ) -> None:
        self.losses, self.members = losses, members
        self.max_grad_norm, self.ppo_epochs = max_grad_norm, ppo_epochs
        self.actor_params = [list(loss.actor_network_params.values(True, True)) for loss in losses]
        self.critic_params = [list(loss.critic_network_params.values(True, True)) for loss in losses]
        self.actor_optimizers = [torch.optim.Adam(params, lr=actor_lr) for params in self.actor_params]
        self.critic_optimizers = [torch.optim.Adam(params, lr=critic_lr) for params in self.critic_params]
        self.iteration = 0

    def _step(
        self, objective: torch.Tensor, params: list[torch.Tensor], optimizer: torch.optim.Optimizer
    ) -> torch.Tensor:
        """One clipped Adam step of ``params`` on ``objective`` (the actor and critic graphs are disjoint)."""
        # the loss averages over seeds; times S gives each seed the gradient of its own mean
        grads = list(torch.autograd.grad(objective * self.members, params))
        norms = clip_per_member(grads, self.max_grad_norm)
        for param, grad in zip(params, grads):
            param.grad = grad
        optimizer.step()
        return norms

    def update(self, batch: TensorDictBase | None) -> dict[str, float]:
        """One update of both agents from a ``[2, S, B, T]`` batch (``rollouts.advantage_alignment``)."""
        if batch is None:
            raise ValueError("AdvantageAlignmentLearner.update needs a batch from collect(); got None")
        views = [batch[i].clone() for i in AGENTS]
        for agent in AGENTS:
            self.losses[agent].estimate_advantage(views[agent])
        for agent in AGENTS:
            views[agent].set("opponent_advantage", views[1 - agent].get("advantage").clone())
        metrics: dict[str, float] = {}
        for _ in range(self.ppo_epochs):
            for agent in AGENTS:
                out = self.losses[agent](views[agent])
                actor_norm = self._step(out["loss_actor"] + out["loss_entropy"], self.actor_params[agent],
                                        self.actor_optimizers[agent])
                critic_norm = self._step(out["loss_critic"], self.critic_params[agent], self.critic_optimizers[agent])
                metrics.update({f"{key}_agent{agent + 1}": float(value.detach()) for key, value in out.items()})
                metrics[f"actor_grad_norm_agent{agent + 1}"] = float(actor_norm.mean())
                metrics[f"critic_grad_norm_agent{agent + 1}"] = float(critic_norm.mean())
        self.iteration += 1
        for key in ("loss_actor", "loss_critic", "loss_entropy"):
            metrics[key] = sum(metrics[f"{key}_agent{agent + 1}"] for agent in AGENTS)
        reward = batch["next", "reward"].float()
        metrics["reward_per_step"] = float(reward.mean())
        metrics.update({f"reward_per_step_agent{agent + 1}": float(reward[agent].mean()) for agent in AGENTS})
        return metrics

    def state_dict(self) -> dict[str, Any]:
        """``agents``: per agent ``{"actor", "critic", "actor_optimizer", "critic_optimizer"}``; ``iteration``."""
        return {
            "iteration": self.iteration,
            "agents": [
                {
                    "actor": loss.actor_network_params.state_dict(),
                    "critic": loss.critic_network_params.state_dict(),
                    "actor_optimizer": self.actor_optimizers[agent].state_dict(),
                    "critic_optimizer": self.critic_optimizers[agent].state_dict(),
                }
                for agent, loss in enumerate(self.losses)
            ],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.iteration = int(state["iteration"])
        for agent, (loss, saved) in enumerate(zip(self.losses, state["agents"])):
            loss.actor_network_params.load_state_dict(saved["actor"])
            loss.critic_network_params.load_state_dict(saved["critic"])
            self.actor_optimizers[agent].load_state_dict(saved["actor_optimizer"])
            self.critic_optimizers[agent].load_state_dict(saved["critic_optimizer"])
