"""Evaluation of exact opponent shaping on the analytic IPD: values, P(cooperate | state), "found TFT", plots.

The policies' exact values (``games.exact_values``) are cheap, so every epoch is evaluated
(:meth:`ExactIpdEvaluation.after_update`): a seed counts as having found TFT (POLA Figure 3) if the
pair was TFT-like after any epoch, which needs every epoch seen. :meth:`ExactIpdEvaluation.evaluate`
adds the per-state cooperation summary at the Trainer's evaluation times.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from oppshape.eval.ipd_metrics import cooperation_summary, finds_tft, return_per_step
from oppshape.eval.plotting import band, panels, save
from oppshape.games.exact import STATE_NAMES, exact_values

MetricsHistory = list[dict[str, float]]


class ExactIpdEvaluation:
    """Evaluates a seed-batched policy pair and keeps each seed's "found TFT" record (checkpointed).

    Args:
        policies: agent 1's and agent 2's policies (``forward() -> [S, 5]``, own view).
        payoff: ``[2, 2, 2]`` payoff table.
        gamma: discount of the infinitely repeated game.
    """

    def __init__(self, policies: Sequence[nn.Module], payoff: torch.Tensor, gamma: float) -> None:
        self.policies = list(policies)
        reference = next(self.policies[0].parameters())
        self.payoff = payoff.to(device=reference.device, dtype=reference.dtype)
        self.gamma = gamma
        self.tft_found = torch.zeros(self.policies[0]().shape[0], dtype=torch.bool, device=reference.device)

    def cooperation(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Both agents' ``[S, 5]`` P(cooperate | state), own view, detached."""
        with torch.no_grad():
            return self.policies[0](), self.policies[1]()

    def _values_and_tft(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``([S, 2] exact values, [S] whether the pair is TFT-like now)``."""
        coop_1, coop_2 = self.cooperation()
        with torch.no_grad():
            values = exact_values(coop_1, coop_2, self.payoff, self.gamma)
        return values, finds_tft(coop_1, coop_2, values, self.payoff, self.gamma)

    def after_update(self) -> dict[str, float]:
        """Each agent's naive loss ``-V_i`` and return per step after the epoch; updates the TFT record."""
        values, tft_now = self._values_and_tft()
        self.tft_found |= tft_now
        per_step = return_per_step(values, self.gamma)
        metrics: dict[str, float] = {}
        for agent in range(2):
            metrics[f"loss_agent{agent + 1}"] = float(-values[:, agent].mean())
            metrics[f"return_per_step_agent{agent + 1}"] = float(per_step[:, agent].mean())
        metrics["return_per_step"] = float(per_step.mean())
        metrics["tft_fraction"] = float(self.tft_found.float().mean())
        return metrics

    def evaluate(self) -> dict[str, float]:
        """P(cooperate | state) per agent (seed mean and std), return per step, TFT fractions (ever and now)."""
        values, tft_now = self._values_and_tft()
        per_step = return_per_step(values, self.gamma)
        metrics = cooperation_summary(self.cooperation())
        metrics.update(
            {
                "return_per_step_agent1": float(per_step[:, 0].mean()),
                "return_per_step_agent2": float(per_step[:, 1].mean()),
                "return_per_step": float(per_step.mean()),
                "tft_fraction": float(self.tft_found.float().mean()),
                "tft_now_fraction": float(tft_now.float().mean()),
            }
        )
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {"tft_found": self.tft_found.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tft_found.copy_(state["tft_found"])


def plot_cooperation(history: MetricsHistory, plots_dir: Path) -> None:
    """``p_coop.png``: P(cooperate | state) over training per agent (seed mean, band = +-1 std), and the
    seed-mean return per step with the fraction of seeds that found TFT."""
    rows = [row for row in history if "p_coop_agent1_start" in row]
    if not rows:
        return
    steps = [row["iteration"] for row in rows]
    figure, axes = panels(3)
    for agent, axis in enumerate(axes[:2], start=1):
        for state in STATE_NAMES:
            mean = [row[f"p_coop_agent{agent}_{state}"] for row in rows]
            std = [row[f"p_coop_agent{agent}_{state}_std"] for row in rows]
            band(axis, steps, mean, std, label=state)
        axis.set(title=f"agent {agent}: P(cooperate | state)", xlabel="epoch", ylim=(-0.02, 1.02))
    axes[2].plot(steps, [row["return_per_step"] for row in rows], label="return per step")
    axes[2].plot(steps, [row["tft_fraction"] for row in rows], label="fraction found TFT")
    axes[2].set(title="seed mean", xlabel="epoch")
    save(figure, plots_dir / "p_coop.png")
