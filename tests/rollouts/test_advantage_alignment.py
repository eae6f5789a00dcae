"""Advantage Alignment rollouts: layout [2, S, B, T], each seat's own view, scripted seats act as told."""

import torch

from oppshape.envs.registry import make_env
from oppshape.modules.loqa_nets import GRUNet, TabularActor
from oppshape.rollouts.advantage_alignment import NetworkSeat, ScriptedSeat, play_episodes


def test_ipd_layout_and_rewards_follow_the_payoff_table():
    env = make_env("iterated_matrix_game", num_envs=6, payoff="ipd", episode_length=4)
    defect = ScriptedSeat(lambda state: torch.ones(6, dtype=torch.long), 2, 2)
    cooperate = ScriptedSeat(lambda state: torch.zeros(6, dtype=torch.long), 2, 2)
    batch = play_episodes(env, (cooperate, defect), members=2, steps=4)
    assert batch.batch_size == torch.Size([2, 2, 3, 4])
    assert (batch["action"][0] == 0).all() and (batch["action"][1] == 1).all()
    assert (batch["next", "reward"][0] == -3).all() and (batch["next", "reward"][1] == 0).all()
    assert (batch["sample_log_prob"] == 0).all()
    assert batch["next", "done"][..., -1].all() and not batch["next", "done"][..., :-1].any()
    # own view: after C (me) / D (other) seat 0 sees CD, seat 1 sees DC
    assert (batch["observation"][0, :, :, 1:].argmax(-1) == 2).all()
    assert (batch["observation"][1, :, :, 1:].argmax(-1) == 3).all()


def test_network_seats_on_the_coin_game():
    env = make_env("coin_game", num_envs=4, height=3, width=3, episode_length=5)
    actors = [GRUNet(env.observation_shape, 4, 8, num_members=2) for _ in range(2)]
    batch = play_episodes(env, tuple(NetworkSeat(a, 2, 2) for a in actors), members=2, steps=5)
    assert batch.batch_size == torch.Size([2, 2, 2, 5])
    assert batch["observation"].shape == torch.Size([2, 2, 2, 5, 4, 3, 3])
    assert batch["policy"].shape == torch.Size([2, 2, 2, 5, 4])
    torch.testing.assert_close(batch["policy"].sum(-1), torch.ones(2, 2, 2, 5))
    assert batch["next", "picked_coin"].shape == torch.Size([2, 2, 2, 5])


def test_tabular_seat_uses_its_table():
    env = make_env("iterated_matrix_game", num_envs=3, payoff="ipd", episode_length=3)
    actor = TabularActor(5, 2, num_members=1)
    with torch.no_grad():
        actor.table[..., 1] = 50.0  # always defect
    batch = play_episodes(env, (NetworkSeat(actor, 1, 3), NetworkSeat(actor, 1, 3)), members=1, steps=3)
    assert (batch["action"] == 1).all()
