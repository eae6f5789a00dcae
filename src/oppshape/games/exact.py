"""Closed-form values of memory-1 policy pairs in the infinitely repeated discounted 2x2 game.

The analytic IPD behind exact LOLA / POLA, and the ground truth that every sampled estimator is tested
against. States are (start, CC, CD, DC, DD); each agent's policy is written from its own point of view
(its own last action first), so agent 2's CD is agent 1's DC.
"""

from __future__ import annotations

import torch

#: Agent 2's own-view state index for each joint state written from agent 1's view (start, CC, CD, DC, DD).
SWAP_VIEW = (0, 1, 3, 2, 4)
STATE_NAMES = ("start", "CC", "CD", "DC", "DD")


def joint_action_probs(p1: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
    """Probabilities of joint actions (CC, CD, DC, DD) from per-agent cooperation probabilities ``[...]``."""
    return torch.stack([p1 * p2, p1 * (1 - p2), (1 - p1) * p2, (1 - p1) * (1 - p2)], dim=-1)


def exact_values(
    coop_1: torch.Tensor, coop_2: torch.Tensor, payoff: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Each agent's expected discounted return ``sum_t gamma^t r_t`` for memory-1 policies.

    Args:
        coop_1: ``[..., 5]`` agent 1's P(cooperate) in (start, CC, CD, DC, DD), own view.
        coop_2: ``[..., 5]`` agent 2's P(cooperate), in its own view.
        payoff: ``[2, 2, 2]`` table indexed ``[a1, a2, agent]`` (0 = cooperate).
        gamma: discount in (0, 1); the first reward is undiscounted, no ``(1 - gamma)`` factor.

    Returns:
        ``[..., 2]`` values of (agent 1, agent 2): ``d0 (I - gamma P)^-1 r``, differentiable.
    """
    if not 0.0 < gamma < 1.0:
        raise ValueError(f"gamma={gamma} must lie in (0, 1) for the infinite discounted game")
    if coop_1.shape[-1] != 5 or coop_2.shape[-1] != 5:
        raise ValueError(
            f"policies must have 5 states (start, CC, CD, DC, DD); got {tuple(coop_1.shape)} "
            f"and {tuple(coop_2.shape)}"
        )
    coop_1, coop_2 = torch.broadcast_tensors(coop_1, coop_2)
    coop_2_joint = coop_2[..., list(SWAP_VIEW)]  # agent 2's probabilities indexed by agent 1's view
    start = joint_action_probs(coop_1[..., 0], coop_2_joint[..., 0])  # [..., 4]
    transition = joint_action_probs(coop_1[..., 1:], coop_2_joint[..., 1:])  # [..., 4 from, 4 to]
    eye = torch.eye(4, dtype=transition.dtype, device=transition.device)
    # Solve (I - gamma P)^T x = d0, so x = d0 (I - gamma P)^-1: discounted state-visit counts.
    visits = torch.linalg.solve((eye - gamma * transition).transpose(-1, -2), start.unsqueeze(-1))
    rewards = payoff.to(transition).reshape(4, 2)  # rows CC, CD, DC, DD
    return (visits.squeeze(-1).unsqueeze(-1) * rewards).sum(-2)
