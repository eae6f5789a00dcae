"""Evaluation of the Stackelberg family: follower oracle quality, the leader's exact return, success, plots.

Everything is exact (no sampling): greedy leader and follower strategies are deterministic memory-1
tables, so their returns come from ``games.stackelberg.deterministic_returns`` and are compared with
the brute-force Stackelberg value (Gerstgrasser & Parkes, ICML 2023). A leader *reaches* the value when
its return is within ``success_tolerance`` of it; returns above it are misses too, since only a follower
that does not best-respond to the leader's play allows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from oppshape.config.stackelberg import StackelbergConfig
from oppshape.eval.plotting import panels, save
from oppshape.games.stackelberg import deterministic_returns, strategy_code
from oppshape.learners.stackelberg import StackelbergLearner
from oppshape.rollouts.stackelberg import LEADER

PHASE_NAMES = ("follower pre-training", "leader training", "follower re-training")


def leader_follower_returns(learner: StackelbergLearner, follower_logits: torch.Tensor | None = None) -> torch.Tensor:
    """``[R, 2]`` exact returns when the greedy leader meets the greedy follower (answers shown).

    ``follower_logits``: the follower table to score (default: the current follower).
    """
    play, answers = learner.leader_strategies()
    runs = torch.arange(learner.n_runs, device=play.device)
    follower = learner.follower_responses(follower_logits)[runs, strategy_code(answers)]
    env = learner.follower_env
    return deterministic_returns(play, follower, env.payoff_tables[learner.game_of_run], env.memory,
                                 env.episode_length, env.reward_offset)


def oracle_leader_returns(learner: StackelbergLearner) -> torch.Tensor:
    """``[R]`` the final leader's return against the pre-trained oracle (NaN before phase 2 ends).

    The leader does not change in phase 3 and the follower does not change in phase 2, so this is the
    leader's return at the end of its training.
    """
    if learner.iteration < learner.handover:
        return torch.full((learner.n_runs,), float("nan"), device=learner.frozen.device)
    return leader_follower_returns(learner, learner.pretrained_follower)[:, LEADER]


def exact_best_response_returns(learner: StackelbergLearner) -> torch.Tensor:
    """``[R]`` the greedy leader's return if the follower exactly best-responds to how it *plays*.

    The equilibrium check that needs no learning: with ``tell_leader`` the answers may differ from
    play, and a follower that believed them is not best-responding.
    """
    play, _ = learner.leader_strategies()
    return learner.solution.induced_leader_return[learner.game_of_run, strategy_code(play)]


def reached(learner: StackelbergLearner, leader_return: torch.Tensor, success_tolerance: float) -> torch.Tensor:
    """``[R]`` whether each run's leader return is within ``success_tolerance`` of its game's Stackelberg value.

    Returns above the value also fail: they are only possible against a follower that does not
    best-respond to the leader's play.
    """
    gap = (leader_return - learner.solution.value[learner.game_of_run]).abs()
    return gap <= success_tolerance


def evaluate(learner: StackelbergLearner, games: Sequence[str], success_tolerance: float) -> dict[str, float]:
    """Best-response gaps of the follower and the greedy leader's exact return against it, overall and per game."""
    gaps = learner.follower_gaps()
    leader_return = leader_follower_returns(learner)[:, LEADER]
    success = reached(learner, leader_return, success_tolerance).float()
    exact = exact_best_response_returns(learner)
    play, answers = learner.leader_strategies()
    metrics = {
        "follower_br_gap": gaps.mean().item(),
        "follower_br_frac": (gaps.amax(-1) <= 1e-6).float().mean().item(),
        "leader_return": leader_return.mean().item(),
        "leader_reached_frac": success.mean().item(),
        "leader_return_exact_br": exact.mean().item(),
        "leader_reached_exact_br_frac": reached(learner, exact, success_tolerance).float().mean().item(),
        "leader_answers_match_play_frac": (play == answers).all(-1).float().mean().item(),
    }
    for game, name in enumerate(games):
        mine = learner.game_of_run == game
        metrics[f"leader_return_{name}"] = leader_return[mine].mean().item()
        metrics[f"reached_{name}"] = success[mine].mean().item()
    return metrics


