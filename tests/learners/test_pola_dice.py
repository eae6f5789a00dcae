"""POLA-DiCE / LOLA-DiCE / POLA-OM: look-ahead steps compound, both agents start from the same point."""

from __future__ import annotations

import pytest
import torch

from oppshape.config import ConfigError
from oppshape.config.dice import LolaDiceConfig, PolaDiceConfig, PolaOmConfig
from oppshape.envs import make_env
from oppshape.learners.lola_dice import LOLADiCE
from oppshape.learners.pola_dice import POLADiCE
from oppshape.learners.pola_om import POLAOM
from oppshape.objectives import dice_lookahead
from oppshape.objectives.dice_lookahead import detached
from oppshape.rollouts.dice import AgentParams, rollout

IPD = make_env("iterated_matrix_game", payoff="ipd_cf", cf=1.33, episode_length=6)
SMALL = dict(inner_steps=2, outer_steps=2, inner_lr=0.5, outer_lr=0.01, inner_beta=1.0, outer_beta=1.0, num_envs=16,
             hidden_size=8)


def small_config(**overrides) -> PolaDiceConfig:
    return PolaDiceConfig(**{**SMALL, **overrides})


def small_om_config(**overrides) -> PolaOmConfig:
    return PolaOmConfig(**{**SMALL, **overrides})


def lookahead(learner: POLADiCE, start, reference, steps: int, inner_lr: float = 0.5):
    """Agent 1's look-ahead of agent 2 from ``start``, as the learner runs it."""
    return dice_lookahead(learner.play_against(0, start[0][0], reference), learner.inner_loss, *start[1],
                          steps=steps, inner_lr=inner_lr, critic_lr=learner.config.critic_lr)


def test_inner_steps_compound_into_sequential_single_steps() -> None:
    learner = POLADiCE(IPD, small_config())
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    reference = start[1][0]
    torch.manual_seed(5)
    two_policy, two_value = lookahead(learner, start, reference, steps=2)
    torch.manual_seed(5)
    one_policy, one_value = lookahead(learner, start, reference, steps=1)
    again_policy, _ = lookahead(learner, [start[0], (one_policy, one_value)], reference, steps=1)
    for name in two_policy:
        torch.testing.assert_close(two_policy[name], again_policy[name])
    assert any(not torch.allclose(two_policy[name], one_policy[name]) for name in two_policy)
    assert any(not torch.allclose(one_policy[name], start[1][0][name]) for name in one_policy)


def test_lookahead_is_differentiable_in_the_shaper_and_vanishes_without_a_step() -> None:
    learner = POLADiCE(IPD, small_config())
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    torch.manual_seed(1)
    policy, _ = lookahead(learner, start, start[1][0], steps=2)
    shaping = torch.autograd.grad(sum(p.sum() for p in policy.values()), list(start[0][0].values()), allow_unused=True)
    assert sum(g.abs().sum() for g in shaping if g is not None) > 0
    torch.manual_seed(1)
    frozen, _ = lookahead(learner, start, start[1][0], steps=2, inner_lr=0.0)
    for name, p in frozen.items():
        torch.testing.assert_close(p, start[1][0][name])


def test_both_agents_update_from_the_same_starting_parameters() -> None:
    torch.manual_seed(0)
    learner = POLADiCE(IPD, small_config(outer_steps=1))
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    torch.manual_seed(3)
    learner.update()
    torch.manual_seed(3)
    expected = [learner.outer_loop(i, *start[i], *start[1 - i])[0] for i in (0, 1)]
    for module, policy in zip(learner.agents, expected):
        for name, p in module.policy.named_parameters():
            torch.testing.assert_close(p, policy[name])


def test_outer_kl_to_the_start_grows_as_the_agent_moves() -> None:
    learner = POLADiCE(IPD, small_config(outer_steps=3, outer_lr=0.05))
    metrics = learner.update()
    assert metrics["kl_outer_1"] > 0 and metrics["kl_outer_2"] > 0
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())


