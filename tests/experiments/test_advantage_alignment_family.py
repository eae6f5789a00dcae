"""Advantage Alignment family wiring: tiny end-to-end CLI runs of each shipped experiment (seconds)."""

import json

import pytest
import torch

from oppshape.cli import run

TINY = ["trainer.iterations=2", "trainer.eval_every=2", "trainer.progress=false", "logger=quiet",
        "algo.num_envs=4", "algo.eval_envs=4", "algo.num_seeds=2", "env.episode_length=5"]


@pytest.mark.parametrize("experiment,extra", [
    ("aa_ipd", []),
    ("aa_ipd", ["algo=paa", "algo.actor=tabular", "algo.critic_hidden_size=8"]),
    ("aa_coin", ["algo.actor_hidden_size=8", "algo.critic_hidden_size=8"]),
    ("aa_coin_scaling", ["env.height=4", "algo.actor_hidden_size=8", "algo.critic_hidden_size=8"]),
])
def test_cli_run_writes_results(tmp_path, experiment, extra):
    run_dir = run([f"experiment={experiment}", *TINY, *extra, f"run_dir={tmp_path / 'run'}"])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "eval_reward_vs_alld" in summary["final_eval"]
    assert (run_dir / "plots" / "advantage_alignment.png").exists()
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert len(checkpoint["learner"]["agents"]) == 2
    if experiment.startswith("aa_coin"):
        assert "seconds_to_weak" in summary and "eval_own_coin_rate" in summary["final_eval"]
    else:
        assert "p_coop_agent1_CC" in summary["final_eval"]
