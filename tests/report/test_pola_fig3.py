"""The POLA Figure 3 table from a sweep folder: synthetic runs, and one tiny real run through the CLI."""

import json
from pathlib import Path

import pytest

from oppshape.cli import run
from oppshape.report.__main__ import main
from oppshape.report.pola_fig3 import read_sweep


def _fake_run(sweep: Path, name: str, algo: dict, cf: float, tft: float, steps: list[tuple[float, float]]) -> None:
    run_dir = sweep / name
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(json.dumps({"algo": algo, "env": {"name": "ipd_exact", "cf": cf}}))
    (run_dir / "summary.json").write_text(json.dumps(
        {"iterations": len(steps), "wall_time_s": 12.5, "final": {"tft_fraction": tft, "return_per_step": 0.3161}}))
    rows = ["iteration,outer_steps_agent1,outer_steps_agent2"]
    rows += [f"{index + 1},{first},{second}" for index, (first, second) in enumerate(steps)]
    (run_dir / "metrics.csv").write_text("\n".join(rows) + "\n")


def test_table_from_a_synthetic_sweep(tmp_path: Path, capsys) -> None:
    pola = {"name": "pola", "parameterization": "nn", "num_seeds": 20, "inner_lr": 0.25, "outer_lr": 0.03,
            "outer_beta": 0.13}
    lola = {"name": "lola", "parameterization": "preconditioned", "num_seeds": 20, "inner_lr": 3.0, "outer_lr": 25.0}
    _fake_run(tmp_path, "pola_fig3_pola_nn_cf125", pola, 1.25, 0.95, [(300.0, 280.0), (200.0, 100.0)])
    _fake_run(tmp_path, "pola_fig3_lola_preconditioned_cf133", lola, 1.33, 0.0, [(1.0, 1.0)] * 3)
    (tmp_path / "multirun.yaml").write_text("{}")
    assert main(["pola-fig3", str(tmp_path)]) == 0
    table = (tmp_path / "table.md").read_text()
    assert table == capsys.readouterr().out
    assert "Fraction of 20 seeds that found TFT at some epoch" in table
    assert "| POLA | neural net (16 tanh) | - | 0.95 | - | - | - | finds TFT at every cf |" in table
    assert "| LOLA | pre-conditioned tabular | - | - | 0.00 | - | - | never finds TFT |" in table
    assert "| POLA | neural net (16 tanh) | 1.25 | 0.25 | 0.03 | 0.13 | 2 | 220 | 0.316 | 12.5 | README |" in table
    assert ("| LOLA | pre-conditioned tabular | 1.33 | 3.0 | 25.0 | 0.0 | 3 | 1 | 0.316 | 12.5 "
            "| none given; LOLA tabular's setting |") in table


def test_table_from_a_tiny_real_run(tmp_path: Path) -> None:
    run(["experiment=pola_fig3_lola_tabular_cf160", "algo.num_seeds=2", "trainer.iterations=2",
         f"run_dir={tmp_path / 'sweep' / 'pola_fig3_lola_tabular_cf160'}"])
    cells = read_sweep(tmp_path / "sweep")
    cell = cells[("lola", "tabular", 1.6)]
    assert (cell.epochs, cell.seeds, cell.inner_lr, cell.outer_lr, cell.outer_steps) == (2, 2, 3.0, 25.0, 1.0)
    main(["pola-fig3", str(tmp_path / "sweep"), "--out", str(tmp_path / "table.md")])
    assert "| LOLA | tabular | - | - | - | - |" in (tmp_path / "table.md").read_text()


def test_an_empty_sweep_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no finished runs"):
        read_sweep(tmp_path)


def test_cd_preconditioned_cells_get_their_own_row(tmp_path: Path) -> None:
    dd = {"name": "pola", "parameterization": "preconditioned", "num_seeds": 20, "inner_lr": 0.1, "outer_lr": 0.01}
    cd = {**dd, "precondition_state": "cd"}
    _fake_run(tmp_path, "pola_fig3_pola_preconditioned_cf125", dd, 1.25, 0.0, [(5.0, 5.0)])
    _fake_run(tmp_path, "pola_precond_cd_cf125", cd, 1.25, 1.0, [(5.0, 5.0)])
    cells = read_sweep(tmp_path)
    assert cells[("pola", "preconditioned", 1.25)].tft_fraction == 0.0
    assert cells[("pola", "preconditioned_cd", 1.25)].tft_fraction == 1.0
    main(["pola-fig3", str(tmp_path)])
    table = (tmp_path / "table.md").read_text()
    assert "| POLA | pre-conditioned tabular | - | 0.00 | - | - | - |" in table
    assert "| POLA | pre-conditioned tabular (CD matrix) | - | 1.00 | - | - | - | finds TFT at every cf |" in table
    assert "| LOLA | pre-conditioned tabular (CD matrix) |" not in table  # no LOLA cd cell: no row
