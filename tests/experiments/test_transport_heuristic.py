"""scripts/transport_heuristic.py: scripted transport teams (the action space can solve the task; chasing hurts)."""

import pytest
import torch
from script_loader import load_script


def _load():
    return load_script("transport_heuristic")


def test_task_is_the_experiments() -> None:
    assert _load().task_kwargs() == {"n_agents": 4, "n_packages": 1, "package_width": 0.15, "package_length": 0.15,
                                     "package_mass": 50}


def test_scripted_team_beats_random() -> None:
    script = _load()
    torch.manual_seed(0)
    assert script.mean_return(40, 0, "scripted") > 0.5 > script.mean_return(40, 0, "random")


def test_chasing_the_package_is_worse_than_standing_still() -> None:
    """The deceptive first step: pushing a package from wherever you stand moves it away from the goal."""
    script = _load()
    assert script.mean_return(40, 0, "still") == 0.0
    assert script.mean_return(40, 0, "chase") < -1.0


def test_unknown_team_is_refused() -> None:
    with pytest.raises(ValueError, match="'pusher'.*chase"):
        _load().mean_return(4, 0, "pusher")
