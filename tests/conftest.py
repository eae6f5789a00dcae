"""Shared test settings: one CPU thread (faster for small ops on the 2-core CI) and fixed seeds."""

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
