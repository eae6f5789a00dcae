"""(Log-)softmax over a few actions through a leading dimension: the same numbers as torch's, gradients too."""

from __future__ import annotations

import pytest
import torch

from oppshape.modules.action_softmax import log_softmax_actions, softmax_actions


@pytest.mark.parametrize("shape", [(50, 2, 300, 4), (2048, 2), (3, 2)])
def test_log_softmax_is_torchs_bit_for_bit_and_softmax_to_the_last_bit(shape: tuple[int, ...]) -> None:
    logits = 4 * torch.randn(shape, generator=torch.Generator().manual_seed(0))
    assert torch.equal(log_softmax_actions(logits), torch.log_softmax(logits, -1))
    torch.testing.assert_close(softmax_actions(logits), torch.softmax(logits, -1), rtol=0, atol=2e-7)


def test_gradients_to_second_order_match_torchs() -> None:
    logits = torch.randn(40, 3, 4, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(40, 3, 4, dtype=torch.float64)
    grads = []
    for fn in (log_softmax_actions, lambda x: torch.log_softmax(x, -1)):
        (first,) = torch.autograd.grad((fn(logits) * weights).sum(), logits, create_graph=True)
        (second,) = torch.autograd.grad((first**2).sum(), logits)
        grads.append((first, second))
    torch.testing.assert_close(grads[0][0], grads[1][0])
    torch.testing.assert_close(grads[0][1], grads[1][1])
