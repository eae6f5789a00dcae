"""Sample-based opponent shaping with DiCE: LOLA-DiCE, POLA-DiCE, POLA-OM (POLA paper, Figures 4 and 5).

Serves algorithms ``lola_dice``, ``pola_dice`` and ``pola_om`` on envs ``ipd_history`` (the IPD
with GRU policies that see the last joint action) and ``coin_game``. One trainer iteration is one
update ("epoch") of the reference ``POLA_dice_jax.py``: both agents' outer loops from the same start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from oppshape.config import RunConfig
from oppshape.envs.coin_game import CoinGame
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.eval.dice_eval import coin_strategies, dice_metrics, ipd_strategies
from oppshape.eval.dice_plots import plot_dice_history
from oppshape.experiments.base import Experiment, MetricsHistory
from oppshape.games.payoffs import PAYOFF_NAMES, payoff_table
from oppshape.learners.lola_dice import LOLADiCE
from oppshape.learners.pola_dice import POLADiCE, ShapingConfig
from oppshape.learners.pola_om import POLAOM, OpponentModelConfig


def _require(ok: bool, key: str, value: Any, valid: str) -> None:
    if not ok:
        raise ValueError(f"invalid {key}={value!r}; expected {valid}")


@dataclass
class IpdHistoryEnvConfig:
    """The IPD played by GRU policies over whole episodes (POLA Figure 4)."""

    name: str = "ipd_history"
    payoff: str = "ipd_cf"  # payoff preset, one of oppshape.games.PAYOFF_NAMES
    cf: float = 1.33  # contribution factor in (1, 2), for payoff=ipd_cf (--contrib_factor)
    episode_length: int = 50  # steps per episode and per rollout (--rollout_len)

    def __post_init__(self) -> None:
        _require(self.payoff in PAYOFF_NAMES, "env.payoff", self.payoff, f"one of {', '.join(PAYOFF_NAMES)}")
        if self.payoff == "ipd_cf":
            _require(1.0 < self.cf < 2.0, "env.cf", self.cf, "a contribution factor in (1, 2)")
        _require(self.episode_length >= 1, "env.episode_length", self.episode_length, "an integer >= 1")

    def make(self, device: torch.device) -> IteratedMatrixGame:
        table = payoff_table(self.payoff, cf=self.cf if self.payoff == "ipd_cf" else None)
        return IteratedMatrixGame(payoff_table=table, episode_length=self.episode_length, device=device)


@dataclass
class CoinGameEnvConfig:
    """The two-agent Coin Game (POLA Figure 5)."""

    name: str = "coin_game"
    height: int = 3  # board rows (>= 2; the papers use 3)
    width: int = 3  # board columns (>= 2; the papers use 3)
    episode_length: int = 50  # steps per episode and per rollout (--rollout_len)
    egocentric: bool = True  # each agent sees [me, other, my coin, other's coin]; false: POLA's shared view

    def __post_init__(self) -> None:
        for key in ("height", "width"):
            _require(getattr(self, key) >= 2, f"env.{key}", getattr(self, key), "an integer >= 2")
        _require(self.episode_length >= 1, "env.episode_length", self.episode_length, "an integer >= 1")

    def make(self, device: torch.device) -> CoinGame:
        return CoinGame(num_envs=1, height=self.height, width=self.width, episode_length=self.episode_length,
                        egocentric=self.egocentric, device=device)


@dataclass
class LolaDiceConfig:
    """LOLA-DiCE: one differentiable opponent step, one Adam step, no proximal terms."""

    name: str = "lola_dice"
    inner_lr: float = 0.05  # opponent look-ahead SGD step (--lr_in; IPD 0.05, Coin 0.003)
    outer_lr: float = 0.003  # agent policy Adam step (--lr_out)
    value_lr: float = 0.0005  # value baselines' step (--lr_v)
    batch_size: int = 2000  # games per rollout and seed (--batch_size)
    gamma: float = 0.96  # discount (--gamma)
    gae_lambda: float = 1.0  # GAE lambda of the Loaded-DiCE advantages (--gae_lambda)
    hidden_size: int = 64  # width of the dense layer and the GRU (--hidden_size)
    num_seeds: int = 1  # independent runs trained together in one batch, all drawn from the run's seed
    eval_batch_size: int = 2000  # games per evaluation match and seed

    def __post_init__(self) -> None:
        for key in ("inner_lr", "outer_lr", "value_lr"):
            _require(getattr(self, key) >= 0, f"algo.{key}", getattr(self, key), "a number >= 0")
        for key in ("batch_size", "hidden_size", "num_seeds", "eval_batch_size"):
            _require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        _require(0.0 < self.gamma < 1.0, "algo.gamma", self.gamma, "a discount in (0, 1)")
        _require(0.0 <= self.gae_lambda <= 1.0, "algo.gae_lambda", self.gae_lambda, "a number in [0, 1]")


@dataclass
class PolaDiceConfig(LolaDiceConfig):
    """POLA-DiCE: proximal look-ahead and proximal outer steps on sampled DiCE objectives."""

    name: str = "pola_dice"
    inner_lr: float = 0.005  # opponent look-ahead SGD step (--lr_in)
    inner_steps: int = 2  # opponent look-ahead steps, each on a fresh rollout (--inner_steps)
    outer_steps: int = 200  # agent Adam steps per update (--outer_steps)
    inner_beta: float = 10.0  # KL weight in the opponent's look-ahead (--inner_beta)
    outer_beta: float = 100.0  # KL weight in the agent's objective (--outer_beta)

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("inner_steps", "outer_steps"):
            _require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        for key in ("inner_beta", "outer_beta"):
            _require(getattr(self, key) >= 0, f"algo.{key}", getattr(self, key), "a number >= 0")


@dataclass
class PolaOmConfig(PolaDiceConfig):
    """POLA-OM: POLA-DiCE against learned models of the opponents."""

    name: str = "pola_om"
    om_batches: int = 200  # rollouts the model is fitted on per update (--opp_model_data_batches)
    om_steps_per_batch: int = 1  # model gradient steps per rollout (--opp_model_steps_per_batch)
    om_policy_lr: float = 0.003  # model policy Adam step (the reference code fits it with --lr_out)
    om_value_lr: float = 0.0005  # model value Adam step (the reference code fits it with --lr_v)

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("om_batches", "om_steps_per_batch"):
            _require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        for key in ("om_policy_lr", "om_value_lr"):
            _require(getattr(self, key) > 0, f"algo.{key}", getattr(self, key), "a number > 0")


ALGO_SCHEMAS: dict[str, type] = {"lola_dice": LolaDiceConfig, "pola_dice": PolaDiceConfig, "pola_om": PolaOmConfig}
ENV_SCHEMAS: dict[str, type] = {"ipd_history": IpdHistoryEnvConfig, "coin_game": CoinGameEnvConfig}



def make_learner(algo: LolaDiceConfig, game: Any, episode_length: int) -> POLADiCE:
    """The learner named by ``algo.name`` on ``game``."""
    common = dict(value_lr=algo.value_lr, batch_size=algo.batch_size, rollout_length=episode_length,
                  gamma=algo.gamma, gae_lambda=algo.gae_lambda)
    if not isinstance(algo, PolaDiceConfig):
        return LOLADiCE(game, inner_lr=algo.inner_lr, outer_lr=algo.outer_lr, hidden_size=algo.hidden_size,
                        num_seeds=algo.num_seeds, **common)
    shaping = ShapingConfig(inner_steps=algo.inner_steps, outer_steps=algo.outer_steps, inner_lr=algo.inner_lr,
                            outer_lr=algo.outer_lr, inner_beta=algo.inner_beta, outer_beta=algo.outer_beta, **common)
    if isinstance(algo, PolaOmConfig):
        model = OpponentModelConfig(batches=algo.om_batches, steps_per_batch=algo.om_steps_per_batch,
                                    policy_lr=algo.om_policy_lr, value_lr=algo.om_value_lr)
        return POLAOM(game, shaping, model, algo.hidden_size, algo.num_seeds)
    return POLADiCE(game, shaping, algo.hidden_size, algo.num_seeds)


def build(run: RunConfig, device: torch.device) -> Experiment:
    """The DiCE-family experiment described by ``cfg`` (already validated by the CLI)."""
    algo, env = run.algo, run.env
    game = env.make(device)
    learner = make_learner(algo, game, env.episode_length)
    strategies = coin_strategies() if isinstance(game, CoinGame) else ipd_strategies()
    title = f"{algo.name} on {env.name}"

    def evaluate() -> dict[str, float]:
        return dice_metrics(game, learner.policies(), algo.eval_batch_size, env.episode_length, strategies)

    def plot(history: MetricsHistory, plots_dir: Path) -> None:
        plot_dice_history(history, plots_dir, title)

    rate = "own_coin_rate" if isinstance(game, CoinGame) else "cooperation_rate"
    return Experiment(learner=learner, evaluate=evaluate, plot=plot, progress_keys=("score_mean", rate, "score_vs_alld"))
