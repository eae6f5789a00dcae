"""Stackelberg learning with a pre-trained contextual follower oracle (Gerstgrasser & Parkes, ICML 2023).

Three phases, one Trainer iteration each step (the reference's ``stackerlberg_trainable``):

1. ``pretrain``: the follower learns, by policy gradient, to best-respond to leaders drawn uniformly
   from all deterministic memory-1 strategies; it sees the leader's query answers, so it becomes a
   contextual best-response oracle (the paper's multitask / meta-RL follower). A run whose greedy
   follower best-responds to every leader strategy is frozen (``pretrain_until_best_response``).
2. ``leader``: the leader (PG, PPO or DQN) trains against the frozen, greedy follower; its query answers
   are sampled from its current policy, so the follower reacts to its strategy at once (Theorem 1).
3. ``post``: the follower is fine-tuned against the frozen, greedy final leader, and the leader is
   scored against it: the equilibrium check.

All ``R = games x seeds`` runs train side by side in one batch with independent tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from tensordict import TensorDictBase

from oppshape.games.stackelberg import (
    TIE_BREAKS,
    deterministic_returns,
    follower_best_response_gaps,
    solve_stackelberg,
    strategy_code,
)
from oppshape.learners.stackelberg_agents import (
    LEADER_ALGORITHMS,
    DQNAgent,
    PolicyGradientAgent,
    PPOAgent,
    TabularAgent,
)
from oppshape.learners.stackelberg_rollout import FOLLOWER, LEADER, agent_rows, play_episodes, run_of_env

PHASES: tuple[str, ...] = ("pretrain", "leader", "post")


@dataclass
class StackelbergSettings:
    """Hyperparameters of the three phases (defaults: the reference's 12-game PPO experiment)."""

    leader: str = "ppo"  # leader learner: pg | ppo | dqn
    num_seeds: int = 5  # independent runs per game, trained side by side in one batch
    hidden_queries: bool = False  # drop the query steps from the leader's learning signal
    init_scale: float = 0.01  # standard deviation of the initial table entries
    follower_lr: float = 0.02  # follower Adam learning rate (phases 1 and 3)
    follower_episodes: int = 7  # episodes per run per follower iteration (reference: 100 env steps)
    pretrain_iterations: int = 500  # phase 1 iterations
    pretrain_until_best_response: bool = True  # freeze a run's follower once it best-responds to every leader
    leader_iterations: int = 500  # phase 2 iterations
    leader_lr: float = 0.008  # leader Adam learning rate
    leader_episodes: int = 67  # episodes per run per leader iteration (reference PPO: 1000 env steps)
    post_iterations: int = 50  # phase 3 iterations
    ppo_epochs: int = 30  # full-batch PPO epochs per leader iteration
    ppo_clip: float = 0.3  # PPO clip epsilon
    ppo_critic_coeff: float = 1.0  # weight of the critic's squared error
    dqn_batch_size: int = 32  # transitions per run per DQN gradient step
    dqn_updates: int = 8  # DQN gradient steps per leader iteration
    dqn_buffer_size: int = 5000  # replay capacity, in transitions per run
    dqn_tau: float = 0.05  # Polyak rate of the DQN target table
    dqn_eps_start: float = 1.0  # initial epsilon of epsilon-greedy exploration
    dqn_eps_end: float = 0.02  # final epsilon
    dqn_eps_iterations: int = 250  # leader iterations over which epsilon anneals linearly
    success_tolerance: float = 0.5  # a leader reaches the Stackelberg value if its return is within this of it
    tie_break: str = "leader_favourable"  # follower ties in the solver: leader_favourable | leader_adverse

    def __post_init__(self) -> None:
        if self.leader not in LEADER_ALGORITHMS:
            raise ValueError(f"leader={self.leader!r} is not valid; valid choices: {', '.join(LEADER_ALGORITHMS)}")
        if self.tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break={self.tie_break!r} is not valid; valid choices: {', '.join(TIE_BREAKS)}")
        positive = ("num_seeds", "follower_episodes", "leader_episodes", "ppo_epochs", "dqn_batch_size",
                    "dqn_updates", "dqn_buffer_size", "dqn_eps_iterations")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be an integer >= 1")
        for name in ("pretrain_iterations", "leader_iterations", "post_iterations"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must be an integer >= 0")
        for name in ("follower_lr", "leader_lr", "init_scale", "ppo_clip"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)} must be > 0")
        for name in ("dqn_tau", "dqn_eps_start", "dqn_eps_end"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}={getattr(self, name)} must lie in [0, 1]")
        if self.ppo_critic_coeff < 0 or self.success_tolerance < 0:
            raise ValueError("ppo_critic_coeff and success_tolerance must be >= 0")

    @property
    def total_iterations(self) -> int:
        """Trainer iterations of the three phases together."""
        return self.pretrain_iterations + self.leader_iterations + self.post_iterations


def make_leader(settings: StackelbergSettings, n_runs: int, n_obs: int, device: torch.device) -> TabularAgent:
    """The leader learner named by ``settings.leader``."""
    common = dict(n_runs=n_runs, n_obs=n_obs, lr=settings.leader_lr, init_scale=settings.init_scale, device=device)
    if settings.leader == "pg":
        return PolicyGradientAgent(**common)
    if settings.leader == "ppo":
        return PPOAgent(**common, epochs=settings.ppo_epochs, clip_epsilon=settings.ppo_clip,
                        critic_coeff=settings.ppo_critic_coeff)
    return DQNAgent(
        **common, batch_size=settings.dqn_batch_size, updates=settings.dqn_updates,
        buffer_size=settings.dqn_buffer_size, tau=settings.dqn_tau, eps_start=settings.dqn_eps_start,
        eps_end=settings.dqn_eps_end, eps_iterations=settings.dqn_eps_iterations,
    )


class StackelbergLearner:
    """Runs the three phases on two query-game envs (``follower_env`` for phases 1 and 3).

    Args:
        settings: hyperparameters.
        follower_env: a ``StackelbergQueryGame`` with ``games x num_seeds x follower_episodes`` envs.
        leader_env: the same game with ``games x num_seeds x leader_episodes`` envs.
        game_names: one name per game block of the envs (for metric names).
    """

    def __init__(
        self,
        settings: StackelbergSettings,
        follower_env: Any,
        leader_env: Any,
        game_names: Sequence[str],
    ) -> None:
        if len(game_names) != follower_env.n_games or follower_env.n_games != leader_env.n_games:
            raise ValueError(f"{len(game_names)} game names for envs with {follower_env.n_games} and "
                             f"{leader_env.n_games} games")
        self.settings, self.game_names = settings, list(game_names)
        self.follower_env, self.leader_env = follower_env, leader_env
        env, device = follower_env, follower_env.device
        self.n_runs = env.n_games * settings.num_seeds
        self.n_states, self.n_queries = env.n_states, env.n_queries
        self.game_of_run = torch.arange(self.n_runs, device=device) // settings.num_seeds
        self.payoff_of_run = env.payoff_tables[self.game_of_run]
        self.solution = solve_stackelberg(
            env.payoff_tables, env.memory, env.episode_length, env.reward_offset, settings.tie_break
        )
        self.follower_run = run_of_env(follower_env.batch_size[0], self.n_runs, device)
        self.leader_run = run_of_env(leader_env.batch_size[0], self.n_runs, device)
        self.follower = PolicyGradientAgent(self.n_runs, env.n_follower_obs, settings.follower_lr,
                                            settings.init_scale, device)
        self.leader = make_leader(settings, self.n_runs, env.n_leader_obs, device)
        self.iteration = 0
        self.frozen = torch.zeros(self.n_runs, dtype=torch.bool, device=device)
        self.oracle_leader_return = torch.full((self.n_runs,), float("nan"), device=device)
        self.pretrained_follower = self.follower.table.table.detach().clone()  # the oracle after phase 1
        self.oracle_gap = self.follower_gaps().mean(-1)  # its mean best-response gap (updated after phase 1)

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
        self.oracle_gap = self.follower_gaps().mean(-1)

    @property
    def phase(self) -> str:
        """The phase the next iteration belongs to."""
        if self.iteration < self.settings.pretrain_iterations:
            return "pretrain"
        if self.iteration < self.settings.pretrain_iterations + self.settings.leader_iterations:
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
            first = self.n_queries if self.settings.hidden_queries else 0
            out = self.leader.update(agent_rows(batch, LEADER, first, self.n_runs))
            metrics.update({f"{key}_leader" if key.startswith("loss") else f"leader_{key}": value
                            for key, value in out.items()})
        else:
            freeze = phase == "pretrain" and self.settings.pretrain_until_best_response
            out = self.follower.update(agent_rows(batch, FOLLOWER, self.n_queries, self.n_runs),
                                       self.frozen if freeze else None)
            metrics["loss_follower"] = out["loss"]
            if freeze:
                self.frozen |= self.follower_gaps().amax(-1) <= 1e-6
                metrics["follower_frozen_frac"] = self.frozen.float().mean().item()
        self.iteration += 1
        if self.iteration == self.settings.pretrain_iterations:
            self.pretrained_follower = self.follower.table.table.detach().clone()
            self.oracle_gap = self.follower_gaps().mean(-1)
        if self.iteration == self.settings.pretrain_iterations + self.settings.leader_iterations:
            self.oracle_leader_return = self.leader_follower_returns()[:, LEADER]
            self.follower.reset_optimizer()
        return metrics

    def follower_responses(self) -> torch.Tensor:
        """``[R, 2**S, S]`` the greedy follower's action per own state, for each leader strategy shown."""
        greedy = self.follower.greedy().view(self.n_runs, self.n_states, 2**self.n_states)
        return greedy.transpose(1, 2)

    def follower_gaps(self) -> torch.Tensor:
        """``[R, 2**S]`` the greedy follower's shortfall from a best response, per leader strategy."""
        return follower_best_response_gaps(self.follower_responses(), self.solution, self.game_of_run)

    def leader_strategies(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The greedy leader's ``(play, answers)`` strategies ``[R, S]`` each (equal unless ``tell_leader``)."""
        greedy = self.leader.greedy()
        play = greedy[:, : self.n_states]
        answers = greedy[:, self.n_states :] if greedy.shape[1] > self.n_states else play
        return play, answers

    def leader_follower_returns(self) -> torch.Tensor:
        """``[R, 2]`` exact returns when the greedy leader meets the greedy follower (answers shown)."""
        play, answers = self.leader_strategies()
        runs = torch.arange(self.n_runs, device=play.device)
        follower = self.follower_responses()[runs, strategy_code(answers)]
        env = self.follower_env
        return deterministic_returns(play, follower, self.payoff_of_run, env.memory, env.episode_length,
                                     env.reward_offset)

    def exact_best_response_returns(self) -> torch.Tensor:
        """``[R]`` the greedy leader's return if the follower exactly best-responds to how it *plays*.

        The equilibrium check that needs no learning: with ``tell_leader`` the answers may differ from
        play, and a follower that believed them is not best-responding.
        """
        play, _ = self.leader_strategies()
        return self.solution.induced_leader_return[self.game_of_run, strategy_code(play)]

    def reached(self, leader_return: torch.Tensor) -> torch.Tensor:
        """``[R]`` whether each run's leader return is within tolerance of its game's Stackelberg value.

        Returns above the value also fail: they are only possible against a follower that does not
        best-respond to the leader's play.
        """
        gap = (leader_return - self.solution.value[self.game_of_run]).abs()
        return gap <= self.settings.success_tolerance

    def evaluate(self) -> dict[str, float]:
        """Best-response gaps of the follower and the greedy leader's exact return against it."""
        gaps = self.follower_gaps()
        leader_return = self.leader_follower_returns()[:, LEADER]
        reached = self.reached(leader_return).float()
        exact = self.exact_best_response_returns()
        play, answers = self.leader_strategies()
        metrics = {
            "follower_br_gap": gaps.mean().item(),
            "follower_br_frac": (gaps.amax(-1) <= 1e-6).float().mean().item(),
            "leader_return": leader_return.mean().item(),
            "leader_reached_frac": reached.mean().item(),
            "leader_return_exact_br": exact.mean().item(),
            "leader_reached_exact_br_frac": self.reached(exact).float().mean().item(),
            "leader_answers_match_play_frac": (play == answers).all(-1).float().mean().item(),
        }
        for game, name in enumerate(self.game_names):
            mine = self.game_of_run == game
            metrics[f"leader_return_{name}"] = leader_return[mine].mean().item()
            metrics[f"reached_{name}"] = reached[mine].mean().item()
        return metrics

    def results(self) -> dict[str, Any]:
        """Per-run outcome for ``summary.json``: one entry per (game, seed), plus the brute-force values."""
        final = self.leader_follower_returns()[:, LEADER]
        play, answers = self.leader_strategies()
        gaps = self.follower_gaps()
        return {
            "success_tolerance": self.settings.success_tolerance,
            "tie_break": self.settings.tie_break,
            "games": self.game_names,
            "stackelberg_value": self.solution.value.tolist(),
            "stackelberg_leader_strategy": self.solution.leader_strategy.tolist(),
            "run_game": [self.game_names[g] for g in self.game_of_run.tolist()],
            "run_seed": (torch.arange(self.n_runs) % self.settings.num_seeds).tolist(),
            "oracle_br_gap": self.oracle_gap.tolist(),
            "leader_return_vs_oracle": self.oracle_leader_return.tolist(),
            "reached_vs_oracle": self.reached(self.oracle_leader_return).tolist(),
            "leader_return_final": final.tolist(),
            "reached_final": self.reached(final).tolist(),
            "leader_return_exact_br": self.exact_best_response_returns().tolist(),
            "reached_exact_br": self.reached(self.exact_best_response_returns()).tolist(),
            "leader_play": play.tolist(),
            "leader_answers": answers.tolist(),
            "follower_br_gap_final": gaps.mean(-1).tolist(),
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "frozen": self.frozen.clone(),
            "oracle_leader_return": self.oracle_leader_return.clone(),
            "oracle_gap": self.oracle_gap.clone(),
            "pretrained_follower": self.pretrained_follower.clone(),
            "follower": self.follower.state_dict(),
            "leader": self.leader.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.iteration = int(state["iteration"])
        self.frozen.copy_(state["frozen"])
        self.oracle_leader_return.copy_(state["oracle_leader_return"])
        self.oracle_gap.copy_(state["oracle_gap"])
        self.pretrained_follower.copy_(state["pretrained_follower"])
        self.follower.load_state_dict(state["follower"])
        self.leader.load_state_dict(state["leader"])
