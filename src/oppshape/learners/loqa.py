"""The LOQA learner: self-play against past snapshots, an actor step with shaping, a Q step, an EMA.

One iteration (LOQA, Sec. 4, as in the authors' ``coin_train.py``): push the current parameters
into the snapshot buffer every ``snapshot_every`` iterations; play one episode per game of the batch
against an opponent sampled per episode from the buffer (or the current agent when the buffer is
off); then take one Adam step of the actor on ``loss_actor + loss_entropy + loss_shaping``
(gradient clipped by global norm), one Adam step of the Q-network on ``loss_qvalue`` and one soft
update of the target Q-network. Each parameter group gets its own gradient (``autograd.grad``), and
with ``S`` seeds batched as ensemble members the per-seed gradient and clipping are exact.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.envs import EnvBase
from torchrl.objectives import SoftUpdate

from oppshape.learners.optim import clip_per_member
from oppshape.objectives.loqa import LOQALoss
from oppshape.rollouts.loqa import NetworkPolicy, SeatPolicy, play_episodes
from oppshape.rollouts.loqa_snapshots import GroupBuckets, OpponentGroups, SnapshotBuffer


def member_snapshot(loss: LOQALoss) -> TensorDict:
    """The current actor and Q parameters, ``[S, ...]`` per leaf, batch size ``[S]`` (no graph)."""
    snapshot = TensorDict(
        {"actor": loss.actor_network_params.data.clone(), "qvalue": loss.qvalue_network_params.data.clone()},
        batch_size=[],
    )
    return snapshot.auto_batch_size_(batch_dims=1)


class LOQALearner:
    """Trains ``loss``'s actor and Q-network (``S`` ensemble members = seeds) by LOQA self-play.

    Args:
        env: a batched two-agent env with ``S * episodes_per_seed`` games (``("agents", ...)`` keys).
        loss: the :class:`~oppshape.objectives.loqa.LOQALoss` holding the networks.

    Keyword Args:
        members: number of seeds ``S`` (the networks' ensemble size).
        steps: episode length ``T``.
        actor_lr, qvalue_lr: Adam step sizes.
        max_grad_norm: per-seed global-norm clip of the actor gradient (0: off).
        target_ema: ``eps`` of ``SoftUpdate``, ``target <- eps * target + (1 - eps) * online``.
        snapshot_capacity: opponent buffer size; 0 plays the current agent (no buffer).
        snapshot_every: push period in iterations.
        epsilon: epsilon-greedy exploration of both seats during training.
    """

    def __init__(
        self,
        env: EnvBase,
        loss: LOQALoss,
        *,
        members: int,
        steps: int,
        actor_lr: float = 1e-3,
        qvalue_lr: float = 1e-2,
        max_grad_norm: float = 1.0,
        target_ema: float = 0.99,
        snapshot_capacity: int = 10000,
        snapshot_every: int = 10,
        epsilon: float = 0.0,
    ) -> None:
        games = env.batch_size[0]
        if members < 1 or games % members:
            raise ValueError(f"members={members} must be >= 1 and divide the env's {games} games")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon={epsilon} must lie in [0, 1]")
        if max_grad_norm < 0:
            raise ValueError(f"max_grad_norm={max_grad_norm} must be >= 0 (0 disables clipping)")
        self.env, self.loss = env, loss
        self.members, self.episodes, self.steps = members, games // members, steps
        self.max_grad_norm, self.epsilon = max_grad_norm, epsilon
        self.actor_params = list(loss.actor_network_params.values(True, True))
        self.qvalue_params = list(loss.qvalue_network_params.values(True, True))
        if loss.advantage_grad:  # the actor losses reach the Q-network through V: step it with them too
            self.actor_params = self.actor_params + self.qvalue_params
        self.actor_optimizer = torch.optim.Adam(self.actor_params, lr=actor_lr)
        self.qvalue_optimizer = torch.optim.Adam(self.qvalue_params, lr=qvalue_lr)
        self.target_updater = SoftUpdate(loss, eps=target_ema)
        self.snapshots = SnapshotBuffer(snapshot_capacity, snapshot_every) if snapshot_capacity > 0 else None
        self.iteration = 0

    def agent_policy(self) -> NetworkPolicy:
        """The current agent on its own seeds' games (seat 0 or, in self-play, seat 1)."""
        groups = OpponentGroups.identity(self.members, self.episodes, self.env.device)
        return NetworkPolicy(self.loss.actor_network, self.loss.qvalue_network, groups)

    def opponent_policy(self) -> NetworkPolicy:
        """One sampled snapshot per episode, or the current agent when there is no buffer."""
        if self.snapshots is None:
            return self.agent_policy()
        groups = GroupBuckets(self.snapshots.sample(self.members, self.episodes))
        params = [self.snapshots.gather(part.snapshot, part.member) for part in groups.parts]
        return NetworkPolicy(self.loss.actor_network, self.loss.qvalue_network, groups,
                             [p["actor"] for p in params], [p["qvalue"] for p in params])

    def play(self, opponent: SeatPolicy, epsilon: float = 0.0) -> TensorDict:
        """Episodes ``[S, B, T]`` of the current agent (seat 0) against ``opponent`` (seat 1)."""
        return play_episodes(self.env, self.agent_policy(), opponent, self.members, self.steps, epsilon)

    def collect(self) -> TensorDict:
        """Push a snapshot when due, then play a training batch against sampled opponents."""
        if self.snapshots is not None and self.snapshots.due(self.iteration):
            self.snapshots.push(member_snapshot(self.loss))
        return self.play(self.opponent_policy(), self.epsilon)

    def update(self, batch: TensorDictBase | None) -> dict[str, float]:
        if batch is None:
            raise ValueError("LOQALearner.update needs a batch from collect(); got None")
        out = self.loss(batch)
        # the loss averages over seeds too; times S makes each seed's gradient that of its own mean
        actor_objective = (out["loss_actor"] + out["loss_entropy"] + out["loss_shaping"]) * self.members
        actor_grads = list(
            torch.autograd.grad(actor_objective, self.actor_params, retain_graph=self.loss.advantage_grad)
        )
        qvalue_grads = torch.autograd.grad(out["loss_qvalue"] * self.members, self.qvalue_params)
        grad_norm = clip_per_member(actor_grads, self.max_grad_norm)
        for params, grads, optimizer in ((self.actor_params, actor_grads, self.actor_optimizer),
                                         (self.qvalue_params, qvalue_grads, self.qvalue_optimizer)):
            for param, grad in zip(params, grads):
                param.grad = grad
            optimizer.step()
        self.target_updater.step()
        self.iteration += 1
        metrics = {key: float(value.detach()) for key, value in out.items()}
        metrics["actor_grad_norm"] = float(grad_norm.mean())
        metrics["reward_per_step"] = float(batch["next", "reward"].mean())
        metrics["opponent_reward_per_step"] = float(batch["next", "opponent_reward"].mean())
        if self.snapshots is not None:
            metrics["snapshots"] = float(len(self.snapshots))
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "loss": self.loss.state_dict(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "qvalue_optimizer": self.qvalue_optimizer.state_dict(),
            "snapshots": None if self.snapshots is None else self.snapshots.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.iteration = int(state["iteration"])
        self.loss.load_state_dict(state["loss"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.qvalue_optimizer.load_state_dict(state["qvalue_optimizer"])
        if self.snapshots is not None:
            self.snapshots.load_state_dict(state["snapshots"])
