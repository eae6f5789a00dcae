"""One switch for the fused hot paths (``trainer.compile``): env transitions, observations, policy steps.

A function decorated with :func:`hot_path` runs eagerly unless compilation is switched on, then through a
``torch.compile``'d copy built on its first call (inductor writes fused C++ on CPU and Triton on CUDA). The
eager function stays reachable as ``fn.eager`` so tests can check both paths give the same numbers. The
switch is process-wide because the hot paths sit deep inside envs and rollouts, where threading a flag
through every constructor would touch every family; the CLI sets it once from the validated config.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

if TYPE_CHECKING:
    import torch

F = TypeVar("F", bound=Callable[..., Any])

_enabled = False
_compile_seconds = 0.0


def set_enabled(enabled: bool) -> None:
    """Switch compiled hot paths on or off for this process (``trainer.compile``)."""
    global _enabled
    _enabled = bool(enabled)


def is_enabled() -> bool:
    return _enabled


@contextlib.contextmanager
def enabled(flag: bool = True) -> Iterator[None]:
    """Run a block with the switch set to ``flag`` (tests, benchmarks), restoring it afterwards."""
    previous = _enabled
    set_enabled(flag)
    try:
        yield
    finally:
        set_enabled(previous)


def compile_seconds() -> float:
    """Seconds spent so far in the first (compiling) call of every compiled hot path of this process."""
    return _compile_seconds


def hot_path(fn: F | None = None, *, dynamic: bool | None = None, mode: str | None = None) -> Any:
    """Decorate ``fn`` so it runs compiled when the switch is on and eagerly otherwise (``fn.eager``).

    The compiled copy is built once per decorated function and reused; its first call is timed into
    :func:`compile_seconds` (later recompilations for new shapes are not separated out).
    """
    if fn is None:
        return functools.partial(hot_path, dynamic=dynamic, mode=mode)
    compiled: list[Callable[..., Any]] = []

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _compile_seconds
        if not _enabled:
            return fn(*args, **kwargs)
        if not compiled:
            import torch

            compiled.append(torch.compile(fn, dynamic=dynamic, mode=mode))
            started = time.perf_counter()
            result = compiled[0](*args, **kwargs)
            _compile_seconds += time.perf_counter() - started
            return result
        return compiled[0](*args, **kwargs)

    wrapper.eager = fn  # type: ignore[attr-defined]
    return wrapper


def uses_cuda_graph(device: torch.device) -> bool:
    """Whether a :func:`graphed_hot_path` runs as a CUDA graph on ``device``: only with the switch on, on CUDA."""
    return _enabled and device.type == "cuda"


def graphed_hot_path(fn: F) -> F:
    """:func:`hot_path` whose CUDA calls replay a CUDA graph (``mode="reduce-overhead"``).

    A 64-wide GRU step is a few microseconds of GPU work behind tens of kernel launches; a graph
    replays them as one. The guard is :func:`uses_cuda_graph`: off CUDA (or with the switch off) this
    is exactly ``hot_path(fn)``. Each call starts a new graph step and copies the outputs out of the
    graph's memory pool, which the next replay overwrites (rollouts keep every step's outputs).
    """
    import torch
    from torch.utils._pytree import tree_leaves, tree_map

    plain, graphed = hot_path(fn), hot_path(mode="reduce-overhead")(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        device = next(leaf.device for leaf in tree_leaves(args) if isinstance(leaf, torch.Tensor))
        if not uses_cuda_graph(device):
            return plain(*args)
        torch.compiler.cudagraph_mark_step_begin()
        return tree_map(lambda x: x.clone() if isinstance(x, torch.Tensor) else x, graphed(*args))

    wrapper.eager, wrapper.plain, wrapper.graphed = fn, plain, graphed  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
