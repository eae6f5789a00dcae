"""POLA-DiCE / LOLA-DiCE / POLA-OM: look-ahead steps compound, both agents start from the same point."""

from __future__ import annotations

import pytest
import torch

from oppshape.envs.coin_game import CoinGame
from oppshape.games import payoff_table
from oppshape.learners.dice_rollout import AgentParams, rollout
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.learners.lola_dice import LOLADiCE
from oppshape.learners.pola_dice import POLADiCE, ShapingConfig, detached, inner_lookahead
from oppshape.learners.pola_om import POLAOM, OpponentModelConfig

IPD = IteratedMatrixGame(payoff_table=payoff_table("ipd_cf", cf=1.33))


def small_config(**overrides) -> ShapingConfig:
    values = dict(inner_steps=2, outer_steps=2, inner_lr=0.5, outer_lr=0.01, inner_beta=1.0, outer_beta=1.0,
                  batch_size=16, rollout_length=6)
    return ShapingConfig(**{**values, **overrides})


def lookahead(learner: POLADiCE, start, reference, steps: int, seed: int):
    torch.manual_seed(seed)
    config = small_config(inner_steps=steps)
    return inner_lookahead(IPD, learner.loss, config, 0, start[0][0], start[1][0], start[1][1], reference, steps)


def test_inner_steps_compound_into_sequential_single_steps() -> None:
    learner = POLADiCE(IPD, small_config(), hidden_size=8)
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    reference = start[1][0]
    two_policy, two_value = lookahead(learner, start, reference, steps=2, seed=5)
    torch.manual_seed(5)
    config = small_config(inner_steps=1)
    one_policy, one_value = inner_lookahead(IPD, learner.loss, config, 0, start[0][0], start[1][0], start[1][1], reference, 1)
    again_policy, _ = inner_lookahead(IPD, learner.loss, config, 0, start[0][0], one_policy, one_value, reference, 1)
    for name in two_policy:
        torch.testing.assert_close(two_policy[name], again_policy[name])
    assert any(not torch.allclose(two_policy[name], one_policy[name]) for name in two_policy)
    assert any(not torch.allclose(one_policy[name], start[1][0][name]) for name in one_policy)


def test_lookahead_is_differentiable_in_the_shaper_and_vanishes_without_a_step() -> None:
    learner = POLADiCE(IPD, small_config(), hidden_size=8)
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    policy, _ = lookahead(learner, start, start[1][0], steps=2, seed=1)
    shaping = torch.autograd.grad(sum(p.sum() for p in policy.values()), list(start[0][0].values()), allow_unused=True)
    assert sum(g.abs().sum() for g in shaping if g is not None) > 0
    torch.manual_seed(1)
    frozen, _ = inner_lookahead(IPD, learner.loss, small_config(inner_lr=0.0), 0, start[0][0], start[1][0],
                                start[1][1], start[1][0], 2)
    for name, p in frozen.items():
        torch.testing.assert_close(p, start[1][0][name])


def test_both_agents_update_from_the_same_starting_parameters() -> None:
    torch.manual_seed(0)
    learner = POLADiCE(IPD, small_config(outer_steps=1), hidden_size=8)
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    torch.manual_seed(3)
    learner.update()
    torch.manual_seed(3)
    expected = [learner.outer_loop(i, *start[i], *start[1 - i])[0] for i in (0, 1)]
    for module, policy in zip(learner.agents, expected):
        for name, p in module.policy.named_parameters():
            torch.testing.assert_close(p, policy[name])


def test_outer_kl_to_the_start_grows_as_the_agent_moves() -> None:
    learner = POLADiCE(IPD, small_config(outer_steps=3, outer_lr=0.05), hidden_size=8)
    metrics = learner.update()
    assert metrics["kl_outer_1"] > 0 and metrics["kl_outer_2"] > 0
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())


def test_lola_dice_is_one_step_without_penalties_and_restores_from_state() -> None:
    learner = LOLADiCE(IPD, inner_lr=0.05, batch_size=16, rollout_length=6, hidden_size=8)
    config = learner.config
    assert (config.inner_steps, config.outer_steps, config.inner_beta, config.outer_beta) == (1, 1, 0.0, 0.0)
    before = [p.clone() for p in learner.agents.parameters()]
    metrics = learner.update()
    assert "kl_outer_1" not in metrics
    assert any(not torch.equal(a, b) for a, b in zip(before, learner.agents.parameters()))
    fresh = LOLADiCE(IPD, batch_size=16, rollout_length=6, hidden_size=8)
    fresh.load_state_dict(learner.state_dict())
    for a, b in zip(fresh.agents.parameters(), learner.agents.parameters()):
        torch.testing.assert_close(a, b)
    assert fresh.updates == 1


def test_pola_dice_runs_on_the_coin_game() -> None:
    learner = POLADiCE(CoinGame(egocentric=False), small_config(outer_steps=1, inner_steps=1), hidden_size=8)
    metrics = learner.update()
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())


def test_opponent_model_learns_the_opponents_action_frequencies() -> None:
    learner = POLAOM(IPD, small_config(batch_size=64), OpponentModelConfig(batches=60, policy_lr=0.05), hidden_size=8)
    with torch.no_grad():  # agent 2 cooperates with probability sigmoid(2) = 0.88 whatever it sees
        learner.agents[1].policy.head_weight.zero_()
        learner.agents[1].policy.head_bias.copy_(torch.tensor([1.0, -1.0]))
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    learner.fit_model(0, start)
    model = {k: v.detach() for k, v in learner.models[0].policy.params().items()}
    with torch.no_grad():
        trajectory = rollout(IPD, [AgentParams(start[0][0]), AgentParams(model)], 512, 6)
    cooperation = (trajectory.action[..., 1] == 0).float().mean()
    assert abs(cooperation - torch.sigmoid(torch.tensor(2.0))) < 0.04
    assert learner.model_metrics["loss_model_policy_1"] < 0.45


def test_pola_om_update_reports_model_losses_and_round_trips() -> None:
    learner = POLAOM(IPD, small_config(outer_steps=1), OpponentModelConfig(batches=2), hidden_size=8)
    metrics = learner.update()
    assert {"loss_model_policy_1", "loss_model_value_2", "loss_value_1"} <= set(metrics)
    fresh = POLAOM(IPD, small_config(outer_steps=1), OpponentModelConfig(batches=2), hidden_size=8)
    fresh.load_state_dict(learner.state_dict())
    for a, b in zip(fresh.models.parameters(), learner.models.parameters()):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("bad", [{"inner_steps": 0}, {"gamma": 1.0}, {"outer_beta": -1.0}, {"gae_lambda": 2.0}])
def test_bad_hyperparameters_are_named(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        small_config(**bad)


def test_seeds_train_independently() -> None:
    """Changing seed 2's starting point leaves seed 1's update untouched (same random draws)."""

    def seed_one_after_update(shift: float) -> list[torch.Tensor]:
        torch.manual_seed(0)
        learner = POLADiCE(IPD, small_config(outer_steps=2), hidden_size=8, num_seeds=2)
        with torch.no_grad():
            for p in learner.agents.parameters():
                p[1] += shift
        torch.manual_seed(1)
        learner.update()
        return [p[0].clone() for p in learner.agents.parameters()]

    for a, b in zip(seed_one_after_update(0.0), seed_one_after_update(0.3)):
        torch.testing.assert_close(a, b)
