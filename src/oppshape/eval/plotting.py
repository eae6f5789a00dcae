"""One plotting style for every run directory and report: same sizes, fonts, grid and resolution.

Figures are ``matplotlib.figure.Figure`` objects (no pyplot state), so plotting is safe inside the
Trainer, in tests and in parallel sweeps, and needs no display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

PANEL_SIZE = (4.2, 3.4)  # inches per panel
DPI = 110
STYLE = {"font.size": 9, "axes.titlesize": 10, "legend.fontsize": 8, "axes.grid": True, "grid.alpha": 0.3}


def panels(ncols: int = 1, nrows: int = 1, *, sharex: bool = False, sharey: bool = False,
           size: tuple[float, float] = PANEL_SIZE) -> tuple[Figure, list[Axes]]:
    """A figure of ``nrows x ncols`` panels in the house style; the axes come back as a flat list."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(size[0] * ncols, size[1] * nrows))
        axes = figure.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False)
    for axis in axes.flat:
        axis.grid(True, alpha=STYLE["grid.alpha"])
    return figure, list(axes.flat)


def band(axis: Axes, x: Sequence[float], mean: Sequence[float], spread: Sequence[float], label: str | None = None,
         **kwargs) -> None:
    """A mean line with a shaded +-spread band (seed std or a confidence interval)."""
    mean_array, spread_array = np.asarray(mean, dtype=float), np.asarray(spread, dtype=float)
    (line,) = axis.plot(x, mean_array, label=label, **kwargs)
    axis.fill_between(x, mean_array - spread_array, mean_array + spread_array, color=line.get_color(), alpha=0.15)


def save(figure: Figure, path: Path) -> Path:
    """Lay out and write ``figure`` to ``path`` (folders created) at the house resolution."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for axis in figure.axes:
        if axis.get_legend_handles_labels()[0] and axis.get_legend() is None:
            axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    return path
