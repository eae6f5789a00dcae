"""Advantage Alignment evaluation: fixed yardsticks, P(C | state), thresholds and the summary."""

import torch
from tensordict import TensorDict

from oppshape.envs.registry import make_env
from oppshape.eval.advantage_alignment import (
    AdvantageAlignmentEvaluation,
    cooperation_by_state,
    plot_curves,
    summarize,
)
from oppshape.modules.loqa_nets import GRUNet, TabularActor


def _always(action: int) -> TabularActor:
    actor = TabularActor(5, 2, num_members=2)
    with torch.no_grad():
        actor.table[..., action] = 50.0
    return actor


def test_ipd_defectors_score_the_payoff_table():
    env = make_env("iterated_matrix_game", num_envs=8, payoff="ipd", episode_length=4)
    metrics = AdvantageAlignmentEvaluation((_always(1), _always(1)), env, members=2, steps=4)()
    assert metrics["eval_reward_vs_self"] == -2.0  # DD
    assert metrics["eval_reward_vs_alld"] == -2.0
    assert metrics["eval_reward_vs_allc"] == 0.0  # D against C
    assert metrics["p_coop_agent1_CC"] < 1e-6 and metrics["eval_retaliating_fraction_agent2"] == 1.0


def test_cooperation_by_state_averages_the_policy_per_state():
    observation = torch.nn.functional.one_hot(torch.tensor([[[0, 1, 1, 4]]]), 5).float()  # [S=1, B=1, T=4]
    policy = torch.tensor([[[[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.5, 0.5]]]])
    coop = cooperation_by_state(TensorDict({"observation": observation, "policy": policy}, batch_size=[1, 1, 4]))
    torch.testing.assert_close(coop[0, [0, 1, 4]], torch.tensor([0.9, 0.3, 0.5]))
    assert coop[0, 2].isnan() and coop[0, 3].isnan()


def test_coin_game_metrics_and_summary(tmp_path):
    env = make_env("coin_game", num_envs=4, height=3, width=3, episode_length=6)
    actors = tuple(GRUNet(env.observation_shape, 4, 8, num_members=2) for _ in range(2))
    metrics = AdvantageAlignmentEvaluation(actors, env, members=2, steps=6)()
    assert {"eval_own_coin_rate", "eval_normalized_vs_self", "eval_weak", "eval_strong"} <= metrics.keys()
    history = [{**metrics, "iteration": 5.0, "wall_time_s": 1.5, "eval_weak": 1.0, "eval_medium": 0.0,
                "eval_strong": 0.0}]
    summary = summarize(history)
    assert summary["seconds_to_weak"] == 1.5 and summary["iteration_to_weak"] == 5
    assert summary["seconds_to_strong"] is None
    plot_curves(history, tmp_path)
    assert (tmp_path / "advantage_alignment.png").exists()
