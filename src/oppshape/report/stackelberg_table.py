"""Markdown results table of Stackelberg runs: per game, how many seeds reach the Stackelberg value.

Usage: ``python -m oppshape.report stackelberg-table RUN_DIR [RUN_DIR ...]`` where each argument is a run
directory or a folder searched recursively for ``summary.json`` files of the ``stackelberg`` family.
A seed reaches the value when its greedy leader's exact return against the greedy follower is within
``algo.success_tolerance`` of the brute-force (leader-favourable) Stackelberg value (above it counts as
a miss: only a follower that is not best-responding allows that). The table shows this against the
pre-trained oracle (end of leader training), after the follower is re-trained against the final
leader (the reference's equilibrium check), and against an exact best response to the leader's play.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from statistics import mean


def find_summaries(paths: list[Path]) -> list[Path]:
    """Every ``summary.json`` under ``paths`` that holds Stackelberg results, sorted by path."""
    found = []
    for path in paths:
        if not path.exists():
            sys.exit(f"no such run directory: {path}")
        candidates = [path / "summary.json"] if (path / "summary.json").exists() else sorted(path.rglob("summary.json"))
        found += [c for c in candidates if "stackelberg" in json.loads(c.read_text())]
    if not found:
        sys.exit(f"no Stackelberg summary.json found under {', '.join(map(str, paths))}")
    return sorted(found)


def _fraction(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)}"


def table(summary: dict) -> str:
    """One Markdown section for one run's ``summary.json``."""
    results = summary["stackelberg"]
    lines = [
        f"### {summary['name']} (seed {summary['seed']}, {summary['wall_time_s'] / 60:.1f} min, "
        f"tolerance {results['success_tolerance']}, ties {results['tie_break']})",
        "",
        "| game | Stackelberg value | oracle best-responds | reached vs oracle | reached after re-training | "
        "reached vs exact best response | leader return vs oracle | leader return after re-training | "
        "answers = play |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    per_run = {
        "game": results["run_game"],
        "oracle_ok": [gap <= 1e-6 for gap in results["oracle_br_gap"]],
        "vs_oracle": results["reached_vs_oracle"],
        "final": results["reached_final"],
        "exact": results["reached_exact_br"],
        "return_oracle": results["leader_return_vs_oracle"],
        "return_final": results["leader_return_final"],
        "consistent": [play == answers for play, answers in zip(results["leader_play"], results["leader_answers"])],
    }
    rows = [dict(zip(per_run, values)) for values in zip(*per_run.values())]
    groups = [(game, f"{value:g}", [row for row in rows if row["game"] == game])
              for game, value in zip(results["games"], results["stackelberg_value"])]
    if len(groups) > 1:
        groups.append(("**all**", "", rows))
    for game, value, mine in groups:
        fractions = [_fraction([row[key] for row in mine]) for key in ("oracle_ok", "vs_oracle", "final", "exact")]
        returns = [f"{mean(row[key] for row in mine):.2f}" for key in ("return_oracle", "return_final")]
        cells = [game, value, *fractions, *returns, _fraction([row["consistent"] for row in mine])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_tables(args: argparse.Namespace) -> int:
    """The command: one Markdown section per run, on standard output."""
    sections = [table(json.loads(path.read_text())) for path in find_summaries(args.runs)]
    sys.stdout.write("\n\n".join(sections) + "\n")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``stackelberg-table RUN_DIR [RUN_DIR ...]`` to ``python -m oppshape.report``."""
    command = subparsers.add_parser("stackelberg-table", help=__doc__.split("\n\n")[0],
                                    description=__doc__.split("\n\n")[0])
    command.add_argument("runs", nargs="+", type=Path, help="run directories or folders holding them")
    command.set_defaults(func=write_tables)
