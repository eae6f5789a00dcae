"""Metrics, fixed strategies, tournaments and plots."""

from oppshape.eval.coin_strategies import always_cooperate, always_defect, shortest_path_action
from oppshape.eval.dice import dice_metrics
from oppshape.eval.ipd_metrics import cooperation_summary, finds_tft, return_per_step

__all__ = [
    "always_cooperate",
    "always_defect",
    "cooperation_summary",
    "dice_metrics",
    "finds_tft",
    "return_per_step",
    "shortest_path_action",
]
