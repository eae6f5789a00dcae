"""Config schemas of the COMA family: algorithms ``coma``, ``mappo``, ``ippo``; envs ``vmas``, matrix games.

Every field has a one-line comment; ``__post_init__`` names a bad value and the valid range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from oppshape.envs.vmas_factory import VMAS_SCENARIOS
from oppshape.games.payoffs import PAYOFF_NAMES
from oppshape.objectives.coma import ADVANTAGE_SOURCES, CRITIC_TARGETS


def _require(ok: bool, key: str, value: Any, valid: str) -> None:
    if not ok:
        raise ValueError(f"invalid value {key}={value!r}; expected {valid}")


def _check_on_policy(cfg: Any) -> None:
    _require(cfg.frames_per_batch >= 1, "algo.frames_per_batch", cfg.frames_per_batch, "an integer >= 1")
    _require(0.0 <= cfg.gamma <= 1.0, "algo.gamma", cfg.gamma, "a discount in [0, 1]")
    _require(cfg.max_grad_norm > 0, "algo.max_grad_norm", cfg.max_grad_norm, "a positive number")
    for name in ("actor_hidden", "critic_hidden"):
        _require(getattr(cfg, name) >= 1, f"algo.{name}", getattr(cfg, name), "an integer >= 1")


@dataclass
class COMAConfig:
    """COMA (Foerster et al. 2018). Defaults follow pymarl / EPyMARL except where 600-env batches needed more
    updates per frame: 10 minibatches, 2 critic steps at a 4x critic step size, normalised advantages."""

    name: str = "coma"
    frames_per_batch: int = 6000  # env frames per iteration (num_envs * steps per env)
    actor_lr: float = 5e-4  # Adam step size of the actors (pymarl: 5e-4)
    critic_lr: float = 2e-3  # Adam step size of the critic (pymarl: 5e-4)
    gamma: float = 0.99  # discount
    critic_target: str = "td_lambda"  # td_lambda | n_step
    td_lambda: float = 0.8  # lambda of the TD(lambda) critic targets (COMA paper: 0.8)
    n_steps: int = 5  # look-ahead of n-step targets (EPyMARL: 5)
    target_update: str = "soft"  # soft (Polyak) | hard (periodic copy)
    tau: float = 0.01  # Polyak step of soft target updates
    hard_update_interval: int = 200  # updates between hard target copies (pymarl: 200)
    critic_steps: int = 2  # critic gradient steps per minibatch
    minibatches: int = 10  # env chunks per batch, each one critic + one actor step (one pass over the data)
    eps_init: float = 0.5  # initial exploration epsilon (COMA paper: 0.5)
    eps_end: float = 0.02  # final exploration epsilon (COMA paper: 0.02)
    eps_anneal_frames: int = 100_000  # frames over which epsilon anneals linearly (pymarl: 100k steps)
    entropy_coeff: float = 0.01  # policy-entropy bonus (EPyMARL: 0.01)
    logit_penalty: float = 0.0  # weight of the centred squared logits (keeps a softmax from saturating; 0: off)
    reward_scale: float = 1.0  # factor on rewards in the critic targets (Q in scaled units; for tiny rewards)
    normalize_advantage: bool = True  # standardise counterfactual advantages per minibatch
    advantage_source: str = "q"  # q (COMA eq. 4) | returns (critic target minus the same baseline)
    team_reward: bool = False  # average per-agent rewards into one team reward
    recurrent: bool = False  # GRU actors over the action-observation history (else MLP)
    share_params: bool = True  # one actor shared by all agents (else one per agent)
    actor_hidden: int = 64  # actor hidden width (two layers, or encoder + GRU)
    critic_hidden: int = 128  # critic hidden width (two layers; pymarl: 128)
    max_grad_norm: float = 10.0  # gradient-norm clip per optimiser (pymarl: 10)
    clip_epsilon: float = 0.0  # 0: COMA's actor gradient (eq. 5); in (0, 1): PPO's clipped surrogate on it
    epochs: int = 1  # passes over each batch (> 1 needs clip_epsilon > 0)

    def __post_init__(self) -> None:
        _check_on_policy(self)
        _require(0.0 <= self.clip_epsilon < 1.0, "algo.clip_epsilon", self.clip_epsilon,
                 "0 (off) or a number in (0, 1)")
        _require(self.epochs == 1 or (self.epochs > 1 and self.clip_epsilon > 0), "algo.epochs", self.epochs,
                 "1, or an integer > 1 together with algo.clip_epsilon > 0")
        _require(self.actor_lr > 0 and self.critic_lr > 0, "algo.actor_lr/critic_lr", (self.actor_lr, self.critic_lr),
                 "positive step sizes")
        _require(self.critic_target in CRITIC_TARGETS, "algo.critic_target", self.critic_target,
                 f"one of {', '.join(CRITIC_TARGETS)}")
        _require(self.advantage_source in ADVANTAGE_SOURCES, "algo.advantage_source", self.advantage_source,
                 f"one of {', '.join(ADVANTAGE_SOURCES)}")
        _require(0.0 <= self.td_lambda <= 1.0, "algo.td_lambda", self.td_lambda, "a number in [0, 1]")
        _require(self.n_steps >= 1, "algo.n_steps", self.n_steps, "an integer >= 1")
        _require(self.target_update in ("soft", "hard"), "algo.target_update", self.target_update, "soft or hard")
        _require(0.0 < self.tau <= 1.0, "algo.tau", self.tau, "a number in (0, 1]")
        _require(self.hard_update_interval >= 1, "algo.hard_update_interval", self.hard_update_interval,
                 "an integer >= 1")
        _require(self.critic_steps >= 1, "algo.critic_steps", self.critic_steps, "an integer >= 1")
        _require(self.minibatches >= 1, "algo.minibatches", self.minibatches, "an integer >= 1")
        _require(0.0 <= self.eps_end <= self.eps_init <= 1.0, "algo.eps_init/eps_end", (self.eps_init, self.eps_end),
                 "0 <= eps_end <= eps_init <= 1")
        _require(self.eps_anneal_frames >= 1, "algo.eps_anneal_frames", self.eps_anneal_frames, "an integer >= 1")
        _require(self.entropy_coeff >= 0, "algo.entropy_coeff", self.entropy_coeff, "a number >= 0")
        _require(self.logit_penalty >= 0, "algo.logit_penalty", self.logit_penalty, "a number >= 0")
        _require(self.reward_scale > 0, "algo.reward_scale", self.reward_scale, "a positive factor")


@dataclass
class PPOConfig:
    """MAPPO (centralised critic) or IPPO (per-agent critic) with TorchRL's clipped PPO loss, BenchMARL-style."""

    name: str = "mappo"
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
    actor_hidden: int = 64  # actor hidden width (two layers; same as COMA's)
    critic_hidden: int = 128  # critic hidden width (two layers; same as COMA's)
    max_grad_norm: float = 5.0  # gradient-norm clip per optimiser (BenchMARL: 5)

    def __post_init__(self) -> None:
        _check_on_policy(self)
        _require(self.lr > 0, "algo.lr", self.lr, "a positive step size")
        _require(0.0 <= self.lmbda <= 1.0, "algo.lmbda", self.lmbda, "a number in [0, 1]")
        _require(0.0 < self.clip_epsilon < 1.0, "algo.clip_epsilon", self.clip_epsilon, "a number in (0, 1)")
        _require(self.entropy_coeff >= 0, "algo.entropy_coeff", self.entropy_coeff, "a number >= 0")
        _require(self.num_epochs >= 1, "algo.num_epochs", self.num_epochs, "an integer >= 1")
        _require(self.minibatch_size >= 1, "algo.minibatch_size", self.minibatch_size, "an integer >= 1")


