"""The one training loop: collect (or compute) -> learner.update -> log -> evaluate -> checkpoint.

Every algorithm family runs through this loop, so seeding, logging, the NaN guard, checkpoints, Ctrl-C and
exact resume are written once.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from oppshape import hot_path
from oppshape.checkpoint import CHECKPOINT_NAME, save_training_state
from oppshape.config import ConfigError, TrainerConfig
from oppshape.experiments.base import Experiment
from oppshape.loggers import MetricLoggers, Row
from oppshape.rng import isolated_rng

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + signal number, as shells report them


class NonFiniteError(RuntimeError):
    """A loss, a parameter or the policy's sampling probabilities became NaN or infinite; the message names
    what, the iteration and the last good checkpoint."""


class TrainingInterrupted(Exception):
    """SIGINT / SIGTERM arrived: the iteration was finished and a checkpoint written; ``exit_code`` is 130 / 143."""

    def __init__(self, signal_name: str, exit_code: int, iteration: int, checkpoint: Path) -> None:
        super().__init__(f"{signal_name} at iteration {iteration}; checkpoint {checkpoint}")
        self.signal_name, self.exit_code, self.iteration, self.checkpoint = signal_name, exit_code, iteration, checkpoint


def _compile_time() -> dict[str, float]:
    """``compile_s``: this process's seconds in first (compiling) calls of hot paths, logged only with
    ``trainer.compile`` on (eager runs keep their metrics columns)."""
    return {"compile_s": hot_path.compile_seconds()} if hot_path.is_enabled() else {}


def to_row(iteration: int, metrics: dict[str, Any]) -> Row:
    """Metrics as plain floats, so rows are CSV-, JSON- and checkpoint-safe."""
    return {"iteration": float(iteration), **{key: float(value) for key, value in metrics.items()}}


def first_nonfinite_loss(metrics: dict[str, float]) -> str | None:
    """The first ``loss*`` metric that is NaN or infinite, as ``name became value``."""
    for key, value in metrics.items():
        if key.startswith("loss") and not math.isfinite(value):
            return f"{key} became {value}"
    return None


def learner_tensors(learner: Any) -> list[tuple[str, torch.Tensor]]:
    """The learner's floating-point parameters and buffers, named by attribute path (``loss.actor.0.weight``):
    what the NaN guard checks after every update. Modules, tensors and lists of them held as attributes are
    found; a learner holding none of those is checked through the floating tensors of its ``state_dict``."""
    found: list[tuple[str, torch.Tensor]] = []

    def visit(name: str, value: Any) -> None:
        if isinstance(value, torch.nn.Module):
            found.extend((f"{name}.{key}", tensor) for key, tensor in value.state_dict(keep_vars=True).items())
        elif isinstance(value, torch.Tensor):
            found.append((name, value))
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(f"{name}.{index}", item)

    for name, value in vars(learner).items():
        visit(name, value)
    if not found:
        found = list(_flatten("", learner.state_dict()))
    return [(name, tensor) for name, tensor in found if tensor.is_floating_point() and tensor.numel() > 0]


def _flatten(prefix: str, state: Any) -> Iterator[tuple[str, torch.Tensor]]:
    if isinstance(state, torch.Tensor):
        yield prefix, state
    elif isinstance(state, dict):
        for key, value in state.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), value)
    elif isinstance(state, (list, tuple)):
        for index, value in enumerate(state):
            yield from _flatten(f"{prefix}.{index}", value)


def first_nonfinite_tensor(tensors: list[tuple[str, torch.Tensor]]) -> str | None:
    """The name of the first tensor holding a NaN or inf; one device sync per device when all are finite."""
    by_device: dict[torch.device, list[tuple[str, torch.Tensor]]] = {}
    for name, tensor in tensors:
        by_device.setdefault(tensor.device, []).append((name, tensor))
    for group in by_device.values():
        with torch.no_grad():
            finite = torch.stack([torch.isfinite(tensor).all() for _, tensor in group])
        if not bool(finite.all()):
            return group[int((~finite).nonzero()[0])][0]
    return None


def is_sampling_nan(error: Exception) -> bool:
    """Whether ``error`` is torch refusing to sample from NaN/inf probabilities (multinomial or a
    distribution's argument check): a NaN in the policy, reported by the guard instead of a trace."""
    message = str(error)
    return "probability tensor contains either `inf`, `nan`" in message or (
        "Expected parameter" in message and "found invalid values" in message
    )


class _StopSignals:
    """Turns SIGINT / SIGTERM into a flag the loop reads between iterations, so the iteration in flight ends
    cleanly (a KeyboardInterrupt raised inside tensordict's ``to_module`` would surface as an unrelated error);
    a second signal exits at once. Installed only in the main thread (signals cannot be caught elsewhere)."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}

    def _handle(self, number: int, frame: Any) -> None:
        if self.received is not None:
            os.write(2, b"\n[oppshape] second interrupt: exiting now, without saving\n")
            os._exit(EXIT_CODES.get(signal.Signals(number), 130))
        self.received = signal.Signals(number)
        os.write(2, b"\n[oppshape] interrupt received: finishing this iteration, then saving a checkpoint "
                    b"(interrupt again to quit at once)\n")

    @contextlib.contextmanager
    def installed(self) -> Iterator[_StopSignals]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        for number in EXIT_CODES:
            self._previous[number] = signal.signal(number, self._handle)
        try:
            yield self
        finally:
            for number, handler in self._previous.items():
                signal.signal(number, handler)


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
        self.saved_iteration: int | None = start_iteration if start_iteration > 0 else None
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
        path = save_training_state(
            self.checkpoint_dir,
            iteration=self.iteration,
            elapsed=self.elapsed,
            learner=self.experiment.learner,
            extra_state=self.experiment.extra_state,
            history=self.loggers.history,
        )
        self.saved_iteration = self.iteration
        return path

    def _check_stop_metric(self, metrics: dict[str, float], evaluated: bool) -> None:
        """A ``stop_when`` typo would silently never stop: name it at the first evaluated iteration (families
        declaring ``metric_names`` in ``config/<family>.py`` have it refused before the run starts)."""
        name = self.config.stop_when
        if name and (evaluated or self.experiment.evaluate is None) and name not in metrics:
            raise ConfigError(
                f"trainer.stop_when={name!r} is not a metric of this experiment; "
                f"valid choices: {', '.join(sorted(metrics))}"
            )

    def _nonfinite(self, what: str, iteration: int) -> NonFiniteError:
        """The guard's error: what went bad, and where the last good state is (only once one was written)."""
        if self.saved_iteration is None:
            where = "no checkpoint was written before it; inspect metrics.csv"
        else:
            where = (f"the last good checkpoint is {self.checkpoint_dir / CHECKPOINT_NAME} (iteration "
                     f"{self.saved_iteration}); to go on from it with another setting (e.g. a smaller learning "
                     f"rate) start a new run from its weights: init_from={self.run_dir} <overrides>")
        return NonFiniteError(f"{what} at iteration {iteration}; {where}")

    def _step(self, iteration: int, last_metrics: dict[str, float]) -> dict[str, float]:
        """Collect and update once; a NaN in the policy that torch refuses to sample from is the guard's error."""
        experiment = self.experiment
        try:
            batch = experiment.collect() if experiment.collect is not None else None
            return {key: float(value) for key, value in experiment.learner.update(batch).items()}
        except (RuntimeError, ValueError) as error:
            if not is_sampling_nan(error):
                raise
            shown = ", ".join(f"{key}={value:.4g}" for key, value in last_metrics.items()) or "none yet"
            raise self._nonfinite(f"the policy's sampling probabilities became NaN or inf (the last update's "
                                  f"metrics: {shown})", iteration) from None

    def _check_finite(self, metrics: dict[str, float], iteration: int) -> None:
        bad_loss = first_nonfinite_loss(metrics)
        if bad_loss is not None:
            raise self._nonfinite(bad_loss, iteration)
        bad_tensor = first_nonfinite_tensor(learner_tensors(self.experiment.learner))
        if bad_tensor is not None:
            raise self._nonfinite(f"learner tensor {bad_tensor} became NaN or inf", iteration)

    def run(self) -> Row:
        """Train to the end and return the last logged row (training and evaluation metrics).

        Raises :class:`TrainingInterrupted` after saving a checkpoint when SIGINT / SIGTERM arrives, and
        :class:`NonFiniteError` when a loss, a parameter or the sampling probabilities go NaN / inf.
        """
        experiment, config = self.experiment, self.config
        last_row: Row = self.loggers.history[-1] if self.loggers.history else {}
        metrics: dict[str, float] = {}
        bar = tqdm(total=config.iterations, initial=self.iteration, disable=not config.progress, dynamic_ncols=True)
        signals = _StopSignals()
        with signals.installed():
            try:
                while self.iteration < config.iterations:
                    iteration = self.iteration + 1
                    metrics = self._step(iteration, metrics)
                    self._check_finite(metrics, iteration)
                    last = self._out_of_time()  # a time-capped run ends like a finished one: evaluated and saved
                    if experiment.evaluate is not None and self._is_due(config.eval_every, iteration, last):
                        metrics.update(self._evaluate(iteration))
                    self.iteration = iteration
                    if self._is_due(config.log_every, iteration, last) or self._is_due(config.eval_every, iteration, last):
                        last_row = to_row(iteration, {**metrics, "wall_time_s": self.elapsed, **_compile_time()})
                        self.loggers.log(last_row)
                    self._check_stop_metric(metrics, evaluated=self._is_due(config.eval_every, iteration, last))
                    stop = last or (bool(config.stop_when) and metrics.get(config.stop_when, 0.0) > 0)
                    if self._is_due(config.checkpoint_every, iteration, stop):
                        self.save()
                    bar.update(1)
                    shown = {key: f"{metrics[key]:.3g}" for key in experiment.progress_keys if key in metrics}
                    if shown:
                        bar.set_postfix(shown, refresh=False)
                    if signals.received is not None:
                        self._interrupted(signals.received)
                    if stop:
                        break
            finally:
                bar.close()
        return last_row

    def _interrupted(self, received: signal.Signals) -> None:
        if self.saved_iteration != self.iteration:
            self.save()
        raise TrainingInterrupted(received.name, EXIT_CODES[received], self.iteration,
                                  self.checkpoint_dir / CHECKPOINT_NAME)
