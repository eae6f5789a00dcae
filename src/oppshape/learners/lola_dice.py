"""LOLA-DiCE (Foerster et al., 2018, "DiCE", Section 5; LOLA eq. with DiCE's second-order estimate).

Each agent ``i`` differentiates its DiCE objective, on a fresh rollout, against the opponent after
one differentiable SGD step of the opponent on its own DiCE objective::

    theta_j' = theta_j + inner_lr * grad_j DiCE_j(theta_i, theta_j)
    theta_i <- Adam step on -DiCE_i(theta_i, theta_j'(theta_i))

It is POLA-DiCE with one look-ahead step, one outer step and no proximal penalties, which is how the
POLA reference code runs it (``--inner_steps 1 --outer_steps 1 --inner_beta 0 --outer_beta 0``);
:class:`~oppshape.config.dice.LolaDiceConfig` fixes those four.
"""

from __future__ import annotations

from typing import Any

from oppshape.config.dice import LolaDiceConfig
from oppshape.learners.pola_dice import POLADiCE


class LOLADiCE(POLADiCE):
    """Two GRU agents trained by LOLA-DiCE.

    Args:
        game: the env (``CoinGame`` or ``IteratedMatrixGame``).
        config: the validated LOLA-DiCE schema, used unchanged.
    """

    def __init__(self, game: Any, config: LolaDiceConfig) -> None:
        super().__init__(game, config)
