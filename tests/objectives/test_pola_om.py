"""OpponentModelLoss: behaviour-cloning cross-entropy and the bootstrapped value regression, by hand."""

from __future__ import annotations

import doctest
import importlib
import math

import torch
from tensordict import TensorDict

from oppshape.objectives import OpponentModelLoss


def test_values_match_a_hand_computation() -> None:
    logits = torch.tensor([[[[0.0, math.log(3.0)], [0.0, 0.0]]]])  # [R=1, N=1, T=2, A=2]
    action = torch.tensor([[[1, 0]]])
    reward = torch.tensor([[[1.0, 2.0]]])
    value = torch.tensor([[[0.5, -1.0]]])
    next_value = torch.tensor([[[-1.0, 4.0]]])
    td = TensorDict({"logits": logits, "action": action, "reward": reward, "state_value": value,
                     ("next", "state_value"): next_value}, batch_size=[1, 1, 2])
    losses = OpponentModelLoss(gamma=0.5)(td)
    assert abs(losses["loss_policy"].item() - (-math.log(0.75) - math.log(0.5)) / 2) < 1e-6
    returns = torch.tensor([1 + 0.5 * 2 + 0.25 * 4, 2 + 0.5 * 4])
    assert abs(losses["loss_value"].item() - ((returns - value[0, 0]) ** 2).sum().item()) < 1e-6


def test_runs_are_summed_and_the_target_is_fixed() -> None:
    values = torch.randn(3, 4, 6, requires_grad=True)
    td = TensorDict({"logits": torch.randn(3, 4, 5, 2), "action": torch.randint(2, (3, 4, 5)), "reward": torch.randn(3, 4, 5),
                     "state_value": values[..., :-1], ("next", "state_value"): values[..., 1:]}, batch_size=[3, 4, 5])
    losses = OpponentModelLoss(gamma=0.9)(td)
    per_run = [OpponentModelLoss(gamma=0.9)(td[r]) for r in range(3)]
    torch.testing.assert_close(losses["loss_policy"], sum(run["loss_policy"] for run in per_run))
    torch.testing.assert_close(losses["loss_value"], sum(run["loss_value"] for run in per_run))
    (grad,) = torch.autograd.grad(losses["loss_value"], values)
    assert torch.all(grad[..., -1] == 0)  # V(h_T) only closes the return: no gradient through the target


def test_docstring_example_runs() -> None:
    result = doctest.testmod(importlib.import_module("oppshape.objectives.pola_om"))
    assert result.attempted > 0 and result.failed == 0
