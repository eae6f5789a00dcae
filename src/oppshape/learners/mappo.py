"""MAPPO / IPPO learner: TorchRL's ``MAPPOLoss`` / ``IPPOLoss`` (``ClipPPOLoss``) trained BenchMARL-style.

Yu et al. (2022) and de Witt et al. (2020): per batch, compute multi-agent GAE once, then run
``num_epochs`` passes of shuffled minibatches, with one optimiser for the actor loss group
(``loss_objective`` + ``loss_entropy``) and one for the critic (``loss_critic``), as BenchMARL does.
These are COMA's baselines; the only difference between them is the critic passed to the loss.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase
from torchrl.objectives import ClipPPOLoss

from oppshape.rollouts.episode_stats import episode_stats
from oppshape.learners.optim import clipped_step


class PPOLearner:
    """Clipped-PPO updates on one on-policy ``[envs, T]`` batch.

    Args:
        loss: a ``ClipPPOLoss`` (``MAPPOLoss`` / ``IPPOLoss``) whose value estimator is already made.
        lr: Adam step size of both groups.
        num_epochs: passes over the batch.
        minibatch_size: frames per gradient step (the batch is flattened over envs and time).
        max_grad_norm: gradient-norm clip per group.
    """

    def __init__(
        self,
        loss: ClipPPOLoss,
        *,
        lr: float,
        num_epochs: int,
        minibatch_size: int,
        max_grad_norm: float = 5.0,
    ) -> None:
        if num_epochs < 1 or minibatch_size < 1:
            raise ValueError(f"num_epochs and minibatch_size must be >= 1, got {num_epochs}, {minibatch_size}")
        self.loss = loss
        self.num_epochs = num_epochs
        self.minibatch_size = minibatch_size
        self.max_grad_norm = max_grad_norm
        self.actor_params = [p for p in loss.actor_network_params.values(True, True) if p.requires_grad]
        self.critic_params = [p for p in loss.critic_network_params.values(True, True) if p.requires_grad]
        self.actor_optimizer = torch.optim.Adam(self.actor_params, lr=lr)
        self.critic_optimizer = torch.optim.Adam(self.critic_params, lr=lr)
        self.frames = 0

    def _step(self, optimizer: torch.optim.Optimizer, params: list[torch.Tensor], loss: torch.Tensor) -> None:
        clipped_step(optimizer, params, loss, self.max_grad_norm)

    def update(self, batch: TensorDictBase) -> dict[str, float]:
        with torch.no_grad():
            self.loss.value_estimator(
                batch, params=self.loss.critic_network_params, target_params=self.loss.target_critic_network_params
            )
        flat = batch.reshape(-1)
        sums: dict[str, torch.Tensor] = {}
        steps = 0
        for _ in range(self.num_epochs):
            for index in torch.randperm(flat.numel(), device=flat.device).split(self.minibatch_size):
                losses = self.loss(flat[index])
                self._step(self.actor_optimizer, self.actor_params, losses["loss_objective"] + losses["loss_entropy"])
                self._step(self.critic_optimizer, self.critic_params, losses["loss_critic"])
                for key in ("loss_objective", "loss_critic", "loss_entropy", "entropy"):
                    sums[key] = sums.get(key, 0.0) + losses[key].detach()
                steps += 1
        self.frames += batch.numel()
        means = {key: float(value) / steps for key, value in sums.items()}
        return {**means, "frames": float(self.frames), **episode_stats(batch)}

    def state_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss.state_dict(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "frames": self.frames,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss.load_state_dict(state["loss"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.frames = state["frames"]
