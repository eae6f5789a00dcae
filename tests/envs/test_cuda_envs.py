"""Every registered env on CUDA, built through ``make_env`` with its schema's defaults: specs hold and a
rollout stays on the GPU (``pytest -m cuda``; skipped without a GPU by tests/conftest.py)."""

from __future__ import annotations

import pytest
import torch
from torchrl.envs import EnvBase
from torchrl.envs.utils import check_env_specs

from oppshape.config.envs import ENV_SCHEMAS
from oppshape.envs import ENV_CLASSES, make_env

pytestmark = [pytest.mark.cuda, pytest.mark.filterwarnings("ignore::UserWarning")]


def built(name: str, device: str) -> EnvBase:
    """Four envs of ``name`` on ``device``, configured as its ``configs/env`` defaults."""
    return make_env(name, num_envs=4, device=device, **ENV_SCHEMAS[name]().kwargs())


@pytest.mark.parametrize("name", sorted(ENV_CLASSES))
def test_every_env_steps_on_cuda(name: str) -> None:
    env = built(name, "cuda")
    check_env_specs(env)
    rollout = env.rollout(5)
    assert rollout["next", "agents", "reward"].device.type == "cuda"
