"""Metric fan-out: ``metrics.csv`` always, wandb (offline by default) and TensorBoard when asked.

The CSV is one wide table (one row per logged iteration, one column per metric) because that is what
people load into pandas; when a metric first appears (evaluation runs less often than training) the
file is rewritten with the wider header, so it is always a valid CSV.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from oppshape.config import LoggerConfig

Row = dict[str, float]


class CSVMetrics:
    """The run's ``metrics.csv``; holds the history in memory for plots and resume."""

    def __init__(self, path: Path, history: list[Row] | None = None) -> None:
        self.path = path
        self.history: list[Row] = list(history or [])
        self.columns: list[str] = []
        for row in self.history:
            self._extend_columns(row)
        self._rewrite()

    def _extend_columns(self, row: Row) -> bool:
        new = [key for key in row if key not in self.columns]
        self.columns.extend(new)
        return bool(new)

    def _rewrite(self) -> None:
        with self.path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns, restval="")
            writer.writeheader()
            writer.writerows(self.history)

    def log(self, row: Row) -> None:
        self.history.append(row)
        if self._extend_columns(row) or len(self.history) == 1:
            self._rewrite()
            return
        with self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self.columns, restval="").writerow(row)


def read_metric(run_dir: Path, key: str, x: str = "frames") -> list[tuple[float, float]]:
    """``(x, key)`` of every row of ``run_dir/metrics.csv`` that logged ``key`` (evaluation metrics fill only
    some rows); the reading side of ``CSVMetrics`` for plots and tables. A column the file lacks is an error
    naming the columns it has."""
    path = run_dir / "metrics.csv"
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    if rows and key not in rows[0]:
        raise ValueError(f"{path} has no column {key!r}; columns: {', '.join(rows[0])}")
    return [(float(row[x]), float(row[key])) for row in rows if row.get(key)]


class MetricLoggers:
    """Sends every metrics row to the CSV and to the optional wandb / TensorBoard loggers."""

    def __init__(self, run_dir: Path, name: str, config: LoggerConfig, hparams: dict[str, Any], history: list[Row]) -> None:
        self.csv = CSVMetrics(run_dir / "metrics.csv", history)
        self.extra: list[Any] = []
        if config.wandb != "disabled":
            from torchrl.record.loggers.wandb import WandbLogger

            wandb_logger = WandbLogger(
                exp_name=name,
                offline=config.wandb == "offline",
                save_dir=str(run_dir),
                project=config.project,
                log_env_packages=False,
                id=_wandb_id(run_dir),
                resume="allow",
            )
            wandb_logger.log_hparams(hparams)
            self.extra.append(wandb_logger)
        if config.tensorboard:
            from torchrl.record.loggers.tensorboard import TensorboardLogger

            self.extra.append(TensorboardLogger(exp_name="tensorboard", log_dir=str(run_dir)))

    @property
    def history(self) -> list[Row]:
        return self.csv.history

    def log(self, row: Row) -> None:
        self.csv.log(row)
        step = int(row["iteration"])
        for logger in self.extra:
            for key, value in row.items():
                if key != "iteration" and math.isfinite(value):
                    logger.log_scalar(key, value, step=step)

    def close(self) -> None:
        for logger in self.extra:
            experiment = getattr(logger, "experiment", None)
            if hasattr(experiment, "finish"):
                experiment.finish()


def _wandb_id(run_dir: Path) -> str:
    """A stable wandb run id per run directory, so a resumed run continues the same wandb run."""
    return "".join(ch if ch.isalnum() else "-" for ch in run_dir.resolve().as_posix())[-64:].strip("-")
