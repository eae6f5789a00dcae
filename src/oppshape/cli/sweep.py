"""A multirun checked whole before its first job: every combination of the sweep composed and validated.

Hydra's sweeper would start the jobs one by one and meet a bad value (``env.gamma=0.9,1.5``) only when
its job starts, after the others ran; expanding the sweep here with Hydra's own override parser refuses
it before anything runs.
"""

from __future__ import annotations

import itertools

from oppshape.config import ConfigError


def expand(overrides: list[str]) -> list[list[str]]:
    """Every job's override list, in Hydra's basic-sweeper order (the product of the swept values).

    The parser gets a config loader over ``configs/``, as Hydra's sweeper does, so a group sweep such as
    ``experiment=glob(pola_fig3_*)`` expands to the group's matching options.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_config_search_path
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from oppshape.cli.compose import CONFIG_DIR

    loader = ConfigLoaderImpl(config_search_path=create_config_search_path(str(CONFIG_DIR)))
    choices = []
    for override in OverridesParser.create(config_loader=loader).parse_overrides(overrides):
        if override.is_sweep_override():
            key = override.get_key_element()
            choices.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            choices.append([override.input_line])
    return [list(job) for job in itertools.product(*choices)]


def check_jobs(overrides: list[str]) -> int:
    """Compose and validate every job of the sweep; returns how many there are. The first bad job raises
    :class:`ConfigError` naming its overrides."""
    from oppshape.cli.execute import prepare
    from oppshape.cli.compose import compose
    from oppshape.config_errors import describe_composition_error

    jobs = expand([o for o in overrides if not o.startswith("hydra")])
    for job in jobs:
        try:
            compose(job)
        except Exception as error:  # noqa: BLE001 - composition errors come in many Hydra/OmegaConf types
            raise ConfigError(f"job {' '.join(job)}: {describe_composition_error(error, job, compose)}") from None
        try:
            prepare(job)
        except ConfigError as error:
            raise ConfigError(f"job {' '.join(job)}: {error}") from None
    return len(jobs)
