"""Batched TensorDict environments (TorchRL ``EnvBase``) and the one registry, ``make_env(name, **kwargs)``.

VMAS scenarios are built through ``make_env("vmas", scenario=...)`` so that ``vmas`` is only imported
when asked for.
"""

from oppshape.envs.coin_game import CoinGame
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.envs.registry import ENV_CLASSES, make_env
from oppshape.envs.stackelberg_query import StackelbergQueryGame
from oppshape.envs.switch_game import SwitchGame

__all__ = ["ENV_CLASSES", "CoinGame", "IteratedMatrixGame", "StackelbergQueryGame", "SwitchGame", "make_env"]
