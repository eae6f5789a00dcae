"""Exact opponent shaping on the analytic IPD (POLA paper, Section 5.1 / Figure 3).

Serves algorithms ``naive``, ``lola`` and ``pola`` on env ``ipd_exact`` (the infinitely repeated,
discounted game with closed-form values, ``oppshape.games.exact_values``). One trainer iteration is
one epoch of the reference ``LOLA_exact.py``; all ``num_seeds`` seeds of the configuration run in
one batched learner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from matplotlib.figure import Figure

from oppshape.config import RunConfig, check_choice
from oppshape.experiments.base import Experiment, MetricsHistory
from oppshape.games.exact import STATE_NAMES
from oppshape.games.payoffs import PAYOFF_NAMES, payoff_table
from oppshape.learners.exact_opponent_model import OpponentModelRule
from oppshape.learners.exact_shaping import ExactShapingLearner, ShapingRule
from oppshape.modules.memory_one import PARAMETERIZATIONS, make_memory_one_policy

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class IpdExactEnvConfig:
    """The analytic IPD: a payoff table and a discount; no simulator."""

    name: str = "ipd_exact"
    payoff: str = "ipd_cf"  # payoff preset, one of oppshape.games.PAYOFF_NAMES
    cf: float = 1.33  # contribution factor in (1, 2); used by payoff=ipd_cf only
    gamma: float = 0.96  # discount in (0, 1); the reference uses 0.96

    def __post_init__(self) -> None:
        check_choice("env.payoff", self.payoff, PAYOFF_NAMES)
        if self.payoff == "ipd_cf" and not 1.0 < self.cf < 2.0:
            raise ValueError(f"invalid env.cf={self.cf}; expected a contribution factor in (1, 2)")
        if not 0.0 < self.gamma < 1.0:
            raise ValueError(f"invalid env.gamma={self.gamma}; expected a discount in (0, 1)")

    def payoff_table(self) -> torch.Tensor:
        return payoff_table(self.payoff, cf=self.cf if self.payoff == "ipd_cf" else None)


@dataclass
class NaiveConfig:
    """Naive simultaneous gradient ascent on each agent's own exact value."""

    name: str = "naive"
    parameterization: str = "tabular"  # tabular | nn | preconditioned
    hidden_size: int = 16  # hidden width of the nn parameterization
    init_std: float = 0.1  # std of the normal init of (pre-conditioned) tabular logits
    num_seeds: int = 20  # independent runs, updated together in one batch
    dtype: str = "float32"  # float32 (as the reference) | float64
    lr_out: float = 1.0  # agent's own step size

    def __post_init__(self) -> None:
        check_choice("algo.parameterization", self.parameterization, PARAMETERIZATIONS)
        check_choice("algo.dtype", self.dtype, tuple(DTYPES))
        for key in ("hidden_size", "num_seeds"):
            if getattr(self, key) < 1:
                raise ValueError(f"invalid algo.{key}={getattr(self, key)}; expected an integer >= 1")
        if self.init_std < 0:
            raise ValueError(f"invalid algo.init_std={self.init_std}; expected >= 0")
        try:
            self.rule()
        except ValueError as error:
            raise ValueError(f"algo: {error}") from None

    def rule(self) -> ShapingRule:
        """The learner's update rule (validates the values)."""
        return ShapingRule(lr_out=self.lr_out)


@dataclass
class _LookaheadConfig(NaiveConfig):
    lr_in: float = 1.0  # opponent's look-ahead step size (eta)
    inner_steps: int = 1  # opponent's differentiable look-ahead steps
    inner_beta: float = 0.0  # opponent's proximity weight in its look-ahead (0: plain LOLA step)
    inner_optimizer: str = "sgd"  # sgd | adam (adam needs backend=higher)
    backend: str = "vectorized"  # vectorized (batched tensors) | higher (higher's diff. optimizers)
    opponent_model: bool = False  # look ahead from an exactly fitted opponent model (Appendix B.1.6)
    om_parameterization: str = "tabular"  # tabular | nn | preconditioned, for the opponent model
    om_lr: float = 0.2  # opponent-model fitting step size
    om_threshold: float = 1e-7  # opponent-model fitting stops below this KL
    om_max_iters: int = 10000  # opponent-model fitting steps cap per epoch

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("algo.om_parameterization", self.om_parameterization, PARAMETERIZATIONS)
        try:
            self.model_rule()
        except ValueError as error:
            raise ValueError(f"algo: {error}") from None

    def model_rule(self) -> OpponentModelRule:
        return OpponentModelRule(lr=self.om_lr, threshold=self.om_threshold, max_iters=self.om_max_iters)

    def _lookahead_fields(self) -> dict[str, object]:
        keys = ("lr_out", "lr_in", "inner_steps", "inner_beta", "inner_optimizer", "backend")
        return {key: getattr(self, key) for key in keys}


