"""Command line of the league: ``python -m oppshape.league [game=coin_game] [entrants=[allc,runs/x]] ...``.

Composes ``configs/league/`` with Hydra, validates it against
:class:`oppshape.eval.league.schema.LeagueConfig`, checks every entrant (strategy name, run directory,
family, game, board) before any rollout, plays the league and writes ``league.json``, ``league.md``,
``league_heatmap.png`` and the resolved ``config.yaml`` into ``out_dir``. Bad input exits with status 2
and one line naming it and the valid choices.
"""

from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from oppshape.config import ConfigError, check_section
from oppshape.eval.league.league_run import run_league
from oppshape.eval.league.schema import LeagueConfig

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "league"


def league(cfg: DictConfig) -> dict:
    """Validate ``cfg`` and run the league; returns the content of ``league.json``."""
    config = check_section(cfg, LeagueConfig, "league")
    Path(config.out_dir).mkdir(parents=True, exist_ok=True)
    (Path(config.out_dir) / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    return run_league(config)


def _entry(cfg: DictConfig) -> None:
    try:
        league(cfg)
    except ConfigError as error:
        print(f"oppshape.league: config error: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"league directory: {cfg.out_dir}")
    print((Path(str(cfg.out_dir)) / "league.md").read_text())


def main() -> None:
    import hydra

    hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")(_entry)()


if __name__ == "__main__":
    main()
