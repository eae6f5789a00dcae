"""``python -m oppshape.report loqa-scaling``: the scaling table read from a sweep's run directories."""

from __future__ import annotations

import json
from pathlib import Path

from oppshape.report.__main__ import main
from oppshape.report.loqa_scaling import scaling_table


def fake_run(sweep: Path, size: int, summary: dict | None) -> None:
    run_dir = sweep / f"{size}x{size}"
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(f"env:\n  name: coin_game\n  height: {size}\n  width: {size}\n")
    if summary is not None:
        (run_dir / "summary.json").write_text(json.dumps(summary))


def test_table_has_one_row_per_board_smallest_first(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    fake_run(sweep, 5, {"seconds_to_weak": 226.4, "iteration_to_weak": 190, "seconds_to_medium": None,
                        "iteration_to_medium": None, "seconds_to_strong": None, "iteration_to_strong": None,
                        "iterations": 1000, "wall_time_s": 1436.2})
    fake_run(sweep, 3, {"seconds_to_weak": 98.0, "iteration_to_weak": 90, "seconds_to_medium": 236.0,
                        "iteration_to_medium": 200, "seconds_to_strong": 2988.0, "iteration_to_strong": 1780,
                        "iterations": 1780, "wall_time_s": 2988.4})
    fake_run(sweep, 7, None)
    assert scaling_table(sweep).splitlines() == [
        "| board | weak | medium | strong | iterations | run seconds |",
        "|---|---|---|---|---|---|",
        "| 3x3 | 98 s (it 90) | 236 s (it 200) | 2988 s (it 1780) | 1780 | 2988 |",
        "| 5x5 | 226 s (it 190) | miss | miss | 1000 | 1436 |",
        "| 7x7 | unfinished | unfinished | unfinished | unfinished | unfinished |",
    ]


def test_command_writes_the_table_into_the_sweep_dir(tmp_path: Path, capsys) -> None:
    fake_run(tmp_path, 4, {"iterations": 3, "wall_time_s": 2.0})
    assert main(["loqa-scaling", str(tmp_path)]) == 0
    written = (tmp_path / "table.md").read_text()
    assert "| 4x4 | miss | miss | miss | 3 | 2 |" in written and capsys.readouterr().out == written
