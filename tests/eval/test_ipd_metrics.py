""""Finds TFT" detection and P(cooperate | state) summaries on hand-built policy pairs."""

import pytest
import torch

from oppshape.eval.ipd_metrics import cooperation_summary, finds_tft, retaliates, return_per_step, tft_threshold
from oppshape.games.exact import exact_values
from oppshape.games.payoffs import payoff_table

GAMMA = 0.96
# own view (start, CC, CD, DC, DD)
TFT = [1.0, 1.0, 0.0, 1.0, 0.0]
ALLC = [1.0] * 5
ALLD = [0.0] * 5
NEAR_TFT = [0.99, 0.99, 0.6, 0.9, 0.6]  # just under the 0.65 threshold in CD and DD
SOFT_TFT = [0.99, 0.99, 0.7, 0.9, 0.1]  # too forgiving in CD


def _finds(coop_1: list[float], coop_2: list[float], cf: float = 1.33) -> bool:
    payoff = payoff_table("ipd_cf", cf=cf)
    first, second = torch.tensor([coop_1]), torch.tensor([coop_2])
    values = exact_values(first, second, payoff, GAMMA)
    return bool(finds_tft(first, second, values, payoff, GAMMA)[0])


@pytest.mark.parametrize(
    ("coop_1", "coop_2", "expected"),
    [
        (TFT, TFT, True),  # retaliates and cooperates: return per step cf - 1
        (NEAR_TFT, NEAR_TFT, True),
        (ALLC, ALLC, False),  # cooperative but does not retaliate
        (TFT, ALLC, False),  # only one agent retaliates
        (ALLD, ALLD, False),  # retaliates but never cooperates
        (TFT, ALLD, False),
        (SOFT_TFT, SOFT_TFT, False),
    ],
)
def test_finds_tft_on_hand_built_pairs(coop_1: list[float], coop_2: list[float], expected: bool) -> None:
    assert _finds(coop_1, coop_2) is expected


def test_threshold_is_eighty_percent_of_mutual_cooperation() -> None:
    assert tft_threshold(payoff_table("ipd_cf", cf=1.6)) == pytest.approx(0.8 * 0.6)
    # classic IPD: 80% of the way from DD (-2) to CC (-1)
    assert tft_threshold(payoff_table("ipd")) == pytest.approx(-1.2)


def test_return_threshold_is_strict_on_the_value_scale() -> None:
    # A pair that cooperates 70% of the time on average falls short of 0.8 (cf - 1) per step.
    mostly = [0.84, 0.84, 0.0, 0.84, 0.0]
    assert not _finds(mostly, mostly)
    payoff = payoff_table("ipd_cf", cf=1.33)
    values = exact_values(torch.tensor(TFT), torch.tensor(TFT), payoff, GAMMA)
    torch.testing.assert_close(return_per_step(values, GAMMA), torch.full((2,), 0.33))


def test_retaliation_looks_at_cd_and_dd_only() -> None:
    policies = torch.tensor([[0.0, 0.0, 0.6, 0.0, 0.6], [1.0, 1.0, 0.6, 1.0, 0.7], [1.0, 1.0, 0.7, 1.0, 0.0]])
    assert retaliates(policies).tolist() == [True, False, False]


def test_cooperation_summary_means_and_spreads() -> None:
    coop_1 = torch.tensor([TFT, ALLC])
    coop_2 = torch.tensor([ALLD, ALLD])
    summary = cooperation_summary((coop_1, coop_2))
    assert summary["p_coop_agent1_CD"] == pytest.approx(0.5)
    assert summary["p_coop_agent1_CD_std"] == pytest.approx(0.5)
    assert summary["p_coop_agent2_start"] == 0.0 and summary["p_coop_agent1_start_std"] == 0.0
    assert len(summary) == 2 * 5 * 2
