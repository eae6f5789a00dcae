"""Payoff presets for two-player, two-action games.

Every table is a float tensor ``[2, 2, 2]`` indexed ``[action_1, action_2, agent]`` with action 0 =
cooperate and 1 = defect, so ``payoff[a1, a2]`` is the pair of rewards (agent 1, agent 2).
"""

from __future__ import annotations

import torch

# (CC, CD, DC, DD) as (agent 1, agent 2) pairs; agent 1 is the row player (the Stackelberg leader).
_TABLES: dict[str, tuple[tuple[float, float], ...]] = {
    "ipd": ((-1.0, -1.0), (-3.0, 0.0), (0.0, -3.0), (-2.0, -2.0)),
    "prisoners_dilemma": ((3, 3), (1, 4), (4, 1), (2, 2)),
    "stag_hunt": ((4, 4), (1, 3), (3, 1), (2, 2)),
    "assurance": ((4, 4), (1, 2), (2, 1), (3, 3)),
    "coordination": ((4, 4), (2, 1), (1, 2), (3, 3)),
    "mixedharmony": ((4, 4), (3, 1), (1, 3), (2, 2)),
    "harmony": ((4, 4), (3, 2), (2, 3), (1, 1)),
    "noconflict": ((4, 4), (2, 3), (3, 2), (1, 1)),
    "deadlock": ((2, 2), (1, 4), (4, 1), (3, 3)),
    "prisoners_delight": ((1, 1), (2, 4), (4, 2), (3, 3)),
    "hero": ((1, 1), (3, 4), (4, 3), (2, 2)),
    "battle": ((2, 2), (3, 4), (4, 3), (1, 1)),
    "chicken": ((3, 3), (2, 4), (4, 2), (1, 1)),
}

#: The twelve 2x2 games of the Oracles & Followers (Stackelberg) experiments.
STACKELBERG_GAMES: tuple[str, ...] = (
    "prisoners_dilemma", "stag_hunt", "assurance", "coordination", "mixedharmony", "harmony",
    "noconflict", "deadlock", "prisoners_delight", "hero", "battle", "chicken",
)

#: Names accepted by :func:`payoff_table` (``ipd_cf`` also takes ``cf``).
PAYOFF_NAMES: tuple[str, ...] = ("ipd_cf", *_TABLES)


def _from_cells(cells: tuple[tuple[float, float], ...]) -> torch.Tensor:
    return torch.tensor(cells, dtype=torch.float32).reshape(2, 2, 2)


def ipd_contribution_payoff(cf: float) -> torch.Tensor:
    """IPD where each agent contributes 1 (C) or 0 (D) and gets ``cf * (c_1 + c_2) / 2 - c_i``.

    This is the game of POLA's exact experiments; it is a social dilemma for ``1 < cf < 2``.
    """
    if not 1.0 < cf < 2.0:
        raise ValueError(f"contribution factor cf={cf} must lie in (1, 2) for a social dilemma")
    contribution = torch.tensor([1.0, 0.0])  # action 0 (C) contributes 1
    c1, c2 = contribution[:, None], contribution[None, :]
    common = cf * (c1 + c2) / 2
    return torch.stack([common - c1, common - c2], dim=-1)


def payoff_table(name: str, cf: float | None = None) -> torch.Tensor:
    """The ``[2, 2, 2]`` payoff of a preset by name (``cf`` only for ``ipd_cf``)."""
    if name == "ipd_cf":
        if cf is None:
            raise ValueError("payoff 'ipd_cf' needs a contribution factor cf, e.g. cf=1.33")
        return ipd_contribution_payoff(cf)
    if name not in _TABLES:
        raise ValueError(f"unknown payoff {name!r}; valid choices: {', '.join(PAYOFF_NAMES)}")
    return _from_cells(_TABLES[name])
