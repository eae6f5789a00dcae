"""Entrants by name: a fixed strategy of the league's game or a run directory; all checked before any play."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from oppshape.config import ConfigError
from oppshape.eval.league.games import GameSpec
from oppshape.eval.league.loaders import load_run, read_run
from oppshape.eval.league.policy import LeaguePolicy
from oppshape.eval.league.strategies import COIN_STRATEGIES, IPD_STRATEGIES, coin_strategy, ipd_strategy


def strategy_names(game: str) -> tuple[str, ...]:
    """The fixed strategies of ``game``."""
    return tuple(IPD_STRATEGIES) if game == "ipd" else COIN_STRATEGIES


def check_entrants(specs: Sequence[str], game: GameSpec) -> None:
    """Raise :class:`ConfigError` on the first entrant that is neither a strategy of ``game`` nor a usable run."""
    if len(specs) < 1:
        raise ConfigError("a league needs at least one entrant")
    strategies = strategy_names(game.name)
    for spec in specs:
        if spec in strategies:
            continue
        path = Path(spec)
        if not path.is_dir():
            raise ConfigError(f"unknown entrant {spec!r}: neither a run directory nor a {game.name} strategy; "
                              f"valid strategies: {', '.join(strategies)}")
        read_run(path, game)


def load_entrants(specs: Sequence[str], game: GameSpec) -> list[LeaguePolicy]:
    """The entrants as league policies, in order; names made unique by a ``#k`` suffix."""
    check_entrants(specs, game)
    make = ipd_strategy if game.name == "ipd" else coin_strategy
    entrants = [make(spec) if spec in strategy_names(game.name) else load_run(Path(spec), game) for spec in specs]
    seen: dict[str, int] = {}
    for entrant in entrants:
        count = seen.get(entrant.name, 0)
        seen[entrant.name] = count + 1
        if count:
            entrant.name = f"{entrant.name}#{count + 1}"
    return entrants
