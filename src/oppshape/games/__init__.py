"""Pure tensor math for 2x2 repeated games: payoff presets, closed-form values, Stackelberg solver.

Names load on first use (PEP 562), so ``oppshape.games.tables`` (plain numbers) can be read by the config
schemas without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, tuple[str, str]] = {
    "PAYOFF_NAMES": ("tables", "PAYOFF_NAMES"),
    "STACKELBERG_GAMES": ("tables", "STACKELBERG_GAMES"),
    "STACKELBERG_GAME_NAMES": ("tables", "GAME_NAMES"),
    "STATE_NAMES": ("exact", "STATE_NAMES"),
    "exact_values": ("exact", "exact_values"),
    "joint_action_probs": ("exact", "joint_action_probs"),
    "ipd_contribution_payoff": ("payoffs", "ipd_contribution_payoff"),
    "payoff_table": ("payoffs", "payoff_table"),
    "StackelbergSolution": ("stackelberg", "StackelbergSolution"),
    "deterministic_returns": ("stackelberg", "deterministic_returns"),
    "solve_stackelberg": ("stackelberg", "solve_stackelberg"),
    "stackelberg_payoffs": ("stackelberg", "stackelberg_payoffs"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'oppshape.games' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    return getattr(importlib.import_module(f"oppshape.games.{module}"), attribute)
