"""The opponent's differentiable look-ahead of LOLA-DiCE and POLA-DiCE, as a function of a rollout callable.

The look-ahead needs fresh episodes at every step, so it cannot be a loss on one batch: it takes ``play``,
any callable that plays the opponent's current parameters against the (fixed, differentiable) shaping
agent and returns the opponent's loss batch. Each step is one SGD step of the opponent on its own
objective, kept in the graph (``create_graph=True``), so the result is a function of the shaping agent's
parameters that ``play`` closes over::

    theta_j <- theta_j - inner_lr * grad_j [-DiCE_j(theta_i, theta_j) + inner_beta * KL(pi_j_start || pi_j)]

LOLA-DiCE (Foerster et al., 2018, DiCE Sec. 5): ``steps=1`` with ``POLADiCELoss(beta=0)``. POLA-DiCE
(Zhao et al., 2022, Algorithm 2, the inner proximal problem of POLA eq. 5 solved approximately):
``steps=inner_steps`` with ``POLADiCELoss(beta=inner_beta)`` and batches carrying the KL to the opponent's
start. The value baseline takes plain SGD steps on ``loss_value`` outside the graph.
"""

from __future__ import annotations

from typing import Callable

import torch
from tensordict import TensorDictBase

from oppshape.modules.gru_policy import ParamDict
from oppshape.objectives.pola_dice import POLADiCELoss

#: plays the opponent's ``(policy, value)`` parameters and returns its loss batch (``POLADiCELoss`` keys)
PlayFn = Callable[[ParamDict, ParamDict], TensorDictBase]


def detached(params: ParamDict) -> ParamDict:
    """Fresh leaves with the same values, requiring grad (a starting point that owns no history)."""
    return {name: p.detach().clone().requires_grad_() for name, p in params.items()}


def dice_lookahead(
    play: PlayFn,
    loss: POLADiCELoss,
    policy: ParamDict,
    value: ParamDict,
    *,
    steps: int,
    inner_lr: float,
    critic_lr: float,
) -> tuple[ParamDict, ParamDict]:
    """The opponent's ``steps`` differentiable SGD steps, each on a fresh batch from ``play``.

    Args:
        play: ``play(policy, value)`` -> the opponent's batch for ``loss``, produced with the shaping
            agent's parameters in the graph.
        loss: the opponent's objective (its ``beta`` is POLA's ``inner_beta``; 0 for LOLA-DiCE).
        policy, value: where the opponent's steps start (copied, not modified).
        steps: number of look-ahead steps.
        inner_lr: the policy's SGD step.
        critic_lr: the value baseline's SGD step.

    Returns:
        The looked-ahead policy (a function of the shaping agent's parameters) and value parameters
        (detached: values enter DiCE only through stop-gradient advantages).

    Example:
        >>> import torch
        >>> from tensordict import TensorDict
        >>> shaper = torch.zeros(2, requires_grad=True)  # the shaping agent's logits
        >>> def play(policy, value):  # 8 one-step games paying the opponent 1 when both play action 0
        ...     mine, theirs = torch.randint(2, (2, 1, 8, 1))
        ...     reward = ((mine == 0) & (theirs == 0)).float()
        ...     return TensorDict({"log_prob": torch.log_softmax(policy["logits"], -1)[mine],
        ...                        "other_log_prob": torch.log_softmax(shaper, -1)[theirs], "reward": reward,
        ...                        "state_value": value["v"].expand(1, 8, 1),
        ...                        ("next", "state_value"): torch.zeros(1, 8, 1)}, batch_size=[1, 8, 1])
        >>> ahead, _ = dice_lookahead(play, POLADiCELoss(gamma=0.9), {"logits": torch.zeros(2)}, {"v": torch.zeros(1)},
        ...                           steps=2, inner_lr=1.0, critic_lr=0.1)
        >>> (shaping,) = torch.autograd.grad(ahead["logits"][0], shaper)  # how the shaper moves the opponent
    """
    policy, value = detached(policy), detached(value)
    for _ in range(steps):
        losses = loss(play(policy, value))
        objective = losses["loss_objective"]
        if "loss_kl" in losses.keys():
            objective = objective + losses["loss_kl"]
        policy_grads = torch.autograd.grad(objective, list(policy.values()), create_graph=True)
        value_grads = torch.autograd.grad(losses["loss_value"], list(value.values()))
        policy = {name: p - inner_lr * g for (name, p), g in zip(policy.items(), policy_grads)}
        value = {name: (p - critic_lr * g).detach().requires_grad_() for (name, p), g in zip(value.items(), value_grads)}
    return policy, value
