"""Exact opponent shaping on the analytic IPD (POLA paper, Section 5.1 / Figure 3).

Serves algorithms ``naive``, ``lola`` and ``pola`` (schemas: ``config.exact_ipd``) on env ``ipd_exact``
(the infinitely repeated, discounted game with closed-form values, ``oppshape.games.exact_values``: no
simulator, so no ``make_env``). One trainer iteration is one epoch of the reference ``LOLA_exact.py``;
all ``num_seeds`` seeds of the configuration run in one batched learner.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase

from oppshape.config import RunConfig
from oppshape.config.exact_ipd import ExactShapingConfig, LookaheadConfig
from oppshape.eval.exact_ipd import ExactIpdEvaluation, plot_cooperation
from oppshape.experiments.base import Experiment
from oppshape.games.payoffs import payoff_table
from oppshape.learners.exact_shaping import ExactShapingLearner
from oppshape.modules.memory_one import make_memory_one_policy

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


class EvaluatedEveryEpoch:
    """The learner with its evaluation after every epoch (the "found TFT" record must see each epoch).

    ``update`` returns the learner's metrics followed by :meth:`ExactIpdEvaluation.after_update`'s;
    ``state_dict`` joins both, in the checkpoint layout of the learner that used to track TFT itself
    (``policies``, ``opponent_models``, ``tft_found``, ``updates``), so old checkpoints still resume.
    """

    def __init__(self, learner: ExactShapingLearner, evaluation: ExactIpdEvaluation) -> None:
        self.learner = learner
        self.evaluation = evaluation

    def update(self, batch: TensorDictBase | None = None) -> dict[str, float]:
        return {**self.learner.update(batch), **self.evaluation.after_update()}

    def state_dict(self) -> dict[str, Any]:
        return {**self.learner.state_dict(), **self.evaluation.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.learner.load_state_dict(state)
        self.evaluation.load_state_dict(state)


def make_learner(algo: ExactShapingConfig, payoff: torch.Tensor, gamma: float,
                 device: torch.device) -> ExactShapingLearner:
    """Draw both agents' policies (and opponent models) for all seeds and wrap them in the learner."""
    dtype = DTYPES[algo.dtype]

    def policy(parameterization: str) -> torch.nn.Module:
        return make_memory_one_policy(
            parameterization, algo.num_seeds, hidden_size=algo.hidden_size, init_std=algo.init_std,
            precondition_state=algo.precondition_state, device=device, dtype=dtype,
        )

    policies = [policy(algo.parameterization) for _ in range(2)]
    models = None
    if isinstance(algo, LookaheadConfig) and algo.opponent_model:
        models = [policy(algo.om_parameterization) for _ in range(2)]
    return ExactShapingLearner(policies, payoff, gamma, algo, models)


def build(run: RunConfig, device: torch.device) -> Experiment:
    """The exact-IPD experiment for ``algo`` (naive / lola / pola) on ``env`` (ipd_exact)."""
    algo, env = run.algo, run.env
    payoff = payoff_table(env.payoff, cf=env.cf if env.payoff == "ipd_cf" else None)
    learner = make_learner(algo, payoff, env.gamma, device)
    evaluation = ExactIpdEvaluation(learner.policies, payoff, env.gamma)
    return Experiment(
        learner=EvaluatedEveryEpoch(learner, evaluation),
        evaluate=evaluation.evaluate,
        plot=plot_cooperation,
        progress_keys=("return_per_step", "tft_fraction"),
    )
