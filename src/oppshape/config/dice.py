"""Schemas of sample-based opponent shaping with DiCE: LOLA-DiCE, POLA-DiCE, POLA-OM (POLA paper, Sec. 5.2-5.3).

Defaults are the POLA README's commands for Figure 4 (IPD with GRU policies); each field names the reference
code's flag. The envs are the IPD (``iterated_matrix_game`` with ``env.payoff=ipd_cf env.cf=1.33``) and the
Coin Game. One trainer iteration is one update ("epoch") of the reference ``POLA_dice_jax.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from oppshape.config.envs import env_schemas
from oppshape.config.validation import require


@dataclass
class DiceConfig:
    """What the three share: GRU agents with value baselines, rollouts of whole episodes, Loaded-DiCE estimates."""

    name: str = ""  # the algorithm: lola_dice | pola_dice | pola_om
    inner_lr: float = 0.005  # SGD step of the opponent's differentiable look-ahead (--lr_in)
    outer_lr: float = 0.003  # Adam step of the agent's own policy (--lr_out)
    critic_lr: float = 0.0005  # step of the value baselines, SGD in the look-ahead, Adam outside (--lr_v)
    num_envs: int = 2000  # games per rollout and seed (--batch_size)
    gamma: float = 0.96  # discount (--gamma)
    lmbda: float = 1.0  # GAE lambda of the Loaded-DiCE advantages; 1 is unbiased (--gae_lambda)
    hidden_size: int = 64  # width of the dense layer and the GRU of every network (--hidden_size)
    num_seeds: int = 1  # independent runs trained together in one batch, all drawn from the run's seed
    eval_envs: int = 2000  # games per evaluation match and seed

    def __post_init__(self) -> None:
        for key in ("inner_lr", "outer_lr", "critic_lr"):
            require(getattr(self, key) >= 0, f"algo.{key}", getattr(self, key), "a number >= 0")
        for key in ("num_envs", "hidden_size", "num_seeds", "eval_envs"):
            require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        require(0.0 < self.gamma < 1.0, "algo.gamma", self.gamma, "a discount in (0, 1)")
        require(0.0 <= self.lmbda <= 1.0, "algo.lmbda", self.lmbda, "a number in [0, 1]")


@dataclass
class LolaDiceConfig(DiceConfig):
    """LOLA-DiCE: one differentiable opponent step and one Adam step per update, no proximal terms.

    That is POLA-DiCE with ``inner_steps = outer_steps = 1`` and both betas 0, which is how the POLA
    reference code runs it; the four are fixed here (properties), so the POLA-DiCE learner reads them alike.
    """

    name: str = "lola_dice"
    inner_lr: float = 0.05  # SGD step of the opponent's differentiable look-ahead (--lr_in; IPD 0.05, Coin 0.003)

    @property
    def inner_steps(self) -> int:
        return 1

    @property
    def outer_steps(self) -> int:
        return 1

    @property
    def inner_beta(self) -> float:
        return 0.0

    @property
    def outer_beta(self) -> float:
        return 0.0


@dataclass
class PolaDiceConfig(DiceConfig):
    """POLA-DiCE: proximal look-ahead and proximal outer steps on sampled DiCE objectives (POLA Algorithm 2)."""

    name: str = "pola_dice"
    inner_steps: int = 2  # opponent look-ahead SGD steps, each on a fresh rollout (--inner_steps)
    outer_steps: int = 200  # agent Adam steps per update, each on fresh rollouts (--outer_steps)
    inner_beta: float = 10.0  # KL weight in the opponent's look-ahead objective (--inner_beta)
    outer_beta: float = 100.0  # KL weight in the agent's objective (--outer_beta)

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("inner_steps", "outer_steps"):
            require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        for key in ("inner_beta", "outer_beta"):
            require(getattr(self, key) >= 0, f"algo.{key}", getattr(self, key), "a number >= 0")


@dataclass
class PolaOmConfig(PolaDiceConfig):
    """POLA-OM: POLA-DiCE against learned models of the opponents (POLA Sec. 4.3), fitted anew every update."""

    name: str = "pola_om"
    om_batches: int = 200  # rollouts against the real opponent the model is fitted on per update (--opp_model_data_batches)
    om_steps_per_batch: int = 1  # model gradient steps per rollout (--opp_model_steps_per_batch)
    om_actor_lr: float = 0.003  # Adam step of the model's policy (the reference code fits it with --lr_out)
    om_critic_lr: float = 0.0005  # Adam step of the model's value (the reference code fits it with --lr_v)

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("om_batches", "om_steps_per_batch"):
            require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        for key in ("om_actor_lr", "om_critic_lr"):
            require(getattr(self, key) > 0, f"algo.{key}", getattr(self, key), "a number > 0")


ALGO_SCHEMAS: dict[str, type] = {"lola_dice": LolaDiceConfig, "pola_dice": PolaDiceConfig, "pola_om": PolaOmConfig}
ENV_SCHEMAS: dict[str, type] = env_schemas("iterated_matrix_game", "coin_game")
