import pytest
import torch

from oppshape.games import PAYOFF_NAMES, STACKELBERG_GAMES, ipd_contribution_payoff, payoff_table

# (CC, CD, DC, DD) for (leader/agent 1, follower/agent 2), as in the table.
STACKELBERG_CELLS = {
    "prisoners_dilemma": [(3, 3), (1, 4), (4, 1), (2, 2)],
    "stag_hunt": [(4, 4), (1, 3), (3, 1), (2, 2)],
    "assurance": [(4, 4), (1, 2), (2, 1), (3, 3)],
    "coordination": [(4, 4), (2, 1), (1, 2), (3, 3)],
    "mixedharmony": [(4, 4), (3, 1), (1, 3), (2, 2)],
    "harmony": [(4, 4), (3, 2), (2, 3), (1, 1)],
    "noconflict": [(4, 4), (2, 3), (3, 2), (1, 1)],
    "deadlock": [(2, 2), (1, 4), (4, 1), (3, 3)],
    "prisoners_delight": [(1, 1), (2, 4), (4, 2), (3, 3)],
    "hero": [(1, 1), (3, 4), (4, 3), (2, 2)],
    "battle": [(2, 2), (3, 4), (4, 3), (1, 1)],
    "chicken": [(3, 3), (2, 4), (4, 2), (1, 1)],
}
JOINT = [(0, 0), (0, 1), (1, 0), (1, 1)]


@pytest.mark.parametrize("game", sorted(STACKELBERG_CELLS))
def test_stackelberg_game_cells(game):
    table = payoff_table(game)
    assert table.shape == (2, 2, 2)
    for (a1, a2), (leader, follower) in zip(JOINT, STACKELBERG_CELLS[game]):
        assert table[a1, a2, 0].item() == leader
        assert table[a1, a2, 1].item() == follower


def test_twelve_stackelberg_games_listed():
    assert sorted(STACKELBERG_GAMES) == sorted(STACKELBERG_CELLS)


def test_classic_ipd_cells():
    table = payoff_table("ipd")
    expected = [(-1, -1), (-3, 0), (0, -3), (-2, -2)]
    for (a1, a2), cell in zip(JOINT, expected):
        assert tuple(table[a1, a2].tolist()) == cell


@pytest.mark.parametrize("cf", [1.1, 1.33, 1.6])
def test_contribution_ipd_cells(cf):
    table = ipd_contribution_payoff(cf)
    # each agent gets cf * (c1 + c2) / 2 - c_i with c = 1 for cooperate
    expected = {(0, 0): (cf - 1, cf - 1), (0, 1): (cf / 2 - 1, cf / 2), (1, 0): (cf / 2, cf / 2 - 1), (1, 1): (0, 0)}
    for (a1, a2), cell in expected.items():
        assert torch.allclose(table[a1, a2], torch.tensor(cell, dtype=torch.float32))


def test_contribution_ipd_is_a_social_dilemma():
    table = ipd_contribution_payoff(1.33)
    assert table[1, 0, 0] > table[0, 0, 0] > table[1, 1, 0] > table[0, 1, 0]


def test_bad_payoff_names_list_choices():
    with pytest.raises(ValueError, match="valid choices: .*stag_hunt"):
        payoff_table("stag_hunter")
    with pytest.raises(ValueError, match="needs a contribution factor"):
        payoff_table("ipd_cf")
    with pytest.raises(ValueError, match=r"cf=2.5 must lie in \(1, 2\)"):
        payoff_table("ipd_cf", cf=2.5)
    assert "ipd_cf" in PAYOFF_NAMES
