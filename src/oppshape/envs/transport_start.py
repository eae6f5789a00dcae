"""VMAS transport with a start-state curriculum: some episodes start with the agents next to the package.

Transport is deceptive from a random start (docs/RESULTS.md): agents that spawn anywhere in the arena rarely
reach the package, and the obvious way to use it (walk at it and push) moves it away from the goal. Starting
a share of the training episodes with the team around the package makes the reward of each push frequent
and lets a learner find "push from behind" before it has to find "walk round, then push". The share is
annealed to zero (``start_share``), so training ends on the unchanged task, and evaluation always runs the
unchanged task. The package, goal, rewards and observations are VMAS's own; only agent start positions move.
"""

from __future__ import annotations

import math

import torch
from vmas.scenarios.transport import Scenario as TransportScenario


class TransportNearStart(TransportScenario):
    """VMAS transport whose resets put, in a ``near_share`` of the reset envs, every agent at a uniform angle
    and a uniform gap in ``[0, near_radius]`` from the edge of the package (the circle round its corners);
    an agent whose draw falls outside the arena keeps VMAS's start. Agents may touch each other at the start
    (the physics separates them in the first steps).

    ``near_share`` is set from outside between batches (``start_share``); 0 is exactly VMAS's transport.
    Draws use torch's RNG, which VMAS swaps for its own around every reset, so resets stay seeded and are
    captured by checkpoints like the rest of the simulator.
    """

    near_share: float = 0.0
    near_radius: float = 0.25

    def reset_world_at(self, env_index: int | None = None) -> None:
        super().reset_world_at(env_index)
        if self.near_share <= 0.0:
            return
        package = self.packages[0]
        centre = package.state.pos if env_index is None else package.state.pos[env_index].unsqueeze(0)
        batch = centre.shape[0]
        near = torch.rand(batch, device=centre.device) < self.near_share
        inner = package.shape.circumscribed_radius() + self.agent_radius
        for agent in self.world.agents:
            angle = torch.rand(batch, device=centre.device) * 2 * math.pi
            gap = inner + torch.rand(batch, device=centre.device) * self.near_radius
            offset = torch.stack([angle.cos(), angle.sin()], dim=-1) * gap.unsqueeze(-1)
            start = centre + offset
            inside = start.abs().amax(-1) <= self.world_semidim  # else keep VMAS's start (package by a wall)
            current = agent.state.pos if env_index is None else agent.state.pos[env_index].unsqueeze(0)
            start = torch.where((near & inside).unsqueeze(-1), start, current)
            agent.set_pos(start if env_index is None else start.squeeze(0), batch_index=env_index)


def start_share(frames: int, curriculum_frames: int) -> float:
    """Share of near-package starts after ``frames`` training frames: 1 at the start, linearly down to 0 at
    ``curriculum_frames`` (0: no curriculum)."""
    if curriculum_frames <= 0:
        return 0.0
    return max(0.0, 1.0 - frames / curriculum_frames)
