"""Config schemas, declared once and validated once (ground floor: imports nothing above it).

``validation``: the one helper set (``require``, ``check_choice``, ``check_section``); ``run``: trainer and
logger schemas, the algorithm -> family map and ``validate``; ``envs``: one schema per env;
``<family>``: each family's algorithm schemas.
"""

from oppshape.config.run import (
    ALGORITHM_FAMILIES,
    LoggerConfig,
    RunConfig,
    TrainerConfig,
    family_of,
    family_schemas,
    validate,
)
from oppshape.config.validation import ConfigError, check_choice, check_section, require

__all__ = [
    "ALGORITHM_FAMILIES",
    "ConfigError",
    "LoggerConfig",
    "RunConfig",
    "TrainerConfig",
    "check_choice",
    "check_section",
    "family_of",
    "family_schemas",
    "require",
    "validate",
]