@dataclass
class VmasEnvConfig:
    """A VMAS task (``oppshape.envs.vmas_factory``), discrete actions unless ``continuous_actions``."""

    name: str = "vmas"
    scenario: str = "navigation"  # navigation | balance | transport | simple_spread | give_way
    num_envs: int = 600  # parallel training envs
    max_steps: int = 100  # episode horizon (truncation)
    eval_envs: int = 200  # parallel envs of each greedy evaluation (one episode each)
    scenario_kwargs: dict[str, Any] = field(default_factory=dict)  # VMAS scenario arguments, e.g. n_agents
    continuous_actions: bool = False  # VMAS's native force actions (MAPPO / IPPO only; COMA needs discrete)
    start_curriculum_frames: int = 0  # transport only: near-package starts fall from all to none over these frames
    start_radius: float = 0.25  # widest gap between an agent's start and the package edge in near-package starts

    def __post_init__(self) -> None:
        _require(self.scenario in VMAS_SCENARIOS, "env.scenario", self.scenario, f"one of {', '.join(VMAS_SCENARIOS)}")
        for name in ("num_envs", "max_steps", "eval_envs"):
            _require(getattr(self, name) >= 1, f"env.{name}", getattr(self, name), "an integer >= 1")
        _require(self.start_curriculum_frames >= 0, "env.start_curriculum_frames", self.start_curriculum_frames,
                 "an integer >= 0 (0: no curriculum)")
        _require(self.start_curriculum_frames == 0 or self.scenario == "transport", "env.start_curriculum_frames",
                 self.start_curriculum_frames, f"0 for env.scenario={self.scenario!r} (the curriculum is transport's)")
        _require(self.start_radius > 0, "env.start_radius", self.start_radius, "a positive distance")


