"""Brute-force Stackelberg solver: hand-checked games, a naive Python re-implementation, tie-breaking, errors."""

import itertools

import pytest
import torch

from oppshape.games import STACKELBERG_GAMES
from oppshape.games.stackelberg import (
    GAME_NAMES,
    deterministic_returns,
    enumerate_strategies,
    follower_best_response_gaps,
    n_memory_states,
    solve_stackelberg,
    stackelberg_payoffs,
    strategy_code,
)

PD = stackelberg_payoffs("prisoners_dilemma")[0]  # CC (3,3), CD (1,4), DC (4,1), DD (2,2)


def test_strategy_enumeration_and_codes_round_trip():
    strategies = enumerate_strategies(3)
    assert strategies.shape == (8, 3)
    assert strategies[6].tolist() == [0, 1, 1]  # 6 = 0b110: action in state i is bit i
    assert torch.equal(strategy_code(strategies), torch.arange(8))


def test_full_memory_returns_by_hand():
    # leader tit-for-tat in its own view (start, CC, CD, DC, DD) -> C, C, D, C, D; follower always defects
    tit_for_tat, always_defect = torch.tensor([0, 0, 1, 0, 1]), torch.ones(5, dtype=torch.long)
    # CD (1, 4), then DD (2, 2), DD (2, 2)
    assert deterministic_returns(tit_for_tat, always_defect, PD, "full", 3).tolist() == [5.0, 8.0]
    assert deterministic_returns(tit_for_tat, always_defect, PD, "full", 3, -2.5).tolist() == [-2.5, 0.5]


def test_full_memory_follower_sees_its_own_view():
    # follower defects only in its own state CD (= it cooperated while the leader defected): index 2
    leader = torch.tensor([1, 0, 0, 0, 0])  # defect first, then cooperate
    follower = torch.tensor([0, 0, 1, 0, 0])
    # DC (4, 1); the follower's own view of DC is CD -> it defects: CD (1, 4); then CD in leader view
    # is DC for the follower -> C: CC (3, 3)
    assert deterministic_returns(leader, follower, PD, "full", 3).tolist() == [8.0, 8.0]


def test_small_memory_returns_by_hand():
    leader = torch.tensor([0, 0, 1])  # start C, then copy the follower's last action (tit-for-tat)
    follower = torch.tensor([0, 1, 0])  # start C, then the opposite of the leader's last action
    # CC (3, 3); leader sees C -> C, follower sees C -> D: CD (1, 4); leader sees D -> D, follower sees C -> D: DD
    assert deterministic_returns(leader, follower, PD, "small", 3).tolist() == [6.0, 9.0]


@pytest.mark.parametrize("game,value,leader,follower", [
    ("prisoners_dilemma", 2.0, 1, 1),  # commit to C -> follower D (leader 1); commit to D -> D (leader 2)
    ("chicken", 4.0, 1, 0),  # commit to D -> follower C (2 > 1): leader 4
    ("battle", 4.0, 1, 0),  # commit to D -> follower C (3 > 1): leader 4
    ("stag_hunt", 4.0, 0, 0),
])
def test_one_shot_stackelberg_by_hand(game, value, leader, follower):
    solution = solve_stackelberg(stackelberg_payoffs(game), "none", 1)
    assert solution.value.tolist() == [value]
    assert solution.leader_strategy.tolist() == [[leader]]
    assert solution.follower_strategy.tolist() == [[follower]]


def test_tie_break_rule_is_applied():
    # the follower is indifferent after C (1 = 1): the leader-favourable response gives it 5, the adverse 0
    payoff = torch.tensor([[[5.0, 1.0], [0.0, 1.0]], [[2.0, 0.0], [1.0, 1.0]]])
    assert solve_stackelberg(payoff, "none", 1).value.item() == 5.0
    adverse = solve_stackelberg(payoff, "none", 1, tie_break="leader_adverse")
    assert adverse.value.item() == 1.0 and adverse.leader_strategy.tolist() == [[1]]


