"""Tabular policies, critics and Q-functions with one independent table per run.

The Oracles & Followers reference uses bias-free linear models on one-hot discrete observations,
which are exactly tables. Giving each of ``R`` runs (games x seeds) its own slice of one ``[R, n_obs,
n_out]`` parameter lets a single batched forward pass, loss and Adam step train all runs at once: the
slices never share gradients, and Adam's update is element-wise, so every run trains as if alone.
"""

from __future__ import annotations

import torch
from tensordict.nn import TensorDictModule
from torch import nn
from torch.distributions import Categorical
from torchrl.data import Categorical as CategoricalSpec
from torchrl.modules import ProbabilisticActor, QValueActor, ValueOperator

RUN_KEY = "run"
OBSERVATION_KEY = "observation"


class RunTable(nn.Module):
    """``table[run, observation]``: one learnable ``[n_obs, n_out]`` table per run.

    Args:
        n_runs: independent runs ``R``.
        n_obs: number of discrete observations.
        n_out: outputs per observation (2 action logits / Q-values, or 1 state value).
        init_scale: standard deviation of the initial entries (small, so policies start near uniform).
    """

    def __init__(self, n_runs: int, n_obs: int, n_out: int, init_scale: float = 0.01) -> None:
        super().__init__()
        self.table = nn.Parameter(init_scale * torch.randn(n_runs, n_obs, n_out))

    def forward(self, run: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """``[...]`` run and observation indices -> ``[..., n_out]`` entries."""
        return self.table[run, observation]


def tabular_actor(table: RunTable) -> ProbabilisticActor:
    """Categorical policy over 2 actions reading ``("run", "observation")``; writes ``action`` and its log-prob."""
    module = TensorDictModule(table, in_keys=[RUN_KEY, OBSERVATION_KEY], out_keys=["logits"])
    return ProbabilisticActor(module, in_keys=["logits"], distribution_class=Categorical, return_log_prob=True)


def tabular_critic(table: RunTable) -> ValueOperator:
    """State-value critic ``V(run, observation)`` writing ``state_value``."""
    return ValueOperator(table, in_keys=[RUN_KEY, OBSERVATION_KEY])


def tabular_qvalue(table: RunTable) -> QValueActor:
    """Greedy Q-value actor over 2 actions writing ``action_value``, ``chosen_action_value`` and ``action``."""
    return QValueActor(table, in_keys=[RUN_KEY, OBSERVATION_KEY], spec=CategoricalSpec(2))
