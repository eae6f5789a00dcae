"""Trained agents loaded from their run directories (``config.yaml`` + ``checkpoints/last.pt``) as league policies.

Each family has one small adapter that rebuilds the policy network from the learner's ``state_dict``
(layer sizes are read from the weights' shapes, so the adapters read only a handful of config keys:
the algorithm's name, the env's name, the board size and the Coin Game observation convention). When
a family renames a key, :func:`run_game` or its adapter is the one line to change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from oppshape.checkpoint import load_checkpoint
from oppshape.config import ALGORITHM_FAMILIES, ConfigError
from oppshape.eval.league.games import GameSpec
from oppshape.eval.league.network_policies import DiceGRUPolicy, LoqaActorPolicy
from oppshape.eval.league.policy import LeaguePolicy
from oppshape.eval.league.strategies import MemoryOnePolicy
from oppshape.modules.loqa_nets import GRUNet, TabularActor
from oppshape.modules.memory_one import make_memory_one_policy

#: env name in a run's config -> the league game it is played in (old and new env names).
RUN_ENV_GAMES: dict[str, str] = {
    "ipd_exact": "ipd", "ipd_history": "ipd", "loqa_ipd": "ipd", "iterated_matrix_game": "ipd",
    "coin_game": "coin_game", "loqa_coin": "coin_game",
}


def run_game(cfg: DictConfig) -> tuple[str, tuple[int, int] | None]:
    """The league game a run played and, on the Coin Game, its board ``(height, width)``."""
    env_name = str(cfg.env.name)
    if env_name not in RUN_ENV_GAMES:
        raise ConfigError(f"run env {env_name!r} is not a league game; valid run envs: {', '.join(RUN_ENV_GAMES)}")
    game = RUN_ENV_GAMES[env_name]
    return game, ((int(cfg.env.height), int(cfg.env.width)) if game == "coin_game" else None)


def _exact_ipd(name: str, cfg: DictConfig, learner: dict[str, Any], game: GameSpec) -> LeaguePolicy:
    """Exact LOLA/POLA/naive: agent 1's memory-1 policy (tabular, preconditioned or nn), every seed."""
    state = learner["policies"][0]
    if "w1" in state:
        parameterization, hidden_size = "nn", state["w1"].shape[1]
    else:
        parameterization, hidden_size = ("preconditioned" if "matrix" in state else "tabular"), 1
    reference = state["w1" if parameterization == "nn" else "theta"]
    policy = make_memory_one_policy(parameterization, reference.shape[0], hidden_size=hidden_size, dtype=reference.dtype)
    policy.load_state_dict(state)
    with torch.no_grad():
        return MemoryOnePolicy(name, policy())


def coin_shared_as(cfg: DictConfig, game: GameSpec) -> int | None:
    """0 (agent 1) when the run saw POLA's shared Coin Game observation, None when egocentric (the default)."""
    return 0 if game.name == "coin_game" and not bool(cfg.env.get("egocentric", True)) else None


def _dice(name: str, cfg: DictConfig, learner: dict[str, Any], game: GameSpec) -> LeaguePolicy:
    """LOLA-DiCE / POLA-DiCE / POLA-OM: agent 1's GRU policy, every seed; POLA's shared Coin view if trained so."""
    prefix = "0.policy."
    params = {key[len(prefix):]: value for key, value in learner["agents"].items() if key.startswith(prefix)}
    return DiceGRUPolicy(name, game.name, params, coin_shared_as(cfg, game))


def _loqa(name: str, cfg: DictConfig, learner: dict[str, Any], game: GameSpec) -> LeaguePolicy:
    """LOQA: the actor (tabular on the IPD, GRU on the Coin Game), every seed (ensemble member)."""
    prefix = "actor_network_params."
    state = {key[len(prefix):]: value for key, value in learner["loss"].items() if key.startswith(prefix)}
    return _loqa_nets_actor(name, cfg, state, game)


def _advantage_alignment(name: str, cfg: DictConfig, learner: dict[str, Any], game: GameSpec) -> LeaguePolicy:
    """AA / PAA: agent 1's actor, a :mod:`oppshape.modules.loqa_nets` network like LOQA's, every seed."""
    return _loqa_nets_actor(name, cfg, learner["agents"][0]["actor"], game)


def _loqa_nets_actor(name: str, cfg: DictConfig, state: dict[str, Any], game: GameSpec) -> LeaguePolicy:
    """An ensemble actor of :mod:`oppshape.modules.loqa_nets` rebuilt from its state dict (sizes from the shapes)."""
    if "table" in state:
        members, num_states, num_actions = state["table"].shape
        actor: torch.nn.Module = TabularActor(num_states, num_actions, members)
    else:
        members, num_actions, hidden_size = state["head.weight"].shape
        layers = sum(1 for key in state if key.startswith("pre.") and key.endswith(".weight"))
        actor = GRUNet((4, game.height, game.width), num_actions, hidden_size, layers, time_input=False,
                       num_members=members)
    actor.load_state_dict(state)
    return LoqaActorPolicy(name, game.name, actor, members, coin_shared_as(cfg, game))


#: family (``oppshape.config.ALGORITHM_FAMILIES``) -> adapter building its league policy.
FAMILY_LOADERS: dict[str, Callable[[str, DictConfig, dict[str, Any], GameSpec], LeaguePolicy]] = {
    "exact_ipd": _exact_ipd, "dice": _dice, "loqa": _loqa, "advantage_alignment": _advantage_alignment,
}


def read_run(run_dir: Path, game: GameSpec) -> DictConfig:
    """The run's config, checked to be a supported family of ``game`` (before any checkpoint is read)."""
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError(f"entrant {str(run_dir)!r} is neither a strategy nor a run directory (no config.yaml)")
    cfg = OmegaConf.load(run_dir / "config.yaml")
    algo = str(cfg.algo.name)
    family = ALGORITHM_FAMILIES.get(algo)
    if family not in FAMILY_LOADERS:
        supported = sorted(a for a, f in ALGORITHM_FAMILIES.items() if f in FAMILY_LOADERS)
        raise ConfigError(f"entrant {str(run_dir)!r}: algo {algo!r} (family {family}) cannot join a league; "
                          f"supported algos: {', '.join(supported)}")
    played, board = run_game(cfg)
    if played != game.name:
        raise ConfigError(f"entrant {str(run_dir)!r} was trained on {played}, the league plays {game.name}")
    if board is not None and board != (game.height, game.width):
        raise ConfigError(f"entrant {str(run_dir)!r} was trained on a {board[0]}x{board[1]} board, "
                          f"the league plays {game.height}x{game.width}")
    if not (run_dir / "checkpoints" / "last.pt").is_file():
        raise ConfigError(f"entrant {str(run_dir)!r} has no checkpoints/last.pt")
    return cfg


def load_run(run_dir: Path, game: GameSpec, name: str | None = None) -> LeaguePolicy:
    """The run's agent (agent 1 of two-agent families) as a frozen league policy, all its seeds."""
    cfg = read_run(run_dir, game)
    learner = load_checkpoint(run_dir / "checkpoints")["learner"]
    family = ALGORITHM_FAMILIES[str(cfg.algo.name)]
    return FAMILY_LOADERS[family](name or str(cfg.name), cfg, learner, game)
