"""Stackelberg learning with a pre-trained contextual follower oracle (Gerstgrasser & Parkes, ICML 2023).

Three phases, one Trainer iteration each step (the reference's ``stackerlberg_trainable``):

1. ``pretrain``: the follower learns, by policy gradient, to best-respond to leaders drawn uniformly
   from all deterministic memory-1 strategies; it sees the leader's query answers, so it becomes a
   contextual best-response oracle (the paper's multitask / meta-RL follower). A run whose greedy
   follower best-responds to every leader strategy is frozen (``pretrain_until_best_response``).
2. ``leader``: the leader (PG, PPO or DQN) trains against the frozen, greedy follower; its query answers
   are sampled from its current policy, so the follower reacts to its strategy at once (Theorem 1).
3. ``post``: the follower is fine-tuned against the frozen, greedy final leader (the equilibrium check,
   scored by ``eval.stackelberg``).

All ``R = games x seeds`` runs train side by side in one batch with independent tables.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase

from oppshape.config.stackelberg import StackelbergConfig
from oppshape.games.stackelberg import follower_best_response_gaps, solve_stackelberg
from oppshape.learners.stackelberg_leaders import PolicyGradientAgent, make_leader
from oppshape.rollouts.stackelberg import FOLLOWER, LEADER, agent_rows, play_episodes, run_of_env

PHASES: tuple[str, ...] = ("pretrain", "leader", "post")


class StackelbergLearner:
    """Runs the three phases on two query-game envs (``follower_env`` for phases 1 and 3).

    Args:
        config: the validated ``algo`` schema, handed on unchanged.
        follower_env: a ``StackelbergQueryGame`` with ``games x num_seeds x follower_episodes`` envs.
        leader_env: the same game with ``games x num_seeds x leader_episodes`` envs.
    """

    def __init__(self, config: StackelbergConfig, follower_env: Any, leader_env: Any) -> None:
        if follower_env.n_games != leader_env.n_games:
            raise ValueError(f"follower env plays {follower_env.n_games} games, leader env {leader_env.n_games}")
        self.config = config
        self.follower_env, self.leader_env = follower_env, leader_env
        env, device = follower_env, follower_env.device
        self.n_runs = env.n_games * config.num_seeds
        self.n_states, self.n_queries = env.n_states, env.n_queries
        self.game_of_run = torch.arange(self.n_runs, device=device) // config.num_seeds
        self.solution = solve_stackelberg(env.payoff_tables, env.memory, env.episode_length, env.reward_offset)
        self.follower_run = run_of_env(follower_env.batch_size[0], self.n_runs, device)
        self.leader_run = run_of_env(leader_env.batch_size[0], self.n_runs, device)
        self.follower = PolicyGradientAgent(self.n_runs, env.n_follower_obs, config.follower_lr,
                                            config.init_scale, device)
        self.leader = make_leader(config, self.n_runs, env.n_leader_obs, device)
        self.iteration = 0
        self.frozen = torch.zeros(self.n_runs, dtype=torch.bool, device=device)
        self.pretrained_follower = self.follower.table.table.detach().clone()  # the oracle after phase 1

    def load_pretrained_follower(self, table: torch.Tensor) -> None:
        """Start from a follower oracle saved by an earlier run (its ``pretrained_follower`` state).

        The table must come from a run with the same games, seeds, memory and ``tell_leader``.
        """
        expected = tuple(self.follower.table.table.shape)
        if tuple(table.shape) != expected:
            raise ValueError(f"pretrained follower table has shape {tuple(table.shape)}; this run needs {expected} "
                             "(same games, num_seeds and memory)")
        with torch.no_grad():
            self.follower.table.table.copy_(table)
        self.pretrained_follower = table.detach().clone().to(self.pretrained_follower.device)

    @property
    def handover(self) -> int:
        """The iteration after which the leader is final (end of phase 2)."""
        return self.config.pretrain_iterations + self.config.leader_iterations

    @property
    def phase(self) -> str:
        """The phase the next iteration belongs to."""
        if self.iteration < self.config.pretrain_iterations:
            return "pretrain"
        if self.iteration < self.handover:
            return "leader"
        return "post"

    def collect(self) -> TensorDictBase:
        """One batch of full episodes for the current phase."""
        if self.phase == "pretrain":
            strategies = torch.randint(0, 2, (self.follower_run.shape[0], self.n_states), device=self.frozen.device)
            return play_episodes(
                self.follower_env,
                lambda obs: strategies.gather(1, (obs % self.n_states).unsqueeze(-1)).squeeze(-1),
                lambda obs: self.follower.act(self.follower_run, obs),
            )
        if self.phase == "leader":
            follower = self.follower.greedy()
            return play_episodes(
                self.leader_env,
                lambda obs: self.leader.act(self.leader_run, obs),
                lambda obs: follower[self.leader_run, obs],
            )
        leader = self.leader.greedy()
        return play_episodes(
            self.follower_env,
            lambda obs: leader[self.follower_run, obs],
            lambda obs: self.follower.act(self.follower_run, obs),
        )

    def update(self, batch: TensorDictBase | None) -> dict[str, float]:
        """Train the current phase's learner on ``batch`` (from :meth:`collect`)."""
        if batch is None:
            raise ValueError("StackelbergLearner.update needs the batch from StackelbergLearner.collect()")
        phase = self.phase
        returns = batch["next", "agents", "reward"].sum(1).squeeze(-1).mean(0)  # [2]
        metrics = {"phase": float(PHASES.index(phase)), "leader_episode_return": returns[LEADER].item(),
                   "follower_episode_return": returns[FOLLOWER].item()}
        if phase == "leader":
            first = self.n_queries if self.config.hidden_queries else 0
            out = self.leader.update(agent_rows(batch, LEADER, first, self.n_runs))
            metrics.update({f"{key}_leader" if key.startswith("loss") else f"leader_{key}": value
                            for key, value in out.items()})
        else:
            freeze = phase == "pretrain" and self.config.pretrain_until_best_response
            out = self.follower.update(agent_rows(batch, FOLLOWER, self.n_queries, self.n_runs),
                                       self.frozen if freeze else None)
            metrics["loss_follower"] = out["loss"]
            if freeze:
                self.frozen |= self.follower_gaps().amax(-1) <= 1e-6
                metrics["follower_frozen_frac"] = self.frozen.float().mean().item()
        self.iteration += 1
        if self.iteration == self.config.pretrain_iterations:
            self.pretrained_follower = self.follower.table.table.detach().clone()
        if self.iteration == self.handover:
            self.follower.reset_optimizer()
        return metrics

    def follower_responses(self, logits: torch.Tensor | None = None) -> torch.Tensor:
        """``[R, 2**S, S]`` the greedy follower's action per own state, for each leader strategy shown.

        ``logits``: a follower table ``[R, n_follower_obs, 2]`` (default: the current follower's).
        """
        table = self.follower.table.table if logits is None else logits
        greedy = table.argmax(-1).view(self.n_runs, self.n_states, 2**self.n_states)
        return greedy.transpose(1, 2)

    def follower_gaps(self, logits: torch.Tensor | None = None) -> torch.Tensor:
        """``[R, 2**S]`` the greedy follower's shortfall from a best response, per leader strategy."""
        return follower_best_response_gaps(self.follower_responses(logits), self.solution, self.game_of_run)

    def leader_strategies(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The greedy leader's ``(play, answers)`` strategies ``[R, S]`` each (equal unless ``tell_leader``)."""
        greedy = self.leader.greedy()
        play = greedy[:, : self.n_states]
        answers = greedy[:, self.n_states :] if greedy.shape[1] > self.n_states else play
        return play, answers

    def state_dict(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "frozen": self.frozen.clone(),
            "pretrained_follower": self.pretrained_follower.clone(),
            "follower": self.follower.state_dict(),
            "leader": self.leader.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; checkpoints from before the redesign also held ``oracle_gap`` and
        ``oracle_leader_return``, which ``eval.stackelberg`` now derives from ``pretrained_follower``."""
        self.iteration = int(state["iteration"])
        self.frozen.copy_(state["frozen"])
        self.pretrained_follower.copy_(state["pretrained_follower"])
        self.follower.load_state_dict(state["follower"])
        self.leader.load_state_dict(state["leader"])