@dataclass
class MatrixGameEnvConfig:
    """The iterated 2x2 matrix game as a sanity case with a known optimal joint action."""

    name: str = "coma_matrix"
    payoff: str = "coordination"  # a payoff preset (oppshape.games.PAYOFF_NAMES)
    cf: Optional[float] = None  # contribution factor, only for payoff=ipd_cf
    episode_length: int = 10  # steps per episode (truncation)
    num_envs: int = 100  # parallel training games
    eval_envs: int = 100  # parallel games of each greedy evaluation

    def __post_init__(self) -> None:
        _require(self.payoff in PAYOFF_NAMES, "env.payoff", self.payoff, f"one of {', '.join(PAYOFF_NAMES)}")
        for name in ("episode_length", "num_envs", "eval_envs"):
            _require(getattr(self, name) >= 1, f"env.{name}", getattr(self, name), "an integer >= 1")


@dataclass
class SwitchNoCommEnvConfig:
    """The switch riddle without its channel (``SwitchGame(communication=False)``): a recurrent sanity case
    with a known reference (the last-day rule), whose episodes end on different days (a Tell ends one)."""

    name: str = "switch_nocomm"
    n_agents: int = 3  # prisoners; an episode lasts 4 n - 6 days
    num_envs: int = 500  # parallel training games
    eval_envs: int = 2000  # parallel games of each greedy evaluation

    def __post_init__(self) -> None:
        _require(self.n_agents >= 2, "env.n_agents", self.n_agents, "an integer >= 2")
        for name in ("num_envs", "eval_envs"):
            _require(getattr(self, name) >= 1, f"env.{name}", getattr(self, name), "an integer >= 1")


ALGO_SCHEMAS: dict[str, type] = {"coma": COMAConfig, "mappo": PPOConfig, "ippo": PPOConfig}
ENV_SCHEMAS: dict[str, type] = {
    "vmas": VmasEnvConfig, "coma_matrix": MatrixGameEnvConfig, "switch_nocomm": SwitchNoCommEnvConfig,
}
#: Envs whose actions are masked or need memory: only COMA's actor handles them here.
COMA_ONLY_ENVS: tuple[str, ...] = ("switch_nocomm",)
