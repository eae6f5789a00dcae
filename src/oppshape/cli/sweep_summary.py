"""The table of a multirun: one row per job (its overrides, status, final metrics, wall time), written to
``<sweep dir>/summary.csv`` and ``summary.md`` when the sweep ends (a Hydra callback declared in
``configs/config.yaml``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

FIXED = ("job", "overrides", "status", "iterations", "wall_time_s")
#: The jobs of the last summarised sweep that did not finish ``ok`` (the CLI exits non-zero when any did).
FAILED_JOBS: list[str] = []


def job_row(job_dir: Path, sweep_dir: Path) -> dict[str, Any]:
    """One job's row, from what it left in its folder (``.hydra/overrides.yaml``, ``summary.json``,
    ``error.txt``)."""
    overrides = OmegaConf.load(job_dir / ".hydra" / "overrides.yaml")
    row: dict[str, Any] = {"job": str(job_dir.relative_to(sweep_dir)), "overrides": " ".join(map(str, overrides))}
    summary_path, error_path = job_dir / "summary.json", job_dir / "error.txt"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        row.update(status="ok", iterations=summary["iterations"], wall_time_s=round(summary["wall_time_s"], 1))
        row.update({key: value for key, value in summary["final"].items() if key not in ("iteration", "wall_time_s")})
    else:
        row["status"] = error_path.read_text().strip() if error_path.is_file() else "did not finish"
    return row


def write_summary(sweep_dir: Path) -> Path | None:
    """Write ``summary.csv`` and ``summary.md`` of the jobs under ``sweep_dir``; ``None`` if it holds none.
    The jobs that did not end ``ok`` are kept in :data:`FAILED_JOBS` for the CLI's exit code."""
    job_dirs = sorted((path.parent.parent for path in sweep_dir.rglob(".hydra/overrides.yaml")),
                      key=lambda path: [int(part) if part.isdigit() else part for part in path.parts])
    rows = [job_row(job_dir, sweep_dir) for job_dir in job_dirs]
    FAILED_JOBS[:] = [row["job"] for row in rows if row["status"] != "ok"]
    if not rows:
        return None
    columns = list(FIXED) + sorted({key for row in rows for key in row} - set(FIXED))
    path = sweep_dir / "summary.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |" for row in rows]
    (sweep_dir / "summary.md").write_text("\n".join(lines) + "\n")
    return path


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value).replace("|", "/")


class SweepSummary(Callback):
    """Hydra callback: the sweep's table once every job has run."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.sweep_dir = Path(str(config.hydra.sweep.dir))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        path = write_summary(self.sweep_dir)
        if path is not None:
            print(f"sweep summary: {path}")
