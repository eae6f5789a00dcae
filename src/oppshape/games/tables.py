"""The games as plain numbers and names, without torch, so config validation and ``--help`` load fast.

``games.payoffs`` turns these cells into tensors; ``games.stackelberg`` adds the solver.
"""

from __future__ import annotations

# (CC, CD, DC, DD) as (agent 1, agent 2) pairs; agent 1 is the row player (the Stackelberg leader).
TABLES: dict[str, tuple[tuple[float, float], ...]] = {
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
PAYOFF_NAMES: tuple[str, ...] = ("ipd_cf", *TABLES)

#: Memory of the Stackelberg query game: none | small (the other's last action) | full (the last joint action).
MEMORY_KINDS: tuple[str, ...] = ("none", "small", "full")

#: Games used by the reference code's hidden-queries experiment that are not among the presets.
#: ``costly_threat``: (CC, CD, DC, DD) = (4,3), (2,4), (3,1), (1,2). Cooperating dominates for the leader
#: and defecting for the follower, so the leader only reaches its Stackelberg value by committing to a
#: punishment that costs it in play: credit for the commitment must come through the queries.
EXTRA_GAMES: dict[str, tuple[tuple[float, float], ...]] = {
    "costly_threat": ((4.0, 3.0), (2.0, 4.0), (3.0, 1.0), (1.0, 2.0)),
}

#: Names ``games.stackelberg.stackelberg_payoffs`` accepts.
GAME_NAMES: tuple[str, ...] = (*(name for name in PAYOFF_NAMES if name != "ipd_cf"), *EXTRA_GAMES)
