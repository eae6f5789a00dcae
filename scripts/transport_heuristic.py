"""A scripted team on VMAS transport with the 9 discrete actions the learners use: can the action space solve it?

Every agent walks to a point behind the package (on the far side from the goal), then pushes towards the goal;
the wanted direction is rounded to the nearest of the 8 moves. Prints the mean episode return per agent over
``--envs`` episodes next to a uniformly random team's, on the experiment's task settings
(configs/experiment/coma_transport.yaml).

    python scripts/transport_heuristic.py --envs 300 --seed 0
"""

from __future__ import annotations

import argparse

import torch

from oppshape.cli import compose
from oppshape.envs.vmas_factory import make_vmas_env

BEHIND = 0.12  # how far behind the package's centre an agent lines up (package half-width 0.075 + agent 0.03)


def task_kwargs() -> dict:
    """The transport scenario's arguments exactly as ``experiment=coma_transport`` sets them."""
    return dict(compose(["experiment=coma_transport"]).env.scenario_kwargs)


def discrete_move(direction: torch.Tensor) -> torch.Tensor:
    """``[..., 2]`` wanted direction -> VMAS flat action ``3 * x + y`` with 0 = stay, 1 = minus, 2 = plus per axis."""
    unit = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    per_axis = torch.where(unit > 0.3, 2, torch.where(unit < -0.3, 1, 0))
    return per_axis[..., 0] * 3 + per_axis[..., 1]


def heuristic_action(observation: torch.Tensor) -> torch.Tensor:
    """Observation ``[..., n, 11]`` (pos, vel, package - goal, package - agent, package vel, on goal) -> action."""
    position, package_from_goal, package_from_agent = observation[..., 0:2], observation[..., 4:6], observation[..., 6:8]
    package = position + package_from_agent
    goal = package - package_from_goal
    away = package_from_goal / package_from_goal.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    to_behind = package + away * BEHIND - position
    lined_up = to_behind.norm(dim=-1, keepdim=True) <= 0.06
    return discrete_move(torch.where(lined_up, goal - position, to_behind))


def mean_return(envs: int, seed: int, scripted: bool, steps: int = 100) -> float:
    env = make_vmas_env("transport", num_envs=envs, max_steps=steps, seed=seed, **task_kwargs())
    td = env.reset()
    total = torch.zeros(envs)
    for _ in range(steps):
        if scripted:
            td["agents", "action"] = heuristic_action(td["agents", "observation"])
        else:
            td = env.rand_action(td)
        td = env.step(td)
        total += td["next", "agents", "reward"][:, 0, 0]
        td = td["next"]
    return float(total.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    print(f"scripted team: {mean_return(args.envs, args.seed, True):+.3f} per agent; "
          f"random team: {mean_return(args.envs, args.seed, False):+.3f} ({args.envs} episodes of 100 steps)")


if __name__ == "__main__":
    main()
