"""The COMA learner: critic and actor steps on env chunks of each on-policy batch, target critic, epsilon.

Foerster et al. (AAAI 2018), Algorithm 1, vectorised: pymarl trains the critic once per time step of a
small batch of episodes; here a ``[envs, T]`` batch (or each of ``minibatches`` env chunks of it) is one
critic step (``critic_steps`` > 1 adds critic-only steps first) followed by one actor step, which uses the
advantages of the same forward pass, i.e. the critic before its step, as EPyMARL does. The target critic
follows by Polyak averaging (TorchRL's ``SoftUpdate``) after every step.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase
from torchrl.objectives import SoftUpdate

from oppshape.rollouts.episode_stats import episode_stats
from oppshape.learners.optim import clipped_step
from oppshape.modules.coma_actor import EpsilonSoftmax
from oppshape.objectives.coma import COMALoss


class COMALearner:
    """Turns collected ``[envs, T]`` batches into COMA updates (one optimiser per loss group, as BenchMARL).

    Args:
        loss: the :class:`COMALoss` (holds actor, critic and target critic parameters).
        epsilon: the actor's exploration head; advanced by the frames of every batch.
        actor_lr, critic_lr: Adam step sizes.
        max_grad_norm: gradient-norm clip per group (pymarl: 10).
        tau: Polyak step of the target critic per update.
        critic_steps: critic gradient steps per minibatch (>= 1); the extra ones come first.
        minibatches: the batch's envs are split into this many chunks, each giving one critic and one actor
            step in turn (1: one step on the whole batch). Every frame is still used once; later chunks were
            collected by a policy a few small steps older.
    """

    def __init__(
        self,
        loss: COMALoss,
        epsilon: EpsilonSoftmax,
        *,
        actor_lr: float,
        critic_lr: float,
        max_grad_norm: float = 10.0,
        tau: float = 0.01,
        critic_steps: int = 1,
        minibatches: int = 1,
    ) -> None:
        if critic_steps < 1 or minibatches < 1:
            raise ValueError(f"critic_steps and minibatches must be >= 1, got {critic_steps}, {minibatches}")
        self.loss = loss
        self.epsilon = epsilon
        self.max_grad_norm = max_grad_norm
        self.critic_steps = critic_steps
        self.minibatches = minibatches
        self.actor_params = list(loss.actor_network_params.values(True, True))
        self.actor_params = [p for p in self.actor_params if p.requires_grad]
        self.critic_params = [p for p in loss.critic_network_params.values(True, True) if p.requires_grad]
        self.actor_optimizer = torch.optim.Adam(self.actor_params, lr=actor_lr)
        self.critic_optimizer = torch.optim.Adam(self.critic_params, lr=critic_lr)
        self.target_updater = SoftUpdate(loss, tau=tau)
        self.frames = 0

    def _step(self, optimizer: torch.optim.Optimizer, params: list[torch.Tensor], loss: torch.Tensor) -> torch.Tensor:
        return clipped_step(optimizer, params, loss, self.max_grad_norm)

    def _update_chunk(self, chunk: TensorDictBase) -> dict[str, torch.Tensor]:
        for _ in range(self.critic_steps - 1):
            self._step(self.critic_optimizer, self.critic_params, self.loss.loss_critic(chunk))
        losses = self.loss(chunk)
        critic_norm = self._step(self.critic_optimizer, self.critic_params, losses["loss_critic"])
        actor_loss = sum(value for key, value in losses.items() if key.startswith("loss_") and key != "loss_critic")
        actor_norm = self._step(self.actor_optimizer, self.actor_params, actor_loss)
        self.target_updater.step()
        return {**{key: value.detach() for key, value in losses.items()}, "grad_norm_actor": actor_norm,
                "grad_norm_critic": critic_norm}

    def update(self, batch: TensorDictBase) -> dict[str, float]:
        """One pass over ``batch`` ``[envs, T]`` in ``minibatches`` chunks of whole env sequences."""
        chunk_size = -(-batch.shape[0] // self.minibatches)
        per_chunk = [self._update_chunk(chunk) for chunk in batch.split(chunk_size, dim=0)]
        metrics = {key: float(sum(m[key] for m in per_chunk)) / len(per_chunk) for key in per_chunk[0]}
        frames = batch.numel()
        self.frames += frames
        metrics.update(epsilon=float(self.epsilon.epsilon), frames=float(self.frames), **episode_stats(batch))
        self.epsilon.step(frames)
        return metrics

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
