"""Training curves of the DiCE family, drawn like the POLA paper's Figures 4 and 5."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SCORE_CURVES = (("score_mean", "vs each other"), ("score_vs_alld", "vs always-defect"),
                ("score_vs_allc", "vs always-cooperate"))


def _seed_lines(axes: plt.Axes, rows: list[dict[str, float]], iterations: list[float], key: str, color: str) -> None:
    """Thin lines for each seed's ``<key>_s<k>`` when several seeds trained together."""
    seed = 0
    while f"{key}_s{seed}" in rows[0]:
        axes.plot(iterations, [row[f"{key}_s{seed}"] for row in rows], color=color, alpha=0.3, linewidth=0.8)
        seed += 1


def plot_dice_history(history: list[dict[str, float]], plots_dir: Path, title: str) -> list[Path]:
    """Average reward per step (and own-coin or cooperation rate) over training, seed means in bold and
    each seed thin when present; returns the files written."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    rows = [row for row in history if "score_mean" in row]
    if not rows:
        return []
    iterations = [row["iteration"] for row in rows]
    rate_key = "own_coin_rate" if "own_coin_rate" in rows[0] else "cooperation_rate"
    figure, (scores, rates) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in SCORE_CURVES:
        if key in rows[0]:
            line = scores.plot(iterations, [row[key] for row in rows], label=label)[0]
            _seed_lines(scores, rows, iterations, key, line.get_color())
    scores.set(xlabel="update", ylabel="average reward per step", title=title)
    scores.legend()
    line = rates.plot(iterations, [row[rate_key] for row in rows])[0]
    _seed_lines(rates, rows, iterations, rate_key, line.get_color())
    rates.set(xlabel="update", ylabel=rate_key.replace("_", " "), ylim=(0, 1), title=title)
    figure.tight_layout()
    path = plots_dir / "dice_training.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return [path]