def results(learner: StackelbergLearner, games: Sequence[str], config: StackelbergConfig) -> dict[str, Any]:
    """Per-run outcome for ``summary.json``: one entry per (game, seed), plus the brute-force values.

    ``python -m oppshape.report stackelberg-table`` turns these into the results table.
    """
    tolerance = config.success_tolerance
    final = leader_follower_returns(learner)[:, LEADER]
    vs_oracle = oracle_leader_returns(learner)
    exact = exact_best_response_returns(learner)
    play, answers = learner.leader_strategies()
    return {
        "success_tolerance": tolerance,
        "tie_break": "leader_favourable",  # the solver's rule for follower ties (strong Stackelberg equilibrium)
        "games": list(games),
        "stackelberg_value": learner.solution.value.tolist(),
        "stackelberg_leader_strategy": learner.solution.leader_strategy.tolist(),
        "run_game": [games[g] for g in learner.game_of_run.tolist()],
        "run_seed": (torch.arange(learner.n_runs) % config.num_seeds).tolist(),
        "oracle_br_gap": learner.follower_gaps(learner.pretrained_follower).mean(-1).tolist(),
        "leader_return_vs_oracle": vs_oracle.tolist(),
        "reached_vs_oracle": reached(learner, vs_oracle, tolerance).tolist(),
        "leader_return_final": final.tolist(),
        "reached_final": reached(learner, final, tolerance).tolist(),
        "leader_return_exact_br": exact.tolist(),
        "reached_exact_br": reached(learner, exact, tolerance).tolist(),
        "leader_play": play.tolist(),
        "leader_answers": answers.tolist(),
        "follower_br_gap_final": learner.follower_gaps().mean(-1).tolist(),
    }


def _series(history: list[dict[str, float]], key: str) -> tuple[list[float], list[float]]:
    rows = [row for row in history if key in row]
    return [row["iteration"] for row in rows], [row[key] for row in rows]


def plot(history: list[dict[str, float]], plots_dir: Path) -> None:
    """``stackelberg.png``: best-response rate, leader return and success rate against iterations."""
    figure, (oracle_axis, leader_axis) = panels(1, 2, sharex=True, size=(7.0, 3.0))
    oracle_axis.plot(*_series(history, "follower_br_frac"), label="runs whose follower best-responds to all leaders")
    oracle_axis.plot(*_series(history, "follower_br_gap"), label="mean best-response gap (return)")
    oracle_axis.set_ylabel("follower oracle")
    leader_axis.plot(*_series(history, "leader_return"), label="greedy leader return (mean over runs)")
    success_axis = leader_axis.twinx()
    (success_line,) = success_axis.plot(*_series(history, "leader_reached_frac"), color="tab:green")
    success_axis.set_ylim(-0.05, 1.05)
    leader_axis.set_ylabel("leader return")
    success_axis.set_ylabel("fraction of runs")
    leader_axis.set_xlabel("iteration")
    iterations, phases = _series(history, "phase")
    starts = [it for i, (it, phase) in enumerate(zip(iterations, phases)) if i > 0 and phase != phases[i - 1]]
    for axis in (oracle_axis, leader_axis):
        for start in starts:
            axis.axvline(start, color="grey", linestyle=":")
    oracle_axis.legend()
    handles, labels = leader_axis.get_legend_handles_labels()
    leader_axis.legend([*handles, success_line], [*labels, "fraction at Stackelberg value (right axis)"],
                       loc="upper left")
    oracle_axis.set_title(" | ".join(PHASE_NAMES))
    save(figure, plots_dir / "stackelberg.png")
