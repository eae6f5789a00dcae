"""Learned communication on the switch riddle: RIAL and DIAL (Foerster et al., NeurIPS 2016, Fig. 3).

Serves algorithms ``dial`` and ``rial`` on env ``switch``. One trainer iteration is one epoch of the
paper: ``env.batch_size`` parallel episodes and one RMSProp step; every ``trainer.eval_every`` epochs
``env.test_batch_size`` greedy episodes are scored by ``test_reward_normalized`` (return over
the oracle's return on the same schedules, the paper's y-axis). Defaults are the settings of the
authors' code and of its PyTorch port (``config/switch_{3,4}_{dial,rial}.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from matplotlib.figure import Figure

from oppshape.config import RunConfig
from oppshape.envs.switch_game import SwitchGame, switch_days
from oppshape.experiments.base import Experiment, MetricsHistory
from oppshape.learners.communication import CommunicationLearner
from oppshape.modules.comm_net import CommNet
from oppshape.modules.dru import DRU_KINDS
from oppshape.objectives.dial import DIALLoss
from oppshape.objectives.rial import RIALLoss


def _positive(section: str, config: object, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise ValueError(f"invalid {section}.{name}={value}; expected a value > 0")


@dataclass
class SwitchEnvConfig:
    """The switch riddle (paper Sec. 6.1)."""

    name: str = "switch"
    n_agents: int = 3  # prisoners, >= 2; an episode lasts 4 * n_agents - 6 days
    batch_size: int = 32  # training episodes played in parallel per epoch (reference bs)
    test_batch_size: int = 256  # greedy test episodes per evaluation

    def __post_init__(self) -> None:
        if self.n_agents < 2:
            raise ValueError(f"invalid env.n_agents={self.n_agents}; expected an integer >= 2")
        _positive("env", self, ("batch_size", "test_batch_size"))


@dataclass
class RIALConfig:
    """RIAL: independent Q-learning of env actions and discrete messages (paper Sec. 4)."""

    name: str = "rial"
    message_bits: int = 1  # bits per message; RIAL chooses among 2 ** message_bits one-hot messages
    hidden_size: int = 128  # embedding and GRU width
    rnn_layers: int = 2  # GRU layers
    batch_norm: bool = True  # batch norm on received messages and in the Q head (eval mode at test)
    gamma: float = 1.0  # discount in [0, 1]
    epsilon: float = 0.05  # epsilon-greedy rate for env actions and messages in training
    lr: float = 5.0e-4  # RMSProp learning rate
    momentum: float = 0.05  # RMSProp momentum
    grad_clip: float = 10.0  # max global gradient norm
    target_update_every: int = 100  # epochs between hard target-network copies

    def __post_init__(self) -> None:
        for name in ("message_bits", "hidden_size", "rnn_layers", "target_update_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"invalid algo.{name}={getattr(self, name)}; expected an integer >= 1")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"invalid algo.gamma={self.gamma}; expected a discount in [0, 1]")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"invalid algo.epsilon={self.epsilon}; expected a probability in [0, 1]")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"invalid algo.momentum={self.momentum}; expected a value in [0, 1)")
        _positive("algo", self, ("lr", "grad_clip"))

    @property
    def message_size(self) -> int:
        """Width of a message on the channel: one-hot over ``2 ** message_bits`` messages."""
        return 2**self.message_bits


@dataclass
class DIALConfig(RIALConfig):
    """DIAL: messages are real-valued through the DRU in training, gradients cross the channel (Sec. 5)."""

    name: str = "dial"
    sigma: float = 2.0  # std of the DRU channel noise
    dru: str = "sigmoid"  # sigmoid (one logit per bit) | softmax (one of 2 ** message_bits, one-hot at test)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sigma < 0:
            raise ValueError(f"invalid algo.sigma={self.sigma}; expected a value >= 0")
        if self.dru not in DRU_KINDS:
            raise ValueError(f"invalid algo.dru={self.dru!r}; valid choices: {', '.join(DRU_KINDS)}")

    @property
    def message_size(self) -> int:
        """One logit per bit (sigmoid DRU) or per message (softmax DRU)."""
        return self.message_bits if self.dru == "sigmoid" else 2**self.message_bits


ALGO_SCHEMAS: dict[str, type] = {"dial": DIALConfig, "rial": RIALConfig}
ENV_SCHEMAS: dict[str, type] = {"switch": SwitchEnvConfig}



def make_learner(algo: RIALConfig, env: SwitchEnvConfig, device: torch.device) -> CommunicationLearner:
    """The shared C-Net, its DIAL or RIAL loss, and the train / test envs."""
    is_dial = isinstance(algo, DIALConfig)
    network = CommNet(
        env.n_agents,
        protocol="dial" if is_dial else "rial",
        message_size=algo.message_size,
        hidden_size=algo.hidden_size,
        rnn_layers=algo.rnn_layers,
        batch_norm=algo.batch_norm,
        max_steps=switch_days(env.n_agents),
    ).to(device)
    if isinstance(algo, DIALConfig):
        loss: DIALLoss | RIALLoss = DIALLoss(network, sigma=algo.sigma, dru_kind=algo.dru, gamma=algo.gamma)
    else:
        loss = RIALLoss(network, gamma=algo.gamma)

    def switch(batch: int) -> SwitchGame:
        return SwitchGame(env.n_agents, num_envs=batch, message_size=algo.message_size, device=device)

    return CommunicationLearner(
        loss,
        switch(env.batch_size),
        switch(env.test_batch_size),
        epsilon=algo.epsilon,
        lr=algo.lr,
        momentum=algo.momentum,
        grad_clip=algo.grad_clip,
        target_update_every=algo.target_update_every,
    )


def plot_test_reward(history: MetricsHistory, plots_dir: Path) -> None:
    """Normalised test reward vs epoch, as in the paper's Fig. 3 (oracle = 1)."""
    rows = [row for row in history if "test_reward_normalized" in row]
    if not rows:
        return
    plots_dir.mkdir(parents=True, exist_ok=True)
    figure = Figure(figsize=(6, 3.6))
    axis = figure.subplots()
    axis.plot([row["iteration"] for row in rows], [row["test_reward_normalized"] for row in rows], label="test")
    axis.axhline(1.0, color="k", linestyle="--", linewidth=1, label="oracle")
    axis.set(xlabel="epoch", ylabel="normalised reward", ylim=(-0.05, 1.05))
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(plots_dir / "test_reward.png", dpi=110)


def build(run: RunConfig, device: torch.device) -> Experiment:
    """The switch-riddle experiment for ``algo`` (dial / rial) on ``env`` (switch)."""
    algo, env = run.algo, run.env
    assert isinstance(algo, RIALConfig) and isinstance(env, SwitchEnvConfig)
    learner = make_learner(algo, env, device)
    return Experiment(
        learner=learner,
        evaluate=learner.evaluate,
        plot=plot_test_reward,
        progress_keys=("test_reward_normalized", "train_reward_normalized"),
    )