def test_no_memory_value_scales_with_length_and_offset():
    solution = solve_stackelberg(stackelberg_payoffs(list(STACKELBERG_GAMES)), "none", 10, -2.5)
    one_shot = solve_stackelberg(stackelberg_payoffs(list(STACKELBERG_GAMES)), "none", 1)
    assert torch.allclose(solution.value, 10 * (one_shot.value - 2.5))


def test_reference_ipd_success_threshold():
    """The reference code calls its IPD run a success at leader reward >= 6.0: our solver's value."""
    assert solve_stackelberg(PD, "full", 10, -2.5).value.item() == 6.0


def _naive_solve(payoff, memory, length, offset):
    """Stackelberg value by explicit Python loops over strategy pairs and time steps."""
    n = n_memory_states(memory)
    views = {"none": lambda la, fa, first: (0, 0), "small": lambda la, fa, first: (1 + fa, 1 + la),
             "full": lambda la, fa, first: (1 + 2 * la + fa, 1 + 2 * fa + la)}[memory]
    best = -float("inf")
    for leader in itertools.product((0, 1), repeat=n):
        outcomes = []
        for follower in itertools.product((0, 1), repeat=n):
            sl = sf = 0
            totals = [0.0, 0.0]
            for _ in range(length):
                la, fa = leader[sl], follower[sf]
                totals = [totals[i] + float(payoff[la, fa, i]) + offset for i in range(2)]
                sl, sf = views(la, fa, False)
            outcomes.append(totals)
        follower_best = max(o[1] for o in outcomes)
        best = max(best, max(o[0] for o in outcomes if o[1] >= follower_best - 1e-6))
    return best


@pytest.mark.parametrize("memory,length", [("none", 3), ("small", 4), ("full", 3)])
def test_vectorized_solver_matches_naive_loops(memory, length):
    games = ["prisoners_dilemma", "chicken", "battle", "costly_threat"]
    solution = solve_stackelberg(stackelberg_payoffs(games), memory, length, -2.5)
    for index, game in enumerate(games):
        assert solution.value[index].item() == pytest.approx(
            _naive_solve(stackelberg_payoffs(game)[0], memory, length, -2.5)
        )


def test_follower_best_response_gaps():
    solution = solve_stackelberg(stackelberg_payoffs(["prisoners_dilemma", "chicken"]), "small", 5, -2.5)
    best_responses = solution.strategies[solution.response]  # [G, 8, 3]: the solver's own responses
    assert torch.all(follower_best_response_gaps(best_responses, solution, torch.tensor([0, 1])) == 0)
    always_cooperate = torch.zeros(1, 8, 3, dtype=torch.long)
    gaps = follower_best_response_gaps(always_cooperate, solution, torch.tensor([0]))
    assert gaps[0, 0].item() == pytest.approx(5.0)  # vs an always-cooperating leader, D earns 4 not 3
    assert torch.all(gaps >= 0)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown memory 'medium'; valid choices: none, small, full"):
        solve_stackelberg(PD, "medium", 5)
    with pytest.raises(ValueError, match="unknown tie_break 'random'"):
        solve_stackelberg(PD, "full", 5, tie_break="random")
    with pytest.raises(ValueError, match=r"payoff must have shape \[2, 2, 2\]"):
        solve_stackelberg(torch.zeros(3, 2, 2), "full", 5)
    with pytest.raises(ValueError, match="unknown game\\(s\\) \\['tennis'\\]; valid choices: "):
        stackelberg_payoffs(["tennis"])
    with pytest.raises(ValueError, match="needs strategies with 5 states"):
        deterministic_returns(torch.zeros(3), torch.zeros(3), PD, "full", 5)
    assert "costly_threat" in GAME_NAMES and "ipd_cf" not in GAME_NAMES
