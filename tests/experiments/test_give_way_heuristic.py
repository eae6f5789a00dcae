"""scripts/give_way_heuristic.py: in 100 steps nobody can pass; with more, the scripted yield does and pays."""

import pytest
import torch
from script_loader import load_script


def _load():
    return load_script("give_way_heuristic")


def test_task_is_the_experiments() -> None:
    script = _load()
    assert script.task_kwargs() == {"mirror_passage": False, "observe_rel_pos": False, "done_on_completion": False,
                                    "final_reward": 0.01}
    assert script.max_steps() == 100


def test_walking_straight_ends_nose_to_nose() -> None:
    """The learners' plateau: summed progress 4.0 less the two radii (0.32) the agents cannot overlap by."""
    script = _load()
    torch.manual_seed(0)
    straight, positions = script.rollout(4, 0, "straight")
    assert 3.4 < straight < 3.7
    gap = positions[:, 1, 0] - positions[:, 0, 0]
    assert bool((gap > 0.3).all()) and bool((gap < 0.5).all())
    assert abs(script.mean_return(4, 0, "random")) < 0.1


def test_the_yield_cannot_finish_in_100_steps_but_pays_in_200() -> None:
    script = _load()
    short, positions = script.rollout(4, 0, "give_way")
    assert bool((positions[:, 0, 0] < positions[:, 1, 0]).all())  # agent 0 still on its own side
    assert short < 3.7
    long, positions = script.rollout(4, 0, "give_way", steps=200)
    assert bool((positions[:, 0, 0] > positions[:, 1, 0] + 1.0).all())  # passed, and both walked on
    assert long > script.mean_return(4, 0, "straight", steps=200) + 1.5


def test_unknown_team_is_refused() -> None:
    with pytest.raises(ValueError, match="'yield'.*give_way"):
        _load().mean_return(4, 0, "yield")
