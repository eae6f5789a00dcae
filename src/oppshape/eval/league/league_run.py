"""One league from a validated config: load the entrants, play the round robin, find best responses, write."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from oppshape.eval.league.entrants import load_entrants, strategy_names
from oppshape.eval.league.exact_best_response import exact_best_response
from oppshape.eval.league.learned_best_response import LearnedResponseSettings, learned_best_response
from oppshape.eval.league.games import make_game
from oppshape.eval.league.outputs import BestResponseRow, league_record, write_outputs
from oppshape.eval.league.policy import LeaguePolicy
from oppshape.eval.league.schema import LeagueConfig
from oppshape.eval.league.strategies import MemoryOnePolicy
from oppshape.eval.league.tournament import tournament


def best_response_row(game, entrant: LeaguePolicy, config: LeagueConfig, seed: int) -> BestResponseRow | None:
    """The entrant's exploitability by ``config.best_response.method`` (seed mean), or None when skipped."""
    method = config.best_response.method
    exact = isinstance(entrant, MemoryOnePolicy)
    if method == "none" or (method == "exact" and not exact):
        return None
    if exact and method != "learned":
        response = exact_best_response(entrant.p_cooperate, game.payoff.cpu(), game.episode_length)
        return BestResponseRow("exact", float(response.entrant_reward.mean()), float(response.responder_reward.mean()))
    learned = config.best_response.learned
    settings = LearnedResponseSettings(frames=learned.frames, seeds=learned.seeds, episodes=learned.episodes,
                                       hidden_size=learned.hidden_size, lr=learned.lr,
                                       eval_episodes=learned.eval_episodes)
    response = learned_best_response(game, entrant, settings, seed)
    return BestResponseRow("learned", float(response.entrant_reward.mean()), float(response.responder_reward.mean()))


def run_league(config: LeagueConfig) -> dict[str, Any]:
    """Play the league of ``config`` and write its outputs to ``config.out_dir``; returns ``league.json``'s content."""
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    spec = config.game.spec()
    entrants = load_entrants(config.entrants or list(strategy_names(spec.name)), spec)
    game = make_game(spec, config.device)
    started = time.perf_counter()
    results = tournament(game, entrants, config.episodes, config.seed)
    played = time.perf_counter() - started
    best = {}
    for index, entrant in enumerate(entrants):
        row = best_response_row(game, entrant, config, config.seed * len(entrants) + index)
        if row is not None:
            best[entrant.name] = row
    record = league_record(config.game.as_dict(), [e.name for e in entrants], [e.num_seeds for e in entrants],
                           results, best, config.episodes, config.seed)
    record["sources"] = list(config.entrants or strategy_names(spec.name))
    record["wall_time_s"] = {"tournament": played, "total": time.perf_counter() - started}
    write_outputs(record, Path(config.out_dir))
    return record
