"""report/frames_to_return.py: the first frame count where the rolling mean reaches a level, and its table."""

import pytest

from oppshape.report.__main__ import main
from oppshape.report.frames_to_return import frames_to_reach


def test_rolling_mean_must_reach_the_level_not_one_value() -> None:
    points = [(100.0, 0.0), (200.0, 3.0), (300.0, 0.0), (400.0, 2.0), (500.0, 2.0)]
    # window 1: the lone 3.0 at 200 counts; window 2: means 0, 1.5, 1.5, 1.0, 2.0
    assert frames_to_reach(points, [1.0, 2.5], window=1) == {1.0: 200.0, 2.5: 200.0}
    assert frames_to_reach(points, [1.0, 2.0, 2.5], window=2) == {1.0: 200.0, 2.0: 500.0, 2.5: None}
    # window 3 at 300: mean(0, 3, 0) = 1.0; shorter windows at the start: mean(0) then mean(0, 3) = 1.5
    assert frames_to_reach(points, [1.5], window=3) == {1.5: 200.0}
    with pytest.raises(ValueError, match="window must be at least 1, got 0"):
        frames_to_reach(points, [1.0], window=0)


def test_the_command_prints_one_row_per_run(tmp_path, capsys) -> None:
    for name, values in (("a", "0.0,0.2,1.5"), ("b", "0.0,0.0,0.05")):
        (tmp_path / name).mkdir()
        rows = "".join(f"{i},{i * 1e6},{v}\n" for i, v in enumerate(values.split(","), start=1))
        (tmp_path / name / "metrics.csv").write_text("iteration,frames,train_return\n" + rows)
    main(["frames-to-return", "--run", f"{tmp_path / 'a'}:A", "--run", f"{tmp_path / 'b'}:B",
          "--levels", "0.1", "1.0", "--window", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| run | reaches 0.1 | reaches 1 | frames logged |"
    assert lines[2:] == ["| A | 2.0M | 3.0M | 3.0M |", "| B | - | - | 3.0M |"]


def test_the_command_names_a_missing_column(tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "metrics.csv").write_text("iteration,frames,loss\n1,100,0.5\n")
    with pytest.raises(SystemExit, match="has no column 'train_return'; columns: iteration, frames, loss"):
        main(["frames-to-return", "--run", f"{tmp_path / 'a'}:A"])
