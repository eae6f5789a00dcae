"""The leader learners of the Oracles & Followers experiments (PG, PPO, DQN), batched over runs; the PG
learner also trains the follower oracle.

Every agent holds one :class:`~oppshape.modules.run_tables.RunTable` slice per run and exposes the
same small interface: ``act`` (exploratory action for a batch of ``(run, observation)``), ``greedy``
(the deterministic strategy ``[R, n_obs]``), ``update(rows)`` on a run-major batch from
:func:`~oppshape.rollouts.stackelberg.agent_rows`, and ``state_dict``. Per-row losses are
averaged within each run and summed over runs, so each run's gradient is exactly its own.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch
from tensordict import TensorDict
from torch.distributions import Categorical
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.objectives import ClipPPOLoss, DQNLoss, SoftUpdate

from oppshape.config.stackelberg import StackelbergConfig
from oppshape.modules.run_tables import RunTable, tabular_actor, tabular_critic, tabular_qvalue
from oppshape.rollouts.stackelberg import per_run_mean


class TabularAgent(Protocol):
    """What the Stackelberg learner needs from a leader or follower learner."""

    def act(self, run: torch.Tensor, observation: torch.Tensor) -> torch.Tensor: ...

    def greedy(self) -> torch.Tensor: ...

    def update(self, rows: TensorDict) -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class _RunTableAgent:
    """Base of the agents below: ``self.table`` (a :class:`RunTable` ``[R, n_obs, 2]``) holds each run's
    action logits (DQN: Q-values); ``greedy`` is its arg-max and ``act`` samples from its softmax (DQN
    overrides ``act`` with epsilon-greedy)."""

    table: RunTable

    def act(self, run: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        return Categorical(logits=self.table(run, observation), validate_args=False).sample()

    def greedy(self) -> torch.Tensor:
        return self.table.table.argmax(-1)


class PolicyGradientAgent(_RunTableAgent):
    """REINFORCE with undiscounted returns-to-go and no baseline (RLlib's PG, as in the reference runs).

    Per run: ``loss = -mean_t log pi(a_t | o_t) G_t`` (Williams 1992; Sutton & Barto 2018,
    eq. 13.8). TorchRL's ``ReinforceLoss`` needs a critic, which this estimator does not have, so the
    one-line loss is written here on top of the TorchRL actor's ``get_dist``.
    """

    def __init__(self, n_runs: int, n_obs: int, lr: float, init_scale: float, device: torch.device) -> None:
        self.n_runs, self.lr = n_runs, lr
        self.table = RunTable(n_runs, n_obs, 2, init_scale).to(device)
        self.actor = tabular_actor(self.table)
        self.optimizer = torch.optim.Adam(self.table.parameters(), lr=lr)

    def reset_optimizer(self) -> None:
        """A fresh Adam state (the reference's post-training uses a new trainer)."""
        self.optimizer = torch.optim.Adam(self.table.parameters(), lr=self.lr)

    def update(self, rows: TensorDict, frozen: torch.Tensor | None = None) -> dict[str, float]:
        """One Adam step; runs marked in ``frozen`` ``[R]`` keep their table unchanged."""
        log_prob = self.actor.get_dist(rows).log_prob(rows["action"])
        loss = per_run_mean(-log_prob * rows["return"].squeeze(-1), self.n_runs)
        self.optimizer.zero_grad()
        loss.sum().backward()
        before = self.table.table.detach().clone() if frozen is not None else None
        self.optimizer.step()
        if before is not None:
            with torch.no_grad():
                self.table.table.copy_(torch.where(frozen.view(-1, 1, 1), before, self.table.table))
        return {"loss": loss.mean().item()}

    def state_dict(self) -> dict[str, Any]:
        return {"table": self.table.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.table.load_state_dict(state["table"])
        self.optimizer.load_state_dict(state["optimizer"])


class PPOAgent(_RunTableAgent):
    """Clipped PPO (Schulman et al. 2017, eq. 7) with TorchRL's ``ClipPPOLoss`` and a tabular critic.

    As in the reference's RLlib PPO: advantages ``A_t = G_t - V(o_t)`` (GAE with gamma = lambda = 1),
    standardized (here per run), ``epochs`` full-batch Adam steps per batch, no entropy bonus. RLlib's
    adaptive KL penalty and its value-loss clamp are not reproduced (``ClipPPOLoss`` has neither).
    """

    def __init__(
        self,
        n_runs: int,
        n_obs: int,
        lr: float,
        init_scale: float,
        device: torch.device,
        epochs: int,
        clip_epsilon: float,
        critic_coeff: float,
    ) -> None:
        self.n_runs, self.epochs = n_runs, epochs
        self.table = RunTable(n_runs, n_obs, 2, init_scale).to(device)
        self.value_table = RunTable(n_runs, n_obs, 1, init_scale).to(device)
        self.actor, self.critic = tabular_actor(self.table), tabular_critic(self.value_table)
        self.loss = ClipPPOLoss(
            self.actor,
            self.critic,
            clip_epsilon=clip_epsilon,
            entropy_bonus=False,
            critic_coeff=critic_coeff,
            loss_critic_type="l2",
            reduction="none",
        )
        self.optimizer = torch.optim.Adam(self.loss.parameters(), lr=lr)

    def update(self, rows: TensorDict) -> dict[str, float]:
        with torch.no_grad():
            rows["action_log_prob"] = self.actor.get_dist(rows).log_prob(rows["action"])
            advantage = (rows["return"] - self.critic(rows.clone())["state_value"]).reshape(self.n_runs, -1)
            advantage = (advantage - advantage.mean(-1, keepdim=True)) / advantage.std(-1, keepdim=True).clamp_min(1e-4)
            rows["advantage"] = advantage.reshape(-1, 1)
            rows["value_target"] = rows["return"]
        for _ in range(self.epochs):
            out = self.loss(rows)
            objective = per_run_mean(out["loss_objective"], self.n_runs)
            critic = per_run_mean(out["loss_critic"], self.n_runs)
            self.optimizer.zero_grad()
            (objective + critic).sum().backward()
            self.optimizer.step()
        return {"loss": objective.mean().item(), "loss_critic": critic.mean().item()}

    def state_dict(self) -> dict[str, Any]:
        return {"loss": self.loss.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss.load_state_dict(state["loss"])
        self.optimizer.load_state_dict(state["optimizer"])


class DQNAgent(_RunTableAgent):
    """Q-learning with a target network (Mnih et al. 2015) with TorchRL's ``DQNLoss`` on a per-run Q-table.

    Epsilon-greedy exploration annealed linearly over ``eps_iterations`` updates, undiscounted TD(0)
    targets from a Polyak-averaged target table (``SoftUpdate``), Huber loss. The replay buffer stores
    time-major items that hold one transition of every run, so each sample gives every run the same
    number of its own transitions.
    """

    def __init__(
        self,
        n_runs: int,
        n_obs: int,
        lr: float,
        init_scale: float,
        device: torch.device,
        batch_size: int,
        updates: int,
        buffer_size: int,
        tau: float,
        eps_start: float,
        eps_end: float,
        eps_iterations: int,
    ) -> None:
        self.n_runs, self.updates = n_runs, updates
        self.eps_start, self.eps_end, self.eps_iterations = eps_start, eps_end, eps_iterations
        self.iterations_done = 0
        self.table = RunTable(n_runs, n_obs, 2, init_scale).to(device)
        self.loss = DQNLoss(
            tabular_qvalue(self.table), loss_function="smooth_l1", delay_value=True, action_space="categorical",
            reduction="none",
        )
        self.loss.make_value_estimator(gamma=1.0)
        self.target_updater = SoftUpdate(self.loss, tau=tau)
        self.optimizer = torch.optim.Adam(self.loss.parameters(), lr=lr)
        self.buffer = ReplayBuffer(storage=LazyTensorStorage(buffer_size, device=device), batch_size=batch_size)

    @property
    def epsilon(self) -> float:
        fraction = min(1.0, self.iterations_done / max(1, self.eps_iterations))
        return self.eps_start + fraction * (self.eps_end - self.eps_start)

    def act(self, run: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        greedy = self.table(run, observation).argmax(-1)
        explore = torch.rand(greedy.shape, device=greedy.device) < self.epsilon
        return torch.where(explore, torch.randint_like(greedy, 2), greedy)

    def update(self, rows: TensorDict) -> dict[str, float]:
        keys = ["run", "observation", "action", ("next", "run"), ("next", "observation"), ("next", "reward"),
                ("next", "done"), ("next", "terminated")]
        self.buffer.extend(rows.select(*keys).reshape(self.n_runs, -1).transpose(0, 1).contiguous())
        losses = []
        for _ in range(self.updates):
            sample = self.buffer.sample()  # [batch, R]
            loss = self.loss(sample)["loss"].reshape(sample.batch_size).mean(0)  # [R]
            self.optimizer.zero_grad()
            loss.sum().backward()
            self.optimizer.step()
            self.target_updater.step()
            losses.append(loss.mean().detach())
        self.iterations_done += 1
        return {"loss": torch.stack(losses).mean().item(), "epsilon": self.epsilon}

    def state_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "buffer": self.buffer.state_dict(),
            "iterations_done": self.iterations_done,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss.load_state_dict(state["loss"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.buffer.load_state_dict(state["buffer"])
        self.iterations_done = int(state["iterations_done"])


def make_leader(config: StackelbergConfig, n_runs: int, n_obs: int, device: torch.device) -> TabularAgent:
    """The leader learner named by ``config.leader``."""
    common = dict(n_runs=n_runs, n_obs=n_obs, lr=config.leader_lr, init_scale=config.init_scale, device=device)
    if config.leader == "pg":
        return PolicyGradientAgent(**common)
    if config.leader == "ppo":
        return PPOAgent(**common, epochs=config.ppo_epochs, clip_epsilon=config.ppo_clip_epsilon,
                        critic_coeff=config.ppo_critic_coeff)
    return DQNAgent(
        **common, batch_size=config.dqn_batch_size, updates=config.dqn_updates, buffer_size=config.dqn_buffer_size,
        tau=config.dqn_tau, eps_start=config.dqn_eps_start, eps_end=config.dqn_eps_end,
        eps_iterations=config.dqn_eps_iterations,
    )
