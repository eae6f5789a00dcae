"""Pure tensor math for 2x2 repeated games: payoff presets and closed-form values."""

from oppshape.games.exact import STATE_NAMES, exact_values, joint_action_probs
from oppshape.games.payoffs import (
    PAYOFF_NAMES,
    STACKELBERG_GAMES,
    ipd_contribution_payoff,
    payoff_table,
)

__all__ = [
    "PAYOFF_NAMES",
    "STACKELBERG_GAMES",
    "STATE_NAMES",
    "exact_values",
    "ipd_contribution_payoff",
    "joint_action_probs",
    "payoff_table",
]
