"""scripts/vmas_scripted.py: the discrete move layout and the rollout the scripted-team scripts share."""

import torch
from script_loader import load_script

from oppshape.envs.vmas_factory import make_vmas_env


def _transport_env(envs: int, steps: int):
    kwargs = load_script("transport_heuristic").task_kwargs()
    return make_vmas_env("transport", num_envs=envs, max_steps=steps, seed=0, **kwargs)


def test_discrete_moves_follow_vmas_action_layout() -> None:
    script = load_script("vmas_scripted")
    env = _transport_env(1, 5)
    directions = torch.tensor([[1.0, 0.0], [0.0, -1.0], [-1.0, 1.0], [0.0, 0.0]])
    td = env.reset()
    td["agents", "action"] = script.discrete_move(directions).unsqueeze(0)
    velocity = env.step(td)["next", "agents", "observation"][0, :, 2:4]
    assert torch.equal(torch.sign(velocity), torch.sign(directions))


def test_play_sums_agent_zeros_reward_per_env_and_returns_the_last_state() -> None:
    script = load_script("vmas_scripted")
    total, last = script.play(_transport_env(3, 4), script.still_action, steps=4)
    assert total.shape == (3,) and torch.equal(total, torch.zeros(3))  # nobody moves the package
    assert last["agents", "observation"].shape[:2] == (3, 4)
