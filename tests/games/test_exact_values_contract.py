"""The public contract of ``exact_values``: shapes, dtypes, a hand-computed case, the own-view convention."""

import pytest
import torch

from oppshape.games import exact_values, payoff_table

GAMMA = 0.96


def test_hand_computed_tft_against_always_defect():
    cf = 1.33
    payoff = payoff_table("ipd_cf", cf=cf)
    tit_for_tat = torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0])  # own view: defect after the other defected
    always_defect = torch.zeros(5)
    values = exact_values(tit_for_tat, always_defect, payoff, GAMMA)
    # round 0: C vs D (sucker payoff), afterwards DD forever (0 each)
    assert torch.allclose(values, torch.tensor([cf / 2 - 1, cf / 2]), atol=1e-6)


def test_hand_computed_mutual_cooperation_and_classic_ipd():
    payoff = payoff_table("ipd")
    ones = torch.ones(5)
    assert torch.allclose(exact_values(ones, ones, payoff, GAMMA), torch.full((2,), -1 / (1 - GAMMA)))


def test_own_view_convention_is_symmetric():
    payoff = payoff_table("ipd_cf", cf=1.4)
    first, second = torch.rand(5), torch.rand(5)
    forward = exact_values(first, second, payoff, GAMMA)
    swapped = exact_values(second, first, payoff, GAMMA)
    assert torch.allclose(forward, swapped.flip(-1), atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_batched_dtypes_and_gradients(dtype):
    payoff = payoff_table("ipd_cf", cf=1.33)
    logits = torch.randn(3, 4, 5, dtype=dtype, requires_grad=True)
    other = torch.rand(4, 5, dtype=dtype)
    values = exact_values(torch.sigmoid(logits), other, payoff, GAMMA)
    assert values.shape == (3, 4, 2) and values.dtype == dtype
    values[..., 0].sum().backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


def test_rejects_bad_gamma_and_state_count():
    payoff = payoff_table("ipd")
    with pytest.raises(ValueError, match="gamma=1.0"):
        exact_values(torch.ones(5), torch.ones(5), payoff, 1.0)
    with pytest.raises(ValueError, match="5 states"):
        exact_values(torch.ones(4), torch.ones(4), payoff, GAMMA)
