"""Fixed strategies and the round robin against hand-computed values (classic IPD: CC -1, CD -3/0, DD -2)."""

import pytest
import torch

from oppshape.eval.league.games import GameSpec, SeatView, make_game
from oppshape.eval.league.policy import SeedGroups
from oppshape.eval.league.strategies import IPD_STRATEGIES, MemoryOnePolicy, coin_strategy, ipd_strategy
from oppshape.eval.league.tournament import play_match, tournament

IPD = GameSpec()
#: 50 steps, per-step means; agent's reward against each opponent for the deterministic strategies
EXPECTED = {  # (row, col): (row reward, col reward)
    ("tft", "alld"): (-2.02, -1.96),  # -3 then 49 x -2 / 0 then 49 x -2
    ("grim", "alld"): (-2.02, -1.96),
    ("allc", "alld"): (-3.0, 0.0),
    ("tft", "grim"): (-1.0, -1.0),
    ("alld", "alld"): (-2.0, -2.0),
    ("alld", "allc"): (0.0, -3.0),
}


@pytest.mark.parametrize("pair", list(EXPECTED))
def test_deterministic_ipd_pairs_match_hand_computed_values(pair):
    game = make_game(IPD)
    result = play_match(game, ipd_strategy(pair[0]), ipd_strategy(pair[1]), episodes=4, seed=0)
    assert result.mean() == pytest.approx(EXPECTED[pair], abs=1e-6)
    assert result.ci95() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert result.ci95_seeds() is None


def test_tournament_is_every_ordered_pair_and_reproducible():
    game = make_game(IPD)
    names = list(IPD_STRATEGIES)
    entrants = [ipd_strategy(name) for name in names]
    first = tournament(game, entrants, episodes=200, seed=3)
    again = tournament(game, entrants, episodes=200, seed=3)
    for (row, col), expected in EXPECTED.items():
        assert first[names.index(row)][names.index(col)].mean() == pytest.approx(expected, abs=1e-6)
    assert all(torch.equal(a.reward, b.reward) for ra, rb in zip(first, again) for a, b in zip(ra, rb))
    # random vs always-cooperate: random gets -1/2 + 0/2 = -0.5, allc gets -1/2 - 3/2 = -2 in expectation
    cell = first[names.index("random")][names.index("allc")]
    assert cell.mean() == pytest.approx([-0.5, -2.0], abs=3 * max(cell.ci95()))


def test_seeds_of_an_entrant_pair_up_and_the_seed_interval_uses_their_means():
    game = make_game(IPD)
    mixed = MemoryOnePolicy("allc|alld", torch.tensor([IPD_STRATEGIES["allc"], IPD_STRATEGIES["alld"]]))
    result = play_match(game, mixed, ipd_strategy("tft"), episodes=3, seed=0)
    assert result.reward[:3].tolist() == [[-1.0, -1.0]] * 3  # seed 0 (allc) plays the first episodes
    assert result.reward[3:] == pytest.approx(torch.tensor([[-1.96, -2.02]] * 3))
    assert result.mean() == pytest.approx([(-1.0 - 1.96) / 2, (-1.0 - 2.02) / 2])
    spread = torch.tensor([[-1.0, -1.0], [-1.96, -2.02]]).std(dim=0) * 1.959963984540054 / 2 ** 0.5
    assert result.ci95_seeds() == pytest.approx(spread.tolist(), rel=1e-5)


def test_self_play_gives_each_seat_its_own_state():
    game = make_game(IPD)
    tft = ipd_strategy("tft")
    assert play_match(game, tft, tft, episodes=2, seed=0).mean() == pytest.approx([-1.0, -1.0])


def test_seed_groups_gather_and_scatter_round_trip():
    seeds = torch.tensor([1, 0, 1, 0, 0, 1])
    groups = SeedGroups(seeds, 2)
    x = torch.arange(6.0)
    gathered = groups.gather(x)
    assert gathered.tolist() == [[1.0, 3.0, 4.0], [0.0, 2.0, 5.0]]
    assert torch.equal(groups.scatter(gathered), x)
    with pytest.raises(ValueError, match="same number of games"):
        SeedGroups(torch.tensor([0, 0, 1]), 2)


def test_coin_allc_takes_only_its_own_coins_and_alld_exploits_it():
    game = make_game(GameSpec(name="coin_game"))
    result = play_match(game, coin_strategy("allc"), coin_strategy("alld"), episodes=64, seed=0)
    allc_rate, alld_rate = result.own_coin_rate()
    assert allc_rate == 1.0
    assert 0.0 < alld_rate < 1.0
    allc, alld = result.mean()
    assert alld > 0.3 > 0.0 > allc  # ALLD takes both colours; ALLC pays -2 for each of its coins ALLD takes
    # per-step rewards are the coins: +1 per pick, -2 per own coin the other picks
    coins, own = result.coins.sum(0), result.own_coins.sum(0)
    lost = coins[1] - own[1]
    assert float(result.reward[:, 0].sum() * 50) == pytest.approx(float(coins[0] - 2 * lost), abs=1e-3)


def test_seat_view_shared_observation_of_agent_two_swaps_planes():
    game = make_game(GameSpec(name="coin_game"))
    state = game.initial_state(5)
    ego_seat1 = SeatView(game, state, 1, 0).coin_planes().reshape(5, 4, 9)
    shared_game = make_game(GameSpec(name="coin_game"))
    shared_game.egocentric = False
    shared = shared_game.observe(state)  # both agents see agent 1's view
    for seat in (0, 1):
        view = SeatView(game, state, seat, 0).coin_planes(shared_as=seat).reshape(5, 4, 9)
        assert torch.equal(view, shared[:, seat].reshape(5, 4, 9))
    assert torch.equal(ego_seat1[:, 0], shared[:, 1].reshape(5, 4, 9)[:, 1])
