"""The GPU bench of ``make gpu-check``: env steps/s at 2^16..2^20 envs, the Coin Game with GRU policies in the
loop, and one POLA-DiCE outer step, LOQA iteration and DIAL epoch, all on ``device``.

Named with a leading underscore so ``make bench`` (CPU rows) does not pick it up; ``scripts/gpu_check.py``
loads it. Reuses the CPU bench modules' configurations (``loqa.IPD`` / ``loqa.ENVS``) and DIAL's timer.
Every row is checked against ``deadline`` (``time.perf_counter()`` seconds) and written as "skipped (time cap)"
once it has passed, so the whole check stays inside its time budget.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch
from bench import load_module
from omegaconf import OmegaConf

from oppshape.config import LoggerConfig, RunConfig, TrainerConfig, check_section
from oppshape.config.dice import PolaDiceConfig
from oppshape.config.loqa import ENV_SCHEMAS, LOQAConfig
from oppshape.envs import make_env
from oppshape.experiments.loqa import build as build_loqa
from oppshape.learners.pola_dice import POLADiCE
from oppshape.objectives.dice_lookahead import detached

ENV_SIZES = (2**16, 2**18, 2**20)
SKIPPED = "skipped (time cap)"
LOQA_ALGO = Path(__file__).resolve().parents[2] / "configs" / "algo" / "loqa.yaml"


def seconds_per_call(step: Callable[[], None], repeats: int, device: torch.device) -> float:
    """Wall seconds per call of ``step`` after one warm-up call, synchronizing CUDA around the timed calls."""
    step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - started) / repeats


def env_steps(name: str, num_envs: int, device: torch.device, repeats: int) -> dict[str, float]:
    """Env steps/s of ``name`` (iterated_matrix_game or a 3x3 coin_game): tensor-level ``transition`` +
    ``observe``, TorchRL ``step_and_maybe_reset``, and (Coin Game) both agents' GRU-64 policies in the loop."""
    game = make_env(name, num_envs=num_envs, device=device)
    n_actions = 2 if name == "iterated_matrix_game" else 4
    actions = torch.randint(n_actions, (num_envs, 2), device=device)
    holder = {"state": game.initial_state(num_envs), "td": game.reset().set(("agents", "action"), actions)}

    def tensor_level() -> None:
        holder["state"] = game.transition(holder["state"], actions).state
        game.observe(holder["state"])

    def torchrl_step() -> None:
        _, holder["td"] = game.step_and_maybe_reset(holder["td"])
        holder["td"].set(("agents", "action"), actions)

    rates = {"tensor": num_envs / seconds_per_call(tensor_level, repeats, device),
             "torchrl": num_envs / seconds_per_call(torchrl_step, repeats, device)}
    if name == "coin_game":
        with_policies = load_module("coin_dice").gru_policy_step(game, holder, num_envs, device)
        rates["gru"] = num_envs / seconds_per_call(with_policies, repeats, device)
    return rates


def pola_dice_outer_step(env: str, batch: int, inner_steps: int, device: torch.device) -> float:
    """Seconds per POLA-DiCE outer step (as ``coin_dice._outer_step_seconds``, on ``device``)."""
    torch.manual_seed(0)
    game = (make_env("iterated_matrix_game", payoff="ipd_cf", cf=1.33, device=device) if env == "ipd"
            else make_env("coin_game", egocentric=False, device=device))
    learner = POLADiCE(game, PolaDiceConfig(inner_steps=inner_steps, outer_steps=1, num_envs=batch))
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    return seconds_per_call(lambda: learner.outer_loop(0, *start[0], *start[1]), 1, device)


def loqa_iteration(env: str, device: torch.device, iterations: int) -> float:
    """Seconds per LOQA iteration (collect + update) with ``loqa.py``'s bench settings, on ``device``."""
    loqa = load_module("loqa")
    torch.manual_seed(0)
    algo = OmegaConf.merge(OmegaConf.load(LOQA_ALGO), loqa.IPD if env == "loqa_ipd" else {})
    env_config = OmegaConf.create(loqa.ENVS[env])
    run = RunConfig("gpu_check", 0, str(device), check_section(algo, LOQAConfig, "algo"),
                    check_section(env_config, ENV_SCHEMAS[env_config.name], "env"), TrainerConfig(), LoggerConfig())
    learner = build_loqa(run, device).learner
    return seconds_per_call(lambda: learner.update(learner.collect()), iterations, device)


def run(device: torch.device, deadline: float, log: Callable[[str], None] = print) -> tuple[str, int]:
    """The bench's Markdown (``###`` subsections) and how many rows failed; one row at a time, each row skipped
    past ``deadline``; a row that raises is written as FAILED with the error, and the bench goes on."""
    failures = []

    def timed_row(label: str, measure: Callable[[], str]) -> str:
        started, cells = time.perf_counter(), SKIPPED
        if started <= deadline:
            try:
                cells = measure()
            except Exception as error:  # noqa: BLE001 - reported in the table, the other rows still run
                cells = f"FAILED ({type(error).__name__}: {' '.join(str(error).split())[:120]})"
                failures.append(label)
        log(f"  {label}: {cells} ({time.perf_counter() - started:.1f} s)")
        return f"| {label} | {cells} |"

    def env_cells(name: str, num_envs: int) -> str:
        rates = env_steps(name, num_envs, device, repeats=20)
        return " | ".join(f"{rates[k] / 1e6:,.1f} M/s" if k in rates else "-" for k in ("tensor", "torchrl", "gru"))

    lines = ["### Env steps per second", "",
             "Steps of one env = 1. *tensor*: `transition` + `observe` on tensors (what the DiCE / LOQA / AA rollouts",
             "call); *TorchRL*: `env.step_and_maybe_reset`; *GRU*: tensor-level step with both agents' GRU-64",
             "policies sampling the actions (Coin Game only). 20 timed steps after one warm-up.", "",
             "| env | envs | tensor | TorchRL | GRU in loop |", "|---|---|---|---|---|"]
    for name, label in (("iterated_matrix_game", "IPD"), ("coin_game", "Coin 3x3")):
        for num_envs in ENV_SIZES:
            lines.append(timed_row(f"{label} | {num_envs:,}", lambda: env_cells(name, num_envs)))
    lines += ["", "### One learner step", "", "| step | seconds |", "|---|---|"]
    dial = load_module("communication")._seconds_per_epoch
    steps = [
        ("POLA-DiCE outer step, IPD, batch 2000, 2 inner steps", lambda: pola_dice_outer_step("ipd", 2000, 2, device)),
        ("POLA-DiCE outer step, Coin 3x3, batch 2000, 4 inner steps",
         lambda: pola_dice_outer_step("coin", 2000, 4, device)),
        ("LOQA iteration, IPD, batch 2048", lambda: loqa_iteration("loqa_ipd", device, 3)),
        ("LOQA iteration, Coin 3x3, batch 512, no snapshots", lambda: loqa_iteration("loqa_coin", device, 3)),
        ("DIAL epoch, switch n=3, batch 32", lambda: dial("dial", 3, 32, 20, device)[0]),
        ("DIAL epoch, switch n=3, batch 1024", lambda: dial("dial", 3, 1024, 5, device)[0]),
    ]
    for label, measure in steps:
        lines.append(timed_row(label, lambda: f"{measure():.3f}"))
    return "\n".join(lines), len(failures)
