"""What an experiment builder hands the Trainer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tensordict import TensorDictBase

from oppshape.checkpoint import Stateful
from oppshape.learners.base import Learner

MetricsHistory = list[dict[str, float]]


@dataclass
class Experiment:
    """Everything one run needs, built from the config by an ``experiments/<family>.py`` module.

    Attributes:
        learner: the algorithm; ``learner.update(batch)`` is called once per iteration.
        collect: returns the next batch of experience, or ``None`` when the learner makes its own
            data (closed-form games, inner-loop rollouts).
        evaluate: extra metrics computed every ``trainer.eval_every`` iterations and at the end.
        plot: draws matplotlib figures from the metrics history into the given ``plots/`` folder.
        summarize: turns the last metrics into the final ``summary.json`` entries (default: the
            last logged value of every metric).
        progress_keys: metrics shown live on the progress bar.
        extra_state: other stateful objects (e.g. a collector or a replay buffer) whose
            ``state_dict`` goes into every checkpoint so that resume is exact.
        init_from: loads another run's checkpointed ``learner.state_dict()`` into this run's learner for
            ``init_from=<run dir>`` (what carries over: weights, maybe not optimizer moments); default: the
            whole learner state, then each optimizer takes back this run's hyperparameters.
    """

    learner: Learner
    collect: Callable[[], TensorDictBase] | None = None
    evaluate: Callable[[], dict[str, float]] | None = None
    plot: Callable[[MetricsHistory, Path], None] | None = None
    summarize: Callable[[MetricsHistory], dict[str, Any]] | None = None
    progress_keys: tuple[str, ...] = ()
    extra_state: dict[str, Stateful] = field(default_factory=dict)
    init_from: Callable[[dict[str, Any]], None] | None = None
