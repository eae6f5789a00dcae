"""Every family's learner on CUDA: one ``build`` and one ``update`` of a tiny config each (``pytest -m cuda``;
skipped without a GPU by tests/conftest.py). ``make gpu-check`` runs these on a machine with a GPU."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from oppshape.cli import compose
from oppshape.config import validate
from oppshape.experiments.registry import family_module

pytestmark = [pytest.mark.cuda, pytest.mark.filterwarnings("ignore::UserWarning")]

QUIET = ["logger=quiet", "trainer.progress=false"]
DICE = ["algo.num_envs=8", "algo.eval_envs=8", "algo.hidden_size=8", "env.episode_length=4", "algo.outer_steps=1",
        "algo.inner_steps=1"]
COMA = ["algo.frames_per_batch=40", "algo.num_envs=4", "algo.eval_envs=3"]
# family case -> Hydra overrides of a tiny run (the shipped experiment, scaled down)
CASES: dict[str, list[str]] = {
    "exact_ipd": ["experiment=demo", "algo.num_seeds=2", "algo.outer_max_iters=20"],
    "dice": ["experiment=pola_dice_coin", *DICE],
    "loqa": ["experiment=loqa_coin", "env.episode_length=5", "algo.num_envs=4", "algo.actor_hidden_size=8",
             "algo.qvalue_hidden_size=8"],
    "communication": ["experiment=dial_switch_3", "algo.hidden_size=16", "algo.num_envs=4", "algo.eval_envs=8"],
    "coma_matrix": ["experiment=coma_matrix_sanity", "env.episode_length=3", *COMA],
    "coma_vmas": ["algo=coma", "env=vmas", "env.max_steps=6", *COMA],
    "stackelberg": ["experiment=stackelberg_allgames_ppo", "env.games=[chicken]", "algo.num_seeds=2",
                    "algo.ppo_epochs=2", "algo.pretrain_iterations=3", "algo.leader_iterations=3",
                    "algo.post_iterations=2", "trainer.iterations=8"],
    "advantage_alignment": ["experiment=aa_ipd", "algo.num_envs=4", "algo.eval_envs=4", "algo.num_seeds=2",
                            "env.episode_length=5"],
}


def tensors(state: Any) -> list[torch.Tensor]:
    """Every tensor in a nested ``state_dict`` (dicts, lists, tuples)."""
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, dict):
        state = list(state.values())
    if isinstance(state, (list, tuple)):
        return [t for item in state for t in tensors(item)]
    return []


def build_and_update(overrides: list[str], device: str) -> tuple[dict[str, float], list[torch.Tensor]]:
    """Compose and validate ``overrides`` as the CLI does, build the family's experiment on ``device``, collect
    (when the family collects) and update once; returns the metrics and the learner's state tensors."""
    run = validate(compose([*overrides, f"device={device}", *QUIET]))
    experiment = family_module(run.algo.name).build(run, torch.device(device))
    batch = experiment.collect() if experiment.collect is not None else None
    metrics = experiment.learner.update(batch)
    return metrics, tensors(experiment.learner.state_dict())


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_family_builds_and_updates_on_cuda(case: str) -> None:
    metrics, state = build_and_update(CASES[case], "cuda")
    assert all(torch.isfinite(torch.tensor(float(v))) for k, v in metrics.items() if k.startswith("loss")), metrics
    assert any(t.device.type == "cuda" and t.is_floating_point() for t in state)  # the weights live on the GPU
