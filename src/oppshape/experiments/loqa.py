"""LOQA (Aghajohari et al., ICLR 2024) on the IPD and the Coin Game.

Serves algorithm ``loqa`` on envs ``loqa_ipd`` (classic IPD payoffs, tabular actor and an MLP Q-net,
the paper's Fig. 2 setting) and ``loqa_coin`` (any board size, GRU actor and GRU Q-net, Sec. 5.2-5.3).
All ``num_seeds`` seeds run as ensemble members of one learner. Evaluation plays the agent against
itself, always-defect and always-cooperate; on the Coin Game it also reports the own-coin rate and
LOQA's scalability thresholds on the normalized reward (per-step reward ``x 2 * floor(size / 2)``),
and ``summary.json`` holds the wall-clock seconds of the first evaluation passing each threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from matplotlib.figure import Figure
from tensordict import TensorDictBase
from torch import nn
from torchrl.envs import EnvBase

from oppshape.config import RunConfig
from oppshape.envs.coin_game import CoinGame
from oppshape.envs.registry import make_env
from oppshape.eval.coin_strategies import always_cooperate, always_defect
from oppshape.eval.ipd_metrics import cooperation_summary, retaliates
from oppshape.experiments.base import Experiment, MetricsHistory
from oppshape.games.payoffs import PAYOFF_NAMES
from oppshape.learners.loqa import LOQALearner
from oppshape.learners.loqa_rollout import FixedPolicy
from oppshape.modules.loqa_nets import GRUNet, MLPNet, TabularActor
from oppshape.objectives.loqa import RETURN_ESTIMATORS, TARGET_MODES, LOQALoss

ACTORS = ("gru", "tabular")
QVALUES = ("gru", "mlp")
#: LOQA's Coin Game thresholds: (normalized reward vs each other, normalized reward vs always-defect).
THRESHOLDS: dict[str, tuple[float, float]] = {"weak": (0.05, -1.2), "medium": (0.1, -0.5), "strong": (0.2, -0.2)}
#: An IPD seed counts as reciprocal if it nearly always cooperates with itself and is not exploited.
RECIPROCAL_VS_SELF, RECIPROCAL_VS_ALLD = -1.2, -2.2


def _check(ok: bool, key: str, value: Any, valid: str) -> None:
    if not ok:
        raise ValueError(f"invalid {key}={value!r}; expected {valid}")


@dataclass
class LOQAConfig:
    """LOQA's hyperparameters; defaults are the paper's Coin Game settings."""

    name: str = "loqa"
    num_seeds: int = 1  # independent learners trained together as ensemble members
    batch_size: int = 512  # episodes per seed per iteration
    actor: str = "gru"  # gru | tabular (IPD only: one logit row per memory-1 state)
    actor_hidden_size: int = 128  # GRU width of the actor
    actor_layers_before_gru: int = 2  # dense layers before the actor's GRU: 0, 1 or 2
    qvalue: str = "gru"  # gru | mlp (two ReLU layers of qvalue_hidden_size), both read [observation, t]
    qvalue_hidden_size: int = 64  # GRU width, or MLP layer width
    qvalue_layers_before_gru: int = 2  # dense layers before the Q-net's GRU: 0, 1 or 2
    gamma: float = 0.96  # reward discount
    actor_lr: float = 1e-3  # Adam step size of the actor
    qvalue_lr: float = 1e-2  # Adam step size of the Q-network
    entropy_coeff: float = 0.1  # entropy bonus weight
    shaping_coeff: float = 1.0  # weight of LOQA's shaping gradient (0: plain actor-critic)
    grad_clip_norm: float = 1.0  # per-seed global-norm clip of the actor gradient (0: off)
    opponent_temperature: float = 1.0  # softmax temperature of the Q-value opponent model
    return_estimator: str = "loaded_dice"  # loaded_dice | n_step: the opponent's differentiable return
    dice_discount: float = 0.9  # lambda of loaded DiCE
    n_step: int = 2  # window of the n_step estimator (>= 2)
    target_mode: str = "taken"  # taken (Q_target at the next taken action) | max
    advantage_grad: bool = False  # differentiate the TD(0) advantage as the authors' code (actor step moves Q too)
    bootstrap_returns: bool = False  # loaded DiCE: add gamma^(T-t) V^op(s_T) to the opponent's truncated returns
    target_ema: float = 0.99  # target <- ema * target + (1 - ema) * online, after every Q step
    snapshot_capacity: int = 10000  # opponent buffer of past snapshots (0: play the current agent)
    snapshot_every: int = 10  # push a snapshot every this many iterations
    epsilon: float = 0.0  # epsilon-greedy exploration of both seats while training

    def __post_init__(self) -> None:
        _check(self.actor in ACTORS, "algo.actor", self.actor, f"one of {', '.join(ACTORS)}")
        _check(self.qvalue in QVALUES, "algo.qvalue", self.qvalue, f"one of {', '.join(QVALUES)}")
        _check(self.return_estimator in RETURN_ESTIMATORS, "algo.return_estimator", self.return_estimator,
               f"one of {', '.join(RETURN_ESTIMATORS)}")
        _check(self.target_mode in TARGET_MODES, "algo.target_mode", self.target_mode,
               f"one of {', '.join(TARGET_MODES)}")
        for key in ("num_seeds", "batch_size", "actor_hidden_size", "qvalue_hidden_size", "snapshot_every"):
            _check(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        for key in ("actor_layers_before_gru", "qvalue_layers_before_gru"):
            _check(getattr(self, key) in (0, 1, 2), f"algo.{key}", getattr(self, key), "0, 1 or 2")
        for key in ("actor_lr", "qvalue_lr", "opponent_temperature"):
            _check(getattr(self, key) > 0, f"algo.{key}", getattr(self, key), "a number > 0")
        for key in ("entropy_coeff", "shaping_coeff", "grad_clip_norm", "snapshot_capacity"):
            _check(getattr(self, key) >= 0, f"algo.{key}", getattr(self, key), "a number >= 0")
        _check(0 < self.gamma <= 1, "algo.gamma", self.gamma, "a discount in (0, 1]")
        for key in ("dice_discount", "target_ema", "epsilon"):
            _check(0 <= getattr(self, key) <= 1, f"algo.{key}", getattr(self, key), "a number in [0, 1]")
        _check(self.n_step >= 2, "algo.n_step", self.n_step, "an integer >= 2")


@dataclass
class LoqaIpdEnvConfig:
    """The iterated matrix game with a fixed episode length (LOQA: classic IPD, 50 steps)."""

    name: str = "loqa_ipd"
    payoff: str = "ipd"  # payoff preset, one of oppshape.games.PAYOFF_NAMES except ipd_cf
    episode_length: int = 50  # steps per episode

    def __post_init__(self) -> None:
        choices = [name for name in PAYOFF_NAMES if name != "ipd_cf"]
        _check(self.payoff in choices, "env.payoff", self.payoff, f"one of {', '.join(choices)}")
        _check(self.episode_length >= 2, "env.episode_length", self.episode_length, "an integer >= 2")


@dataclass
class LoqaCoinEnvConfig:
    """The Coin Game with egocentric observations (LOQA: 3x3 to 7x7, 50 steps)."""

    name: str = "loqa_coin"
    height: int = 3  # board rows (>= 2)
    width: int = 3  # board columns (>= 2); the normalization uses 2 * floor(width / 2)
    episode_length: int = 50  # steps per episode

    def __post_init__(self) -> None:
        for key in ("height", "width", "episode_length"):
            _check(getattr(self, key) >= 2, f"env.{key}", getattr(self, key), "an integer >= 2")


ALGO_SCHEMAS: dict[str, type] = {"loqa": LOQAConfig}
ENV_SCHEMAS: dict[str, type] = {"loqa_ipd": LoqaIpdEnvConfig, "loqa_coin": LoqaCoinEnvConfig}



def make_networks(algo: LOQAConfig, obs_shape: tuple[int, ...], num_actions: int) -> tuple[nn.Module, nn.Module]:
    """The actor and the Q-network for ``algo.num_seeds`` members."""
    members = algo.num_seeds
    if algo.actor == "tabular":
        actor: nn.Module = TabularActor(obs_shape[0], num_actions, members)
    else:
        actor = GRUNet(obs_shape, num_actions, algo.actor_hidden_size, algo.actor_layers_before_gru,
                       time_input=False, num_members=members)
    if algo.qvalue == "mlp":
        width = algo.qvalue_hidden_size
        qvalue: nn.Module = MLPNet(obs_shape, num_actions, (width, width), time_input=True, num_members=members)
    else:
        qvalue = GRUNet(obs_shape, num_actions, algo.qvalue_hidden_size, algo.qvalue_layers_before_gru,
                        time_input=True, num_members=members)
    return actor, qvalue


def reward_per_step(batch: TensorDictBase) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean reward per step of the agent and of its opponent, per seed ``[S]``."""
    return batch["next", "reward"].mean((1, 2, 3)), batch["next", "opponent_reward"].mean((1, 2, 3))


