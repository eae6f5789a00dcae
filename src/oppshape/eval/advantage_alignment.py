"""Evaluation, summary and plots of the Advantage Alignment family (IPD and Coin Game).

Each evaluation plays the two trained agents against each other ("self-play": the pair as trained) and
each agent against always-defect and always-cooperate, and reports rewards per step averaged over both
agents. IPD: P(cooperate | memory-1 state) per agent (exact for a tabular actor, the empirical mean of
the policy's P(C) over the self-play steps in each state for a GRU actor), the fraction of seeds that
retaliate (``eval/ipd_metrics.py``). Coin Game: the own-coin rate and LOQA's weak / medium / strong
thresholds on the normalized reward (per-step reward ``x 2 * floor(width / 2)``); ``summary.json`` holds
the wall-clock seconds and iteration of the first evaluation passing each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase
from torch import nn
from torchrl.envs import EnvBase

from oppshape.envs.coin_game import CoinGame
from oppshape.eval.coin_strategies import always_cooperate, always_defect
from oppshape.eval.ipd_metrics import retaliates
# the Coin Game thresholds, their metrics and the seconds-to-threshold summary are LOQA's, so the families compare
from oppshape.eval.loqa import coin_metrics, summarize  # noqa: F401 (summarize: re-exported)
from oppshape.eval.plotting import panels, save
from oppshape.games.exact import STATE_NAMES
from oppshape.modules.loqa_nets import TabularActor
from oppshape.rollouts.advantage_alignment import NetworkSeat, ScriptedSeat, Seat, play_episodes

MetricsHistory = list[dict[str, float]]
COOPERATE, DEFECT = 0, 1


def ipd_strategies(games: int, device: torch.device) -> dict[str, Callable[[TensorDictBase], torch.Tensor]]:
    """Always-defect and always-cooperate in the iterated matrix game: actions ``[games]``."""
    return {
        "alld": lambda state: torch.full((games,), DEFECT, dtype=torch.long, device=device),
        "allc": lambda state: torch.full((games,), COOPERATE, dtype=torch.long, device=device),
    }


def coin_strategies(env: CoinGame, seat: int) -> dict[str, Callable[[TensorDictBase], torch.Tensor]]:
    """Always-defect and always-cooperate (``eval/coin_strategies.py``) playing ``seat`` of the Coin Game."""
    board = (env.height, env.width)

    def scripted(strategy: Callable[..., torch.Tensor]) -> Callable[[TensorDictBase], torch.Tensor]:
        return lambda state: strategy(state["agent_pos"], state["coin_pos"], state["coin_owner"], seat, *board)

    return {"alld": scripted(always_defect), "allc": scripted(always_cooperate)}


def cooperation_by_state(batch: TensorDictBase) -> torch.Tensor:
    """``[S, 5]`` mean P(cooperate) of one seat's policy over its steps in each own-view memory-1 state.

    NaN where a seed never visited the state.
    """
    state = batch["observation"].argmax(-1)  # [S, B, T] index into STATE_NAMES
    coop = batch["policy"][..., COOPERATE]
    visits = torch.nn.functional.one_hot(state, len(STATE_NAMES)).float()  # [S, B, T, 5]
    total = (visits * coop.unsqueeze(-1)).sum((1, 2))
    count = visits.sum((1, 2))
    return torch.where(count > 0, total / count.clamp(min=1), torch.full_like(total, float("nan")))


class AdvantageAlignmentEvaluation:
    """Plays the two agents against each other and against fixed strategies; returns plain floats."""

    def __init__(self, actors: tuple[nn.Module, nn.Module], env: EnvBase, members: int, steps: int) -> None:
        self.actors, self.env, self.members, self.steps = actors, env, members, steps
        self.episodes = env.batch_size[0] // members
        self.coin = isinstance(env, CoinGame)
        self.num_actions = env.n_actions

    def _seat(self, agent: int) -> NetworkSeat:
        return NetworkSeat(self.actors[agent], self.members, self.episodes)

    def _fixed(self, seat: int) -> dict[str, Callable[[TensorDictBase], torch.Tensor]]:
        if self.coin:
            return coin_strategies(self.env, seat)
        return ipd_strategies(self.env.batch_size[0], self.env.device)

    def _play(self, seats: tuple[Seat, Seat]) -> TensorDict:
        return play_episodes(self.env, seats, self.members, self.steps)

    def __call__(self) -> dict[str, float]:
        selfplay = self._play((self._seat(0), self._seat(1)))
        reward = selfplay["next", "reward"].float().mean((2, 3))  # [2, S]
        per_seed = {"vs_self": reward.mean(0)}
        for name in ("alld", "allc"):
            rewards = []
            for agent in (0, 1):  # each agent in its own seat, the fixed strategy in the other
                fixed = ScriptedSeat(self._fixed(1 - agent)[name], self.members, self.num_actions)
                seats: tuple[Seat, Seat] = (self._seat(0), fixed) if agent == 0 else (fixed, self._seat(1))
                rewards.append(self._play(seats)["next", "reward"][agent].float().mean((1, 2)))
            per_seed[f"vs_{name}"] = torch.stack(rewards).mean(0)
        metrics = {f"eval_reward_{key}": float(value.mean()) for key, value in per_seed.items()}
        if self.members > 1:
            for key, value in per_seed.items():
                metrics.update({f"eval_reward_{key}_seed{s}": float(v) for s, v in enumerate(value)})
        metrics.update(self._coin_metrics(selfplay, per_seed) if self.coin else self._ipd_metrics(selfplay))
        return metrics

    def _coin_metrics(self, selfplay: TensorDictBase, per_seed: dict[str, torch.Tensor]) -> dict[str, float]:
        return coin_metrics(selfplay, per_seed, self.env.width)

    def _ipd_metrics(self, selfplay: TensorDictBase) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for agent, actor in enumerate(self.actors):
            if isinstance(actor, TabularActor):
                coop = torch.softmax(actor.table.detach(), dim=-1)[..., COOPERATE]  # [S, 5], exact
            else:
                coop = cooperation_by_state(selfplay[agent])
            mean = coop.nanmean(0)
            for index, state in enumerate(STATE_NAMES):
                metrics[f"p_coop_agent{agent + 1}_{state}"] = float(mean[index])
            metrics[f"eval_retaliating_fraction_agent{agent + 1}"] = float(retaliates(coop).float().mean())
        return metrics


def plot_curves(history: MetricsHistory, plots_dir: Path) -> None:
    """Evaluation rewards over wall-clock time and, on the IPD, each agent's P(cooperate | state)."""
    evals = [row for row in history if "eval_reward_vs_self" in row]
    if not evals:
        return
    seconds = [row["wall_time_s"] for row in evals]
    ipd = "p_coop_agent1_CC" in evals[0]
    figure, axes = panels(3 if ipd else 1)
    for key in ("vs_self", "vs_alld", "vs_allc"):
        axes[0].plot(seconds, [row[f"eval_reward_{key}"] for row in evals], label=key.replace("_", " "))
    if "eval_own_coin_rate" in evals[0]:
        axes[0].plot(seconds, [row["eval_own_coin_rate"] for row in evals], label="own-coin rate", linestyle="--")
    axes[0].set(title="reward per step (seed mean)", xlabel="wall-clock seconds")
    if ipd:
        for agent, axis in zip((1, 2), axes[1:]):
            for state in STATE_NAMES:
                axis.plot(seconds, [row[f"p_coop_agent{agent}_{state}"] for row in evals], label=state)
            axis.set(title=f"agent {agent}: P(cooperate | state)", xlabel="wall-clock seconds", ylim=(-0.02, 1.02))
    save(figure, plots_dir / "advantage_alignment.png")
