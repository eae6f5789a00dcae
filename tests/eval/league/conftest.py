"""Tiny trained runs of each league family (one iteration each, seconds), shared by the league tests."""

from pathlib import Path

import pytest

from oppshape.cli import run

QUIET = ["logger=quiet", "trainer.progress=false", "trainer.iterations=1", "device=cpu"]
RUNS = {
    "exact": ["experiment=pola_ipd_exact", "algo.num_seeds=3"],
    "dice_coin": ["experiment=pola_dice_coin_small", "algo.num_seeds=2", "algo.num_envs=8",
                  "algo.eval_envs=8", "algo.outer_steps=1", "algo.inner_steps=1"],
    "loqa_coin": ["experiment=loqa_coin", "algo.num_seeds=2", "algo.num_envs=4", "algo.actor_hidden_size=16",
                  "algo.qvalue_hidden_size=8"],
    "loqa_ipd": ["experiment=loqa_ipd", "algo.num_seeds=2", "algo.num_envs=4"],
    "aa_ipd": ["experiment=aa_ipd", "algo.num_seeds=2", "algo.num_envs=4"],
}


@pytest.fixture(scope="session")
def league_runs(tmp_path_factory) -> dict[str, Path]:
    """Run directories by family key (trained once per test session)."""
    root = tmp_path_factory.mktemp("league_runs")
    return {name: run([*overrides, *QUIET, f"run_dir={root / name}"]) for name, overrides in RUNS.items()}
