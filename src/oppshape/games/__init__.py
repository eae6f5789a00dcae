"""Pure tensor math for 2x2 repeated games: payoff presets, closed-form values, Stackelberg solver."""

from oppshape.games.exact import STATE_NAMES, exact_values, joint_action_probs
from oppshape.games.payoffs import (
    PAYOFF_NAMES,
    STACKELBERG_GAMES,
    ipd_contribution_payoff,
    payoff_table,
)
from oppshape.games.stackelberg import (
    GAME_NAMES as STACKELBERG_GAME_NAMES,
    StackelbergSolution,
    deterministic_returns,
    solve_stackelberg,
    stackelberg_payoffs,
)

__all__ = [
    "PAYOFF_NAMES",
    "STACKELBERG_GAMES",
    "STACKELBERG_GAME_NAMES",
    "STATE_NAMES",
    "StackelbergSolution",
    "deterministic_returns",
    "exact_values",
    "ipd_contribution_payoff",
    "joint_action_probs",
    "payoff_table",
    "solve_stackelberg",
    "stackelberg_payoffs",
]
