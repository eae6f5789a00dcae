"""POLA-OM's opponent-model objective: behaviour cloning of the opponent's policy and regression of its value.

In POLA-OM (Zhao et al., 2022, Sec. 4.3) an agent never reads its opponent's parameters: it plays the real
opponent, fits a policy to the opponent's observed actions (cross-entropy, i.e. maximum likelihood) and a
value to the opponent's observed rewards (the bootstrapped Monte Carlo return of POLA's baselines), and
then shapes that model with POLA-DiCE (:class:`oppshape.objectives.POLADiCELoss`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from tensordict import TensorDict, TensorDictBase
from tensordict.utils import NestedKey
from torchrl.objectives import LossModule

from oppshape.objectives.dice import bootstrapped_returns


class OpponentModelLoss(LossModule):
    """Fit a model of the opponent from its play, for batches of independent runs.

    The input is ``[*R, N, T]`` (``R`` independent runs, ``N`` episodes, ``T`` steps); each entry is the
    sum over runs of that run's loss::

        loss_policy = sum_R mean_{N, T} -log softmax(logits_t)[a_t]      (behaviour cloning)
        loss_value  = sum_R mean_N sum_t (R_t - V_t)^2,  R_t = sum_{k>=t} gamma^(k-t) r_k + gamma^(T-t) V(h_T)

    with ``V(h_T)`` (the last next-state value) a fixed target. The cross-entropy is averaged step-major
    (time first), the order in which the rollouts record it.

    Args:
        gamma: discount of the value target, in (0, 1].

    Example:
        >>> import torch
        >>> logits = torch.zeros(2, 3, 5, 4, requires_grad=True)  # model's logits: 2 runs x 3 games x 5 steps
        >>> values = torch.zeros(2, 3, 6, requires_grad=True)  # model's V(h_t) for t = 0..5
        >>> td = TensorDict({"logits": logits, "action": torch.randint(4, (2, 3, 5)), "reward": torch.ones(2, 3, 5),
        ...                  "state_value": values[..., :-1], ("next", "state_value"): values[..., 1:]},
        ...                 batch_size=[2, 3, 5])
        >>> losses = OpponentModelLoss(gamma=0.9)(td)
        >>> losses["loss_policy"].backward()  # the model's policy and value have their own optimizers
        >>> losses["loss_value"].backward()
        >>> round(losses["loss_policy"].item() / 2, 4)  # ln 4: the uniform model
        1.3863
    """

    @dataclass
    class _AcceptedKeys:
        """Input keys; every entry is ``[*R, N, T]`` (``logits`` ``[*R, N, T, n_actions]``).

        Attributes:
            logits: the model's action logits at the opponent's history ``h_t``.
            action: the action the opponent took at step ``t``.
            reward: the opponent's reward ``r_t``.
            value: the model's value ``V(h_t)``.
            next_value: ``V(h_{t+1})``; only its last step (which closes the return) is read.
        """

        logits: NestedKey = "logits"
        action: NestedKey = "action"
        reward: NestedKey = "reward"
        value: NestedKey = "state_value"
        next_value: NestedKey = ("next", "state_value")

    default_keys = _AcceptedKeys
    tensor_keys: _AcceptedKeys

    def __init__(self, *, gamma: float = 0.96) -> None:
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma={gamma} must lie in (0, 1]")
        super().__init__()
        self.gamma = gamma

    def _forward_value_estimator_keys(self, **kwargs) -> None:
        """No TorchRL value estimator: the value target is the bootstrapped return."""

    def forward(self, tensordict: TensorDictBase) -> TensorDict:
        """``loss_policy`` and ``loss_value``, scalars."""
        keys = self.tensor_keys
        runs = tensordict.batch_size[:-2].numel()
        logits, action = tensordict.get(keys.logits), tensordict.get(keys.action)
        cross_entropy = F.cross_entropy(logits.movedim(-2, 0).flatten(0, -2), action.movedim(-1, 0).flatten())
        value = tensordict.get(keys.value)
        target = bootstrapped_returns(tensordict.get(keys.reward), tensordict.get(keys.next_value)[..., -1].detach(),
                                      self.gamma)
        return TensorDict({"loss_policy": runs * cross_entropy,
                           "loss_value": (target - value).pow(2).sum(-1).mean() * runs}, batch_size=[])
