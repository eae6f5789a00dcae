"""Evaluation of the COMA family: greedy and sampled returns next to a random policy's, the coordination game's
optimal-joint-action rate, the switch riddle's references (last-day rule, oracle), the run's summary and plot.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tensordict import TensorDictBase
from torch import nn
from torchrl.envs import EnvBase
from torchrl.envs.utils import ExplorationType, set_exploration_type

from oppshape.envs.switch_game import expected_oracle_reward, last_day_rule_return, switch_days
from oppshape.eval.plotting import panels, save
from oppshape.games.payoffs import payoff_table

ACTION = ("agents", "action")
MetricsHistory = list[dict[str, float]]
SUMMARY_KEYS = ("frames", "train_return", "eval_return", "eval_return_sampled", "random_return", "optimal_joint_rate",
                "eval_normalized", "reference_return", "oracle_return", "wall_time_s")


def episode_length(env_cfg: Any) -> int:
    """Steps of one episode of ``env_cfg`` (the switch riddle's longest game: ``4 n - 6`` days)."""
    if env_cfg.name == "switch":
        return switch_days(env_cfg.n_agents)
    return env_cfg.max_steps if env_cfg.name == "vmas" else env_cfg.episode_length


def first_episode_return(rollout: TensorDictBase) -> torch.Tensor:
    """Per-env, per-agent return of the first episode of a ``[envs, T]`` rollout: ``[envs, n, 1]``."""
    done = rollout["next", "done"].float()  # [E, T, 1]
    in_first = ((done.cumsum(1) - done) == 0).unsqueeze(-1)  # steps up to and including the first end
    return (rollout["next", "agents", "reward"] * in_first).sum(1)


def optimal_joint_action(env_cfg: Any) -> torch.Tensor:
    """The joint action of a 2x2 game maximising the summed payoff (brute force over the four cells)."""
    totals = payoff_table(env_cfg.payoff, env_cfg.cf).sum(-1)  # [a1, a2]
    best = int(totals.argmax())
    return torch.tensor([best // 2, best % 2])


def make_evaluate(env_cfg: Any, eval_env: EnvBase, actor: nn.Module) -> Callable[[], dict[str, float]]:
    """Return of the greedy policy (``eval_return``) and of the sampled policy (``eval_return_sampled``) on
    ``eval_env``, one episode per env, next to a uniformly random policy's (``random_return``)."""
    steps = episode_length(env_cfg)
    with torch.no_grad():
        random_return = float(first_episode_return(eval_env.rollout(steps, break_when_any_done=False)).mean())
    optimum = optimal_joint_action(env_cfg).to(eval_env.device) if env_cfg.name == "iterated_matrix_game" else None
    references = {}
    if env_cfg.name == "switch":
        references = {"oracle_return": expected_oracle_reward(env_cfg.n_agents),
                      "reference_return": last_day_rule_return(env_cfg.n_agents)}

    def evaluate() -> dict[str, float]:
        with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
            sampled = eval_env.rollout(steps, actor, break_when_any_done=False)
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            rollout = eval_env.rollout(steps, actor, break_when_any_done=False)
        metrics = {
            "eval_return": float(first_episode_return(rollout).mean()),
            "eval_return_sampled": float(first_episode_return(sampled).mean()),
            "random_return": random_return,
        }
        metrics.update(references)
        if references:
            metrics["eval_normalized"] = metrics["eval_return"] / references["oracle_return"]
        if optimum is not None:
            metrics["optimal_joint_rate"] = float((rollout[ACTION] == optimum).all(-1).float().mean())
        return metrics

    return evaluate


def task_title(env_cfg: Any) -> str:
    if env_cfg.name == "vmas":
        return env_cfg.scenario
    if env_cfg.name == "iterated_matrix_game":
        return env_cfg.payoff
    return f"the switch riddle without communication, n={env_cfg.n_agents}"


def plot_returns(history: MetricsHistory, plots_dir: Path, title: str) -> None:
    """Training and greedy-evaluation return against environment frames, with the random policy's level."""
    figure, (axis,) = panels()
    curves = (("train_return", "training (exploring)"), ("eval_return", "greedy evaluation"),
              ("eval_return_sampled", "sampled evaluation"))
    for key, label in curves:
        points = [(row["frames"], row[key]) for row in history if key in row and "frames" in row]
        if points:
            axis.plot(*zip(*points), label=label)
    randoms = [row["random_return"] for row in history if "random_return" in row]
    if randoms:
        axis.axhline(randoms[-1], color="grey", linestyle="--", label="random policy")
    axis.set(xlabel="environment frames", ylabel="episode return (per agent)", title=title)
    save(figure, plots_dir / "returns.png")


def summarize(history: MetricsHistory) -> dict[str, Any]:
    """The last logged value of each of the family's headline metrics (``summary.json``)."""
    last = {key: value for row in history for key, value in row.items()}
    return {key: last[key] for key in SUMMARY_KEYS if key in last}
