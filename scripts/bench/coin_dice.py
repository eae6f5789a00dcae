"""Coin Game env throughput and POLA-DiCE outer-step time (the cost that sizes Figures 4 and 5)."""

from __future__ import annotations

import time
from typing import Callable

import torch

from oppshape.config.dice import PolaDiceConfig
from oppshape.envs import make_env
from oppshape.envs.coin_game import CoinGame
from oppshape.learners.pola_dice import POLADiCE
from oppshape.modules.gru_policy import GRUNet, gru_net_step
from oppshape.objectives.dice_lookahead import detached

REFERENCE_OUTER_STEP_SECONDS = 7.5  # POLA's JAX code, IPD POLA-DiCE outer step at batch 2000, 2-core CPU


def _timed(step: Callable[[], None], repeats: int) -> tuple[float, float]:
    """(wall, process CPU) seconds per call after one warm-up call."""
    step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - wall) / repeats, (time.process_time() - cpu) / repeats


def _env_rates(num_envs: int, side: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Seconds per batched step: tensor-level step, TorchRL ``step_and_maybe_reset``, and with GRU policies."""
    game = CoinGame(num_envs=num_envs, height=side, width=side)
    actions = torch.randint(4, (num_envs, 2))
    holder = {"state": game.initial_state(num_envs)}

    def bare() -> None:
        holder["state"] = game.transition(holder["state"], actions).state
        game.observe(holder["state"])

    td = {"td": game.reset().set(("agents", "action"), actions)}

    def torchrl_step() -> None:
        _, td["td"] = game.step_and_maybe_reset(td["td"])
        td["td"].set(("agents", "action"), actions)

    return {name: _timed(fn, repeats) for name, fn in
            (("bare", bare), ("torchrl", torchrl_step), ("gru", gru_policy_step(game, holder, num_envs)))}


def gru_policy_step(game: CoinGame, holder: dict, num_envs: int, device: str | torch.device = "cpu"
                    ) -> Callable[[], None]:
    """One rollout step with both agents' GRU-64 policies sampling from the observation, then the transition
    (the rollout the speed issue times); ``holder["state"]`` carries the game state between calls."""
    observation_dim = game.observe(holder["state"]).flatten(2).shape[-1]
    policies = [GRUNet(observation_dim, 4, 64).to(device).params() for _ in range(2)]
    hidden = [torch.zeros(1, num_envs, 64, device=device) for _ in range(2)]

    @torch.no_grad()
    def with_policies() -> None:
        observation = game.observe(holder["state"]).flatten(2).unsqueeze(0)  # one seed: [1, N, 2, obs]
        chosen = []
        for i in range(2):
            logits, hidden[i] = gru_net_step(policies[i], observation[:, :, i], hidden[i])
            chosen.append(torch.multinomial(torch.softmax(logits[0], -1), 1).squeeze(-1))
        holder["state"] = game.transition(holder["state"], torch.stack(chosen, -1)).state

    return with_policies


def pola_outer_step(env: str, batch: int, inner_steps: int) -> Callable[[], object]:
    """One POLA-DiCE outer step of agent 0 (inner look-ahead rollouts + outer rollout + Adam step), from fixed
    starting parameters, as a callable (also timed by ``reference_loops``)."""
    torch.manual_seed(0)
    game = (make_env("iterated_matrix_game", payoff="ipd_cf", cf=1.33) if env == "ipd"
            else make_env("coin_game", egocentric=False))
    learner = POLADiCE(game, PolaDiceConfig(inner_steps=inner_steps, outer_steps=1, num_envs=batch))
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    return lambda: learner.outer_loop(0, *start[0], *start[1])


def _outer_step_seconds(env: str, batch: int, inner_steps: int, repeats: int) -> tuple[float, float]:
    """(wall, CPU) seconds per POLA-DiCE outer step: inner look-ahead rollouts + outer rollout + Adam step."""
    return _timed(pola_outer_step(env, batch, inner_steps), repeats)


def run(quick: bool) -> str:
    lines = [
        "## Coin Game and POLA-DiCE (`CoinGame`, `POLADiCE`)",
        "",
        "Env steps per second = games x batched steps / s. *bare*: `CoinGame.transition` + `observe` on tensors",
        "(what the DiCE rollouts call); *TorchRL*: `env.step_and_maybe_reset` with TensorDicts; *GRU*: bare",
        "step with both agents' GRU policies (hidden 64) sampling the actions, no grad. CPU time is the",
        "process's (all threads); wall time depends on the other jobs on the machine.",
        "",
        "| board | games | bare (wall) | bare (CPU) | TorchRL (wall) | GRU in loop (wall) | GRU in loop (CPU) |",
        "|---|---|---|---|---|---|---|",
    ]
    for side in (3, 7):
        for num_envs in (2000, 65536):
            repeats = (20 if num_envs == 2000 else 3) if quick else (200 if num_envs == 2000 else 20)
            rates = _env_rates(num_envs, side, repeats)
            per_s = {name: (num_envs / wall, num_envs / cpu) for name, (wall, cpu) in rates.items()}
            lines.append(
                f"| {side}x{side} | {num_envs} | {per_s['bare'][0] / 1e6:.2f} M/s | {per_s['bare'][1] / 1e6:.2f} M/s | "
                f"{per_s['torchrl'][0] / 1e6:.2f} M/s | {per_s['gru'][0] / 1e6:.2f} M/s | {per_s['gru'][1] / 1e6:.2f} M/s |"
            )
    lines += [
        "",
        "Seconds per POLA-DiCE outer step (one agent: `inner_steps` differentiable look-ahead steps, each on a",
        "fresh rollout of 50 steps, then the outer rollout, the second-order backward and the Adam step), GRU",
        f"hidden 64, batch 2000. Reference: ~{REFERENCE_OUTER_STEP_SECONDS} s for the POLA JAX code (IPD) on a 2-core CPU.",
        "The GRUs' input layers run once per rollout on the game's distinct observations (IPD 5, Coin 3x3",
        "1458; `observation_table`) instead of per game and step; an A/B in one process (3 alternating steps",
        "each, one core) gave 2.9 vs 4.4 s (IPD) and 6.8 vs 10.5 s (Coin). This VM's speed drifts by ~15-25%",
        "over a day and with the other core's load, so compare rows taken together.",
        "",
        "| env | inner steps | batch | s/outer step (wall) | CPU s/outer step | vs reference (wall) |",
        "|---|---|---|---|---|---|",
    ]
    for env, inner_steps in (("ipd", 2), ("coin", 4)):
        batch = 2000
        wall, cpu = _outer_step_seconds(env, batch, inner_steps, 1 if quick else 3)
        lines.append(f"| {env} | {inner_steps} | {batch} | {wall:.2f} | {cpu:.2f} | "
                     f"{REFERENCE_OUTER_STEP_SECONDS / wall:.1f}x |")
    return "\n".join(lines)
