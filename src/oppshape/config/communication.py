"""Schemas of learned communication on the switch riddle: RIAL and DIAL (Foerster et al., NeurIPS 2016).

Defaults are the settings of the authors' code and of its PyTorch port (``config/switch_{3,4}_{dial,rial}.json``).
One trainer iteration is one epoch of the paper: ``num_envs`` parallel episodes and one RMSProp step.
"""

from __future__ import annotations

from dataclasses import dataclass

from oppshape.config.envs import env_schemas
from oppshape.config.run import RunConfig
from oppshape.config.validation import ConfigError, check_choice, require

DRU_KINDS: tuple[str, ...] = ("sigmoid", "softmax")  # DIAL's channel: one logit per bit | one of 2 ** bits


@dataclass
class CommunicationConfig:
    """What RIAL and DIAL share: the C-Net, its Q-learning and the episodes played per epoch (paper Sec. 6.1)."""

    name: str = ""  # the algorithm: rial | dial
    message_bits: int = 1  # bits per message
    hidden_size: int = 128  # embedding and GRU width
    rnn_layers: int = 2  # GRU layers
    batch_norm: bool = True  # batch norm on received messages and in the Q head (eval mode at test)
    gamma: float = 1.0  # discount in [0, 1]
    epsilon: float = 0.05  # epsilon-greedy rate for env actions (and RIAL's messages) in training
    lr: float = 5.0e-4  # RMSProp learning rate
    momentum: float = 0.05  # RMSProp momentum
    max_grad_norm: float = 10.0  # max global gradient norm
    target_update_every: int = 100  # epochs between hard target-network copies
    num_envs: int = 32  # training episodes played in parallel per epoch (the reference's batch size)
    eval_envs: int = 256  # greedy test episodes per evaluation

    def __post_init__(self) -> None:
        for key in ("message_bits", "hidden_size", "rnn_layers", "target_update_every", "num_envs", "eval_envs"):
            require(getattr(self, key) >= 1, f"algo.{key}", getattr(self, key), "an integer >= 1")
        require(0.0 <= self.gamma <= 1.0, "algo.gamma", self.gamma, "a discount in [0, 1]")
        require(0.0 <= self.epsilon <= 1.0, "algo.epsilon", self.epsilon, "a probability in [0, 1]")
        require(0.0 <= self.momentum < 1.0, "algo.momentum", self.momentum, "a value in [0, 1)")
        for key in ("lr", "max_grad_norm"):
            require(getattr(self, key) > 0, f"algo.{key}", getattr(self, key), "a value > 0")


@dataclass
class RIALConfig(CommunicationConfig):
    """RIAL: independent Q-learning of env actions and discrete messages (paper Sec. 4)."""

    name: str = "rial"

    @property
    def message_size(self) -> int:
        """Width of a message on the channel: one-hot over ``2 ** message_bits`` messages."""
        return 2**self.message_bits


@dataclass
class DIALConfig(CommunicationConfig):
    """DIAL: messages are real-valued through the DRU in training, gradients cross the channel (paper Sec. 5)."""

    name: str = "dial"
    sigma: float = 2.0  # std of the DRU channel noise
    dru: str = "sigmoid"  # sigmoid (one logit per bit) | softmax (one of 2 ** message_bits, one-hot at test)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.sigma >= 0, "algo.sigma", self.sigma, "a value >= 0")
        check_choice("algo.dru", self.dru, DRU_KINDS)

    @property
    def message_size(self) -> int:
        """One logit per bit (sigmoid DRU) or per message (softmax DRU)."""
        return self.message_bits if self.dru == "sigmoid" else 2**self.message_bits


ALGO_SCHEMAS: dict[str, type] = {"dial": DIALConfig, "rial": RIALConfig}
ENV_SCHEMAS: dict[str, type] = env_schemas("switch")


def check(run: RunConfig) -> None:
    """RIAL and DIAL learn the channel, so the riddle must keep it."""
    if not run.env.communication:
        raise ConfigError(
            f"algo {run.algo.name!r} learns the switch riddle's channel, so it needs env.communication=true; "
            "without the channel the riddle is COMA's case (experiment=coma_switch_3)"
        )
