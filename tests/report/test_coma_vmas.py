"""report/coma_vmas.py and the sweep of ``make coma-vmas``: where the multirun puts each run is where the report
looks, baselines replace the algo group, and the table and plot come from the finished runs."""

import json
import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from oppshape.cli import CONFIG_DIR, compose
from oppshape.config import validate
from oppshape.report import coma_vmas
from oppshape.report.__main__ import main

MAKEFILE = CONFIG_DIR.parent / "Makefile"


def sweep_subdir() -> str:
    """The ``hydra.sweep.subdir`` of the Makefile's VMAS sweeps, Make's ``$$`` unescaped."""
    match = re.search(r"^COMA_VMAS := .*'hydra\.sweep\.subdir=([^']+)'", MAKEFILE.read_text(), re.MULTILINE)
    assert match is not None
    return match.group(1).replace("$$", "$")


@pytest.mark.parametrize("task", ["navigation", "balance", "transport", "simple_spread", "give_way"])
def test_every_sweep_run_lands_where_the_report_reads(task: str) -> None:
    for algo_override, algo in (([], "coma"), (["algo=mappo"], "mappo"), (["algo=ippo"], "ippo")):
        cfg = compose([f"experiment=coma_{task}", "seed=2", *algo_override, "env.max_steps=200"])
        validate(cfg)
        assert cfg.env.max_steps == 200  # the target's ARGS come last and win
        resolved = OmegaConf.merge(OmegaConf.to_container(cfg), {"subdir": sweep_subdir()}).subdir
        assert resolved == f"{task}/{algo}/seed2"


def write_run(root: Path, task: str, algo: str, seed: int, greedy: float) -> None:
    run = root / task / algo / f"seed{seed}"
    run.mkdir(parents=True)
    rows = "".join(f"{i},{i * 6000},{greedy * i / 2},{greedy * i / 4}\n" for i in (1, 2))
    (run / "metrics.csv").write_text("iteration,frames,eval_return,eval_return_sampled\n" + rows)
    summary = {"eval_return": greedy, "eval_return_sampled": greedy / 2, "random_return": -0.5, "frames": 12000.0,
               "wall_time_s": 10.0}
    (run / "summary.json").write_text(json.dumps(summary))


def test_table_and_plot_of_the_finished_runs(tmp_path: Path) -> None:
    for seed in (0, 1):
        write_run(tmp_path, "navigation", "coma", seed, 1.0 + seed)
        write_run(tmp_path, "navigation", "mappo", seed, 2.0)
    (tmp_path / "navigation" / "ippo" / "seed0").mkdir(parents=True)  # not finished: left out
    sweep = coma_vmas.finished_runs(tmp_path, ["navigation", "balance"])
    assert list(sweep) == ["navigation"] and list(sweep["navigation"]) == ["coma", "mappo"]
    lines = coma_vmas.table(sweep).splitlines()
    assert lines[2] == "| navigation | coma | 12,000 | -0.500 | 1.500 ± 0.707 | 0.750 ± 0.354 | -0.500 | 10 |"
    assert lines[3] == "| navigation | mappo | 12,000 | -0.500 | 2.000 ± 0.000 | 1.000 ± 0.000 | - | 10 |"
    output = tmp_path / "results" / "coma_vmas.md"
    main(["coma-vmas", "--runs", str(tmp_path), "--tasks", "navigation", "--output", str(output)])
    assert lines[2] in output.read_text() and "![returns vs frames](coma_vmas.png)" in output.read_text()
    assert output.with_suffix(".png").stat().st_size > 1000
    main(["coma-vmas", "--runs", str(tmp_path), "--tasks", "navigation"])
    assert (tmp_path / "returns_navigation.png").exists()


def test_unknown_tasks_and_empty_sweeps_are_named(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"unknown task\(s\) \['football'\]; valid choices: navigation"):
        main(["coma-vmas", "--runs", str(tmp_path), "--tasks", "football"])
    with pytest.raises(SystemExit, match="no finished runs under"):
        main(["coma-vmas", "--runs", str(tmp_path), "--tasks", "navigation"])