def test_lola_dice_is_one_step_without_penalties_and_restores_from_state() -> None:
    learner = LOLADiCE(IPD, LolaDiceConfig(inner_lr=0.05, num_envs=16, hidden_size=8))
    config = learner.config
    assert (config.inner_steps, config.outer_steps, config.inner_beta, config.outer_beta) == (1, 1, 0.0, 0.0)
    before = [p.clone() for p in learner.agents.parameters()]
    metrics = learner.update()
    assert "kl_outer_1" not in metrics
    assert any(not torch.equal(a, b) for a, b in zip(before, learner.agents.parameters()))
    fresh = LOLADiCE(IPD, LolaDiceConfig(num_envs=16, hidden_size=8))
    fresh.load_state_dict(learner.state_dict())
    for a, b in zip(fresh.agents.parameters(), learner.agents.parameters()):
        torch.testing.assert_close(a, b)
    assert fresh.updates == 1


def test_pola_dice_runs_on_the_coin_game() -> None:
    learner = POLADiCE(make_env("coin_game", egocentric=False, episode_length=6), small_config(outer_steps=1, inner_steps=1))
    metrics = learner.update()
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())


def test_opponent_model_learns_the_opponents_action_frequencies() -> None:
    learner = POLAOM(IPD, small_om_config(num_envs=64, om_batches=60, om_actor_lr=0.05))
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


def test_opponent_model_steps_per_batch_are_extra_adam_steps_on_the_same_rollouts() -> None:
    """``om_steps_per_batch=2`` on 1 rollout moves the model further than 1 step, and not as 2 rollouts would."""

    def fitted(**overrides) -> list[torch.Tensor]:
        torch.manual_seed(0)
        learner = POLAOM(IPD, small_om_config(**overrides))
        start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
        torch.manual_seed(1)
        learner.fit_model(0, start)
        return [p.detach().clone() for p in learner.models[0].policy.parameters()]

    initial = fitted(om_batches=1, om_actor_lr=1e-12)
    one, two = fitted(om_batches=1), fitted(om_batches=1, om_steps_per_batch=2)
    two_rollouts = fitted(om_batches=2)
    distance = lambda a, b: sum((x - y).norm() for x, y in zip(a, b))  # noqa: E731
    assert distance(two, initial) > 1.5 * distance(one, initial)
    assert distance(two, two_rollouts) > 0


def test_pola_om_update_reports_model_losses_and_round_trips() -> None:
    learner = POLAOM(IPD, small_om_config(outer_steps=1, om_batches=2))
    metrics = learner.update()
    assert {"loss_model_policy_1", "loss_model_value_2", "loss_value_1"} <= set(metrics)
    fresh = POLAOM(IPD, small_om_config(outer_steps=1, om_batches=2))
    fresh.load_state_dict(learner.state_dict())
    for a, b in zip(fresh.models.parameters(), learner.models.parameters()):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("bad", [{"inner_steps": 0}, {"gamma": 1.0}, {"outer_beta": -1.0}, {"lmbda": 2.0},
                                 {"num_envs": 0}, {"critic_lr": -1.0}])
def test_bad_hyperparameters_are_named(bad: dict) -> None:
    with pytest.raises(ConfigError, match=f"algo.{next(iter(bad))}"):
        small_config(**bad)


def test_seeds_train_independently() -> None:
    """Changing seed 2's starting point leaves seed 1's update untouched (same random draws)."""

    def seed_one_after_update(shift: float) -> list[torch.Tensor]:
        torch.manual_seed(0)
        learner = POLADiCE(IPD, small_config(outer_steps=2, num_seeds=2))
        with torch.no_grad():
            for p in learner.agents.parameters():
                p[1] += shift
        torch.manual_seed(1)
        learner.update()
        return [p[0].clone() for p in learner.agents.parameters()]

    for a, b in zip(seed_one_after_update(0.0), seed_one_after_update(0.3)):
        torch.testing.assert_close(a, b)
