"""``python -m oppshape.report stackelberg-table``: per-game counts of seeds at the Stackelberg value."""

import json

import pytest

from oppshape.report import stackelberg_table
from oppshape.report.__main__ import main


SUMMARY = {
    "name": "stackelberg_demo", "seed": 0, "wall_time_s": 90.0,
    "stackelberg": {
        "success_tolerance": 0.5, "tie_break": "leader_favourable", "games": ["chicken", "battle"],
        "stackelberg_value": [15.0, 15.0], "run_game": ["chicken", "chicken", "battle", "battle"],
        "oracle_br_gap": [0.0, 0.5, 0.0, 0.0], "reached_vs_oracle": [True, False, True, True],
        "reached_final": [True, False, True, False], "reached_exact_br": [True, True, True, False],
        "leader_return_vs_oracle": [15.0, 13.0, 15.0, 15.0], "leader_return_final": [15.0, 13.0, 15.0, 11.0],
        "leader_play": [[1, 0], [1, 1], [0, 0], [0, 0]], "leader_answers": [[1, 0], [1, 1], [0, 0], [1, 0]],
    },
}


def test_table_counts_seeds_per_game_and_overall():
    lines = stackelberg_table.table(SUMMARY).splitlines()
    assert lines[0].startswith("### stackelberg_demo (seed 0, 1.5 min")
    assert lines[4] == "| chicken | 15 | 1/2 | 1/2 | 1/2 | 2/2 | 14.00 | 14.00 | 2/2 |"
    assert lines[5] == "| battle | 15 | 2/2 | 2/2 | 1/2 | 1/2 | 15.00 | 13.00 | 1/2 |"
    assert lines[6] == "| **all** |  | 3/4 | 3/4 | 2/4 | 3/4 | 14.50 | 13.50 | 3/4 |"


def test_finds_summaries_below_a_folder(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "summary.json").write_text(json.dumps(SUMMARY))
    (tmp_path / "other.json").write_text("{}")
    assert stackelberg_table.find_summaries([tmp_path]) == [tmp_path / "a" / "b" / "summary.json"]
    with pytest.raises(SystemExit, match="no such run directory"):
        stackelberg_table.find_summaries([tmp_path / "missing"])


def test_the_report_command_prints_one_section_per_run(tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps({**SUMMARY, "name": name}))
    assert main(["stackelberg-table", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("### ") == 2 and out.index("### a (") < out.index("### b (")
    assert "| **all** |  | 3/4 | 3/4 | 2/4 | 3/4 | 14.50 | 13.50 | 3/4 |" in out
