"""``python -m oppshape.report comm-switch``: runs of a sweep grouped by algorithm and n, the table and the plot."""

import json

import numpy as np
import pytest

from oppshape.report.__main__ import main
from oppshape.report.comm_switch import ewma, find_runs, window_mean, write_report


def fake_run(run_dir, algo: str, n: int, seed: int, rewards: list[float], wall: float) -> None:
    run_dir.mkdir(parents=True)
    config = f"seed: {seed}\nalgo:\n  name: {algo}\nenv:\n  name: switch\n  n_agents: {n}\n"
    (run_dir / "config.yaml").write_text(config)
    rows = ["iteration,loss_action,test_reward_normalized"]
    rows += [f"{10 * (i + 1)},0.1,{reward}" for i, reward in enumerate(rewards)]
    (run_dir / "metrics.csv").write_text("\n".join(rows) + "\n")
    (run_dir / "summary.json").write_text(json.dumps({"wall_time_s": wall, "iterations": 10 * len(rewards)}))


@pytest.fixture
def sweep(tmp_path):
    fake_run(tmp_path / "dial_switch_3" / "seed0", "dial", 3, 0, [0.5, 0.7, 0.9, 1.0], wall=10.0)
    fake_run(tmp_path / "dial_switch_3" / "seed1", "dial", 3, 1, [0.7, 0.9, 1.0, 1.0], wall=20.0)
    fake_run(tmp_path / "rial_switch_3" / "seed0", "rial", 3, 0, [0.4, 0.6, 0.8], wall=30.0)
    fake_run(tmp_path / "other" / "seed0", "coma", 3, 0, [0.1], wall=1.0)
    (tmp_path / "unfinished").mkdir()
    return tmp_path


def test_find_runs_groups_finished_dial_and_rial_runs(sweep):
    runs = find_runs(sweep)
    assert set(runs) == {("dial", 3), ("rial", 3)}
    assert runs[("dial", 3)] == {0: sweep / "dial_switch_3" / "seed0", 1: sweep / "dial_switch_3" / "seed1"}


def test_table_and_plot(sweep, tmp_path):
    markdown = write_report(sweep, tmp_path / "out", marks=(20, 40))
    lines = markdown.splitlines()
    assert lines[0] == "| algo | n | seeds | epochs | R @ 20 | R @ 40 | wall s / run |"
    # R @ 20 averages the tests at epochs 10 and 20 per seed: DIAL 0.6 and 0.8; R @ 40: 0.775 and 0.9
    assert lines[2] == "| DIAL | 3 | 2 | 40 | 0.700 ± 0.100 | 0.838 ± 0.062 | 15 |"
    assert lines[3] == "| RIAL | 3 | 1 | 30 | 0.500 ± 0.000 | - | 30 |"  # stopped before epoch 40
    assert "over seeds [0, 1]" in markdown
    assert (tmp_path / "out" / "summary.md").read_text() == markdown
    assert (tmp_path / "out" / "comm_switch.png").exists()


def test_command_writes_into_the_sweep_folder(sweep):
    assert main(["comm-switch", str(sweep), "--marks", "20"]) == 0
    assert (sweep / "summary.md").exists() and (sweep / "comm_switch.png").exists()
    with pytest.raises(SystemExit, match="alpha"):
        main(["comm-switch", str(sweep), "--alpha", "0"])


def test_ewma_and_window_mean():
    values = np.array([1.0, 0.0])
    assert np.allclose(ewma(values, 1.0), values)
    assert np.allclose(ewma(values, 0.5), [1.0, 1 / 3])  # (0.5 * 1 + 0) / (0.5 + 1)
    epochs = np.array([50.0, 100.0, 150.0])
    assert window_mean(epochs, np.array([1.0, 2.0, 3.0]), 100) == 1.5
    assert np.isnan(window_mean(epochs, np.array([1.0, 2.0, 3.0]), 200))
