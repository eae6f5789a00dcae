"""Schemas of the COMA family: COMA (Foerster et al., AAAI 2018) and its MAPPO / IPPO baselines.

The three algorithms play VMAS tasks, the iterated coordination game (a known optimum) and, COMA alone, the
switch riddle without its channel (masked actions, recurrent actors, a known reference policy). ``check``
holds the rules that join the algorithm to the env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oppshape.config.envs import env_schemas
from oppshape.config.run import RunConfig
from oppshape.config.validation import ConfigError, check_choice, require

#: What COMA's advantage subtracts the counterfactual baseline from (``objectives.coma.COMALoss``).
ADVANTAGE_SOURCES: tuple[str, ...] = ("q", "returns")


def _check_on_policy(cfg: Any) -> None:
    """The fields COMA and PPO share: batch, parallel envs, discount, clip, widths."""
    for name in ("frames_per_batch", "num_envs", "eval_envs", "actor_hidden_size", "critic_hidden_size"):
        require(getattr(cfg, name) >= 1, f"algo.{name}", getattr(cfg, name), "an integer >= 1")
    require(0.0 <= cfg.gamma <= 1.0, "algo.gamma", cfg.gamma, "a discount in [0, 1]")
    require(cfg.max_grad_norm > 0, "algo.max_grad_norm", cfg.max_grad_norm, "a positive number")


@dataclass
class COMAConfig:
    """COMA (Foerster et al. 2018). Defaults follow pymarl / EPyMARL except where 600-env batches needed more
    updates per frame: 10 minibatches, 2 critic steps at a 4x critic step size, normalised advantages."""

    name: str = "coma"  # the algorithm
    num_envs: int = 600  # parallel training envs
    eval_envs: int = 100  # parallel envs of each evaluation (one episode each)
    frames_per_batch: int = 6000  # env frames per iteration (num_envs * steps per env)
    actor_lr: float = 5e-4  # Adam step size of the actors (pymarl: 5e-4)
    critic_lr: float = 2e-3  # Adam step size of the critic (pymarl: 5e-4)
    gamma: float = 0.99  # discount
    lmbda: float = 0.8  # lambda of the TD(lambda) critic targets (COMA paper: 0.8)
    tau: float = 0.01  # Polyak step of the target critic per update
    critic_steps: int = 2  # critic gradient steps per minibatch
    minibatches: int = 10  # env chunks per batch, each one critic + one actor step (one pass over the data)
    eps_init: float = 0.5  # initial exploration epsilon (COMA paper: 0.5)
    eps_end: float = 0.02  # final exploration epsilon (COMA paper: 0.02)
    eps_anneal_frames: int = 100_000  # frames over which epsilon anneals linearly (pymarl: 100k steps)
    entropy_coeff: float = 0.01  # policy-entropy bonus (EPyMARL: 0.01)
    logit_penalty: float = 0.0  # weight of the centred squared logits (keeps a softmax from saturating; 0: off)
    normalize_advantage: bool = True  # standardise counterfactual advantages per minibatch
    advantage_source: str = "q"  # q (COMA eq. 4) | returns (critic target minus the same baseline)
    team_reward: bool = False  # average per-agent rewards into one team reward
    recurrent: bool = False  # GRU actors over the action-observation history (else MLP)
    share_params: bool = True  # one actor shared by all agents (else one per agent)
    actor_hidden_size: int = 64  # actor hidden width (two layers, or encoder + GRU)
    critic_hidden_size: int = 128  # critic hidden width (two layers; pymarl: 128)
    max_grad_norm: float = 10.0  # gradient-norm clip per optimiser (pymarl: 10)

    def __post_init__(self) -> None:
        _check_on_policy(self)
        require(self.actor_lr > 0 and self.critic_lr > 0, "algo.actor_lr/critic_lr", (self.actor_lr, self.critic_lr),
                "positive step sizes")
        check_choice("algo.advantage_source", self.advantage_source, ADVANTAGE_SOURCES)
        require(0.0 <= self.lmbda <= 1.0, "algo.lmbda", self.lmbda, "a number in [0, 1]")
        require(0.0 < self.tau <= 1.0, "algo.tau", self.tau, "a number in (0, 1]")
        for name in ("critic_steps", "minibatches", "eps_anneal_frames"):
            require(getattr(self, name) >= 1, f"algo.{name}", getattr(self, name), "an integer >= 1")
        require(0.0 <= self.eps_end <= self.eps_init <= 1.0, "algo.eps_init/eps_end", (self.eps_init, self.eps_end),
                "0 <= eps_end <= eps_init <= 1")
        for name in ("entropy_coeff", "logit_penalty"):
            require(getattr(self, name) >= 0, f"algo.{name}", getattr(self, name), "a number >= 0")


@dataclass
class PPOConfig:
    """MAPPO (centralised critic) or IPPO (per-agent critic) with TorchRL's clipped PPO loss, BenchMARL-style."""

    name: str = "mappo"  # the algorithm: mappo | ippo
    num_envs: int = 600  # parallel training envs
    eval_envs: int = 100  # parallel envs of each evaluation (one episode each)
    frames_per_batch: int = 6000  # env frames per iteration (same as COMA's for a fair comparison)
    lr: float = 3e-4  # Adam step size of actor and critic
    gamma: float = 0.99  # discount
    lmbda: float = 0.9  # GAE lambda (BenchMARL: 0.9)
    clip_epsilon: float = 0.2  # PPO ratio clip (BenchMARL: 0.2)
    entropy_coeff: float = 0.0  # entropy bonus (BenchMARL: 0)
    num_epochs: int = 3  # passes over each batch (BenchMARL: 45 minibatches of 400 from 6000 frames = 3)
    minibatch_size: int = 400  # frames per gradient step (BenchMARL: 400)
    normalize_advantage: bool = True  # standardise advantages per minibatch (MAPPOLoss default)
    share_params: bool = True  # one actor (and one critic) shared by all agents
    actor_hidden_size: int = 64  # actor hidden width (two layers; same as COMA's)
    critic_hidden_size: int = 128  # critic hidden width (two layers; same as COMA's)
    max_grad_norm: float = 5.0  # gradient-norm clip per optimiser (BenchMARL: 5)

    def __post_init__(self) -> None:
        _check_on_policy(self)
        require(self.lr > 0, "algo.lr", self.lr, "a positive step size")
        require(0.0 <= self.lmbda <= 1.0, "algo.lmbda", self.lmbda, "a number in [0, 1]")
        require(0.0 < self.clip_epsilon < 1.0, "algo.clip_epsilon", self.clip_epsilon, "a number in (0, 1)")
        require(self.entropy_coeff >= 0, "algo.entropy_coeff", self.entropy_coeff, "a number >= 0")
        for name in ("num_epochs", "minibatch_size"):
            require(getattr(self, name) >= 1, f"algo.{name}", getattr(self, name), "an integer >= 1")


