"""Command line: ``python -m oppshape experiment=<name> key=value ...`` (or the ``oppshape`` script).

``run(overrides)`` is the same thing from Python, for scripts that launch several runs (the demo).
``entry``: argument handling and one-line errors; ``execute``: one run; ``resume``: what a resume honours;
``sweep``: a multirun checked before it starts; ``sweep_summary``: its table; ``help``: ``--help``.
"""

from oppshape.cli.compose import CONFIG_DIR, compose
from oppshape.cli.entry import main
from oppshape.cli.execute import execute, init_learner, prepare, resolve_device, run
from oppshape.cli.resume import HONOURED_ON_RESUME, resumed_config

__all__ = ["CONFIG_DIR", "HONOURED_ON_RESUME", "compose", "execute", "init_learner", "main", "prepare",
           "resolve_device", "resumed_config", "run"]
