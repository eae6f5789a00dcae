"""Evaluation of the DiCE family against fixed strategies, with scores known in closed form."""

from __future__ import annotations

from pathlib import Path

import torch

from oppshape.envs.coin_game import CoinGame
from oppshape.eval.dice import coin_strategies, dice_metrics, ipd_strategies, play, plot_dice_history, strategies_for
from oppshape.games import payoff_table
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.modules.gru_policy import GRUNet

IPD = IteratedMatrixGame(payoff_table=payoff_table("ipd_cf", cf=1.33))


def constant_policy(observation_dim: int, logits: list[float]) -> dict[str, torch.Tensor]:
    params = {k: v.detach().clone() for k, v in GRUNet(observation_dim, len(logits), 8).params().items()}
    params["head_weight"].zero_()
    params["head_bias"].copy_(torch.tensor(logits))
    return params


def test_ipd_scores_against_fixed_strategies_are_the_payoffs() -> None:
    cooperator, defector = constant_policy(5, [30.0, -30.0]), constant_policy(5, [-30.0, 30.0])
    metrics = dice_metrics(IPD, [cooperator, defector], n=64, horizon=10, strategies=ipd_strategies())
    assert abs(metrics["score_1"] - (1.33 / 2 - 1)) < 1e-5 and abs(metrics["score_2"] - 1.33 / 2) < 1e-5
    assert metrics["cooperation_rate"] == 0.5
    assert abs(metrics["score_vs_alld_1"] - (1.33 / 2 - 1)) < 1e-5  # cooperating against a defector
    assert abs(metrics["score_vs_allc_1"] - 0.33) < 1e-5
    assert abs(metrics["score_vs_alld_2"]) < 1e-5 and abs(metrics["score_vs_allc_2"] - 1.33 / 2) < 1e-5
    assert abs(metrics["score_vs_alld"] - (1.33 / 2 - 1) / 2) < 1e-5


def test_coin_strategies_only_take_own_coins_when_cooperating() -> None:
    game = CoinGame()
    strategies = coin_strategies()
    cooperative = play(game, [strategies["allc"], strategies["allc"]], n=128, horizon=50, seeds=1)
    assert cooperative.picked_coin.any() and torch.equal(cooperative.picked_coin, cooperative.picked_own_coin)
    greedy = play(game, [strategies["alld"], strategies["allc"]], n=128, horizon=50, seeds=1)
    assert greedy.reward[..., 0].mean() > 0.3 > greedy.reward[..., 1].mean()


def test_coin_metrics_have_own_coin_rate_and_plots_are_written(tmp_path: Path) -> None:
    game = CoinGame()
    policies = [GRUNet(36, 4, 8, num_seeds=3).params() for _ in range(2)]
    metrics = dice_metrics(game, policies, n=32, horizon=20, strategies=coin_strategies())
    assert 0 <= metrics["own_coin_rate"] <= 1 and metrics["coins_per_step"] > 0
    assert {"score_vs_alld", "score_vs_allc_2", "score_mean", "own_coin_rate_s2", "score_mean_s0"} <= set(metrics)
    seed_mean = sum(metrics[f"score_mean_s{k}"] for k in range(3)) / 3
    assert abs(seed_mean - metrics["score_mean"]) < 1e-6
    history = [{"iteration": float(i), **metrics} for i in range(1, 4)]
    files = plot_dice_history(history, tmp_path / "plots", "test")
    assert files and files[0].stat().st_size > 0


def test_strategies_follow_the_game() -> None:
    coin = CoinGame()
    assert set(strategies_for(IPD)) == set(strategies_for(coin)) == {"alld", "allc"}
    state = IPD.initial_state(3)
    assert torch.equal(strategies_for(IPD)["alld"](IPD, state, 0), torch.ones(3, dtype=state.dtype))
    moves = strategies_for(coin)["alld"](coin, coin.initial_state(8), 1)
    assert moves.shape == (8,) and bool(((moves >= 0) & (moves < 4)).all())
