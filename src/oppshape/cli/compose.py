"""Composing ``configs/`` the way the command line does (Hydra's compose API), without creating anything."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

CONFIG_DIR = Path(__file__).resolve().parents[3] / "configs"


def compose(overrides: list[str], with_hydra: bool = False) -> DictConfig:
    """The composed config for ``overrides``, as the command line would build it; ``with_hydra`` keeps
    Hydra's own ``hydra`` node (its run and sweep folders)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=overrides, return_hydra_config=with_hydra)


def default_run_dir(overrides: list[str]) -> tuple[DictConfig, Path]:
    """The composed config (without its ``hydra`` node) and Hydra's run folder for it (``hydra.run.dir``,
    ``runs/<name>/<time>`` unless overridden)."""
    cfg = compose(overrides, with_hydra=True)
    run_dir = Path(str(OmegaConf.select(cfg, "hydra.run.dir")))
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, run_dir
