"""The experiment module of each family: ``experiments/<family>.py`` builds what the Trainer runs.

Families are imported on first use so that ``--help`` and config errors stay fast and a family's
optional dependencies are only imported when it runs. Which family serves an ``algo.name`` is declared
once, in ``oppshape.config.ALGORITHM_FAMILIES``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from oppshape.config import family_of


def family_module(algo_name: str) -> ModuleType:
    """The ``oppshape.experiments.<family>`` module serving ``algo_name``."""
    return importlib.import_module(f"oppshape.experiments.{family_of(algo_name)}")
