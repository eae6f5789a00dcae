"""Evaluation and plots of the DiCE family (LOLA-DiCE, POLA-DiCE, POLA-OM) as in the POLA paper's Figures 4 and 5.

Scores are average rewards per step over fresh games: the agents against each other, and each agent
against fixed strategies (always-defect, always-cooperate) in the other seat. In the Coin Game the
own-coin rate is the share of picked-up coins that the picker owned (POLA's "same colour" / all).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import torch
from matplotlib.axes import Axes

from oppshape.envs.coin_game import CoinGame
from oppshape.eval.coin_strategies import always_cooperate, always_defect
from oppshape.eval.plotting import panels, save
from oppshape.modules.gru_policy import ParamDict, gru_net_step

#: a fixed strategy: ``(game, state, agent index) -> actions [N]``
Strategy = Callable[[Any, Any, int], torch.Tensor]


class Play(NamedTuple):
    """Time-major record of :func:`play` (``T`` steps, ``S`` seeds, ``N`` games per seed)."""

    reward: torch.Tensor  # [T, S, N, 2]
    action: torch.Tensor  # [T, S, N, 2]
    picked_coin: torch.Tensor | None  # [T, S, N, 2] bool (Coin Game)
    picked_own_coin: torch.Tensor | None  # [T, S, N, 2] bool (Coin Game)


def ipd_strategies() -> dict[str, Strategy]:
    """Always-defect (action 1) and always-cooperate (action 0) in an iterated matrix game."""
    return {
        "alld": lambda game, state, agent: torch.ones_like(state),
        "allc": lambda game, state, agent: torch.zeros_like(state),
    }


def coin_strategies() -> dict[str, Strategy]:
    """Always-defect and always-cooperate Coin Game players on a :class:`CoinGame`'s tensor state."""

    def adapt(strategy: Callable[..., torch.Tensor]) -> Strategy:
        def act(game: CoinGame, state: Any, agent: int) -> torch.Tensor:
            return strategy(game.positions(state.agent_cell), game.positions(state.coin_cell), state.coin_owner,
                            agent, game.height, game.width)

        return act

    return {"alld": adapt(always_defect), "allc": adapt(always_cooperate)}


@torch.no_grad()
def play(game: Any, players: Sequence[ParamDict | Strategy], n: int, horizon: int, seeds: int) -> Play:
    """``n`` fresh games per seed between two players, each a GRU policy (seed-stacked parameters) or a strategy."""
    state = game.initial_state(seeds * n)
    hidden = [
        torch.zeros(seeds, n, p["gru_weight_hh"].shape[-2], device=game.device) if isinstance(p, dict) else None
        for p in players
    ]
    rewards, actions, picked, picked_own = [], [], [], []
    for _ in range(horizon):
        observation = game.observe(state).reshape(seeds, n, 2, -1)
        joint = []
        for i, player in enumerate(players):
            if isinstance(player, dict):
                logits, hidden[i] = gru_net_step(player, observation[:, :, i], hidden[i])
                probs = torch.softmax(logits, dim=-1).reshape(seeds * n, -1)
                joint.append(torch.multinomial(probs, 1).squeeze(-1))
            else:
                joint.append(player(game, state, i))
        joint_action = torch.stack(joint, dim=-1)  # [S * N, 2]
        step = game.transition(state, joint_action)
        state = step.state
        rewards.append(step.reward.reshape(seeds, n, 2))
        actions.append(joint_action.reshape(seeds, n, 2))
        if hasattr(step, "picked_coin"):
            picked.append(step.picked_coin.reshape(seeds, n, 2))
            picked_own.append(step.picked_own_coin.reshape(seeds, n, 2))
    return Play(
        torch.stack(rewards), torch.stack(actions),
        torch.stack(picked) if picked else None, torch.stack(picked_own) if picked_own else None,
    )


#: headline metrics that are also reported per seed (``<name>_s<k>``) when several seeds train together
PER_SEED = ("score_mean", "own_coin_rate", "cooperation_rate", "score_vs_alld")