class LOQAEvaluation:
    """Plays the current agent against itself and two fixed strategies; returns plain floats."""

    def __init__(self, learner: LOQALearner, env: EnvBase) -> None:
        self.learner, self.env = learner, env
        if isinstance(env, CoinGame):
            board = (env.height, env.width)

            def scripted(strategy: Callable[..., torch.Tensor]) -> Callable[[TensorDictBase], torch.Tensor]:
                return lambda state: strategy(state["agent_pos"], state["coin_pos"], state["coin_owner"], 1, *board)

            self.fixed = {"alld": scripted(always_defect), "allc": scripted(always_cooperate)}
            self.num_actions = env.n_actions
        else:
            games = env.batch_size[0]
            self.fixed = {
                "alld": lambda state: torch.ones(games, dtype=torch.long, device=env.device),
                "allc": lambda state: torch.zeros(games, dtype=torch.long, device=env.device),
            }
            self.num_actions = 2

    def __call__(self) -> dict[str, float]:
        learner = self.learner
        selfplay = learner.play(learner.agent_policy())
        own, other = reward_per_step(selfplay)
        per_seed = {"vs_self": (own + other) / 2}
        for name, choose in self.fixed.items():
            per_seed[f"vs_{name}"] = reward_per_step(learner.play(FixedPolicy(choose, self.num_actions)))[0]
        metrics = {f"eval_reward_{key}": float(value.mean()) for key, value in per_seed.items()}
        if learner.members > 1:
            for key, value in per_seed.items():
                metrics.update({f"eval_reward_{key}_seed{s}": float(v) for s, v in enumerate(value)})
        if isinstance(self.env, CoinGame):
            metrics.update(self._coin_metrics(selfplay, per_seed))
        else:
            metrics.update(self._ipd_metrics(per_seed))
        return metrics

    def _coin_metrics(self, selfplay: TensorDictBase, per_seed: dict[str, torch.Tensor]) -> dict[str, float]:
        picked = selfplay["next", "picked_coin"].float().sum()
        metrics = {"eval_own_coin_rate": float(selfplay["next", "picked_own_coin"].float().sum() / picked.clamp(min=1))}
        scale = 2 * (self.env.width // 2)
        vs_self, vs_alld = float(per_seed["vs_self"].mean()) * scale, float(per_seed["vs_alld"].mean()) * scale
        metrics.update(eval_normalized_vs_self=vs_self, eval_normalized_vs_alld=vs_alld)
        for level, (self_min, alld_min) in THRESHOLDS.items():
            metrics[f"eval_{level}"] = float(vs_self > self_min and vs_alld > alld_min)
        return metrics

    def _ipd_metrics(self, per_seed: dict[str, torch.Tensor]) -> dict[str, float]:
        reciprocal = (per_seed["vs_self"] > RECIPROCAL_VS_SELF) & (per_seed["vs_alld"] > RECIPROCAL_VS_ALLD)
        metrics = {"eval_reciprocal_fraction": float(reciprocal.float().mean())}
        actor = self.learner.loss.actor_network
        if isinstance(actor, TabularActor):
            coop = torch.softmax(actor.table.detach(), dim=-1)[..., 0]  # [S, 5] P(cooperate | state)
            metrics.update(cooperation_summary((coop,)))
            metrics["eval_retaliating_fraction"] = float(retaliates(coop).float().mean())
        return metrics


def summarize(history: MetricsHistory) -> dict[str, Any]:
    """Final evaluation and, per Coin Game threshold, the wall-clock seconds of the first eval passing it."""
    evals = [row for row in history if "eval_reward_vs_self" in row]
    summary: dict[str, Any] = {"final_eval": {k: v for k, v in evals[-1].items() if k.startswith(("eval", "p_coop"))}
                               if evals else {}}
    if evals and "eval_weak" in evals[0]:
        for level in THRESHOLDS:
            first = next((row for row in evals if row[f"eval_{level}"] > 0), None)
            summary[f"seconds_to_{level}"] = None if first is None else first["wall_time_s"]
            summary[f"iteration_to_{level}"] = None if first is None else int(first["iteration"])
    return summary


def plot_curves(history: MetricsHistory, plots_dir: Path) -> None:
    """Evaluation rewards over wall-clock time, and P(cooperate | state) for a tabular IPD actor."""
    evals = [row for row in history if "eval_reward_vs_self" in row]
    if not evals:
        return
    plots_dir.mkdir(parents=True, exist_ok=True)
    seconds = [row["wall_time_s"] for row in evals]
    tabular = "p_coop_agent1_CC" in evals[0]
    figure = Figure(figsize=(11 if tabular else 6, 4))
    axes = figure.subplots(1, 2 if tabular else 1, squeeze=False)[0]
    for key in ("vs_self", "vs_alld", "vs_allc"):
        axes[0].plot(seconds, [row[f"eval_reward_{key}"] for row in evals], label=key.replace("_", " "))
    if "eval_own_coin_rate" in evals[0]:
        axes[0].plot(seconds, [row["eval_own_coin_rate"] for row in evals], label="own-coin rate", linestyle="--")
    axes[0].set(title="reward per step (seed mean)", xlabel="wall-clock seconds")
    axes[0].legend(fontsize=8)
    if tabular:
        for state in ("start", "CC", "CD", "DC", "DD"):
            axes[1].plot(seconds, [row[f"p_coop_agent1_{state}"] for row in evals], label=state)
        axes[1].set(title="P(cooperate | state), own view", xlabel="wall-clock seconds", ylim=(-0.02, 1.02))
        axes[1].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(plots_dir / "loqa.png", dpi=110)


def build(run: RunConfig, device: torch.device) -> Experiment:
    """LOQA self-play on ``env`` (``loqa_ipd`` or ``loqa_coin``)."""
    algo: LOQAConfig = run.algo
    env_config = run.env
    games = algo.num_seeds * algo.batch_size
    if isinstance(env_config, LoqaIpdEnvConfig):
        env = make_env("iterated_matrix_game", num_envs=games, payoff=env_config.payoff,
                       episode_length=env_config.episode_length, device=device)
        obs_shape, num_actions = (5,), 2
    else:
        _check(algo.actor != "tabular", "algo.actor", algo.actor, "gru on the Coin Game (tabular is IPD-only)")
        env = make_env("coin_game", num_envs=games, height=env_config.height, width=env_config.width,
                       episode_length=env_config.episode_length, device=device)
        obs_shape, num_actions = env.observation_shape, env.n_actions
    actor, qvalue = make_networks(algo, obs_shape, num_actions)
    loss = LOQALoss(
        actor.to(device), qvalue.to(device), gamma=algo.gamma, entropy_coeff=algo.entropy_coeff,
        shaping_coeff=algo.shaping_coeff, opponent_temperature=algo.opponent_temperature,
        return_estimator=algo.return_estimator, dice_discount=algo.dice_discount, n_step=algo.n_step,
        target_mode=algo.target_mode, advantage_grad=algo.advantage_grad, bootstrap_returns=algo.bootstrap_returns,
    )
    learner = LOQALearner(
        env, loss, members=algo.num_seeds, steps=env_config.episode_length, actor_lr=algo.actor_lr,
        qvalue_lr=algo.qvalue_lr, grad_clip_norm=algo.grad_clip_norm, target_ema=algo.target_ema,
        snapshot_capacity=algo.snapshot_capacity, snapshot_every=algo.snapshot_every, epsilon=algo.epsilon,
    )
    return Experiment(
        learner=learner,
        collect=learner.collect,
        evaluate=LOQAEvaluation(learner, env),
        plot=plot_curves,
        summarize=summarize,
        progress_keys=("reward_per_step", "eval_reward_vs_self", "eval_reward_vs_alld"),
    )
