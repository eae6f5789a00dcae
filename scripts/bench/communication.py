"""RIAL / DIAL on the switch riddle: seconds per training epoch (rollout + loss + RMSProp step)."""

from __future__ import annotations

import time

import torch

from oppshape.config.communication import DIALConfig, RIALConfig
from oppshape.config.envs import SwitchEnvConfig
from oppshape.experiments.communication import make_learner

REFERENCE_SECONDS_PER_EPOCH = 0.19  # PyTorch port (learning-to-communicate-pytorch), n=3, batch 32, 2-core CPU


def _seconds_per_epoch(algo: str, n_agents: int, batch: int, epochs: int, device: torch.device) -> tuple[float, float]:
    """(wall, process CPU) seconds per ``learner.update`` after 3 warm-up epochs."""
    schema = DIALConfig if algo == "dial" else RIALConfig
    config = schema(num_envs=batch, eval_envs=batch)
    learner = make_learner(config, SwitchEnvConfig(n_agents=n_agents), device)
    for _ in range(3):
        learner.update(None)
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        learner.update(None)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - wall) / epochs, (time.process_time() - cpu) / epochs


def run(quick: bool) -> str:
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    lines = [
        "## Learned communication: RIAL / DIAL on the switch riddle",
        "",
        "Seconds per training epoch (`CommunicationLearner.update`: roll out `batch` episodes with the",
        "C-Net with the autograd graph, unroll the target network in the loss, backward, RMSProp step).",
        "CPU time is the process's (all threads); wall time also counts waiting for other jobs on the",
        f"machine. The speed-up compares CPU time with the PyTorch port's ~{REFERENCE_SECONDS_PER_EPOCH} s/epoch",
        "(n=3, batch 32, 2-core CPU).",
        "",
        "| device | algo | n | batch | s/epoch (wall) | CPU s/epoch | episodes/s (wall) | speed-up vs port |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for device in devices:
        for batch in (32, 1024):
            epochs = (20 if batch == 32 else 3) if quick else (200 if batch == 32 else 20)
            for algo in ("dial", "rial"):
                for n_agents in (3, 4):
                    wall, cpu = _seconds_per_epoch(algo, n_agents, batch, epochs, device)
                    comparable = batch == 32 and n_agents == 3 and device.type == "cpu"
                    versus = f"{REFERENCE_SECONDS_PER_EPOCH / cpu:.1f}x (CPU)" if comparable else ""
                    lines.append(
                        f"| {device.type} | {algo} | {n_agents} | {batch} | {wall:.4f} | {cpu:.4f} | "
                        f"{batch / wall:,.0f} | {versus} |"
                    )
    return "\n".join(lines)
