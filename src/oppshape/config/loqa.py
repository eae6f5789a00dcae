"""LOQA's schema (Aghajohari et al., ICLR 2024), the envs it plays, and its checks across groups.

Defaults are the paper's Coin Game settings (authors' ``sweep/loqa_10_seeds_coin_v1.py``); the IPD
experiment (``configs/experiment/loqa_ipd.yaml``) overrides the networks and the buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

from oppshape.config.envs import env_schemas
from oppshape.config.run import RunConfig
from oppshape.config.validation import check_choice, require

ACTORS = ("gru", "tabular")
QVALUES = ("gru", "mlp")
#: the opponent's differentiable return; the same choices as ``objectives.loqa.RETURN_ESTIMATORS``
RETURN_ESTIMATORS = ("loaded_dice", "n_step")


@dataclass
class LOQAConfig:
    """LOQA's hyperparameters, handed unchanged to ``experiments.loqa.build``."""

    name: str = "loqa"
    num_seeds: int = 1  # independent learners trained together as ensemble members
    num_envs: int = 512  # parallel games (episodes) per seed per iteration
    actor: str = "gru"  # gru | tabular (IPD only: one logit row per memory-1 state)
    actor_hidden_size: int = 128  # GRU width of the actor (two dense layers before the GRU)
    qvalue: str = "gru"  # gru | mlp (two ReLU layers of qvalue_hidden_size), both read [observation, t]
    qvalue_hidden_size: int = 64  # GRU width, or MLP layer width
    gamma: float = 0.96  # reward discount
    actor_lr: float = 1e-3  # Adam step size of the actor
    qvalue_lr: float = 1e-2  # Adam step size of the Q-network
    entropy_coeff: float = 0.1  # entropy bonus weight
    max_grad_norm: float = 1.0  # per-seed global-norm clip of the actor gradient (0: off)
    return_estimator: str = "loaded_dice"  # loaded_dice | n_step: the opponent's differentiable return
    lmbda: float = 0.9  # lambda of loaded DiCE: discount of the agent's later actions' credit
    n_step: int = 2  # window of the n_step estimator (>= 2)
    advantage_grad: bool = False  # differentiate the TD(0) advantage as the authors' code (actor step moves Q too)
    bootstrap_returns: bool = False  # loaded DiCE: add gamma^(T-t) V^op(s_T) to the opponent's truncated returns
    target_ema: float = 0.99  # target <- ema * target + (1 - ema) * online, after every Q step
    snapshot_capacity: int = 10000  # opponent buffer of past snapshots (0: play the current agent)
    snapshot_every: int = 10  # push a snapshot every this many iterations
    epsilon: float = 0.0  # epsilon-greedy exploration of both seats while training

    def __post_init__(self) -> None:
        check_choice("algo.actor", self.actor, ACTORS)
        check_choice("algo.qvalue", self.qvalue, QVALUES)
        check_choice("algo.return_estimator", self.return_estimator, RETURN_ESTIMATORS)
        for key in ("num_seeds", "num_envs", "actor_hidden_size", "qvalue_hidden_size", "snapshot_every"):
            require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        for key in ("actor_lr", "qvalue_lr"):
            require(getattr(self, key) > 0, f"algo.{key}", getattr(self, key), "a number > 0")
        for key in ("entropy_coeff", "max_grad_norm", "snapshot_capacity"):
            require(getattr(self, key) >= 0, f"algo.{key}", getattr(self, key), "a number >= 0")
        require(0 < self.gamma <= 1, "algo.gamma", self.gamma, "a discount in (0, 1]")
        for key in ("lmbda", "target_ema", "epsilon"):
            require(0 <= getattr(self, key) <= 1, f"algo.{key}", getattr(self, key), "a number in [0, 1]")
        require(self.n_step >= 2, "algo.n_step", self.n_step, "an integer >= 2")


ALGO_SCHEMAS: dict[str, type] = {"loqa": LOQAConfig}
ENV_SCHEMAS: dict[str, type] = env_schemas("iterated_matrix_game", "coin_game")


def check(run: RunConfig) -> None:
    """LOQA's env constraints: a payoff table of its own (no ipd_cf), episodes of >= 2 steps (the loss
    needs a next step), egocentric Coin Game observations (each seat sees its own coin first), and the
    tabular actor (one row per memory-1 state) only on the IPD."""
    algo, env = run.algo, run.env
    require(env.episode_length >= 2, "env.episode_length", env.episode_length, "an integer >= 2 for LOQA")
    if env.name == "iterated_matrix_game":
        require(env.payoff != "ipd_cf", "env.payoff", env.payoff, "a fixed payoff table for LOQA (not ipd_cf)")
    else:
        require(env.egocentric, "env.egocentric", env.egocentric, "true for LOQA (each seat sees its own coin first)")
        require(algo.actor != "tabular", "algo.actor", algo.actor, "gru on the Coin Game (tabular is IPD-only)")
