"""Schemas of exact opponent shaping on the analytic IPD (POLA paper, Section 5.1 / Figure 3): naive, LOLA, POLA.

Each schema is handed unchanged to ``learners.exact_shaping.ExactShapingLearner``; the choice constants below
are imported downward by ``modules.memory_one`` and ``objectives.exact_*`` (config is the ground floor).
Reference flags of the POLA code (``LOLA_exact.py``) are given in brackets.
"""

from __future__ import annotations

from dataclasses import dataclass

from oppshape.config.envs import env_schemas
from oppshape.config.validation import check_choice, require

#: Memory-one policy parameterizations (POLA Section 5.1): free logits, a small tanh network, and tabular
#: logits behind an ill-conditioned linear map (``modules.memory_one``).
PARAMETERIZATIONS: tuple[str, ...] = ("tabular", "nn", "preconditioned")
#: The own-view state whose parameter the pre-conditioning leans every other logit on (``modules.memory_one``):
#: dd (the reference since 2022-07-30) | cd (the reference's earlier matrix, for which the README's Figure 3
#: pre-conditioned settings were written).
PRECONDITION_STATES: tuple[str, ...] = ("dd", "cd")
#: Floating-point precisions of the policies.
DTYPES: tuple[str, ...] = ("float32", "float64")
#: What the shaping agent anticipates: none (naive learning), exact (through the opponent's actual update),
#: taylor (original LOLA's first-order approximation).
LOOKAHEADS: tuple[str, ...] = ("none", "exact", "taylor")
#: How the opponent's differentiable look-ahead is computed: batched tensors, or ``higher``'s optimizers.
BACKENDS: tuple[str, ...] = ("vectorized", "higher")
#: The look-ahead's differentiable optimizer (``adam`` needs ``backend=higher``).
INNER_OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")


@dataclass
class ExactShapingConfig:
    """Fields every exact-IPD learner shares: the policies and the agent's own step."""

    name: str = "naive"  # algorithm name, selects the schema
    parameterization: str = "tabular"  # tabular | nn | preconditioned
    # pre-conditioned policies and opponent models: dd | cd, the state every other logit leans on [ill_cond_matrix]
    precondition_state: str = "dd"
    hidden_size: int = 16  # hidden width of the nn parameterization
    init_std: float = 0.1  # std of the normal init of (pre-conditioned) tabular logits [--std]
    num_seeds: int = 20  # independent runs, updated together in one batch
    dtype: str = "float32"  # float32 (as the reference) | float64
    outer_lr: float = 1.0  # agent's own (outer) step size [--lr_policies_outer]

    def __post_init__(self) -> None:
        check_choice("algo.parameterization", self.parameterization, PARAMETERIZATIONS)
        check_choice("algo.precondition_state", self.precondition_state, PRECONDITION_STATES)
        check_choice("algo.dtype", self.dtype, DTYPES)
        for key in ("hidden_size", "num_seeds"):
            require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        require(self.init_std >= 0, "algo.init_std", self.init_std, ">= 0")
        require(self.outer_lr > 0, "algo.outer_lr", self.outer_lr, "> 0")


@dataclass
class NaiveConfig(ExactShapingConfig):
    """Naive simultaneous gradient ascent on each agent's own exact value."""

    name: str = "naive"


@dataclass
class LookaheadConfig(ExactShapingConfig):
    """Fields of the learners that look ahead through the opponent's update (LOLA, POLA)."""

    inner_lr: float = 1.0  # opponent's look-ahead step size eta [--lr_policies_inner]
    inner_steps: int = 1  # opponent's differentiable look-ahead steps [--inner_steps]
    inner_beta: float = 0.0  # opponent's proximity weight in its look-ahead, POLA eq. 5 (0: plain LOLA step)
    inner_optimizer: str = "sgd"  # sgd | adam, the look-ahead's optimizer (adam needs backend=higher) [--optim]
    backend: str = "vectorized"  # vectorized (batched tensors) | higher (higher's differentiable optimizers)
    opponent_model: bool = False  # look ahead from an exactly fitted opponent model (Appendix B.1.6) [--opp_model]
    om_parameterization: str = "tabular"  # tabular | nn | preconditioned, for the opponent model
    om_lr: float = 0.2  # opponent-model fitting step size [--om_lr_p]
    om_threshold: float = 1e-7  # opponent-model fitting stops below this KL [--om_threshold]
    om_max_iters: int = 10000  # opponent-model fitting steps cap per epoch

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.inner_lr > 0, "algo.inner_lr", self.inner_lr, "> 0 (a look-ahead needs a step size)")
        require(self.inner_steps >= 1, "algo.inner_steps", self.inner_steps, "an integer >= 1")
        require(self.inner_beta >= 0, "algo.inner_beta", self.inner_beta, ">= 0")
        check_choice("algo.inner_optimizer", self.inner_optimizer, INNER_OPTIMIZERS)
        check_choice("algo.backend", self.backend, BACKENDS)
        require(self.inner_optimizer == "sgd" or self.backend == "higher", "algo.inner_optimizer",
                self.inner_optimizer, "sgd with backend=vectorized; adam needs backend='higher'")
        check_choice("algo.om_parameterization", self.om_parameterization, PARAMETERIZATIONS)
        require(self.om_lr > 0, "algo.om_lr", self.om_lr, "> 0")
        require(self.om_threshold > 0, "algo.om_threshold", self.om_threshold, "> 0")
        require(self.om_max_iters >= 1, "algo.om_max_iters", self.om_max_iters, "an integer >= 1")


@dataclass
class LolaConfig(LookaheadConfig):
    """LOLA: one outer step through the opponent's exact (or Taylor-approximated) update."""

    name: str = "lola"
    lookahead: str = "exact"  # exact (through the actual update) | taylor (original LOLA) | none [--actual_update]

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("algo.lookahead", self.lookahead, LOOKAHEADS)
        require(self.lookahead != "taylor" or (self.inner_steps == 1 and self.inner_beta == 0), "algo.lookahead",
                self.lookahead, f"exact with inner_steps={self.inner_steps}, inner_beta={self.inner_beta} "
                "(taylor is one first-order step: inner_steps=1, inner_beta=0)")


@dataclass
class PolaConfig(LookaheadConfig):
    """Outer POLA: proximal outer steps until the policy stops moving (POLA eq. 6, reference ``--outer_exact_prox``)."""

    name: str = "pola"
    outer_beta: float = 0.1  # agent's proximity weight, POLA eq. 6 [--outer_beta]
    outer_max_iters: int = 5000  # cap on outer proximal steps per epoch [--prox_outer_max_iters]
    outer_threshold: float = 1e-8  # stop once the KL between consecutive iterates is below this [--prox_threshold]

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.outer_beta >= 0, "algo.outer_beta", self.outer_beta, ">= 0")
        require(self.outer_max_iters >= 1, "algo.outer_max_iters", self.outer_max_iters, "an integer >= 1")
        require(self.outer_threshold > 0, "algo.outer_threshold", self.outer_threshold, "> 0")


ALGO_SCHEMAS: dict[str, type] = {"naive": NaiveConfig, "lola": LolaConfig, "pola": PolaConfig}
ENV_SCHEMAS: dict[str, type] = env_schemas("ipd_exact")
