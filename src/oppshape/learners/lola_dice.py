"""LOLA-DiCE (Foerster et al., 2018, "DiCE", Section 5; LOLA eq. with DiCE's second-order estimate).

Each agent ``i`` differentiates its DiCE objective, on a fresh rollout, against the opponent after
one differentiable SGD step of the opponent on its own DiCE objective::

    theta_j' = theta_j + inner_lr * grad_j DiCE_j(theta_i, theta_j)
    theta_i <- Adam step on -DiCE_i(theta_i, theta_j'(theta_i))

It is POLA-DiCE with one look-ahead step, one outer step and no proximal penalties, which is how the
POLA reference code runs it (``--inner_steps 1 --outer_steps 1 --inner_beta 0 --outer_beta 0``).
"""

from __future__ import annotations

from typing import Any

from oppshape.learners.pola_dice import POLADiCE, ShapingConfig


class LOLADiCE(POLADiCE):
    """Two GRU agents trained by LOLA-DiCE.

    Args:
        game: a tensor-level game (``CoinGame`` or ``IteratedMatrixGame``).
        inner_lr: the opponent's look-ahead step size (``--lr_in``).
        outer_lr: the agents' Adam step size (``--lr_out``).
        value_lr: the value baselines' step size (``--lr_v``).
        batch_size, rollout_length, gamma, gae_lambda: as in :class:`ShapingConfig`.
        hidden_size: GRU width.
        num_seeds: independent runs trained together.
    """

    def __init__(
        self,
        game: Any,
        *,
        inner_lr: float = 0.05,
        outer_lr: float = 0.003,
        value_lr: float = 0.0005,
        batch_size: int = 2000,
        rollout_length: int = 50,
        gamma: float = 0.96,
        gae_lambda: float = 1.0,
        hidden_size: int = 64,
        num_seeds: int = 1,
    ) -> None:
        config = ShapingConfig(
            inner_steps=1, outer_steps=1, inner_lr=inner_lr, outer_lr=outer_lr, value_lr=value_lr,
            inner_beta=0.0, outer_beta=0.0, batch_size=batch_size, rollout_length=rollout_length,
            gamma=gamma, gae_lambda=gae_lambda,
        )
        super().__init__(game, config, hidden_size, num_seeds)
