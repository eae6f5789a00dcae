"""report/curves.py: reads the logged rows of a metric from each run and refuses a missing column."""

import pytest

from oppshape.report import curves
from oppshape.report.__main__ import main


def write_metrics(run, rows: str) -> None:
    run.mkdir()
    (run / "metrics.csv").write_text("iteration,frames,eval_return,loss\n" + rows)


def test_curve_keeps_only_rows_that_logged_the_metric(tmp_path) -> None:
    write_metrics(tmp_path / "a", "1,100,,0.5\n2,200,0.25,0.4\n3,300,,0.3\n4,400,0.75,0.2\n")
    assert curves.curve(tmp_path / "a", "eval_return") == [(200.0, 0.25), (400.0, 0.75)]
    with pytest.raises(SystemExit, match="has no column 'eval_sampled'; columns: iteration, frames"):
        curves.curve(tmp_path / "a", "eval_sampled")


def test_the_command_draws_every_run(tmp_path) -> None:
    write_metrics(tmp_path / "a", "1,100,0.1,0.5\n2,200,0.2,0.4\n")
    write_metrics(tmp_path / "b", "1,100,0.3,0.5\n2,200,0.1,0.4\n")
    out = tmp_path / "plots" / "fig.png"
    argv = ["curves", "--run", f"{tmp_path / 'a'}:A", "--run", f"{tmp_path / 'b'}:B", "--hline", "0.5",
            "--out", str(out)]
    assert main(argv) == 0
    assert out.stat().st_size > 1000
