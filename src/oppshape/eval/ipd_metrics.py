"""Metrics of memory-one IPD policy pairs: return per step, P(cooperate | state), "finds TFT".

The TFT criterion is the one POLA's Figure 3 counts (reference ``LOLA_exact.py``): both agents
cooperate with probability below 0.65 in the two states where the other defected last (own view CD
and DD), and the mean return per step is at least 80% of the way from mutual defection to mutual
cooperation. For the contribution-factor IPD (DD pays 0, CC pays ``cf - 1``) that is the
reference's ``mean value > 0.8 * (cf - 1) / (1 - gamma)``.
"""

from __future__ import annotations

import torch

from oppshape.games.exact import STATE_NAMES

#: A retaliating state counts as "defects" below this P(cooperate).
TFT_COOP_THRESHOLD = 0.65
#: Fraction of the way from the mutual-defection to the mutual-cooperation payoff per step.
TFT_RETURN_FRACTION = 0.8
#: Own-view states in which the other agent defected last: CD and DD.
RETALIATION_STATES = (STATE_NAMES.index("CD"), STATE_NAMES.index("DD"))


def return_per_step(values: torch.Tensor, gamma: float) -> torch.Tensor:
    """Discounted values ``sum_t gamma^t r_t`` rescaled to an average reward per step, ``(1 - gamma) V``."""
    return values * (1.0 - gamma)


def tft_threshold(payoff: torch.Tensor) -> float:
    """Mean return per step above which a pair counts as cooperative (``0.8 (cf - 1)`` for ``ipd_cf``)."""
    mutual_defect = float(payoff[1, 1].mean())
    mutual_coop = float(payoff[0, 0].mean())
    return mutual_defect + TFT_RETURN_FRACTION * (mutual_coop - mutual_defect)


def retaliates(coop: torch.Tensor) -> torch.Tensor:
    """``[S]`` whether a policy ``[S, 5]`` defects (P(C) < 0.65) after the other defected (CD and DD)."""
    return (coop[..., list(RETALIATION_STATES)] < TFT_COOP_THRESHOLD).all(-1)


def finds_tft(
    coop_1: torch.Tensor, coop_2: torch.Tensor, values: torch.Tensor, payoff: torch.Tensor, gamma: float
) -> torch.Tensor:
    """``[S]`` whether the pair is at a TFT-like cooperative outcome now.

    Args:
        coop_1, coop_2: ``[S, 5]`` P(cooperate) of each agent, own view.
        values: ``[S, 2]`` their discounted values (``oppshape.games.exact_values``).
        payoff: ``[2, 2, 2]`` the game's payoff table.
        gamma: the discount.
    """
    cooperative = return_per_step(values, gamma).mean(-1) > tft_threshold(payoff)
    return retaliates(coop_1) & retaliates(coop_2) & cooperative


def cooperation_summary(coops: tuple[torch.Tensor, ...]) -> dict[str, float]:
    """Seed mean and standard deviation of P(cooperate | state) per agent.

    Keys ``p_coop_agent{k}_{state}`` and ``p_coop_agent{k}_{state}_std`` with ``k`` from 1 and states
    in own view (start, CC, CD, DC, DD).
    """
    summary: dict[str, float] = {}
    for agent, coop in enumerate(coops, start=1):
        mean = coop.mean(0)
        std = coop.std(0, unbiased=False)
        for index, state in enumerate(STATE_NAMES):
            summary[f"p_coop_agent{agent}_{state}"] = float(mean[index])
            summary[f"p_coop_agent{agent}_{state}_std"] = float(std[index])
    return summary
