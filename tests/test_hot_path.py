"""The compile switch: eager unless switched on, the compiled copy built once and timed, the eager one kept."""

import pytest
import torch

from oppshape import hot_path


def test_eager_unless_enabled_and_context_restores():
    calls = []

    @hot_path.hot_path
    def double(x):
        calls.append(1)
        return 2 * x

    assert not hot_path.is_enabled()
    assert torch.equal(double(torch.ones(3)), torch.full((3,), 2.0))
    assert double.eager is double.__wrapped__
    with hot_path.enabled(False):
        double(torch.ones(3))
    assert len(calls) == 2 and not hot_path.is_enabled()


@pytest.mark.compile
def test_compiled_path_equals_eager_and_counts_compile_time():
    @hot_path.hot_path
    def step(x, y):
        return torch.tanh(x) * y + x.sigmoid()

    x, y = torch.randn(64, 8), torch.randn(64, 8)
    before = hot_path.compile_seconds()
    with hot_path.enabled():
        compiled = step(x, y)
        again = step(x, y)
    assert hot_path.compile_seconds() > before
    torch.testing.assert_close(compiled, step.eager(x, y))
    torch.testing.assert_close(again, compiled)
