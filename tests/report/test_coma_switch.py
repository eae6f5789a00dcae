"""report/coma_switch.py: the table of COMA's switch-riddle runs next to the last-day rule, and the Tell replay."""

import json
from pathlib import Path

import pytest

from oppshape.report import coma_switch
from oppshape.report.__main__ import main


def write_runs(root: Path) -> None:
    for seed, greedy in ((0, 0.50), (1, 0.54)):
        target = root / "n3" / f"seed{seed}"
        target.mkdir(parents=True)
        summary = {"eval_return": greedy, "eval_return_sampled": greedy - 0.1, "eval_normalized": greedy / 0.741,
                   "reference_return": 0.527, "oracle_return": 0.741, "random_return": -0.8, "frames": 1500000.0,
                   "wall_time_s": 100.0 + seed}
        (target / "summary.json").write_text(json.dumps(summary))


def test_finished_runs_are_tabulated(tmp_path: Path) -> None:
    write_runs(tmp_path)
    (tmp_path / "n3" / "seed2").mkdir()  # a run still going (no summary.json): left out
    runs = coma_switch.finished_runs(tmp_path, [3])
    assert [target.name for target in runs[3]] == ["seed0", "seed1"]
    row = coma_switch.table(runs).splitlines()[-1]
    assert row.startswith("| 3 | 2 | 0.520 +- 0.028 | 0.420 +- 0.028 |")
    assert "| 0.527 | 0.741 | -0.800 | 1,500,000 | 100 |" in row


def test_the_command_writes_the_table_and_names_missing_runs(tmp_path: Path) -> None:
    write_runs(tmp_path)
    output = tmp_path / "results" / "coma_switch.md"
    main(["coma-switch", "--runs", str(tmp_path), "--agents", "3", "--output", str(output)])
    assert output.read_text().splitlines()[-1].startswith("| 3 | 2 |")
    with pytest.raises(SystemExit, match="no finished runs under .*/n4/seed<s>"):
        main(["coma-switch", "--runs", str(tmp_path), "--agents", "3", "4"])


def test_tell_rates_replays_a_checkpointed_policy(tmp_path: Path) -> None:
    import torch

    from oppshape.checkpoint import save_checkpoint
    from oppshape.cli import compose
    from oppshape.config import validate
    from oppshape.experiments.coma import build

    cfg = compose(["experiment=coma_switch_3", "algo.num_envs=2", "algo.eval_envs=2", "algo.frames_per_batch=12"])
    learner = build(validate(cfg), torch.device("cpu")).learner
    head = learner.loss.actor_network_params["module", "0", "module", "0", "head"]
    with torch.no_grad():  # a policy that never tells: every game reaches the last day and nobody tells there
        head["weight"].zero_()
        head["bias"].copy_(torch.tensor([[5.0, -5.0]]))
    save_checkpoint(tmp_path / "checkpoints", {"learner": learner.state_dict()})
    rates = coma_switch.tell_rates(tmp_path, 3, games=2000)
    assert rates["early_tell"] == 0.0
    assert set(rates["last_day_tell_by_visits"]) == {1, 2, 3, 4, 5}  # 6 visits: (1/3)^5 of 2000 games < 50
    assert all(rate == 0.0 for rate in rates["last_day_tell_by_visits"].values())
