"""POLADiCELoss: DiCE summed over independent runs plus beta times each run's average KL."""

from __future__ import annotations

import doctest
import importlib

import pytest
import torch
from tensordict import TensorDict

from oppshape.objectives import DiCELoss, POLADiCELoss


def batch(runs: int, kl: bool = True) -> TensorDict:
    shape = (runs, 4, 5)
    entries = {"log_prob": torch.randn(shape), "other_log_prob": torch.randn(shape), "reward": torch.randn(shape),
               "state_value": torch.randn(shape), ("next", "state_value"): torch.randn(shape)}
    if kl:
        entries["kl"] = torch.rand(shape)
    return TensorDict(entries, batch_size=shape)


def test_losses_are_sums_over_runs_and_the_kl_term_is_beta_times_each_runs_mean() -> None:
    td = batch(3)
    losses = POLADiCELoss(gamma=0.9, lmbda=0.7, beta=2.5)(td)
    dice = DiCELoss(gamma=0.9, lmbda=0.7)(td)
    torch.testing.assert_close(losses["loss_value"], 3 * dice["loss_value"])
    torch.testing.assert_close(losses["loss_objective"], 3 * dice["loss_objective"])
    per_run = torch.stack([td["kl"][r].mean() for r in range(3)])
    torch.testing.assert_close(losses["loss_kl"], 2.5 * per_run.sum())
    torch.testing.assert_close(losses["kl"], per_run.mean())


def test_a_single_run_is_dice_plus_beta_kl_and_without_kl_there_is_no_penalty() -> None:
    td = batch(1)[0]  # [N, T]: no run dimension
    losses = POLADiCELoss(gamma=0.9, beta=4.0)(td)
    torch.testing.assert_close(losses["loss_value"], DiCELoss(gamma=0.9)(td)["loss_value"])
    torch.testing.assert_close(losses["loss_kl"], 4.0 * td["kl"].mean())
    assert set(POLADiCELoss(beta=4.0)(batch(2, kl=False)).keys()) == {"loss_objective", "loss_value"}


def test_the_kl_gradient_reaches_the_policy_and_the_kl_key_can_be_renamed() -> None:
    logits = torch.zeros(3, requires_grad=True)
    td = batch(2, kl=False)
    td["agent_kl"] = (logits.softmax(-1)[0] - 1 / 3 + 0.1).expand(2, 4, 5)
    loss = POLADiCELoss(beta=1.0)
    loss.set_keys(kl="agent_kl")
    (grad,) = torch.autograd.grad(loss(td)["loss_kl"], logits)
    assert grad.abs().sum() > 0
    with pytest.raises(ValueError, match="beta=-1"):
        POLADiCELoss(beta=-1.0)


@pytest.mark.parametrize("module", ["pola_dice", "dice_lookahead"])
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"oppshape.objectives.{module}"))
    assert result.attempted > 0 and result.failed == 0
