"""Learned communication on the switch riddle: RIAL and DIAL (Foerster et al., NeurIPS 2016, Fig. 3).

Serves algorithms ``dial`` and ``rial`` on env ``switch`` (schemas: ``config/communication.py``). One
trainer iteration is one epoch of the paper: ``algo.num_envs`` parallel episodes and one RMSProp step;
every ``trainer.eval_every`` epochs ``algo.eval_envs`` greedy episodes are scored by
``test_reward_normalized`` (return over the oracle's return on the same schedules, the paper's y-axis).
"""

from __future__ import annotations

import torch

from oppshape.config import RunConfig
from oppshape.config.communication import CommunicationConfig, DIALConfig
from oppshape.config.envs import SwitchEnvConfig
from oppshape.envs import make_env
from oppshape.envs.switch_game import SwitchGame, switch_days
from oppshape.eval.communication import greedy_test, plot_test_reward
from oppshape.experiments.base import Experiment
from oppshape.learners.communication import CommunicationLearner
from oppshape.modules.comm_net import CommNet
from oppshape.objectives.dial import DIALLoss
from oppshape.objectives.rial import RIALLoss


def make_loss(algo: CommunicationConfig, n_agents: int, device: torch.device) -> DIALLoss | RIALLoss:
    """The shared C-Net and its DIAL or RIAL loss."""
    is_dial = isinstance(algo, DIALConfig)
    network = CommNet(
        n_agents,
        protocol="dial" if is_dial else "rial",
        message_size=algo.message_size,
        hidden_size=algo.hidden_size,
        rnn_layers=algo.rnn_layers,
        batch_norm=algo.batch_norm,
        max_steps=switch_days(n_agents),
    ).to(device)
    if is_dial:
        return DIALLoss(network, sigma=algo.sigma, dru_kind=algo.dru, gamma=algo.gamma)
    return RIALLoss(network, gamma=algo.gamma)


def make_switch(algo: CommunicationConfig, env: SwitchEnvConfig, num_envs: int, device: torch.device) -> SwitchGame:
    """``num_envs`` switch riddles whose channel carries ``algo``'s messages."""
    return make_env("switch", num_envs=num_envs, device=device, message_size=algo.message_size, **env.kwargs())


def make_learner(algo: CommunicationConfig, env: SwitchEnvConfig, device: torch.device) -> CommunicationLearner:
    """The C-Net, its loss and the ``algo.num_envs`` training riddles in one learner."""
    loss = make_loss(algo, env.n_agents, device)
    return CommunicationLearner(loss, make_switch(algo, env, algo.num_envs, device), algo)


def build(run: RunConfig, device: torch.device) -> Experiment:
    """The switch-riddle experiment for ``algo`` (dial / rial) on ``env`` (switch)."""
    learner = make_learner(run.algo, run.env, device)
    test_env = make_switch(run.algo, run.env, run.algo.eval_envs, device)
    return Experiment(
        learner=learner,
        evaluate=lambda: greedy_test(learner, test_env),
        plot=plot_test_reward,
        progress_keys=("test_reward_normalized", "train_reward_normalized"),
    )
