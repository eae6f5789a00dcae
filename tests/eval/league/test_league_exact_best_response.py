"""The exact best response to memory-1 IPD policies: hand-computed actions and values, confirmed by play."""

import pytest
import torch

from oppshape.eval.league.exact_best_response import TimeTablePolicy, exact_best_response
from oppshape.eval.league.games import GameSpec, make_game
from oppshape.eval.league.strategies import IPD_STRATEGIES, MemoryOnePolicy, ipd_strategy
from oppshape.eval.league.tournament import play_match
from oppshape.games.payoffs import payoff_table

START, CC = 0, 1


def best_response(name: str):
    return exact_best_response(torch.tensor([IPD_STRATEGIES[name]]), payoff_table("ipd"), 50)


def test_against_tit_for_tat_it_cooperates_until_the_last_step():
    response = best_response("tft")
    on_path = [response.actions[0, 0, START]] + [response.actions[0, t, CC] for t in range(1, 50)]
    assert [int(a) for a in on_path] == [0] * 49 + [1]
    # 49 x CC (-1 each) then D against C: responder (49 * -1 + 0) / 50, TFT (49 * -1 - 3) / 50
    assert float(response.responder_reward) == pytest.approx(-0.98)
    assert float(response.entrant_reward) == pytest.approx(-1.04)


@pytest.mark.parametrize("name,responder,entrant", [
    ("allc", 0.0, -3.0),  # defect throughout
    ("alld", -2.0, -2.0),  # defect throughout
    ("grim", -0.98, -1.04),  # like tit-for-tat: defect only at the end
    ("random", -1.0, -2.5),  # defect throughout: 0/2 - 2/2 for the responder, -3/2 - 2/2 for random
])
def test_values_against_the_fixed_strategies(name, responder, entrant):
    response = best_response(name)
    assert float(response.responder_reward) == pytest.approx(responder)
    assert float(response.entrant_reward) == pytest.approx(entrant)


def test_playing_the_best_response_earns_its_value():
    game = make_game(GameSpec())
    p = torch.tensor([[0.9, 0.8, 0.3, 0.6, 0.2], IPD_STRATEGIES["tft"]])
    response = exact_best_response(p, game.payoff, 50)
    result = play_match(game, MemoryOnePolicy("m", p), TimeTablePolicy("br", response.actions), 4000, seed=0)
    per_pair = result.reward.reshape(2, 2, 4000, 2)
    matched = torch.stack([per_pair[0, 0].mean(0), per_pair[1, 1].mean(0)])  # entrant seed k vs its responder k
    assert matched[:, 1] == pytest.approx(response.responder_reward.float(), abs=0.01)
    assert matched[:, 0] == pytest.approx(response.entrant_reward.float(), abs=0.01)
    assert float(matched[1, 1]) == pytest.approx(-0.98, abs=1e-6)  # deterministic against TFT


def test_no_memory_one_responder_beats_it():
    game = make_game(GameSpec())
    p = torch.tensor([[0.9, 0.8, 0.3, 0.6, 0.2]])
    best = float(exact_best_response(p, game.payoff, 50).responder_reward)
    for name in IPD_STRATEGIES:
        assert play_match(game, MemoryOnePolicy("m", p), ipd_strategy(name), 2000, seed=1).mean()[1] <= best + 0.01
