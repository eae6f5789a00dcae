"""The league's config schema (``configs/league/``), validated once before anything is loaded or played."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from oppshape.config import check_choice, require
from oppshape.eval.league.games import GAMES, GameSpec
from oppshape.games.payoffs import PAYOFF_NAMES

#: ``best_response.method``: auto = exact where it exists (memory-1 IPD entrants), learned otherwise.
BEST_RESPONSE_METHODS: tuple[str, ...] = ("auto", "exact", "learned", "none")


@dataclass
class GameConfig:
    """The game every pairing plays."""

    name: str = "ipd"  # ipd | coin_game
    payoff: str = "ipd"  # IPD payoff preset (oppshape.games.PAYOFF_NAMES); ipd: CC -1/-1, CD -3/0, DC 0/-3, DD -2/-2
    cf: float = 1.33  # contribution factor, used by payoff=ipd_cf only
    episode_length: int = 50  # steps per episode
    height: int = 3  # Coin Game board rows
    width: int = 3  # Coin Game board columns

    def __post_init__(self) -> None:
        check_choice("game.name", self.name, GAMES)
        check_choice("game.payoff", self.payoff, PAYOFF_NAMES)
        require(self.episode_length >= 1, "game.episode_length", self.episode_length, "an integer >= 1")
        for key in ("height", "width"):
            require(getattr(self, key) >= 2, f"game.{key}", getattr(self, key), "an integer >= 2")

    def spec(self) -> GameSpec:
        return GameSpec(self.name, self.payoff, self.cf if self.payoff == "ipd_cf" else None, self.episode_length,
                        self.height, self.width)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class LearnedConfig:
    """The PPO responder (oppshape.eval.league.learned_best_response)."""

    frames: int = 200_000  # environment steps per responder
    seeds: int = 4  # responders per entrant seed; the best is reported
    episodes: int = 32  # episodes per PPO batch and responder
    hidden_size: int = 16  # width of the responder's dense layer and GRU
    lr: float = 0.01  # Adam step size
    eval_episodes: int = 1000  # episodes per responder in its final evaluation

    def __post_init__(self) -> None:
        for key in ("frames", "seeds", "episodes", "hidden_size", "eval_episodes"):
            require(getattr(self, key) >= 1, f"best_response.learned.{key}", getattr(self, key), "an integer >= 1")
        require(self.lr > 0, "best_response.learned.lr", self.lr, "a number > 0")


@dataclass
class BestResponseConfig:
    """How each entrant's exploitability is measured."""

    method: str = "auto"  # auto (exact for memory-1 IPD entrants, else learned) | exact (skip the rest) | learned | none
    learned: LearnedConfig = field(default_factory=LearnedConfig)

    def __post_init__(self) -> None:
        check_choice("best_response.method", self.method, BEST_RESPONSE_METHODS)


@dataclass
class LeagueConfig:
    """A league: entrants (fixed strategy names or run directories), the game, episodes, best responses."""

    game: GameConfig = field(default_factory=GameConfig)
    entrants: list[str] = field(default_factory=list)  # strategy names or run directories; empty: the game's strategies
    episodes: int = 1000  # episodes per pair of entrant seeds
    seed: int = 0  # seeds every match and responder
    device: str = "cpu"  # cpu | cuda
    threads: int = 1  # torch CPU threads
    out_dir: str = "runs/league/latest"  # where league.json, league.md and the heatmap go
    best_response: BestResponseConfig = field(default_factory=BestResponseConfig)

    def __post_init__(self) -> None:
        require(self.episodes >= 1, "episodes", self.episodes, "an integer >= 1")
        require(self.seed >= 0, "seed", self.seed, "an integer >= 0")
        require(self.threads >= 0, "threads", self.threads, "an integer >= 0")
        check_choice("device", self.device.split(":")[0], ("cpu", "cuda"))
