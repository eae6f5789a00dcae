"""eval/coma.py: the coordination game's optimum, first-episode returns, the summary and the returns plot."""

import torch
from tensordict import TensorDict

from oppshape.config.envs import MatrixGameEnvConfig, SwitchEnvConfig, VmasEnvConfig
from oppshape.eval.coma import episode_length, first_episode_return, optimal_joint_action, plot_returns, summarize


def test_optimal_joint_action_is_brute_forced_from_the_payoff() -> None:
    assert optimal_joint_action(MatrixGameEnvConfig(payoff="coordination")).tolist() == [0, 0]
    assert optimal_joint_action(MatrixGameEnvConfig(payoff="deadlock")).tolist() == [1, 1]


def test_episode_length_of_each_env() -> None:
    assert episode_length(VmasEnvConfig(max_steps=7)) == 7
    assert episode_length(MatrixGameEnvConfig(episode_length=10)) == 10
    assert episode_length(SwitchEnvConfig(n_agents=4, communication=False)) == 4 * 4 - 6


def test_first_episode_return_stops_at_the_first_end() -> None:
    reward = torch.ones(2, 4, 1, 1)  # [envs, T, n, 1]
    done = torch.tensor([[0, 1, 0, 0], [0, 0, 0, 1]], dtype=torch.bool).unsqueeze(-1)
    rollout = TensorDict({"next": {"done": done, "agents": {"reward": reward}}}, batch_size=[2, 4])
    assert first_episode_return(rollout).flatten().tolist() == [2.0, 4.0]


def test_summary_keeps_the_last_value_of_each_headline_metric(tmp_path) -> None:
    history = [{"frames": 10.0, "train_return": 1.0, "loss_actor": 0.5},
               {"frames": 20.0, "eval_return": 2.0, "eval_return_sampled": 1.5, "random_return": -1.0}]
    assert summarize(history) == {"frames": 20.0, "train_return": 1.0, "eval_return": 2.0,
                                  "eval_return_sampled": 1.5, "random_return": -1.0}
    plot_returns(history, tmp_path, "coma on navigation")
    assert (tmp_path / "returns.png").stat().st_size > 0
