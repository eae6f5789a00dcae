"""``python -m oppshape.report coma-switch``: COMA on the switch riddle without communication, next to the references.

``make coma-switch`` runs ``experiment=coma_switch_3,coma_switch_4 seed=0,1,2`` as a Hydra multirun into
``<runs>/n<prisoners>/seed<seed>``; this command tabulates the final greedy / sampled returns next to the
Bayes-optimal last-day rule (the reference without communication), the oracle and a random policy.

    python -m oppshape.report coma-switch --runs runs/coma_switch --output docs/results/coma_switch.md
    python -m oppshape.report coma-switch --runs runs/coma_switch --agents 3 --tell-rates   # does the GRU count?

``--tell-rates`` replays each trained greedy policy on 20,000 fresh games and prints, for the games that reach
the last day without a Tell, how often the prisoner then in the room tells, by its own number of visits; the
last-day rule tells iff that number is small enough (n=3: at most 3 of 6 days; n=4: at most 5 of 10).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def finished_runs(runs: Path, agents: list[int]) -> dict[int, list[Path]]:
    """``runs/n<agents>/seed<s>`` holding a ``summary.json``, per prisoner count, seeds in order."""
    found = {n: sorted(path.parent for path in (runs / f"n{n}").glob("seed*/summary.json")) for n in agents}
    missing = [n for n, targets in found.items() if not targets]
    if missing:
        raise SystemExit(f"no finished runs under {runs}/n{missing[0]}/seed<s>")
    return found


def tell_rates(target: Path, agents: int, games: int = 20000, min_games: int = 50) -> dict[str, object]:
    """Greedy replay of ``target``'s last checkpoint: early-Tell rate and last-day Tell rate per own visit count
    (counts reached by fewer than ``min_games`` games are left out)."""
    import torch
    from torchrl.envs.utils import ExplorationType, set_exploration_type

    from oppshape.checkpoint import load_checkpoint
    from oppshape.cli import compose
    from oppshape.config import validate
    from oppshape.envs.switch_game import TELL, switch_days
    from oppshape.experiments.coma import build, make_task_env
    from oppshape.modules.coma_actor import actor_body

    days = switch_days(agents)
    run = validate(compose([f"experiment=coma_switch_{agents}", "algo.num_envs=1", "algo.eval_envs=1",
                            f"algo.frames_per_batch={days}"]))
    experiment = build(run, torch.device("cpu"))
    experiment.learner.load_state_dict(load_checkpoint(target / "checkpoints")["learner"])
    loss = experiment.learner.loss
    actor = loss.actor_network  # functional: its trained weights live in loss.actor_network_params
    env = make_task_env(run.env, games, torch.device("cpu"), 12345)
    env = env.append_transform(actor_body(actor).make_tensordict_primer())
    greedy = set_exploration_type(ExplorationType.DETERMINISTIC)
    with torch.no_grad(), greedy, loss.actor_network_params.to_module(actor):
        rollout = env.rollout(days, actor, break_when_any_done=False)
    schedule = rollout["schedule"][:, 0]  # [games, days]
    done = rollout["next", "done"].squeeze(-1).long()
    in_first_game = (done.cumsum(1) - done) == 0
    room_action = rollout["agents", "action"].gather(-1, schedule.unsqueeze(-1)).squeeze(-1)  # [games, days]
    told = (room_action == TELL) & in_first_game
    reached_last = in_first_game[:, -1] & ~told[:, :-1].any(1)
    own_visits = (schedule == schedule[:, -1:]).sum(1)
    rates = {}
    for visits in own_visits[reached_last].unique().tolist():
        games_with = reached_last & (own_visits == visits)
        if int(games_with.sum()) >= min_games:
            rates[visits] = float(told[games_with, -1].float().mean())
    return {"early_tell": float(told[:, :-1].any(1).float().mean()), "last_day_tell_by_visits": rates}


def _mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} +- {spread:.3f}"


def table(runs: dict[int, list[Path]]) -> str:
    lines = ["| prisoners | seeds | greedy return | sampled return | greedy / oracle | last-day rule | oracle | "
             "random | frames | wall s / run |", "|---" * 10 + "|"]
    for agents, targets in runs.items():
        rows = [json.loads((t / "summary.json").read_text()) for t in targets]
        first = rows[0]
        lines.append(
            f"| {agents} | {len(rows)} | {_mean_std([r['eval_return'] for r in rows])} | "
            f"{_mean_std([r['eval_return_sampled'] for r in rows])} | "
            f"{_mean_std([r['eval_normalized'] for r in rows])} | "
            f"{first['reference_return']:.3f} | {first['oracle_return']:.3f} | {first['random_return']:.3f} | "
            f"{int(first['frames']):,} | {statistics.mean(r['wall_time_s'] for r in rows):.0f} |"
        )
    return "\n".join(lines)


def report(args: argparse.Namespace) -> None:
    bad = [n for n in args.agents if n < 2]
    if bad:
        raise SystemExit(f"--agents {bad[0]}: the riddle needs at least 2 prisoners")
    runs = finished_runs(args.runs, args.agents)
    markdown = table(runs)
    print(markdown)
    if args.tell_rates:
        for agents, agent_runs in runs.items():
            for target in agent_runs:
                rates = tell_rates(target, agents)
                by_visits = ", ".join(f"{k}: {v:.2f}" for k, v in rates["last_day_tell_by_visits"].items())
                print(f"n={agents} {target.name}: early Tell in {rates['early_tell']:.1%} of games; "
                      f"last-day Tell rate by own visits {{{by_visits}}}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(markdown + "\n")
        print(f"wrote {args.output}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("coma-switch", help="table of COMA's switch-riddle runs next to the last-day rule",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=Path("runs/coma_switch"), help="the sweep's folder")
    parser.add_argument("--agents", type=int, nargs="+", default=[3, 4], help="prisoner counts (>= 2)")
    parser.add_argument("--output", type=Path, default=None, help="also write the table here (Markdown)")
    parser.add_argument("--tell-rates", action="store_true", help="replay each trained policy: who tells when")
    parser.set_defaults(func=report)
