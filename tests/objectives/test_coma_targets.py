"""COMA critic targets against hand-computed sequences: TD(lambda), truncation vs termination.

One sequence of four steps, gamma = 0.9, rewards r = (1, 2, 3, 4), bootstrap values of the next states
V = (10, 20, 30, 40) (V[t] is the value of the state reached after step t). Three cases: no episode end,
an end after step 1 by time limit (truncated: bootstrap from V[1]), and a real end after step 1
(terminated: no bootstrap). Every expected number is worked out in the comments.
"""

import pytest
import torch

from oppshape.objectives.coma_targets import td_lambda_targets

REWARD = torch.tensor([1.0, 2.0, 3.0, 4.0]).unsqueeze(-1)
NEXT_VALUE = torch.tensor([10.0, 20.0, 30.0, 40.0]).unsqueeze(-1)
NO_END = torch.zeros(4, 1, dtype=torch.bool)
END_AT_1 = torch.tensor([False, True, False, False]).unsqueeze(-1)

CASES = {  # name: (done, terminated)
    "running": (NO_END, NO_END),
    "truncated_at_1": (END_AT_1, NO_END),
    "terminated_at_1": (END_AT_1, END_AT_1),
}

# lambda = 0.5: G_t = r_t + 0.9 * (0.5 * V_t + 0.5 * G_{t+1}), the batch end bootstraps G_3 = 4 + 0.9 * 40 = 40
TD_LAMBDA_EXPECTED = {
    # G_2 = 3 + 0.9 * (15 + 20) = 34.5; G_1 = 2 + 0.9 * (10 + 17.25) = 26.525; G_0 = 1 + 0.9 * (5 + 13.2625)
    "running": [17.43625, 26.525, 34.5, 40.0],
    # G_1 = 2 + 0.9 * 20 = 20 (episode cut, bootstrap); G_0 = 1 + 0.9 * (5 + 10) = 14.5
    "truncated_at_1": [14.5, 20.0, 34.5, 40.0],
    # G_1 = 2 (no bootstrap); G_0 = 1 + 0.9 * (5 + 1) = 6.4
    "terminated_at_1": [6.4, 2.0, 34.5, 40.0],
}

@pytest.mark.parametrize("case", CASES)
def test_td_lambda_matches_hand_computed(case: str) -> None:
    done, terminated = CASES[case]
    got = td_lambda_targets(0.9, 0.5, NEXT_VALUE, REWARD, done, terminated)
    torch.testing.assert_close(got.squeeze(-1), torch.tensor(TD_LAMBDA_EXPECTED[case]))


@pytest.mark.parametrize("case", CASES)
def test_lambda_zero_is_the_one_step_return(case: str) -> None:
    """``COMALoss.make_value_estimator(ValueEstimators.TD0)`` is TD(lambda = 0): ``r_t + gamma V_{t+1}``."""
    done, terminated = CASES[case]
    got = td_lambda_targets(0.9, 0.0, NEXT_VALUE, REWARD, done, terminated)
    torch.testing.assert_close(got, REWARD + 0.9 * NEXT_VALUE * ~terminated)


def test_td_lambda_is_vectorised_over_batch() -> None:
    torch.manual_seed(0)
    shape = (3, 5, 9, 1)  # [envs, agents, T, 1]
    reward, value = torch.randn(shape), torch.randn(shape)
    done = torch.rand(shape) < 0.2
    terminated = done & (torch.rand(shape) < 0.5)
    batched = td_lambda_targets(0.95, 0.8, value, reward, done, terminated)
    for env in range(3):  # each batch row alone gives the same numbers
        alone = td_lambda_targets(0.95, 0.8, value[env], reward[env], done[env], terminated[env])
        torch.testing.assert_close(alone, batched[env])


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="share one shape"):
        td_lambda_targets(0.9, 0.5, NEXT_VALUE, REWARD[:3], NO_END, NO_END)
