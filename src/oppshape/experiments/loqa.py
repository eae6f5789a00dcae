"""LOQA (Aghajohari et al., ICLR 2024) on the IPD and the Coin Game: wires env, networks, loss, learner
and evaluation.

Serves algorithm ``loqa`` on envs ``iterated_matrix_game`` (classic IPD payoffs, tabular actor and an MLP
Q-net, the paper's Fig. 2 setting) and ``coin_game`` (any board size, GRU actor and GRU Q-net, Sec. 5.2-5.3).
All ``num_seeds`` seeds run as ensemble members of one learner; ``eval/loqa.py`` evaluates them.
"""

from __future__ import annotations

import torch
from torch import nn

from oppshape.config import RunConfig
from oppshape.config.loqa import LOQAConfig
from oppshape.envs.registry import make_env
from oppshape.eval.loqa import LOQAEvaluation, plot_curves, summarize
from oppshape.experiments.base import Experiment
from oppshape.learners.loqa import LOQALearner
from oppshape.modules.loqa_nets import GRUNet, MLPNet, TabularActor
from oppshape.objectives.loqa import LOQALoss


def make_networks(algo: LOQAConfig, obs_shape: tuple[int, ...], num_actions: int) -> tuple[nn.Module, nn.Module]:
    """The actor and the Q-network for ``algo.num_seeds`` members."""
    members = algo.num_seeds
    if algo.actor == "tabular":
        actor: nn.Module = TabularActor(obs_shape[0], num_actions, members)
    else:
        actor = GRUNet(obs_shape, num_actions, algo.actor_hidden_size, time_input=False, num_members=members)
    if algo.qvalue == "mlp":
        width = algo.qvalue_hidden_size
        qvalue: nn.Module = MLPNet(obs_shape, num_actions, (width, width), time_input=True, num_members=members)
    else:
        qvalue = GRUNet(obs_shape, num_actions, algo.qvalue_hidden_size, time_input=True, num_members=members)
    return actor, qvalue


def build(run: RunConfig, device: torch.device) -> Experiment:
    """LOQA self-play on ``run.env`` (``iterated_matrix_game`` or ``coin_game``)."""
    algo: LOQAConfig = run.algo
    env = make_env(run.env.name, num_envs=algo.num_seeds * algo.num_envs, device=device, **run.env.kwargs())
    if run.env.name == "coin_game":
        obs_shape, num_actions = env.observation_shape, env.n_actions
    else:
        obs_shape, num_actions = (5,), 2
    actor, qvalue = make_networks(algo, obs_shape, num_actions)
    loss = LOQALoss(
        actor.to(device), qvalue.to(device), gamma=algo.gamma, entropy_coeff=algo.entropy_coeff,
        return_estimator=algo.return_estimator, lmbda=algo.lmbda, n_step=algo.n_step,
        advantage_grad=algo.advantage_grad, bootstrap_returns=algo.bootstrap_returns,
    )
    learner = LOQALearner(
        env, loss, members=algo.num_seeds, steps=run.env.episode_length, actor_lr=algo.actor_lr,
        qvalue_lr=algo.qvalue_lr, max_grad_norm=algo.max_grad_norm, target_ema=algo.target_ema,
        snapshot_capacity=algo.snapshot_capacity, snapshot_every=algo.snapshot_every, epsilon=algo.epsilon,
    )
    return Experiment(
        learner=learner,
        collect=learner.collect,
        evaluate=LOQAEvaluation(learner, env),
        plot=plot_curves,
        summarize=summarize,
        progress_keys=("reward_per_step", "eval_reward_vs_self", "eval_reward_vs_alld"),
    )
