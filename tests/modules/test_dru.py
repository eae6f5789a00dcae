"""DRU: noisy logistic channel in training, hard threshold at logit 0 at execution (paper Sec. 5)."""

import pytest
import torch

from oppshape.modules.dru import DRU


def test_training_mode_is_sigmoid_of_logit_plus_given_noise() -> None:
    dru = DRU(sigma=2.0)
    logits = torch.tensor([[-1.0], [0.0], [3.0]])
    noise = torch.tensor([[0.5], [-2.0], [1.0]])
    assert torch.allclose(dru(logits, noise), torch.sigmoid(logits + noise))


def test_training_noise_has_std_sigma() -> None:
    dru = DRU(sigma=2.0)
    logits = torch.zeros(200_000, 1)
    noise = dru.noise_like(logits)
    assert abs(noise.mean().item()) < 0.02 and noise.std().item() == pytest.approx(2.0, rel=0.01)
    out = dru(logits)  # fresh noise: the message is random, and the mean of sigmoid(N(0, 4)) is 1/2
    assert out.std().item() > 0.2 and out.mean().item() == pytest.approx(0.5, abs=0.01)


def test_execution_mode_thresholds_at_zero() -> None:
    dru = DRU(sigma=2.0).eval()
    logits = torch.tensor([-5.0, -0.1, 0.0, 0.1, 0.4, 0.6]).unsqueeze(-1)
    assert dru(logits).squeeze(-1).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]


def test_gradient_passes_through_the_noisy_channel() -> None:
    logits = torch.tensor([0.3], requires_grad=True)
    noise = torch.tensor([0.2])
    DRU(sigma=2.0)(logits, noise).sum().backward()
    s = torch.sigmoid(torch.tensor(0.5))
    assert logits.grad.item() == pytest.approx((s * (1 - s)).item())


def test_softmax_variant() -> None:
    dru = DRU(sigma=1.0, kind="softmax")
    logits = torch.tensor([[0.1, 2.0, -1.0]])
    noise = torch.tensor([[0.3, -0.4, 0.0]])
    assert torch.allclose(dru(logits, noise), torch.softmax(logits + noise, dim=-1))
    assert dru.eval()(logits).tolist() == [[0.0, 1.0, 0.0]]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="tanh"):
        DRU(kind="tanh")
    with pytest.raises(ValueError, match="sigma=-1"):
        DRU(sigma=-1)
