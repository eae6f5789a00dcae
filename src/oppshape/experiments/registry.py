"""Which experiment family serves each algorithm name (``cfg.algo.name``).

Families are imported on first use so that ``--help`` and config errors stay fast and a family's
optional dependencies are only imported when it runs.
"""

from __future__ import annotations

import importlib
from types import ModuleType

ALGORITHM_FAMILIES: dict[str, str] = {
    # exact opponent shaping on the analytic IPD (POLA paper, Section 5.1)
    "naive": "exact_ipd",
    "lola": "exact_ipd",
    "pola": "exact_ipd",
    # sample-based opponent shaping with DiCE (POLA paper, Section 5.2-5.3)
    "lola_dice": "dice",
    "pola_dice": "dice",
    "pola_om": "dice",
    # Q-value shaping (LOQA)
    "loqa": "loqa",
    # learned communication (DIAL / RIAL)
    "dial": "communication",
    "rial": "communication",
    # counterfactual credit assignment and its baselines
    "coma": "coma",
    "mappo": "coma",
    "ippo": "coma",
    # Stackelberg learning with follower oracles
    "stackelberg": "stackelberg",
}


def family_module(algo_name: str) -> ModuleType:
    """The ``oppshape.experiments.<family>`` module serving ``algo_name``."""
    if algo_name not in ALGORITHM_FAMILIES:
        raise ValueError(
            f"unknown algo {algo_name!r}; valid choices: {', '.join(sorted(ALGORITHM_FAMILIES))}"
        )
    return importlib.import_module(f"oppshape.experiments.{ALGORITHM_FAMILIES[algo_name]}")
