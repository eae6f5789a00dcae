"""Policies, critics, Q-networks and channels: ``nn.Module``s with declared inputs and outputs, no losses."""

from oppshape.modules.coma_actor import EpsilonSoftmax, MultiAgentGRU, make_coma_actor
from oppshape.modules.coma_critic import COMACritic, make_coma_critic
from oppshape.modules.comm_net import CommNet, StepBatchNorm
from oppshape.modules.dru import DRU
from oppshape.modules.loqa_nets import EnsembleLinear, GRUNet, MLPNet, TabularActor
from oppshape.modules.memory_one import (
    PARAMETERIZATIONS,
    NeuralPolicy,
    PreconditionedTabularPolicy,
    TabularPolicy,
    make_memory_one_policy,
)
from oppshape.modules.run_tables import RunTable, tabular_actor, tabular_critic, tabular_qvalue

__all__ = [
    "COMACritic",
    "CommNet",
    "StepBatchNorm",
    "DRU",
    "EnsembleLinear",
    "EpsilonSoftmax",
    "GRUNet",
    "MLPNet",
    "MultiAgentGRU",
    "TabularActor",
    "make_coma_actor",
    "make_coma_critic",
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
