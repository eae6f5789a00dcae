"""Plots of a Stackelberg run: follower oracle quality and the leader's return, phase by phase."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PHASE_NAMES = ("follower pre-training", "leader training", "follower re-training")


def _series(history: list[dict[str, float]], key: str) -> tuple[list[float], list[float]]:
    rows = [row for row in history if key in row]
    return [row["iteration"] for row in rows], [row[key] for row in rows]


def plot_stackelberg(history: list[dict[str, float]], plots_dir: Path) -> None:
    """``stackelberg.png``: best-response rate, leader return and success rate against iterations."""
    fig, (oracle_ax, leader_ax) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    oracle_ax.plot(*_series(history, "follower_br_frac"), label="runs whose follower best-responds to all leaders")
    oracle_ax.plot(*_series(history, "follower_br_gap"), label="mean best-response gap (return)")
    oracle_ax.set_ylabel("follower oracle")
    leader_ax.plot(*_series(history, "leader_return"), label="greedy leader return (mean over runs)")
    success_ax = leader_ax.twinx()
    success_ax.plot(*_series(history, "leader_reached_frac"), color="tab:green", label="fraction at Stackelberg value")
    success_ax.set_ylim(-0.05, 1.05)
    leader_ax.set_ylabel("leader return")
    success_ax.set_ylabel("fraction of runs")
    leader_ax.set_xlabel("iteration")
    phases = _series(history, "phase")
    starts = [it for i, (it, p) in enumerate(zip(*phases)) if i == 0 or p != phases[1][i - 1]]
    for ax in (oracle_ax, leader_ax):
        for start in starts[1:]:
            ax.axvline(start, color="grey", linestyle=":")
    oracle_ax.legend(fontsize=8)
    leader_ax.legend(loc="lower left", fontsize=8)
    success_ax.legend(loc="lower right", fontsize=8)
    oracle_ax.set_title(" | ".join(PHASE_NAMES), fontsize=9)
    fig.tight_layout()
    fig.savefig(plots_dir / "stackelberg.png", dpi=120)
    plt.close(fig)
