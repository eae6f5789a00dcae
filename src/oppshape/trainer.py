"""The one training loop: collect (or compute) -> learner.update -> log -> evaluate -> checkpoint.

Every algorithm family runs through this loop, so seeding, logging, the NaN guard, checkpoints and
exact resume are written once.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from oppshape.checkpoint import save_training_state
from oppshape.config import ConfigError, TrainerConfig
from oppshape.experiments.base import Experiment
from oppshape.loggers import MetricLoggers, Row
from oppshape.rng import isolated_rng


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the message names it and the iteration."""


def to_row(iteration: int, metrics: dict[str, Any]) -> Row:
    """Metrics as plain floats, so rows are CSV-, JSON- and checkpoint-safe."""
    return {"iteration": float(iteration), **{key: float(value) for key, value in metrics.items()}}


def check_losses_finite(metrics: dict[str, float], iteration: int, checkpoint_dir: Path) -> None:
    for key, value in metrics.items():
        if key.startswith("loss") and not math.isfinite(value):
            raise NonFiniteLossError(
                f"{key} became {value} at iteration {iteration}; the last good state is in {checkpoint_dir} "
                "(resume from it with a smaller learning rate, or inspect metrics.csv)"
            )


class Trainer:
    """Runs ``experiment`` for ``config.iterations`` learner updates, writing into ``run_dir``.

    ``start_iteration`` and ``elapsed`` come from a checkpoint when resuming; the caller has already
    restored the learner, the extra state and the RNG states, so the continuation is exact. ``seed`` is the
    run's seed, from which ``config.isolate_eval`` seeds each evaluation.
    """

    def __init__(
        self,
        experiment: Experiment,
        config: TrainerConfig,
        run_dir: Path,
        loggers: MetricLoggers,
        start_iteration: int = 0,
        elapsed: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.experiment = experiment
        self.config = config
        self.run_dir = run_dir
        self.checkpoint_dir = run_dir / "checkpoints"
        self.loggers = loggers
        self.iteration = start_iteration
        self._elapsed_before = elapsed
        self.seed = seed
        self._started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Training wall time in seconds, including time before a resume."""
        return self._elapsed_before + time.perf_counter() - self._started

    def _is_due(self, every: int, iteration: int, last: bool = False) -> bool:
        return last or iteration == self.config.iterations or (every > 0 and iteration % every == 0)

    def _out_of_time(self) -> bool:
        return self.config.max_seconds > 0 and self.elapsed >= self.config.max_seconds

    def _evaluate(self, iteration: int) -> dict[str, float]:
        if not self.config.isolate_eval:
            return self.experiment.evaluate()
        with isolated_rng((self.seed * 1_000_003 + iteration) % 2**32):  # numpy takes seeds below 2**32
            return self.experiment.evaluate()

    def save(self) -> Path:
        return save_training_state(
            self.checkpoint_dir,
            iteration=self.iteration,
            elapsed=self.elapsed,
            learner=self.experiment.learner,
            extra_state=self.experiment.extra_state,
            history=self.loggers.history,
        )

    def _check_stop_metric(self, metrics: dict[str, float], evaluated: bool) -> None:
        """A ``stop_when`` typo would silently never stop: name it at the first evaluated iteration."""
        name = self.config.stop_when
        if name and (evaluated or self.experiment.evaluate is None) and name not in metrics:
            raise ConfigError(
                f"trainer.stop_when={name!r} is not a metric of this experiment; "
                f"valid choices: {', '.join(sorted(metrics))}"
            )

    def run(self) -> Row:
        """Train to the end and return the last logged row (training and evaluation metrics)."""
        experiment, config = self.experiment, self.config
        last_row: Row = self.loggers.history[-1] if self.loggers.history else {}
        bar = tqdm(total=config.iterations, initial=self.iteration, disable=not config.progress, dynamic_ncols=True)
        try:
            while self.iteration < config.iterations:
                iteration = self.iteration + 1
                batch = experiment.collect() if experiment.collect is not None else None
                metrics = {key: float(value) for key, value in experiment.learner.update(batch).items()}
                check_losses_finite(metrics, iteration, self.checkpoint_dir)
                last = self._out_of_time()  # a time-capped run ends like a finished one: evaluated and saved
                if experiment.evaluate is not None and self._is_due(config.eval_every, iteration, last):
                    metrics.update(self._evaluate(iteration))
                self.iteration = iteration
                if self._is_due(config.log_every, iteration, last) or self._is_due(config.eval_every, iteration, last):
                    last_row = to_row(iteration, {**metrics, "wall_time_s": self.elapsed})
                    self.loggers.log(last_row)
                self._check_stop_metric(metrics, evaluated=self._is_due(config.eval_every, iteration, last))
                stop = last or (bool(config.stop_when) and metrics.get(config.stop_when, 0.0) > 0)
                if self._is_due(config.checkpoint_every, iteration, stop):
                    self.save()
                bar.update(1)
                shown = {key: f"{metrics[key]:.3g}" for key in experiment.progress_keys if key in metrics}
                if shown:
                    bar.set_postfix(shown, refresh=False)
                if stop:
                    break
        finally:
            bar.close()
        return last_row
