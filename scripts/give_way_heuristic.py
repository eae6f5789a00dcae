"""Scripted teams on VMAS give_way with the 9 discrete actions the learners use: what return can 100 steps give?

The two agents start 4.29 from their goals at opposite ends of a corridor too narrow to pass in; the only
place to pass is a hole one agent wide above the corridor's middle. The team return (each agent gets it) is
the two agents' summed progress towards their goals. An agent moves at most v_range x dt = 0.025 per step
(~2.25 in 100 steps: the velocity controller takes ~20 steps to reach full speed), so neither can reach its
goal, and the one that yields reaches the hole's axis only after ~90 steps, too late to climb into it and let
the other pass before step 100. Without a pass the summed progress is at most 4.0 less the two radii (0.32)
by which the agents cannot overlap: 3.68. Teams: ``random`` (uniform), ``still`` (always the no-op),
``straight`` (both walk straight at their goals until they meet) and ``give_way`` (agent 1 walks to the hole
and steps up into it, agent 0 waits short of the hole until it has, passes underneath, and agent 1 comes back
down and walks on; scripted from both positions, which the agents themselves do not observe). Prints the
mean episode return per agent over ``--envs`` episodes for each, on the experiment's settings
(configs/experiment/coma_give_way.yaml); ``--steps 200`` gives the yield time to pay.

    python scripts/give_way_heuristic.py --envs 300 --seed 0
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from vmas_scripted import discrete_move, play, still_action

from oppshape.cli import compose
from oppshape.envs import make_env

HOLE_CENTRE_Y = 0.42  # the hole spans y 0.2 .. 0.68; an agent (radius 0.16) inside it clears the corridor
CLEAR = 0.34  # centre distance at which two agents (radius 0.16 each) no longer touch, with a margin
ALIGNED = 0.03  # the hole is 0.4 wide, an agent 0.32: its centre must be within 0.04 of the hole's axis x = 0


def task_kwargs() -> dict:
    """The give_way scenario's arguments exactly as ``experiment=coma_give_way`` sets them."""
    return dict(compose(["experiment=coma_give_way"]).env.scenario_kwargs)


def max_steps() -> int:
    return int(compose(["experiment=coma_give_way"]).env.max_steps)


def _toward(
    target_x: torch.Tensor, position: torch.Tensor, target_y: torch.Tensor | float | None = None
) -> torch.Tensor:
    """Direction ``[B, 2]`` from ``position`` to ``(target_x, target_y)`` (``None``: along x only); each axis
    zero once within ``ALIGNED``, so a move along one axis is not turned into a diagonal by a small offset."""
    target_y = position[:, 1] if target_y is None else target_y
    direction = torch.stack([target_x - position[:, 0], target_y - position[:, 1]], dim=-1)
    return torch.where(direction.abs() > ALIGNED, direction, torch.zeros_like(direction))


def straight_action(observation: torch.Tensor) -> torch.Tensor:
    """Agent 0 walks right (+x), agent 1 left (-x), whatever is in the way."""
    direction = torch.zeros(observation.shape[:-1] + (2,))
    direction[:, 0, 0], direction[:, 1, 0] = 1.0, -1.0
    return discrete_move(direction)


def give_way_action(observation: torch.Tensor) -> torch.Tensor:
    """Observation ``[B, 2, 4]`` (pos, vel per agent) -> actions ``[B, 2]``: agent 1 yields through the hole."""
    blue, green = observation[:, 0, 0:2], observation[:, 1, 0:2]
    passed = blue[:, 0] > green[:, 0] + CLEAR
    green_up = green[:, 1] > CLEAR
    far = torch.full_like(blue[:, 0], 10.0)
    # agent 0: wait short of the hole until agent 1 is up in it, then walk on
    blue_direction = _toward(torch.where(green_up | passed, far, -CLEAR), blue)
    # agent 1: over the hole's axis, up into it; once passed, down to the corridor and on to its goal
    in_corridor = green[:, 1] < 0.1
    to_axis = _toward(torch.zeros_like(far), green)
    to_hole = _toward(torch.zeros_like(far), green, HOLE_CENTRE_Y)
    waiting = torch.where((in_corridor & (to_axis[:, 0] != 0)).unsqueeze(-1), to_axis, to_hole)
    leaving = torch.where(in_corridor.unsqueeze(-1), _toward(-far, green), _toward(green[:, 0], green, 0.0))
    green_direction = torch.where(passed.unsqueeze(-1), leaving, waiting)
    return discrete_move(torch.stack([blue_direction, green_direction], dim=1))


TEAMS: dict[str, Callable[[torch.Tensor], torch.Tensor] | None] = {
    "random": None, "still": still_action, "straight": straight_action, "give_way": give_way_action,
}


def rollout(envs: int, seed: int, team: str, steps: int | None = None) -> tuple[float, torch.Tensor]:
    """Mean episode return per agent of ``team`` (a key of TEAMS) over ``envs`` episodes of ``steps`` steps
    (default: the experiment's), and the final positions ``[envs, 2, 2]``."""
    if team not in TEAMS:
        raise ValueError(f"team={team!r} is not one of {sorted(TEAMS)}")
    policy = TEAMS[team]
    steps = max_steps() if steps is None else steps
    env = make_env("vmas", scenario="give_way", num_envs=envs, max_steps=steps, seed=seed, **task_kwargs())
    total, last = play(env, policy, steps)
    return float(total.mean()), last["agents", "observation"][..., 0:2]


def mean_return(envs: int, seed: int, team: str, steps: int | None = None) -> float:
    return rollout(envs, seed, team, steps)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="episode length (default: the experiment's)")
    args = parser.parse_args()
    steps = max_steps() if args.steps is None else args.steps
    torch.manual_seed(args.seed)
    returns = {team: mean_return(args.envs, args.seed, team, steps) for team in TEAMS}
    print(f"mean return per agent, {args.envs} episodes of {steps} steps: "
          + "; ".join(f"{team} {value:+.3f}" for team, value in returns.items()))


if __name__ == "__main__":
    main()
