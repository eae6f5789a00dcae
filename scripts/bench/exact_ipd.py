"""Exact LOLA / POLA on the analytic IPD: seed-updates per second, vectorized vs ``higher`` backend."""

from __future__ import annotations

import time

import torch

from oppshape.config.exact_ipd import LolaConfig, PolaConfig
from oppshape.experiments.exact_ipd import make_learner
from oppshape.games.payoffs import payoff_table


def _rate(algo: LolaConfig | PolaConfig, epochs: int, repeats: int, device: torch.device) -> tuple[float, float]:
    """Best of ``repeats`` (wall, process CPU) seed-steps per second: seeds x agents x outer steps per update."""
    torch.manual_seed(0)
    learner = make_learner(algo, payoff_table("ipd_cf", cf=1.33), 0.96, device)
    learner.update(None)  # warm-up
    best_wall, best_cpu = 0.0, 0.0
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        wall, cpu = time.perf_counter(), time.process_time()
        steps = 0.0
        for _ in range(epochs):
            metrics = learner.update(None)
            steps += metrics["outer_steps_agent1"] + metrics["outer_steps_agent2"]
        if device.type == "cuda":
            torch.cuda.synchronize()
        work = algo.num_seeds * steps
        best_wall = max(best_wall, work / (time.perf_counter() - wall))
        best_cpu = max(best_cpu, work / (time.process_time() - cpu))
    return best_wall, best_cpu


def run(quick: bool) -> str:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the ops are tiny: one thread is fastest on a small shared CPU
    try:
        return _table(quick)
    finally:
        torch.set_num_threads(threads)


def _table(quick: bool) -> str:
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    seed_counts = (20, 1000)
    lines = [
        "## Exact LOLA / POLA on the analytic IPD (`ExactShapingLearner`)",
        "",
        "Seed-steps per second: one agent's outer step (opponent's differentiable look-ahead, exact",
        "value, gradient, update) for one seed counts 1; an exact-LOLA epoch is 2 per seed. POLA runs a",
        "fixed 20 outer steps per agent (threshold 1e-30) so every backend does the same work. All seeds",
        "of a configuration are one batch. One torch thread; best of 3 timed repeats (1 with --quick). CPU",
        "time is the process's; wall time is sensitive to other jobs on the machine.",
        "",
        "| device | algo | policy | backend | seeds | seed-steps/s (wall) | seed-steps/s (CPU) |",
        "|---|---|---|---|---|---|---|",
    ]
    for device in devices:
        for seeds in seed_counts:
            for parameterization in ("tabular", "nn"):
                for backend in ("vectorized", "higher"):
                    common = dict(parameterization=parameterization, num_seeds=seeds, backend=backend, inner_lr=0.3,
                                  outer_lr=0.05)
                    configs = {
                        "LOLA": (LolaConfig(**common), 10 if quick else 50),
                        "POLA": (PolaConfig(outer_beta=0.1, outer_max_iters=20, outer_threshold=1e-30, **common),
                                 1 if quick else 3),
                    }
                    for name, (algo, epochs) in configs.items():
                        wall, cpu = _rate(algo, epochs, 1 if quick else 3, device)
                        lines.append(f"| {device.type} | {name} | {parameterization} | {backend} | {seeds} "
                                     f"| {wall:,.0f} | {cpu:,.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick=True))
