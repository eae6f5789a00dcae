"""clipped_step: zero, backward, clip, step, in that order."""

import torch

from oppshape.learners.optim import clipped_step


def test_clips_the_norm_and_returns_it_before_clipping() -> None:
    weight = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    weight.grad = torch.full((2,), 100.0)  # stale gradient: must be cleared first
    norm = clipped_step(optimizer, [weight], (weight * torch.tensor([3.0, 4.0])).sum(), max_grad_norm=1.0)
    assert torch.isclose(norm, torch.tensor(5.0))
    torch.testing.assert_close(weight.detach(), -torch.tensor([0.6, 0.8]))