def dice_metrics(
    game: Any, policies: Sequence[ParamDict], n: int, horizon: int, strategies: dict[str, Strategy]
) -> dict[str, float]:
    """Scores against each other and against each strategy; own-coin rate or cooperation rate.

    Keys (means over seeds): ``score_1``, ``score_2``, ``score_mean``; ``score_vs_<strategy>_<agent>``
    and ``score_vs_<strategy>`` (mean of both agents); ``own_coin_rate`` and ``coins_per_step`` in the
    Coin Game, ``cooperation_rate`` (share of action 0) otherwise; with several seeds also the
    :data:`PER_SEED` metrics of each seed.
    """
    seeds = policies[0]["gru_weight_hh"].shape[0]
    per_seed: dict[str, torch.Tensor] = {}
    selfplay = play(game, policies, n, horizon, seeds)
    score = selfplay.reward.mean(dim=(0, 2))  # [S, 2]
    per_seed["score_1"], per_seed["score_2"], per_seed["score_mean"] = score[:, 0], score[:, 1], score.mean(-1)
    if selfplay.picked_coin is not None:
        picked = selfplay.picked_coin.sum(dim=(0, 2, 3)).float()
        per_seed["own_coin_rate"] = selfplay.picked_own_coin.sum(dim=(0, 2, 3)) / picked.clamp_min(1)
        per_seed["coins_per_step"] = picked / (n * horizon)
    else:
        per_seed["cooperation_rate"] = (selfplay.action == 0).float().mean(dim=(0, 2, 3))
    for name, strategy in strategies.items():
        scores = []
        for agent in (0, 1):
            seats: list[ParamDict | Strategy] = [strategy, strategy]
            seats[agent] = policies[agent]
            scores.append(play(game, seats, n, horizon, seeds).reward[..., agent].mean(dim=(0, 2)))
            per_seed[f"score_vs_{name}_{agent + 1}"] = scores[-1]
        per_seed[f"score_vs_{name}"] = (scores[0] + scores[1]) / 2
    metrics = {key: value.mean().item() for key, value in per_seed.items()}
    if seeds > 1:
        for key in PER_SEED:
            if key in per_seed:
                metrics.update({f"{key}_s{k}": v.item() for k, v in enumerate(per_seed[key])})
    return metrics


SCORE_CURVES = (("score_mean", "vs each other"), ("score_vs_alld", "vs always-defect"),
                ("score_vs_allc", "vs always-cooperate"))


def _seed_lines(axis: Axes, rows: list[dict[str, float]], iterations: list[float], key: str, color: str) -> None:
    """Thin lines for each seed's ``<key>_s<k>`` when several seeds trained together."""
    seed = 0
    while f"{key}_s{seed}" in rows[0]:
        axis.plot(iterations, [row[f"{key}_s{seed}"] for row in rows], color=color, alpha=0.3, linewidth=0.8)
        seed += 1


def plot_dice_history(history: list[dict[str, float]], plots_dir: Path, title: str) -> list[Path]:
    """Average reward per step (and own-coin or cooperation rate) over training, seed means in bold and
    each seed thin when present; returns the files written."""
    rows = [row for row in history if "score_mean" in row]
    if not rows:
        return []
    iterations = [row["iteration"] for row in rows]
    rate_key = "own_coin_rate" if "own_coin_rate" in rows[0] else "cooperation_rate"
    figure, (scores, rates) = panels(2)
    for key, label in SCORE_CURVES:
        if key in rows[0]:
            line = scores.plot(iterations, [row[key] for row in rows], label=label)[0]
            _seed_lines(scores, rows, iterations, key, line.get_color())
    scores.set(xlabel="update", ylabel="average reward per step", title=title)
    line = rates.plot(iterations, [row[rate_key] for row in rows])[0]
    _seed_lines(rates, rows, iterations, rate_key, line.get_color())
    rates.set(xlabel="update", ylabel=rate_key.replace("_", " "), ylim=(0, 1), title=title)
    return [save(figure, plots_dir / "dice_training.png")]


def strategies_for(game: Any) -> dict[str, Strategy]:
    """The fixed opponents of ``game``: Coin Game players on a :class:`CoinGame`, IPD strategies otherwise."""
    return coin_strategies() if isinstance(game, CoinGame) else ipd_strategies()
