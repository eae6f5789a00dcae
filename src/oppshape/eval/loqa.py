"""LOQA's evaluation (Aghajohari et al., ICLR 2024): rewards against itself and fixed strategies, the
Coin Game's own-coin rate and scalability thresholds, the IPD's P(cooperate | state), summary and plots.

The agent plays itself, always-defect and always-cooperate. On the Coin Game the thresholds of the
paper's Fig. 4 apply to the normalized reward (per-step reward ``x 2 * floor(width / 2)``), and
``summary.json`` holds the wall-clock seconds of the first evaluation passing each threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tensordict import TensorDictBase
from torchrl.envs import EnvBase

from oppshape.envs.coin_game import CoinGame
from oppshape.eval.coin_strategies import always_cooperate, always_defect
from oppshape.eval.ipd_metrics import cooperation_summary, retaliates
from oppshape.eval.plotting import panels, save
from oppshape.learners.loqa import LOQALearner
from oppshape.modules.loqa_nets import TabularActor
from oppshape.rollouts.loqa import FixedPolicy

#: LOQA's Coin Game thresholds: (normalized reward vs each other, normalized reward vs always-defect).
THRESHOLDS: dict[str, tuple[float, float]] = {"weak": (0.05, -1.2), "medium": (0.1, -0.5), "strong": (0.2, -0.2)}
#: An IPD seed counts as reciprocal if it nearly always cooperates with itself and is not exploited.
RECIPROCAL_VS_SELF, RECIPROCAL_VS_ALLD = -1.2, -2.2

MetricsHistory = list[dict[str, float]]  # the logged rows, as in experiments.base (a floor above)


def reward_per_step(batch: TensorDictBase) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean reward per step of the agent and of its opponent, per seed ``[S]``."""
    return batch["next", "reward"].mean((1, 2, 3)), batch["next", "opponent_reward"].mean((1, 2, 3))


def fixed_strategies(env: EnvBase) -> dict[str, Callable[[TensorDictBase], torch.Tensor]]:
    """Always-defect and always-cooperate as ``choose(state) -> actions [E]`` for ``env``'s seat 1."""
    if isinstance(env, CoinGame):
        board = (env.height, env.width)

        def scripted(strategy: Callable[..., torch.Tensor]) -> Callable[[TensorDictBase], torch.Tensor]:
            return lambda state: strategy(state["agent_pos"], state["coin_pos"], state["coin_owner"], 1, *board)

        return {"alld": scripted(always_defect), "allc": scripted(always_cooperate)}
    games = env.batch_size[0]
    return {
        "alld": lambda state: torch.ones(games, dtype=torch.long, device=env.device),
        "allc": lambda state: torch.zeros(games, dtype=torch.long, device=env.device),
    }


class LOQAEvaluation:
    """Plays the current agent against itself and two fixed strategies; returns plain floats."""

    def __init__(self, learner: LOQALearner, env: EnvBase) -> None:
        self.learner, self.env = learner, env
        self.fixed = fixed_strategies(env)
        self.num_actions = env.n_actions if isinstance(env, CoinGame) else 2

    def __call__(self) -> dict[str, float]:
        learner = self.learner
        selfplay = learner.play(learner.agent_policy())
        own, other = reward_per_step(selfplay)
        per_seed = {"vs_self": (own + other) / 2}
        for name, choose in self.fixed.items():
            per_seed[f"vs_{name}"] = reward_per_step(learner.play(FixedPolicy(choose, self.num_actions)))[0]
        metrics = {f"eval_reward_{key}": float(value.mean()) for key, value in per_seed.items()}
        if learner.members > 1:
            for key, value in per_seed.items():
                metrics.update({f"eval_reward_{key}_seed{s}": float(v) for s, v in enumerate(value)})
        if isinstance(self.env, CoinGame):
            metrics.update(coin_metrics(selfplay, per_seed, self.env.width))
        else:
            metrics.update(ipd_metrics(per_seed, learner.loss.actor_network))
        return metrics


