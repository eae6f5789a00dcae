"""IteratedMatrixGame steps per second, bare and with a tabular memory-1 policy in the loop."""

from __future__ import annotations

import time

import torch
from torchrl.envs.utils import step_mdp

from oppshape.envs.iterated_matrix_game import IteratedMatrixGame


def _steps_per_second(num_envs: int, steps: int, device: torch.device, with_policy: bool) -> float:
    env = IteratedMatrixGame(num_envs=num_envs, payoff="ipd", episode_length=10**9, device=device)
    logits = torch.randn(2, 5, 2, device=device)  # per agent, per own-view state, per action
    agent_index = torch.arange(2, device=device)
    fixed_actions = torch.randint(0, 2, (num_envs, 2), device=device)
    td = env.reset()

    def one_step(td):
        if with_policy:
            state = td["agents", "observation"].argmax(-1)  # [B, 2]
            p_cooperate = torch.softmax(logits[agent_index, state], -1)[..., 0]  # [B, 2]
            td["agents", "action"] = (torch.rand_like(p_cooperate) >= p_cooperate).long()
        else:
            td["agents", "action"] = fixed_actions
        return step_mdp(env.step(td), exclude_action=False)

    for _ in range(3):
        td = one_step(td)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        td = one_step(td)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return num_envs * steps / (time.perf_counter() - started)


def run(quick: bool) -> str:
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    sizes = [1024, 16384] if quick else [1024, 16384, 262144]
    lines = [
        "## Iterated matrix game (`IteratedMatrixGame`)",
        "",
        "Env steps per second (one step of one env = 1), through `env.step` + `step_mdp`; "
        "the policy is a tabular memory-1 softmax sampled by comparing uniform noise with P(cooperate).",
        "",
        "| device | num_envs | bare step (steps/s) | with policy (steps/s) |",
        "|---|---|---|---|",
    ]
    for device in devices:
        for num_envs in sizes:
            steps = max(20, min(300, 4_000_000 // num_envs))
            bare = _steps_per_second(num_envs, steps, device, with_policy=False)
            policy = _steps_per_second(num_envs, steps, device, with_policy=True)
            lines.append(f"| {device.type} | {num_envs:,} | {bare:,.0f} | {policy:,.0f} |")
    return "\n".join(lines)
