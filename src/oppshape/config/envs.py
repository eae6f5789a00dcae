"""One schema per env, shared by every family that plays it (``configs/env/<name>.yaml`` holds its defaults).

How many envs run side by side (``num_envs``, ``eval_envs``) is a setting of the algorithm's data
collection, not of the game, so it lives in the algorithm schemas. A family lists the envs it plays in its
``config/<family>.py`` (``ENV_SCHEMAS``); ``kwargs()`` gives the arguments of ``envs.make_env(name, ...)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from oppshape.config.validation import check_choice, require
from oppshape.games.tables import GAME_NAMES, MEMORY_KINDS, PAYOFF_NAMES

VMAS_SCENARIOS: tuple[str, ...] = ("navigation", "balance", "transport", "simple_spread", "give_way")


def _check_payoff(payoff: str, cf: Optional[float]) -> None:
    check_choice("env.payoff", payoff, PAYOFF_NAMES)
    if payoff == "ipd_cf":
        require(cf is not None and 1.0 < cf < 2.0, "env.cf", cf, "a contribution factor in (1, 2) for payoff=ipd_cf")


@dataclass
class IpdExactEnvConfig:
    """The analytic infinitely repeated IPD (closed-form values, ``games.exact``): a payoff table and a
    discount, no simulator (POLA paper, Section 5.1)."""

    name: str = "ipd_exact"
    payoff: str = "ipd_cf"  # payoff preset, one of oppshape.games.PAYOFF_NAMES
    cf: float = 1.33  # contribution factor in (1, 2); used by payoff=ipd_cf only
    gamma: float = 0.96  # discount in (0, 1); the reference uses 0.96

    def __post_init__(self) -> None:
        _check_payoff(self.payoff, self.cf)
        require(0.0 < self.gamma < 1.0, "env.gamma", self.gamma, "a discount in (0, 1)")


@dataclass
class MatrixGameEnvConfig:
    """``IteratedMatrixGame``: a 2x2 game (IPD by default) repeated for a fixed number of steps."""

    name: str = "iterated_matrix_game"
    payoff: str = "ipd"  # payoff preset, one of oppshape.games.PAYOFF_NAMES
    cf: Optional[float] = None  # contribution factor in (1, 2), for payoff=ipd_cf only
    episode_length: int = 50  # steps per episode (truncation)

    def __post_init__(self) -> None:
        _check_payoff(self.payoff, self.cf)
        require(self.episode_length >= 1, "env.episode_length", self.episode_length, "an integer >= 1")

    def kwargs(self) -> dict[str, Any]:
        return {"payoff": self.payoff, "cf": self.cf if self.payoff == "ipd_cf" else None,
                "episode_length": self.episode_length}


@dataclass
class CoinGameEnvConfig:
    """The two-agent Coin Game on a ``height x width`` torus."""

    name: str = "coin_game"
    height: int = 3  # board rows (>= 2; the papers use 3, LOQA up to 7)
    width: int = 3  # board columns (>= 2)
    episode_length: int = 50  # steps per episode
    egocentric: bool = True  # each agent sees [me, other, my coin, other's coin]; false: POLA's shared view

    def __post_init__(self) -> None:
        for key in ("height", "width"):
            require(getattr(self, key) >= 2, f"env.{key}", getattr(self, key), "an integer >= 2")
        require(self.episode_length >= 1, "env.episode_length", self.episode_length, "an integer >= 1")

    def kwargs(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if key != "name"}


@dataclass
class SwitchEnvConfig:
    """The switch riddle (DIAL paper, Sec. 6.1); an episode lasts ``4 n - 6`` days."""

    name: str = "switch"
    n_agents: int = 3  # prisoners, >= 2
    communication: bool = True  # the one-bit channel (false: COMA's recurrent sanity case without it)

    def __post_init__(self) -> None:
        require(self.n_agents >= 2, "env.n_agents", self.n_agents, "an integer >= 2")

    def kwargs(self) -> dict[str, Any]:
        return {"n_agents": self.n_agents, "communication": self.communication}


@dataclass
class StackelbergQueryEnvConfig:
    """``StackelbergQueryGame``: iterated 2x2 games where the follower first answers the leader's queries."""

    name: str = "stackelberg_query"
    games: list[str] = field(default_factory=lambda: ["prisoners_dilemma"])  # games played side by side
    memory: str = "full"  # none | small (other's last action) | full (last joint action)
    episode_length: int = 10  # play steps per episode (paper: 10 with full memory, 5 with small)
    reward_offset: float = -2.5  # added to every play-step reward (paper: -2.5)
    tell_leader: bool = False  # the leader observes whether it is answering a query

    def __post_init__(self) -> None:
        require(bool(self.games), "env.games", list(self.games), f"a non-empty list of {', '.join(GAME_NAMES)}")
        for game in self.games:
            check_choice("env.games[]", game, GAME_NAMES)
        require(len(set(self.games)) == len(self.games), "env.games", list(self.games),
                "each game once (use algo.num_seeds for repeats)")
        check_choice("env.memory", self.memory, MEMORY_KINDS)
        require(self.episode_length >= 1, "env.episode_length", self.episode_length, "an integer >= 1")

    def kwargs(self) -> dict[str, Any]:
        return {"games": list(self.games), "memory": self.memory, "episode_length": self.episode_length,
                "reward_offset": self.reward_offset, "tell_leader": self.tell_leader}


@dataclass
class VmasEnvConfig:
    """A VMAS task (``envs.vmas_factory``), discrete actions unless ``continuous_actions``."""

    name: str = "vmas"
    scenario: str = "navigation"  # navigation | balance | transport | simple_spread | give_way
    max_steps: int = 100  # episode horizon (truncation)
    scenario_kwargs: dict[str, Any] = field(default_factory=dict)  # VMAS scenario arguments, e.g. n_agents
    continuous_actions: bool = False  # VMAS's native force actions (MAPPO / IPPO only; COMA needs discrete)

    def __post_init__(self) -> None:
        check_choice("env.scenario", self.scenario, VMAS_SCENARIOS)
        require(self.max_steps >= 1, "env.max_steps", self.max_steps, "an integer >= 1")

    def kwargs(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "max_steps": self.max_steps,
                "continuous_actions": self.continuous_actions, **dict(self.scenario_kwargs)}


ENV_SCHEMAS: dict[str, type] = {
    schema.name: schema
    for schema in (IpdExactEnvConfig, MatrixGameEnvConfig, CoinGameEnvConfig, SwitchEnvConfig,
                   StackelbergQueryEnvConfig, VmasEnvConfig)
}


def env_schemas(*names: str) -> dict[str, type]:
    """The schemas of the envs a family plays, for its ``ENV_SCHEMAS``."""
    return {name: ENV_SCHEMAS[name] for name in names}
