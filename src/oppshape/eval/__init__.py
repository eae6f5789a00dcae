"""Metrics, fixed strategies, tournaments and plots."""

from oppshape.eval.ipd_metrics import cooperation_summary, finds_tft, return_per_step

__all__ = ["cooperation_summary", "finds_tft", "return_per_step"]
