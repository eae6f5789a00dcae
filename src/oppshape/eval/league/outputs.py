"""A league's run directory: ``league.json`` (machine-readable), ``league.md`` (tables), ``league_heatmap.png``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oppshape.eval.league.tournament import MatchResult
from oppshape.eval.plotting import panels, save


@dataclass
class BestResponseRow:
    """One entrant's exploitability: its reward and the responder's (per step), and how it was found."""

    method: str  # exact | learned
    entrant_reward: float
    responder_reward: float

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "entrant_reward": self.entrant_reward, "responder_reward": self.responder_reward}


def league_record(game: dict[str, Any], names: list[str], seeds: list[int], results: list[list[MatchResult]],
                  best_responses: dict[str, BestResponseRow], episodes: int, seed: int) -> dict[str, Any]:
    """The content of ``league.json``: ``mean_reward[i][j] = [reward of i, reward of j]`` per step, i in seat 0."""
    record: dict[str, Any] = {
        "game": game["name"],
        "game_settings": game,
        "entrants": names,
        "entrant_seeds": seeds,
        "episodes_per_seed_pair": episodes,
        "seed": seed,
        "mean_reward": [[cell.mean() for cell in row] for row in results],
        "ci95": [[cell.ci95() for cell in row] for row in results],
        "ci95_seeds": [[cell.ci95_seeds() for cell in row] for row in results],
        "best_response": {name: row.as_dict() for name, row in best_responses.items()},
    }
    for name, row in record["best_response"].items():
        row["strongest_opponent"] = strongest_opponent(record, names.index(name))
    if results[0][0].coins is not None:
        record["own_coin_rate"] = [[cell.own_coin_rate() for cell in row] for row in results]
    return record


def strongest_opponent(record: dict[str, Any], entrant: int) -> dict[str, Any]:
    """The entrant that earns most against ``entrant`` in the round robin: a floor under any best response."""
    column = [cell[1] for cell in record["mean_reward"][entrant]]  # opponents in seat 1, as the responders sit
    best = max(range(len(column)), key=column.__getitem__)
    return {"name": record["entrants"][best], "opponent_reward": column[best],
            "entrant_reward": record["mean_reward"][entrant][best][0]}


def league_markdown(record: dict[str, Any]) -> str:
    """Rows = agent (seat 0), columns = opponent; each cell "agent / opponent" reward per step."""
    names = record["entrants"]
    lines = [f"# League: {record['game']}", "", "Mean reward per step, agent / opponent "
             f"({record['episodes_per_seed_pair']} episodes per seed pair; 95% CI in league.json).", "",
             "| agent \\ opponent | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for name, row in zip(names, record["mean_reward"]):
        lines.append(f"| {name} | " + " | ".join(f"{a:.3f} / {b:.3f}" for a, b in row) + " |")
    if "own_coin_rate" in record:
        lines += ["", "Own-coin rate, agent / opponent.", "", "| agent \\ opponent | " + " | ".join(names) + " |",
                  "|---" * (len(names) + 1) + "|"]
        for name, row in zip(names, record["own_coin_rate"]):
            lines.append(f"| {name} | " + " | ".join(f"{a:.2f} / {b:.2f}" for a, b in row) + " |")
    if record["best_response"]:
        lines += ["", "## Exploitability", "", "Each entrant against a best response to it (reward per step).", "",
                  "| entrant | method | entrant | best response | entrant in self-play | strongest league opponent |",
                  "|---|---|---|---|---|---|"]
        for name, row in record["best_response"].items():
            i = names.index(name)
            top = row["strongest_opponent"]
            lines.append(f"| {name} | {row['method']} | {row['entrant_reward']:.3f} | {row['responder_reward']:.3f} "
                         f"| {record['mean_reward'][i][i][0]:.3f} | {top['name']}: {top['entrant_reward']:.3f} / "
                         f"{top['opponent_reward']:.3f} |")
    return "\n".join(lines) + "\n"


def plot_heatmap(record: dict[str, Any], path: Path) -> Path:
    """The agent's reward per step against each opponent, cells annotated "agent / opponent"."""
    names = record["entrants"]
    rewards = np.asarray(record["mean_reward"], dtype=float)  # [n, n, 2]
    side = 1.0 + 0.9 * len(names)
    figure, (axis,) = panels(size=(side + 1.5, side))
    image = axis.imshow(rewards[..., 0], cmap="viridis")
    axis.grid(False)
    axis.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axis.set_yticks(range(len(names)), names)
    axis.set(xlabel="opponent", ylabel="agent", title=f"{record['game']}: agent's reward per step")
    middle = (rewards[..., 0].max() + rewards[..., 0].min()) / 2
    for i in range(len(names)):
        for j in range(len(names)):
            color = "black" if rewards[i, j, 0] > middle else "white"  # readable on viridis' light and dark ends
            axis.text(j, i, f"{rewards[i, j, 0]:.2f}\n/{rewards[i, j, 1]:.2f}", ha="center", va="center",
                      fontsize=7, color=color)
    figure.colorbar(image, ax=axis)
    return save(figure, path)


def write_outputs(record: dict[str, Any], out_dir: Path) -> None:
    """``league.json``, ``league.md`` and ``league_heatmap.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "league.json").write_text(json.dumps(record, indent=2))
    (out_dir / "league.md").write_text(league_markdown(record))
    plot_heatmap(record, out_dir / "league_heatmap.png")
