"""The learned (PPO) best response recovers >= 95% of the exact responder's advantage on memory-1 entrants.

The advantage is over the entrant's self-play value: ``(learned - self) / (exact - self) >= 0.95`` for
the responder's reward, on tit-for-tat, always-cooperate and a trained memory-1 agent, all three trained
at once (one memory-1 entrant with three "seeds").
"""

import pytest
import torch

from oppshape.eval.league.entrants import load_entrants
from oppshape.eval.league.exact_best_response import exact_best_response
from oppshape.eval.league.games import GameSpec, make_game
from oppshape.eval.league.learned_best_response import LearnedResponseSettings, learned_best_response
from oppshape.eval.league.strategies import IPD_STRATEGIES, MemoryOnePolicy
from oppshape.eval.league.tournament import play_match

SETTINGS = LearnedResponseSettings(frames=128_000, seeds=4, episodes=32, hidden_size=16, lr=0.01, eval_episodes=500)


def test_learned_response_recovers_95_percent_of_the_exact_advantage(league_runs):
    game = make_game(GameSpec())
    (trained,) = load_entrants([str(league_runs["exact"])], GameSpec())
    p = torch.cat([torch.tensor([IPD_STRATEGIES["tft"], IPD_STRATEGIES["allc"]]), trained.p_cooperate[:1]])
    entrants = MemoryOnePolicy("tft|allc|trained", p)
    exact = exact_best_response(p, game.payoff, 50).responder_reward.float()
    selfplay = torch.tensor([play_match(game, MemoryOnePolicy(f"s{k}", p[k:k + 1]), MemoryOnePolicy(f"t{k}", p[k:k + 1]),
                                        4000, seed=k).mean()[0] for k in range(3)])
    learned = learned_best_response(game, entrants, SETTINGS, seed=0)
    recovered = (learned.responder_reward - selfplay) / (exact - selfplay)
    assert recovered.tolist() == pytest.approx([1.0, 1.0, 1.0], abs=0.05), (learned, exact, selfplay)
    assert (learned.responder_reward <= exact + 0.01).all()
