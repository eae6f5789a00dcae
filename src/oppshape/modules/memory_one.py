"""Memory-one IPD policies for the exact (closed-form) game, batched over independent seeds.

Each module maps its parameters to P(cooperate) in the five states (start, CC, CD, DC, DD), written
from the agent's own view (own last action first), with shape ``[num_seeds, 5]``. Every parameter
carries the seed dimension first, so one module holds all seeds of a configuration, one batched
computation updates them all, and a per-seed mask can freeze seeds that have converged.

The three parameterizations are those of POLA's exact experiments (Zhao et al. 2022, Section 5.1):
tabular logits, a small neural network over a one-hot state encoding, and a tabular policy whose
logits are an ill-conditioned linear map of the parameters (``--ill_condition`` in the reference).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from oppshape.config.exact_ipd import PARAMETERIZATIONS, PRECONDITION_STATES  # valid names

#: Index of DD in the own-view state order (start, CC, CD, DC, DD).
DD_INDEX = 4
#: Own-view index of each state a pre-conditioning can lean on (``config.exact_ipd.PRECONDITION_STATES``).
PRECONDITION_INDEX = {"dd": DD_INDEX, "cd": 2}

#: Network input per own-view state: one-hot of (my D, my C, my start, other D, other C, other start).
#: The reference (LOLA_exact.py) feeds both agents agent 1's action first; giving each agent its own
#: action first permutes the first layer's inputs, which leaves the i.i.d. initialization unchanged.
OWN_VIEW_ONE_HOT = torch.tensor(
    [
        [0.0, 0.0, 1.0, 0.0, 0.0, 1.0],  # start
        [0.0, 1.0, 0.0, 0.0, 1.0, 0.0],  # CC
        [0.0, 1.0, 0.0, 1.0, 0.0, 0.0],  # CD: I cooperated, the other defected
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],  # DC
        [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],  # DD
    ]
)


def preconditioning_matrix(state: str = "dd") -> torch.Tensor:
    """``[5, 5]`` map from parameters to logits: ``logit(s) = theta[s] - 2 theta[k]`` for ``s != k``.

    This is the reference's ``ill_cond_matrix``: a step on ``theta[k]`` moves every other state's
    logit twice as far the other way, so plain gradient steps are badly conditioned (POLA Section 5.1).
    ``k`` is DD for ``state="dd"`` (the reference since July 2022) and the agent's own CD ("I
    cooperated, the other defected") for ``state="cd"``: the reference's earlier matrix, in place when
    its README's Figure 3 pre-conditioned settings were written (May 2022).
    """
    if state not in PRECONDITION_INDEX:
        raise ValueError(f"unknown precondition state {state!r}; valid choices: {', '.join(PRECONDITION_STATES)}")
    column = PRECONDITION_INDEX[state]
    matrix = torch.eye(5)
    matrix[:, column] -= 2.0
    matrix[column, column] = 1.0
    return matrix


class TabularPolicy(nn.Module):
    """One free logit per state: ``P(C | s) = sigmoid(theta[s])``.

    Args:
        num_seeds: independent copies held in the leading dimension.
        init_std: standard deviation of the normal initialization (the reference's ``--std 0.1``).
    """

    def __init__(self, num_seeds: int, init_std: float = 0.1) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.randn(num_seeds, 5) * init_std)

    def logits(self) -> torch.Tensor:
        """``[num_seeds, 5]`` logits of cooperating."""
        return self.theta

    def forward(self) -> torch.Tensor:
        """``[num_seeds, 5]`` P(cooperate) in (start, CC, CD, DC, DD), own view."""
        return torch.sigmoid(self.logits())


class PreconditionedTabularPolicy(TabularPolicy):
    """Tabular policy whose logits are :func:`preconditioning_matrix` (of ``state``) applied to the parameters."""

    def __init__(self, num_seeds: int, init_std: float = 0.1, state: str = "dd") -> None:
        matrix = preconditioning_matrix(state)  # a bad state fails before the parameters are drawn
        super().__init__(num_seeds, init_std)
        self.register_buffer("matrix", matrix)

    def logits(self) -> torch.Tensor:
        return self.theta @ self.matrix.to(self.theta).T


class NeuralPolicy(nn.Module):
    """A one-hidden-layer tanh network per seed: ``P(C | s) = sigmoid(w2 tanh(W1 x_s + b1) + b2)``.

    ``x_s`` is :data:`OWN_VIEW_ONE_HOT`. Weights are drawn like ``nn.Linear``'s default (uniform in
    ``+-1/sqrt(fan_in)``), independently per seed, as the reference's ``NeuralNet`` does.

    Args:
        num_seeds: independent networks held in the leading dimension.
        hidden_size: width of the hidden layer (16 in POLA's Figure 3).
    """

    def __init__(self, num_seeds: int, hidden_size: int = 16) -> None:
        super().__init__()
        in_size = OWN_VIEW_ONE_HOT.shape[1]
        self.w1 = nn.Parameter(_uniform(num_seeds, hidden_size, in_size, fan_in=in_size))
        self.b1 = nn.Parameter(_uniform(num_seeds, hidden_size, fan_in=in_size))
        self.w2 = nn.Parameter(_uniform(num_seeds, hidden_size, fan_in=hidden_size))
        self.b2 = nn.Parameter(_uniform(num_seeds, 1, fan_in=hidden_size))
        self.register_buffer("inputs", OWN_VIEW_ONE_HOT.clone())

    def logits(self) -> torch.Tensor:
        """``[num_seeds, 5]`` logits of cooperating."""
        inputs = self.inputs.to(self.w1)
        hidden = torch.tanh(torch.einsum("shi,ni->snh", self.w1, inputs) + self.b1.unsqueeze(1))
        return torch.einsum("snh,sh->sn", hidden, self.w2) + self.b2

    def forward(self) -> torch.Tensor:
        """``[num_seeds, 5]`` P(cooperate) in (start, CC, CD, DC, DD), own view."""
        return torch.sigmoid(self.logits())


def _uniform(*shape: int, fan_in: int) -> torch.Tensor:
    bound = 1.0 / math.sqrt(fan_in)
    return torch.empty(shape).uniform_(-bound, bound)


def make_memory_one_policy(
    parameterization: str,
    num_seeds: int,
    *,
    hidden_size: int = 16,
    init_std: float = 0.1,
    precondition_state: str = "dd",
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> nn.Module:
    """Build a policy by name (one of :data:`PARAMETERIZATIONS`), drawing its initial parameters;
    ``precondition_state`` (dd | cd) picks the pre-conditioned policy's matrix (unused by the others).

    Raises:
        ValueError: naming the bad argument and the valid choices, before anything is allocated.
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"unknown parameterization {parameterization!r}; valid choices: {', '.join(PARAMETERIZATIONS)}"
        )
    if num_seeds < 1:
        raise ValueError(f"num_seeds={num_seeds} must be an integer >= 1")
    if hidden_size < 1:
        raise ValueError(f"hidden_size={hidden_size} must be an integer >= 1")
    if init_std < 0:
        raise ValueError(f"init_std={init_std} must be >= 0")
    if parameterization == "tabular":
        policy: nn.Module = TabularPolicy(num_seeds, init_std)
    elif parameterization == "preconditioned":
        policy = PreconditionedTabularPolicy(num_seeds, init_std, precondition_state)
    else:
        policy = NeuralPolicy(num_seeds, hidden_size)
    return policy.to(device=device, dtype=dtype)
