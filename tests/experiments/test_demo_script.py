"""``make demo`` (scripts/demo.py): naive, LOLA and POLA through the CLI, a table and a plot (shortened)."""

from pathlib import Path

from script_loader import load_script


def test_demo_runs_the_three_methods_and_writes_table_and_plot(tmp_path: Path, monkeypatch, capsys) -> None:
    demo = load_script("demo")
    monkeypatch.setattr(demo, "METHODS", {
        method: [*overrides, "trainer.iterations=1", "algo.num_seeds=2", "algo.outer_max_iters=20"]
        if method == "POLA" else [*overrides, "trainer.iterations=2", "algo.num_seeds=2"]
        for method, overrides in demo.METHODS.items()
    })
    finals = demo.run_methods(tmp_path, seed=0)
    assert set(finals) == {"naive", "LOLA", "POLA"}
    progress = capsys.readouterr().out.splitlines()  # the demo says what runs while it runs
    assert [line.split(":")[0] for line in progress] == ["[1/3] naive", "[1/3] naive", "[2/3] LOLA", "[2/3] LOLA",
                                                         "[3/3] POLA", "[3/3] POLA"]
    assert progress[-1].startswith("[3/3] POLA: done in ") and "found TFT" in progress[-1]
    table = demo.table(finals)
    assert table.count("\n") == 1 + 2 * 3 and "| LOLA | 2 |" in table
    demo.plot(finals, tmp_path / "comparison.png")
    assert (tmp_path / "comparison.png").stat().st_size > 0
