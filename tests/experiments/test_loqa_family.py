"""The LOQA family: builds on both envs through make_env, trains, and runs end to end from the CLI."""

from __future__ import annotations

import json

from loqa_factory import TINY_GRU, TINY_IPD, build

from oppshape.cli import run
from oppshape.envs.coin_game import CoinGame
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame


def test_ipd_build_plays_seeds_times_envs_games_and_trains() -> None:
    experiment = build({"name": "iterated_matrix_game", "episode_length": 5}, **TINY_IPD)
    env = experiment.learner.env
    assert isinstance(env, IteratedMatrixGame) and env.batch_size[0] == 2 * 4
    metrics = experiment.learner.update(experiment.collect())
    assert metrics["loss_qvalue"] >= 0


def test_coin_build_uses_the_env_settings() -> None:
    experiment = build({"name": "coin_game", "height": 4, "width": 3, "episode_length": 6}, **TINY_GRU)
    env = experiment.learner.env
    assert isinstance(env, CoinGame) and (env.height, env.width, env.batch_size[0]) == (4, 3, 4)
    assert experiment.learner.update(experiment.collect())["loss_qvalue"] >= 0


def test_cli_run_end_to_end(tmp_path) -> None:
    run_dir = run([
        "experiment=loqa_coin_scaling", "env.height=4", "env.width=4", "env.episode_length=5",
        "algo.num_envs=4", "algo.actor_hidden_size=8", "algo.qvalue_hidden_size=8",
        "trainer.iterations=3", "trainer.eval_every=2", "logger=quiet", "trainer.progress=false",
        f"run_dir={tmp_path / 'run'}",
    ])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["name"] == "loqa_coin_4x4" and summary["iterations"] == 3
    assert "seconds_to_weak" in summary and "eval_own_coin_rate" in summary["final_eval"]
    assert (run_dir / "plots" / "loqa.png").exists()
