"""The LOQA learner: self-play data, snapshot opponents, exact per-seed updates, EMA, resume."""

from __future__ import annotations

import io

import pytest
import torch
import torch.nn.functional as F

from oppshape.envs.coin_game import CoinGame
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.games.exact import SWAP_VIEW
from oppshape.learners.loqa import LOQALearner, member_snapshot
from oppshape.learners.optim import clip_per_member
from oppshape.modules.loqa_nets import GRUNet, MLPNet, TabularActor
from oppshape.objectives.loqa import LOQALoss
from oppshape.rollouts.loqa import NetworkPolicy
from oppshape.rollouts.loqa_snapshots import OpponentGroups

STEPS = 4


def ipd_learner(members: int = 2, episodes: int = 3, **kwargs) -> LOQALearner:
    env = IteratedMatrixGame(num_envs=members * episodes, episode_length=STEPS)
    actor = TabularActor(5, 2, members)
    with torch.no_grad():
        actor.table.normal_()
    loss = LOQALoss(actor, MLPNet((5,), 2, (8, 8), num_members=members))
    return LOQALearner(env, loss, members=members, steps=STEPS, **kwargs)


def opponent_observations(batch) -> torch.Tensor:
    """Seat 1's own-view IPD observations ``[S, B, T, 5]``, rebuilt from the agent's view."""
    state = batch["observation"].argmax(-1)
    return F.one_hot(torch.tensor(SWAP_VIEW)[state], 5).float()


def test_self_play_without_buffer_models_the_current_agents_q_values() -> None:
    learner = ipd_learner(snapshot_capacity=0, epsilon=0.3)
    batch = learner.collect()
    assert batch.batch_size == (2, 3, STEPS)
    with torch.no_grad():
        expected = learner.loss.qvalue_network(opponent_observations(batch))
    torch.testing.assert_close(batch["opponent_qvalue"], expected)
    # rewards are the IPD table's, seen from each seat
    payoff = learner.env.payoff
    torch.testing.assert_close(
        batch["next", "reward"].squeeze(-1), payoff[batch["action"], batch["opponent_action"], 0]
    )
    torch.testing.assert_close(
        batch["next", "opponent_reward"].squeeze(-1), payoff[batch["action"], batch["opponent_action"], 1]
    )


def test_snapshot_opponents_play_with_their_own_parameters() -> None:
    torch.manual_seed(1)
    learner = ipd_learner(members=2, episodes=40, snapshot_capacity=5, snapshot_every=1)
    q_net = learner.loss.qvalue_network
    learner.collect()  # iteration 0: pushes the initial parameters
    with torch.no_grad():
        q_net.layers[-1].bias.add_(100.0)  # the current agent now differs from snapshot 0
    learner.snapshots.push(member_snapshot(learner.loss))
    batch = learner.play(learner.opponent_policy())
    with torch.no_grad():
        current = q_net(opponent_observations(batch))
    old = current - 100.0
    matches_old = torch.isclose(batch["opponent_qvalue"], old, atol=1e-4).all(-1).all(-1)  # [S, B]
    matches_new = torch.isclose(batch["opponent_qvalue"], current, atol=1e-4).all(-1).all(-1)
    assert (matches_old ^ matches_new).all()  # every episode played exactly one of the two snapshots
    assert matches_old.any() and matches_new.any()


def test_collect_pushes_every_k_iterations() -> None:
    learner = ipd_learner(snapshot_capacity=10, snapshot_every=2)
    sizes = []
    for _ in range(5):
        learner.update(learner.collect())
        sizes.append(len(learner.snapshots))
    assert sizes == [1, 1, 2, 2, 3]


def test_seed_members_update_exactly_like_separate_learners() -> None:
    """Ensemble seeds share one Adam and one loss; each must move as if trained alone (clip on)."""
    torch.manual_seed(0)
    joint = ipd_learner(members=2, max_grad_norm=0.05, snapshot_capacity=0)
    batch = joint.collect()
    singles = []
    for member in range(2):
        single = ipd_learner(members=1, max_grad_norm=0.05, snapshot_capacity=0)
        with torch.no_grad():
            for mine, theirs in zip(single.loss.parameters(), joint.loss.parameters()):
                mine.copy_(theirs[member : member + 1])
            for mine, theirs in zip(single.loss.target_qvalue_network_params.values(True, True),
                                    joint.loss.target_qvalue_network_params.values(True, True)):
                mine.copy_(theirs[member : member + 1])
        single.update(batch[member : member + 1])
        singles.append(single)
    joint.update(batch)
    for member, single in enumerate(singles):
        for mine, theirs in zip(single.loss.parameters(), joint.loss.parameters()):
            torch.testing.assert_close(mine[0], theirs[member])


