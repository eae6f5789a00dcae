"""oppshape.rng: an isolated block draws from its own seed and leaves every outer stream where it was."""

import random

import numpy as np
import torch

from oppshape.rng import isolated_rng, seed_everything


def _draws() -> tuple[float, float, float]:
    return torch.rand(()).item(), float(np.random.rand()), random.random()


def test_isolated_block_draws_from_its_seed_and_the_outer_streams_do_not_notice() -> None:
    seed_everything(0)
    uninterrupted = [_draws(), _draws()]
    seed_everything(0)
    first = _draws()
    with isolated_rng(7):
        inside = _draws()
    assert [first, _draws()] == uninterrupted
    seed_everything(123)  # another history before the block does not change what the block draws
    with isolated_rng(7):
        assert _draws() == inside
    with isolated_rng(8):
        assert _draws() != inside


def test_isolated_block_seeds_and_restores_vmas_private_generator() -> None:
    from vmas.simulator.environment.environment import Environment, local_seed

    def vmas_draw() -> float:  # what a VMAS reset or step draws from
        with local_seed(Environment.vmas_random_state):
            return torch.rand(()).item()

    seed_everything(0)
    before = Environment.vmas_random_state[0].clone()
    with isolated_rng(7):
        inside = vmas_draw()
    assert torch.equal(Environment.vmas_random_state[0], before)
    vmas_draw()  # the outer VMAS stream moves on; the block's first draw still depends only on its seed
    with isolated_rng(7):
        assert vmas_draw() == inside
