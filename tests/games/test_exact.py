"""Closed-form memory-one values: hand-computed matches, a brute-force series, and gradients."""

import pytest
import torch

from oppshape.games.exact import exact_values
from oppshape.games.payoffs import payoff_table

GAMMA = 0.96
# Own view (start, CC, CD, DC, DD): TFT cooperates first, then copies the other's last action.
TFT = torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
ALLD = torch.zeros(5, dtype=torch.float64)
ALLC = torch.ones(5, dtype=torch.float64)


def test_tft_vs_alld_contribution_game_by_hand() -> None:
    # Round 1: TFT contributes, ALLD does not: TFT gets cf/2 - 1, ALLD gets cf/2. Then DD forever: 0.
    cf = 1.33
    values = exact_values(TFT, ALLD, payoff_table("ipd_cf", cf=cf).double(), GAMMA)
    torch.testing.assert_close(values, torch.tensor([cf / 2 - 1, cf / 2], dtype=torch.float64))


def test_tft_vs_alld_classic_ipd_by_hand_both_orders() -> None:
    # (C, D) pays (-3, 0), then (D, D) pays -2 each forever.
    tail = GAMMA * -2.0 / (1 - GAMMA)
    payoff = payoff_table("ipd").double()
    torch.testing.assert_close(exact_values(TFT, ALLD, payoff, GAMMA), torch.tensor([-3.0 + tail, tail]).double())
    torch.testing.assert_close(exact_values(ALLD, TFT, payoff, GAMMA), torch.tensor([tail, -3.0 + tail]).double())


def test_mutual_cooperation_pays_cc_forever() -> None:
    payoff = payoff_table("ipd_cf", cf=1.6).double()
    torch.testing.assert_close(exact_values(ALLC, TFT, payoff, GAMMA), torch.full((2,), 0.6 / (1 - GAMMA)).double())


def _series_values(coop_1: torch.Tensor, coop_2: torch.Tensor, payoff: torch.Tensor, steps: int) -> torch.Tensor:
    """Brute force: propagate the joint-action distribution step by step and discount the rewards."""
    swap = [0, 1, 3, 2, 4]  # agent 2's own-view index of each of agent 1's states
    own = [coop_1, coop_2[..., swap]]
    joint = [(0, 0), (0, 1), (1, 0), (1, 1)]  # (CC, CD, DC, DD) as actions, 0 = cooperate

    def joint_probs(state: int) -> torch.Tensor:
        p1, p2 = own[0][state], own[1][state]
        return torch.stack([p1 * p2, p1 * (1 - p2), (1 - p1) * p2, (1 - p1) * (1 - p2)])

    rewards = torch.stack([payoff[a1, a2] for a1, a2 in joint])  # [4, 2]
    dist = joint_probs(0)
    transition = torch.stack([joint_probs(state) for state in range(1, 5)])  # [4 from, 4 to]
    total = torch.zeros(2, dtype=payoff.dtype)
    for t in range(steps):
        total = total + GAMMA**t * dist @ rewards
        dist = dist @ transition
    return total


@pytest.mark.parametrize("payoff_name", ["ipd", "ipd_cf", "chicken"])
def test_random_policies_match_brute_force_series(payoff_name: str) -> None:
    payoff = payoff_table(payoff_name, cf=1.25 if payoff_name == "ipd_cf" else None).double()
    coop_1, coop_2 = torch.rand(2, 5, dtype=torch.float64)
    expected = _series_values(coop_1, coop_2, payoff, steps=1200)  # gamma^1200 < 1e-21
    torch.testing.assert_close(exact_values(coop_1, coop_2, payoff, GAMMA), expected)


def test_batched_policies_match_one_by_one() -> None:
    payoff = payoff_table("ipd_cf", cf=1.33).double()
    coop_1, coop_2 = torch.rand(2, 3, 5, dtype=torch.float64)
    batched = exact_values(coop_1, coop_2, payoff, GAMMA)
    for seed in range(3):
        torch.testing.assert_close(batched[seed], exact_values(coop_1[seed], coop_2[seed], payoff, GAMMA))


def test_gradients_match_finite_differences() -> None:
    payoff = payoff_table("ipd_cf", cf=1.33).double()
    coop_1 = torch.rand(5, dtype=torch.float64, requires_grad=True)
    coop_2 = torch.rand(5, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(lambda a, b: exact_values(a, b, payoff, GAMMA), (coop_1, coop_2))
    torch.autograd.gradgradcheck(lambda a, b: exact_values(a, b, payoff, GAMMA), (coop_1, coop_2))


@pytest.mark.parametrize("gamma", [0.0, 1.0, 1.5])
def test_bad_discount_is_rejected(gamma: float) -> None:
    with pytest.raises(ValueError, match="gamma"):
        exact_values(TFT, ALLD, payoff_table("ipd"), gamma)
