"""Policies, critics, Q-networks and channels: ``nn.Module``s with declared inputs and outputs, no losses."""

from oppshape.modules.memory_one import (
    PARAMETERIZATIONS,
    NeuralPolicy,
    PreconditionedTabularPolicy,
    TabularPolicy,
    make_memory_one_policy,
)
from oppshape.modules.run_tables import RunTable, tabular_actor, tabular_critic, tabular_qvalue

__all__ = [
    "PARAMETERIZATIONS",
    "NeuralPolicy",
    "PreconditionedTabularPolicy",
    "RunTable",
    "TabularPolicy",
    "make_memory_one_policy",
    "tabular_actor",
    "tabular_critic",
    "tabular_qvalue",
]
