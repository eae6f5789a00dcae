"""Schema of the Advantage Alignment family (Duque et al., ICLR 2025, arXiv 2406.14662).

:class:`AdvantageAlignmentConfig` is declared once and serves both algorithms of the paper: ``aa``
(Advantage Alignment, the aligned advantage in a policy gradient) and ``paa`` (Proximal Advantage
Alignment, the aligned advantage in PPO's clipped surrogate); ``algo.name`` picks one. It is handed
unchanged to the learner and the loss builder. Defaults: a CPU-sized Coin Game run.
"""

from __future__ import annotations

from dataclasses import dataclass

from oppshape.config.envs import env_schemas
from oppshape.config.run import RunConfig
from oppshape.config.validation import ConfigError, check_choice, require

__all__ = ["ACTORS", "ALGORITHMS", "ALGO_SCHEMAS", "ENV_SCHEMAS", "AdvantageAlignmentConfig", "check"]

#: The two algorithms: ``aa`` (policy gradient) and ``paa`` (proximal, PPO's clipped surrogate).
ALGORITHMS: tuple[str, ...] = ("aa", "paa")
#: Actors: ``gru`` (full history) or ``tabular`` (memory-1 IPD policy, one logit row per state).
ACTORS: tuple[str, ...] = ("gru", "tabular")


@dataclass
class AdvantageAlignmentConfig:
    """``algo: aa`` / ``algo: paa``: two agents, each with its own actor and critic, trained on each other."""

    name: str = "aa"  # aa (Advantage Alignment) | paa (Proximal Advantage Alignment)
    num_seeds: int = 1  # independent runs trained side by side as ensemble members
    num_envs: int = 128  # parallel training episodes per seed per iteration
    eval_envs: int = 128  # parallel evaluation episodes per seed
    actor: str = "gru"  # gru (full history) | tabular (IPD only: memory-1 logits per state)
    actor_hidden_size: int = 64  # GRU width of the actor
    critic_hidden_size: int = 64  # GRU width of the critic (GRU actor) or MLP width (tabular actor)
    beta: float = 1.0  # weight of the alignment term of A* (0: plain actor-critic / PPO)
    gamma: float = 0.96  # discount of rewards, of GAE and of the past advantages in A*
    lmbda: float = 0.95  # GAE lambda
    clip_epsilon: float = 0.2  # PPO ratio clip (paa only)
    ppo_epochs: int = 1  # gradient steps per agent on each batch (paa: several, the ratio then moves)
    entropy_coeff: float = 0.01  # entropy bonus weight
    normalize_advantage: bool = True  # standardize both agents' advantages per seed before aligning them
    actor_lr: float = 1e-3  # Adam step size of each actor
    critic_lr: float = 1e-3  # Adam step size of each critic
    max_grad_norm: float = 1.0  # per-seed global-norm clip of each network's gradient (0: off)

    def __post_init__(self) -> None:
        check_choice("algo.name", self.name, ALGORITHMS)
        check_choice("algo.actor", self.actor, ACTORS)
        for key in ("num_seeds", "num_envs", "eval_envs", "actor_hidden_size", "critic_hidden_size", "ppo_epochs"):
            require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        require(self.beta >= 0.0, "algo.beta", self.beta, "a number >= 0 (0: no alignment term)")
        require(0.0 < self.gamma <= 1.0, "algo.gamma", self.gamma, "a discount in (0, 1]")
        require(0.0 <= self.lmbda <= 1.0, "algo.lmbda", self.lmbda, "a GAE lambda in [0, 1]")
        require(0.0 < self.clip_epsilon < 1.0, "algo.clip_epsilon", self.clip_epsilon, "a ratio clip in (0, 1)")
        for key in ("actor_lr", "critic_lr"):
            require(getattr(self, key) > 0.0, f"algo.{key}", getattr(self, key), "a number > 0")
        for key in ("entropy_coeff", "max_grad_norm"):
            require(getattr(self, key) >= 0.0, f"algo.{key}", getattr(self, key), "a number >= 0")

    @property
    def proximal(self) -> bool:
        """PAA (the clipped surrogate) rather than AA."""
        return self.name == "paa"


ALGO_SCHEMAS: dict[str, type] = {name: AdvantageAlignmentConfig for name in ALGORITHMS}
ENV_SCHEMAS: dict[str, type] = env_schemas("iterated_matrix_game", "coin_game")


def check(run: RunConfig) -> None:
    """The tabular actor reads the IPD's memory-1 state: it plays the iterated matrix game only."""
    algo: AdvantageAlignmentConfig = run.algo
    if algo.actor == "tabular" and run.env.name != "iterated_matrix_game":
        raise ConfigError(
            f"algo.actor=tabular needs env=iterated_matrix_game (memory-1 states); got env={run.env.name}"
        )