def coin_metrics(selfplay: TensorDictBase, per_seed: dict[str, torch.Tensor], width: int) -> dict[str, float]:
    """Own-coin rate of self-play, normalized rewards and LOQA's weak / medium / strong thresholds (0 or 1)."""
    picked = selfplay["next", "picked_coin"].float().sum()
    metrics = {"eval_own_coin_rate": float(selfplay["next", "picked_own_coin"].float().sum() / picked.clamp(min=1))}
    scale = 2 * (width // 2)
    vs_self, vs_alld = float(per_seed["vs_self"].mean()) * scale, float(per_seed["vs_alld"].mean()) * scale
    metrics.update(eval_normalized_vs_self=vs_self, eval_normalized_vs_alld=vs_alld)
    for level, (self_min, alld_min) in THRESHOLDS.items():
        metrics[f"eval_{level}"] = float(vs_self > self_min and vs_alld > alld_min)
    return metrics


def ipd_metrics(per_seed: dict[str, torch.Tensor], actor: torch.nn.Module) -> dict[str, float]:
    """Fraction of reciprocal seeds; for a tabular actor also P(cooperate | state) and the retaliating fraction."""
    reciprocal = (per_seed["vs_self"] > RECIPROCAL_VS_SELF) & (per_seed["vs_alld"] > RECIPROCAL_VS_ALLD)
    metrics = {"eval_reciprocal_fraction": float(reciprocal.float().mean())}
    if isinstance(actor, TabularActor):
        coop = torch.softmax(actor.table.detach(), dim=-1)[..., 0]  # [S, 5] P(cooperate | state)
        metrics.update(cooperation_summary((coop,)))
        metrics["eval_retaliating_fraction"] = float(retaliates(coop).float().mean())
    return metrics


def summarize(history: MetricsHistory) -> dict[str, Any]:
    """Final evaluation and, per Coin Game threshold, the wall-clock seconds of the first eval passing it."""
    evals = [row for row in history if "eval_reward_vs_self" in row]
    summary: dict[str, Any] = {"final_eval": {k: v for k, v in evals[-1].items() if k.startswith(("eval", "p_coop"))}
                               if evals else {}}
    if evals and "eval_weak" in evals[0]:
        for level in THRESHOLDS:
            first = next((row for row in evals if row[f"eval_{level}"] > 0), None)
            summary[f"seconds_to_{level}"] = None if first is None else first["wall_time_s"]
            summary[f"iteration_to_{level}"] = None if first is None else int(first["iteration"])
    return summary


def plot_curves(history: MetricsHistory, plots_dir: Path) -> None:
    """``plots/loqa.png``: evaluation rewards over wall-clock time, and P(cooperate | state) for a tabular IPD actor."""
    evals = [row for row in history if "eval_reward_vs_self" in row]
    if not evals:
        return
    seconds = [row["wall_time_s"] for row in evals]
    tabular = "p_coop_agent1_CC" in evals[0]
    figure, axes = panels(2 if tabular else 1)
    for key in ("vs_self", "vs_alld", "vs_allc"):
        axes[0].plot(seconds, [row[f"eval_reward_{key}"] for row in evals], label=key.replace("_", " "))
    if "eval_own_coin_rate" in evals[0]:
        axes[0].plot(seconds, [row["eval_own_coin_rate"] for row in evals], label="own-coin rate", linestyle="--")
    axes[0].set(title="reward per step (seed mean)", xlabel="wall-clock seconds")
    if tabular:
        for state in ("start", "CC", "CD", "DC", "DD"):
            axes[1].plot(seconds, [row[f"p_coop_agent1_{state}"] for row in evals], label=state)
        axes[1].set(title="P(cooperate | state), own view", xlabel="wall-clock seconds", ylim=(-0.02, 1.02))
    save(figure, plots_dir / "loqa.png")