def test_update_steps_actor_and_q_and_moves_the_target_by_the_ema() -> None:
    learner = ipd_learner(target_ema=0.9, snapshot_capacity=0)
    batch = learner.collect()
    actor_before = learner.loss.actor_network.table.detach().clone()
    target_before = [p.clone() for p in learner.loss.target_qvalue_network_params.values(True, True)]
    metrics = learner.update(batch)
    assert {"loss_actor", "loss_shaping", "loss_qvalue", "loss_entropy", "actor_grad_norm"} <= set(metrics)
    assert not torch.equal(learner.loss.actor_network.table, actor_before)
    online = list(learner.loss.qvalue_network_params.values(True, True))
    for old, new, source in zip(target_before, learner.loss.target_qvalue_network_params.values(True, True), online):
        torch.testing.assert_close(new, 0.9 * old + 0.1 * source.detach())


def test_clip_per_member_scales_each_seed_to_the_max_norm() -> None:
    grads = [torch.tensor([[3.0, 0.0], [0.3, 0.0]]), torch.tensor([[[4.0]], [[0.4]]])]  # norms 5 and 0.5
    norms = clip_per_member(grads, max_norm=1.0)
    torch.testing.assert_close(norms, torch.tensor([5.0, 0.5]))
    torch.testing.assert_close(grads[0], torch.tensor([[0.6, 0.0], [0.3, 0.0]]), atol=1e-6, rtol=0)
    torch.testing.assert_close(grads[1], torch.tensor([[[0.8]], [[0.4]]]), atol=1e-6, rtol=0)


def test_state_dict_round_trip_resumes_exactly() -> None:
    torch.manual_seed(3)
    first = ipd_learner(snapshot_capacity=4, snapshot_every=1)
    for _ in range(3):
        first.update(first.collect())
    second = ipd_learner(snapshot_capacity=4, snapshot_every=1)
    saved = io.BytesIO()
    torch.save(first.state_dict(), saved)  # as a checkpoint: serialized, then loaded with weights_only
    saved.seek(0)
    second.load_state_dict(torch.load(saved, weights_only=True))
    for learner in (first, second):
        torch.manual_seed(7)
        learner.update(learner.collect())
    for mine, theirs in zip(first.loss.state_dict().values(), second.loss.state_dict().values()):
        torch.testing.assert_close(mine, theirs)


def test_coin_game_batches_carry_pickups_and_train() -> None:
    env = CoinGame(num_envs=4, height=3, width=3, episode_length=STEPS)
    actor = GRUNet(env.observation_shape, 4, hidden_size=8, layers_before_gru=2)
    qvalue = GRUNet(env.observation_shape, 4, hidden_size=8, layers_before_gru=2, time_input=True)
    learner = LOQALearner(env, LOQALoss(actor, qvalue), members=1, steps=STEPS, snapshot_every=1)
    for _ in range(2):
        batch = learner.collect()
        metrics = learner.update(batch)
    assert batch["next", "picked_coin"].shape == (1, 4, STEPS, 2)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())


@pytest.mark.parametrize(
    "kwargs,match",
    [({"members": 4}, "members=4"), ({"epsilon": 1.5}, "epsilon=1.5"), ({"max_grad_norm": -1}, "max_grad_norm=-1")],
)
def test_bad_arguments_raise(kwargs: dict, match: str) -> None:
    env = IteratedMatrixGame(num_envs=6, episode_length=STEPS)
    loss = LOQALoss(TabularActor(5, 2), MLPNet((5,), 2))
    with pytest.raises(ValueError, match=match):
        LOQALearner(env, loss, **{"members": 1, "steps": STEPS, **kwargs})


def test_bucketed_snapshot_opponents_play_as_one_padded_batch_would() -> None:
    """The bucketed, re-laid-out opponent path (``opponent_policy``) gives the padded one's logits and Q-values."""
    torch.manual_seed(2)
    learner = ipd_learner(members=2, episodes=40, snapshot_capacity=8, snapshot_every=1)
    for _ in range(5):
        with torch.no_grad():
            for p in learner.loss.qvalue_network.parameters():
                p.add_(0.1 * torch.randn_like(p))
        learner.snapshots.push(member_snapshot(learner.loss))
    torch.manual_seed(3)
    index = learner.snapshots.sample(learner.members, learner.episodes)
    padded = OpponentGroups(index)
    params = learner.snapshots.storage[padded.snapshot, padded.member]
    reference = NetworkPolicy(learner.loss.actor_network, learner.loss.qvalue_network, padded,
                              params["actor"], params["qvalue"])
    torch.manual_seed(3)
    bucketed = learner.opponent_policy()
    assert len(bucketed.groups.parts) > 1
    observations = torch.nn.functional.one_hot(torch.randint(5, (80, 6)), 5).float()
    torch.testing.assert_close(bucketed.qvalues(observations), reference.qvalues(observations))
    for policy in (reference, bucketed):
        policy.reset()
    torch.testing.assert_close(bucketed(None, observations[:, 0], 0), reference(None, observations[:, 0], 0))
