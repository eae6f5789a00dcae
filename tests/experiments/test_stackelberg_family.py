"""Stackelberg family wiring: the shipped experiment configs and tiny end-to-end CLI runs
(schema checks: tests/config/test_stackelberg.py)."""

import json

import pytest

from oppshape.cli import CONFIG_DIR, run
from oppshape.config import ConfigError

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("stackelberg_*.yaml"))
TINY = ["algo.pretrain_iterations=3", "algo.leader_iterations=3", "algo.post_iterations=2", "trainer.iterations=8",
        "trainer.eval_every=4", "trainer.progress=false", "logger=quiet"]


def test_every_paper_experiment_is_shipped():
    assert EXPERIMENTS == sorted([
        "stackelberg_allgames_ppo", "stackelberg_allgames_pg", "stackelberg_hidden_queries_pg",
        "stackelberg_observed_queries_pg", "stackelberg_hidden_queries_dqn", "stackelberg_observed_queries_dqn",
        "stackelberg_leader_memory_pg", "stackelberg_no_leader_memory_pg",
    ])


def test_cli_run_writes_per_run_results(tmp_path):
    run_dir = run(["experiment=stackelberg_allgames_ppo", "env.games=[chicken,battle]", "algo.num_seeds=2",
                   "algo.ppo_epochs=2", *TINY, f"run_dir={tmp_path / 'run'}"])
    summary = json.loads((run_dir / "summary.json").read_text())
    results = summary["stackelberg"]
    assert results["games"] == ["chicken", "battle"] and results["stackelberg_value"] == [15.0, 15.0]
    assert results["run_game"] == ["chicken", "chicken", "battle", "battle"] and results["run_seed"] == [0, 1, 0, 1]
    assert len(results["leader_return_final"]) == 4
    assert "reached_chicken" in summary["final"]
    assert (run_dir / "plots" / "stackelberg.png").exists()


def test_a_saved_follower_oracle_can_be_reused(tmp_path):
    common = ["experiment=stackelberg_observed_queries_pg", "algo.num_seeds=2", "trainer.progress=false",
              "logger=quiet", "algo.leader_iterations=2", "algo.post_iterations=0"]
    first = run([*common, "algo.pretrain_iterations=5", "trainer.iterations=7", f"run_dir={tmp_path / 'a'}"])
    checkpoint = first / "checkpoints" / "last.pt"
    second = run([*common, "algo.pretrain_iterations=0", "trainer.iterations=2", f"algo.follower_checkpoint={checkpoint}",
                  f"run_dir={tmp_path / 'b'}"])
    gaps = [json.loads((d / "summary.json").read_text())["stackelberg"]["oracle_br_gap"] for d in (first, second)]
    assert gaps[0] == gaps[1]
    with pytest.raises(ConfigError, match="pretrained follower table has shape"):
        run([*common, "algo.num_seeds=3", "algo.pretrain_iterations=0", "trainer.iterations=2",
             f"algo.follower_checkpoint={checkpoint}", f"run_dir={tmp_path / 'c'}"])

