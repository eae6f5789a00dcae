"""Lean DiCE rollouts: same rules as the TorchRL envs, log-probs and KL terms recomputable from the record."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from oppshape.envs.coin_game import CoinGame
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.games import payoff_table
from oppshape.rollouts.dice import AgentParams, agent_batch, gumbel_noise, rollout
from oppshape.modules.gru_policy import GRUNet, unroll


def test_gumbel_max_sampling_has_the_softmax_frequencies() -> None:
    logits = torch.log(torch.tensor([0.2, 0.5, 0.3]))
    actions = (logits + gumbel_noise(100000, 3, device=torch.device("cpu"))).argmax(-1)
    counts = torch.bincount(actions, minlength=3) / 100000
    torch.testing.assert_close(counts, torch.tensor([0.2, 0.5, 0.3]), atol=0.01, rtol=0)


def test_log_probs_values_and_kl_can_be_recomputed_from_the_record() -> None:
    game = CoinGame(height=3, width=3)
    policies = [GRUNet(36, 4, 16, num_seeds=2).params() for _ in range(2)]
    value, reference = GRUNet(36, 1, 16, num_seeds=2).params(), GRUNet(36, 4, 16, num_seeds=2).params()
    agents = [AgentParams(policies[0]), AgentParams(policies[1], value, reference)]
    trajectory = rollout(game, agents, n=32, horizon=7, keep_observations=True)
    assert trajectory.log_prob.shape == trajectory.reward.shape == (7, 2, 32, 2)
    assert trajectory.value[0] is None and trajectory.value[1].shape == (7, 2, 32)
    observations = trajectory.observation  # [8, 2, 32, 2, 36]
    for agent in (0, 1):
        logits = unroll(policies[agent], observations[:-1, :, :, agent])
        expected = torch.log_softmax(logits, -1).gather(-1, trajectory.action[..., agent, None]).squeeze(-1)
        torch.testing.assert_close(trajectory.log_prob[..., agent], expected)
    values = unroll(value, observations[:, :, :, 1]).squeeze(-1)
    torch.testing.assert_close(trajectory.value[1], values[:-1])
    torch.testing.assert_close(trajectory.bootstrap_value[1], values[-1])
    current = torch.log_softmax(unroll(policies[1], observations[:-1, :, :, 1]), -1)
    ref = torch.log_softmax(unroll(reference, observations[:-1, :, :, 1]), -1)
    kl = F.kl_div(current, ref, log_target=True, reduction="none").sum(-1)
    torch.testing.assert_close(trajectory.kl[1], kl)
    assert trajectory.kl[0] is None and kl.shape == (7, 2, 32)


def test_coin_pickups_are_recorded_and_rewards_follow_them() -> None:
    game = CoinGame()
    policies = [GRUNet(36, 4, 8).params() for _ in range(2)]
    trajectory = rollout(game, [AgentParams(p) for p in policies], n=64, horizon=20)
    picked, own = trajectory.picked_coin, trajectory.picked_own_coin
    # +1 per pick-up; -2 when the other agent picks up a coin that was not its own (so it was mine)
    expected = picked.float() - 2 * (picked.flip(-1) & ~own.flip(-1)).float()
    assert torch.equal(trajectory.reward, expected)
    assert picked.any()


def test_gradients_reach_both_policies_from_one_agents_log_probs_and_seeds_stay_apart() -> None:
    game = IteratedMatrixGame(payoff_table=payoff_table("ipd_cf", cf=1.33))
    policies = [{k: v.detach().requires_grad_() for k, v in GRUNet(5, 2, 8, num_seeds=2).params().items()}
                for _ in range(2)]
    trajectory = rollout(game, [AgentParams(p) for p in policies], n=16, horizon=5)
    grads = torch.autograd.grad(trajectory.log_prob[:, 0].sum(), [policies[0]["head_bias"], policies[1]["head_bias"]])
    assert all(g[0].abs().sum() > 0 and g[1].abs().sum() == 0 for g in grads)


class _NoTable:
    """The game without its observation table, so the rollout computes every step's input gates."""

    observation_table = None

    def __init__(self, game) -> None:
        self.game = game

    def __getattr__(self, name: str):
        return getattr(self.game, name)


@pytest.mark.parametrize("env", ["ipd", "coin"])
def test_observation_table_lookup_gives_the_per_step_trajectory_and_gradients(env: str) -> None:
    """The gate tables are an optimisation only: same samples, log-probs, values, KL and gradients."""
    if env == "ipd":
        game, obs_dim, actions, n, horizon = IteratedMatrixGame(payoff_table=payoff_table("ipd_cf", cf=1.33)), 5, 2, 16, 6
    else:
        game, obs_dim, actions, n, horizon = CoinGame(height=2, width=3, egocentric=False), 24, 4, 64, 30
        assert game.observation_table.shape[0] * 4 <= n * horizon  # the rollout does use the table
    torch.manual_seed(3)
    nets = [GRUNet(obs_dim, actions, 8, num_seeds=2).params() for _ in range(2)]
    value, reference = GRUNet(obs_dim, 1, 8, num_seeds=2).params(), GRUNet(obs_dim, actions, 8, num_seeds=2).params()
    agents = [AgentParams(nets[0]), AgentParams(nets[1], value, reference)]
    results = []
    for played in (game, _NoTable(game)):
        torch.manual_seed(0)
        trajectory = rollout(played, agents, n=n, horizon=horizon)
        objective = (trajectory.log_prob * trajectory.reward).sum() + trajectory.value[1].sum() + trajectory.kl[1].sum()
        parameters = [*nets[0].values(), *nets[1].values(), *value.values()]
        results.append((trajectory, torch.autograd.grad(objective, parameters)))
    (fast, fast_grads), (plain, plain_grads) = results
    assert torch.equal(fast.action, plain.action)
    torch.testing.assert_close(fast.log_prob, plain.log_prob)
    torch.testing.assert_close(fast.value[1], plain.value[1])
    torch.testing.assert_close(fast.kl[1], plain.kl[1])
    for fast_grad, plain_grad in zip(fast_grads, plain_grads):
        torch.testing.assert_close(fast_grad, plain_grad)


def test_agent_batch_is_the_batch_major_view_of_one_agents_record() -> None:
    game = IteratedMatrixGame(payoff_table=payoff_table("ipd_cf", cf=1.33))
    nets = [GRUNet(5, 2, 8, num_seeds=2).params() for _ in range(2)]
    value, reference = GRUNet(5, 1, 8, num_seeds=2).params(), GRUNet(5, 2, 8, num_seeds=2).params()
    trajectory = rollout(game, [AgentParams(nets[0]), AgentParams(nets[1], value, reference)], n=16, horizon=5)
    batch = agent_batch(trajectory, 1)
    assert batch.batch_size == (2, 16, 5)
    torch.testing.assert_close(batch["log_prob"], trajectory.log_prob[..., 1].permute(1, 2, 0))
    torch.testing.assert_close(batch["other_log_prob"], trajectory.log_prob[..., 0].permute(1, 2, 0))
    torch.testing.assert_close(batch["reward"], trajectory.reward[..., 1].permute(1, 2, 0))
    torch.testing.assert_close(batch["kl"], trajectory.kl[1].permute(1, 2, 0))
    torch.testing.assert_close(batch["next", "state_value"][..., :-1], batch["state_value"][..., 1:])
    torch.testing.assert_close(batch["next", "state_value"][..., -1], trajectory.bootstrap_value[1])
    assert "state_value" not in agent_batch(trajectory, 0).keys() and "kl" not in agent_batch(trajectory, 0).keys()
