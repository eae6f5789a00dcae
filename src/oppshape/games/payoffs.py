"""Payoff presets for two-player, two-action games.

Every table is a float tensor ``[2, 2, 2]`` indexed ``[action_1, action_2, agent]`` with action 0 =
cooperate and 1 = defect, so ``payoff[a1, a2]`` is the pair of rewards (agent 1, agent 2).
"""

from __future__ import annotations

import torch

from oppshape.games.tables import PAYOFF_NAMES, STACKELBERG_GAMES, TABLES as _TABLES  # noqa: F401 (re-exported)


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
