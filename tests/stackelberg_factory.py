"""Small Stackelberg learners and scripted episodes shared by the family's tests (learners, rollouts, eval)."""

from __future__ import annotations

import torch

from oppshape.config.stackelberg import StackelbergConfig
from oppshape.envs import make_env
from oppshape.learners.stackelberg import StackelbergLearner
from oppshape.rollouts.stackelberg import play_episodes


def make_learner(games=("prisoners_dilemma",), memory="small", length=5, tell_leader=False, **config):
    """A learner on the small-memory game, 2 seeds and 13 episodes per run unless ``config`` says otherwise."""
    config = StackelbergConfig(**{"num_seeds": 2, "follower_episodes": 13, "leader_episodes": 13, **config})
    runs = len(games) * config.num_seeds

    def env(episodes):
        return make_env("stackelberg_query", num_envs=runs * episodes, games=list(games), memory=memory,
                        episode_length=length, tell_leader=tell_leader)

    return StackelbergLearner(config, env(config.follower_episodes), env(config.leader_episodes))


def run(learner, iterations):
    for _ in range(iterations):
        learner.update(learner.collect())


def scripted_episodes(n_runs=2, episodes=3):
    """Small-memory PD episodes of a fixed leader (answers and play 1, 0, 1) and an always-cooperating follower."""
    env = make_env("stackelberg_query", num_envs=n_runs * episodes, memory="small", episode_length=5)
    leader = torch.tensor([1, 0, 1])
    return env, play_episodes(env, lambda obs: leader[obs % 3], lambda obs: torch.zeros_like(obs))