ALGO_SCHEMAS: dict[str, type] = {"coma": COMAConfig, "mappo": PPOConfig, "ippo": PPOConfig}
ENV_SCHEMAS: dict[str, type] = env_schemas("vmas", "iterated_matrix_game", "switch")


def check(run: RunConfig) -> None:
    """The rules joining algorithm and env: COMA alone plays the switch (masked actions, memory), only the PPO
    baselines take continuous actions, and a batch is whole steps of every env."""
    algo, env = run.algo, run.env
    if env.name == "switch":
        if env.communication:
            raise ConfigError(
                "env.communication=true: the COMA family plays the switch riddle without its channel; valid: "
                "env.communication=false (algo=dial / algo=rial learn to communicate)"
            )
        if not isinstance(algo, COMAConfig):
            raise ConfigError(
                f"env.name='switch' needs algo=coma (its actions are masked and need memory; the {algo.name} "
                f"baseline here has neither); valid algos for it: coma"
            )
    if env.name == "vmas" and env.continuous_actions and isinstance(algo, COMAConfig):
        raise ConfigError(
            "env.continuous_actions=true needs algo=mappo or algo=ippo (COMA's counterfactual baseline sums over a "
            "discrete action set); valid algos for it: mappo, ippo"
        )
    require(algo.frames_per_batch % algo.num_envs == 0, "algo.frames_per_batch", algo.frames_per_batch,
            f"a multiple of algo.num_envs={algo.num_envs}")
