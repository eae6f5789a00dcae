"""Scripted teams on VMAS transport with the 9 discrete actions the learners use: why is the task hard to learn?

``scripted``: every agent walks to a point behind the package (on the far side from the goal), then pushes
towards the goal; the wanted direction is rounded to the nearest of the 8 moves. It shows the action space can
solve the task. The other teams are the policies a learner passes on its way there: ``random`` (uniform),
``still`` (always the no-op), ``chase`` (walk straight at the package and keep pushing: the first thing a policy
that "uses" the package learns) and ``push_if_behind`` (chase only when already on the far side, else stand
still: what a one-step improvement over ``still`` can find). Prints the mean episode return per agent over
``--envs`` episodes for each, on the experiment's task settings (configs/experiment/coma_transport.yaml).

    python scripts/transport_heuristic.py --envs 300 --seed 0
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch

from vmas_scripted import discrete_move, play, still_action, unit

from oppshape.cli import compose
from oppshape.envs import make_env

BEHIND = 0.12  # how far behind the package's centre an agent lines up (package half-width 0.075 + agent 0.03)


def task_kwargs() -> dict:
    """The transport scenario's arguments exactly as ``experiment=coma_transport`` sets them."""
    return dict(compose(["experiment=coma_transport"]).env.scenario_kwargs)


def heuristic_action(observation: torch.Tensor) -> torch.Tensor:
    """Observation ``[..., n, 11]`` (pos, vel, package - goal, package - agent, package vel, on goal) -> action."""
    position, package_from_goal, package_from_agent = observation[..., 0:2], observation[..., 4:6], observation[..., 6:8]
    package = position + package_from_agent
    goal = package - package_from_goal
    to_behind = package + unit(package_from_goal) * BEHIND - position
    lined_up = to_behind.norm(dim=-1, keepdim=True) <= 0.06
    return discrete_move(torch.where(lined_up, goal - position, to_behind))


def chase_action(observation: torch.Tensor) -> torch.Tensor:
    return discrete_move(observation[..., 6:8])


def push_if_behind_action(observation: torch.Tensor) -> torch.Tensor:
    """Chase when the package lies between the agent and the goal (within 45 degrees), else stand still."""
    towards_goal = -unit(observation[..., 4:6])
    behind = (unit(observation[..., 6:8]) * towards_goal).sum(-1) > 0.7
    return torch.where(behind, chase_action(observation), still_action(observation))


TEAMS: dict[str, Callable[[torch.Tensor], torch.Tensor] | None] = {
    "random": None, "still": still_action, "chase": chase_action, "push_if_behind": push_if_behind_action,
    "scripted": heuristic_action,
}


def mean_return(envs: int, seed: int, team: str, steps: int = 100) -> float:
    """Mean episode return per agent of ``team`` (a key of TEAMS) over ``envs`` episodes of ``steps`` steps."""
    if team not in TEAMS:
        raise ValueError(f"team={team!r} is not one of {sorted(TEAMS)}")
    policy = TEAMS[team]
    env = make_env("vmas", scenario="transport", num_envs=envs, max_steps=steps, seed=seed, **task_kwargs())
    return float(play(env, policy, steps)[0].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    returns = {team: mean_return(args.envs, args.seed, team) for team in TEAMS}
    print(f"mean return per agent, {args.envs} episodes of 100 steps: "
          + "; ".join(f"{team} {value:+.3f}" for team, value in returns.items()))


if __name__ == "__main__":
    main()
