"""Schemas of the Stackelberg family (Gerstgrasser & Parkes, "Oracles & Followers", ICML 2023).

:class:`StackelbergConfig` is declared once, validated at the CLI and handed unchanged to
``learners.stackelberg.StackelbergLearner``; :func:`check` holds the cross-group rule (the trainer runs
exactly the three phases). Defaults: the reference code's 12-game PPO experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from oppshape.config.envs import env_schemas
from oppshape.config.run import RunConfig
from oppshape.config.validation import ConfigError, check_choice, require

__all__ = ["ALGO_SCHEMAS", "ENV_SCHEMAS", "LEADER_ALGORITHMS", "StackelbergConfig", "check"]

#: Leader learners (``learners.stackelberg_leaders``): REINFORCE, clipped PPO, DQN.
LEADER_ALGORITHMS: tuple[str, ...] = ("pg", "ppo", "dqn")


@dataclass
class StackelbergConfig:
    """``algo: stackelberg``: a leader (PG, PPO or DQN) against a pre-trained query-answering follower oracle."""

    name: str = "stackelberg"  # algorithm name (algo.name)
    leader: str = "ppo"  # leader learner: pg | ppo | dqn
    num_seeds: int = 5  # independent runs per game, trained side by side in one batch
    hidden_queries: bool = False  # drop the query steps from the leader's learning signal
    init_scale: float = 0.01  # standard deviation of the initial table entries (leader, critic, follower)
    follower_lr: float = 0.02  # follower Adam learning rate (phases 1 and 3)
    follower_episodes: int = 7  # episodes per run per follower iteration (reference: 100 env steps)
    pretrain_iterations: int = 500  # phase 1 iterations: the follower oracle learns to best-respond
    pretrain_until_best_response: bool = True  # freeze a run's follower once it best-responds to every leader
    leader_iterations: int = 500  # phase 2 iterations: the leader learns against the frozen oracle
    leader_lr: float = 0.008  # leader Adam learning rate
    leader_episodes: int = 67  # episodes per run per leader iteration (reference PPO: 1000 env steps)
    post_iterations: int = 50  # phase 3 iterations: the follower is re-trained against the final leader
    ppo_epochs: int = 30  # full-batch PPO epochs per leader iteration
    ppo_clip_epsilon: float = 0.3  # PPO ratio clip epsilon
    ppo_critic_coeff: float = 1.0  # weight of the PPO critic's squared error
    dqn_batch_size: int = 32  # transitions per run per DQN gradient step
    dqn_updates: int = 8  # DQN gradient steps per leader iteration
    dqn_buffer_size: int = 5000  # DQN replay capacity, in transitions per run
    dqn_tau: float = 0.05  # Polyak rate of the DQN target table
    dqn_eps_start: float = 1.0  # initial epsilon of the DQN leader's epsilon-greedy exploration
    dqn_eps_end: float = 0.02  # final epsilon
    dqn_eps_iterations: int = 250  # leader iterations over which epsilon anneals linearly
    success_tolerance: float = 0.5  # a leader reaches the Stackelberg value if its return is within this of it
    follower_checkpoint: Optional[str] = None  # checkpoints/last.pt of an earlier run: reuse its follower oracle

    def __post_init__(self) -> None:
        check_choice("algo.leader", self.leader, LEADER_ALGORITHMS)
        for key in ("num_seeds", "follower_episodes", "leader_episodes", "ppo_epochs", "dqn_batch_size",
                    "dqn_updates", "dqn_buffer_size", "dqn_eps_iterations"):
            require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        for key in ("pretrain_iterations", "leader_iterations", "post_iterations"):
            require(getattr(self, key) >= 0, f"algo.{key}", getattr(self, key), "an integer >= 0")
        for key in ("follower_lr", "leader_lr", "init_scale", "ppo_clip_epsilon"):
            require(getattr(self, key) > 0, f"algo.{key}", getattr(self, key), "a number > 0")
        for key in ("dqn_tau", "dqn_eps_start", "dqn_eps_end"):
            require(0.0 <= getattr(self, key) <= 1.0, f"algo.{key}", getattr(self, key), "a number in [0, 1]")
        for key in ("ppo_critic_coeff", "success_tolerance"):
            require(getattr(self, key) >= 0, f"algo.{key}", getattr(self, key), "a number >= 0")
        require(self.follower_checkpoint is None or Path(self.follower_checkpoint).is_file(),
                "algo.follower_checkpoint", self.follower_checkpoint,
                "the checkpoints/last.pt file of an earlier stackelberg run (or null)")

    @property
    def total_iterations(self) -> int:
        """Trainer iterations of the three phases together."""
        return self.pretrain_iterations + self.leader_iterations + self.post_iterations


ALGO_SCHEMAS: dict[str, type] = {"stackelberg": StackelbergConfig}
ENV_SCHEMAS: dict[str, type] = env_schemas("stackelberg_query")


def check(run: RunConfig) -> None:
    """The Trainer runs exactly the three phases: ``trainer.iterations`` = pretrain + leader + post."""
    algo: StackelbergConfig = run.algo
    if run.trainer.iterations != algo.total_iterations:
        raise ConfigError(
            f"trainer.iterations={run.trainer.iterations} must equal algo.pretrain_iterations + "
            f"algo.leader_iterations + algo.post_iterations = {algo.total_iterations}"
        )