@dataclass
class LolaConfig(_LookaheadConfig):
    """LOLA: one outer step through the opponent's exact (or Taylor-approximated) update."""

    name: str = "lola"
    lookahead: str = "exact"  # exact (through the actual update) | taylor (original LOLA)

    def rule(self) -> ShapingRule:
        return ShapingRule(lookahead=self.lookahead, **self._lookahead_fields())  # type: ignore[arg-type]


@dataclass
class PolaConfig(_LookaheadConfig):
    """POLA: outer proximal steps until the policy stops moving (reference ``--outer_exact_prox``)."""

    name: str = "pola"
    outer_beta: float = 0.1  # agent's proximity weight (POLA Algorithm 1)
    outer_max_iters: int = 5000  # cap on outer proximal steps per epoch
    outer_threshold: float = 1e-8  # stop once the KL between consecutive iterates is below this

    def rule(self) -> ShapingRule:
        return ShapingRule(
            lookahead="exact",
            outer_beta=self.outer_beta,
            outer_max_iters=self.outer_max_iters,
            outer_threshold=self.outer_threshold,
            **self._lookahead_fields(),  # type: ignore[arg-type]
        )


ALGO_SCHEMAS: dict[str, type] = {"naive": NaiveConfig, "lola": LolaConfig, "pola": PolaConfig}
ENV_SCHEMAS: dict[str, type] = {"ipd_exact": IpdExactEnvConfig}



def make_learner(algo: NaiveConfig, env: IpdExactEnvConfig, device: torch.device) -> ExactShapingLearner:
    """Draw both agents' policies (and opponent models) for all seeds and wrap them in the learner."""
    dtype = DTYPES[algo.dtype]

    def policy(parameterization: str) -> torch.nn.Module:
        return make_memory_one_policy(
            parameterization, algo.num_seeds, hidden_size=algo.hidden_size, init_std=algo.init_std,
            device=device, dtype=dtype,
        )

    policies = [policy(algo.parameterization) for _ in range(2)]
    models, model_rule = None, None
    if isinstance(algo, _LookaheadConfig) and algo.opponent_model:
        models = [policy(algo.om_parameterization) for _ in range(2)]
        model_rule = algo.model_rule()
    return ExactShapingLearner(policies, env.payoff_table(), env.gamma, algo.rule(), models, model_rule)


def plot_cooperation(history: MetricsHistory, plots_dir: Path) -> None:
    """P(cooperate | state) over training per agent (seed mean, band = +-1 std), and return per step."""
    rows = [row for row in history if "p_coop_agent1_start" in row]
    if not rows:
        return
    plots_dir.mkdir(parents=True, exist_ok=True)
    steps = [row["iteration"] for row in rows]
    figure = Figure(figsize=(11, 3.6))
    axes = figure.subplots(1, 3)
    for agent, axis in enumerate(axes[:2], start=1):
        for state in STATE_NAMES:
            mean = [row[f"p_coop_agent{agent}_{state}"] for row in rows]
            std = [row[f"p_coop_agent{agent}_{state}_std"] for row in rows]
            (line,) = axis.plot(steps, mean, label=state)
            axis.fill_between(steps, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)],
                              color=line.get_color(), alpha=0.15)
        axis.set(title=f"agent {agent}: P(cooperate | state)", xlabel="epoch", ylim=(-0.02, 1.02))
        axis.legend(fontsize=8)
    axes[2].plot(steps, [row["return_per_step"] for row in rows], label="return per step")
    axes[2].plot(steps, [row["tft_fraction"] for row in rows], label="fraction found TFT")
    axes[2].set(title="seed mean", xlabel="epoch")
    axes[2].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(plots_dir / "p_coop.png", dpi=110)


def build(run: RunConfig, device: torch.device) -> Experiment:
    """The exact-IPD experiment for ``algo`` (naive / lola / pola) on ``env`` (ipd_exact)."""
    algo, env = run.algo, run.env
    assert isinstance(algo, NaiveConfig) and isinstance(env, IpdExactEnvConfig)
    learner = make_learner(algo, env, device)
    return Experiment(
        learner=learner,
        evaluate=learner.policy_metrics,
        plot=plot_cooperation,
        progress_keys=("return_per_step", "tft_fraction"),
    )

