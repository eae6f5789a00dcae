"""Advantage Alignment / Proximal Advantage Alignment (Duque et al., ICLR 2025) on the IPD and the Coin Game.

Serves ``algo: aa`` and ``algo: paa`` on ``env: iterated_matrix_game`` (tabular memory-1 or GRU actors)
and ``env: coin_game`` (GRU actors, any board). Two agents, each with its own actor and critic, play
each other; all ``num_seeds`` seeds run as ensemble members of the same networks.
"""

from __future__ import annotations

import torch
from torch import nn

from oppshape.config import RunConfig
from oppshape.config.advantage_alignment import AdvantageAlignmentConfig
from oppshape.envs.registry import make_env
from oppshape.eval.advantage_alignment import AdvantageAlignmentEvaluation, plot_curves, summarize
from oppshape.experiments.base import Experiment
from oppshape.learners.advantage_alignment import AdvantageAlignmentLearner
from oppshape.modules.loqa_nets import GRUNet, MLPNet, TabularActor
from oppshape.objectives.advantage_alignment import AdvantageAlignmentLoss
from oppshape.rollouts.advantage_alignment import NetworkSeat, play_episodes


def make_networks(
    algo: AdvantageAlignmentConfig, obs_shape: tuple[int, ...], num_actions: int
) -> tuple[nn.Module, nn.Module]:
    """One agent's actor and critic (``algo.num_seeds`` members); the critic reads ``[observation, t]``."""
    members = algo.num_seeds
    if algo.actor == "tabular":
        actor: nn.Module = TabularActor(obs_shape[0], num_actions, members)
        width = algo.critic_hidden_size
        critic: nn.Module = MLPNet(obs_shape, 1, (width, width), time_input=True, num_members=members)
    else:
        actor = GRUNet(obs_shape, num_actions, algo.actor_hidden_size, time_input=False, num_members=members)
        critic = GRUNet(obs_shape, 1, algo.critic_hidden_size, time_input=True, num_members=members)
    return actor, critic


def build(run: RunConfig, device: torch.device) -> Experiment:
    """Two AA (or PAA) agents trained against each other on ``run.env``."""
    algo: AdvantageAlignmentConfig = run.algo
    env = make_env(run.env.name, num_envs=algo.num_seeds * algo.num_envs, device=device, **run.env.kwargs())
    eval_env = make_env(run.env.name, num_envs=algo.num_seeds * algo.eval_envs, device=device, **run.env.kwargs())
    losses = []
    for _ in range(2):
        actor, critic = make_networks(algo, env.observation_shape, env.n_actions)
        losses.append(AdvantageAlignmentLoss(
            actor.to(device), critic.to(device), beta=algo.beta, gamma=algo.gamma, lmbda=algo.lmbda,
            proximal=algo.proximal, clip_epsilon=algo.clip_epsilon, entropy_coeff=algo.entropy_coeff,
            normalize_advantage=algo.normalize_advantage,
        ))
    learner = AdvantageAlignmentLearner(
        (losses[0], losses[1]), members=algo.num_seeds, actor_lr=algo.actor_lr, critic_lr=algo.critic_lr,
        max_grad_norm=algo.max_grad_norm, ppo_epochs=algo.ppo_epochs,
    )
    steps = run.env.episode_length

    def collect():
        seats = tuple(NetworkSeat(loss.actor_network, algo.num_seeds, algo.num_envs) for loss in losses)
        return play_episodes(env, seats, algo.num_seeds, steps)

    actors = (losses[0].actor_network, losses[1].actor_network)
    return Experiment(
        learner=learner,
        collect=collect,
        evaluate=AdvantageAlignmentEvaluation(actors, eval_env, algo.num_seeds, steps),
        plot=plot_curves,
        summarize=summarize,
        progress_keys=("reward_per_step", "eval_reward_vs_self", "eval_reward_vs_alld"),
    )
