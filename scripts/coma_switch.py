"""COMA on the switch riddle without communication: several seeds per prisoner count, next to the references.

Runs ``python -m oppshape experiment=coma_switch_<n> seed=<s>`` (a run whose ``summary.json`` exists is kept, so
an interrupted sweep resumes) and prints a Markdown table of the final greedy / sampled returns next to the
Bayes-optimal last-day rule (the reference without communication), the oracle and a random policy.

    python scripts/coma_switch.py --agents 3 4 --seeds 0 1 2 --output docs/results/coma_switch.md
    python scripts/coma_switch.py --agents 3 --seeds 0 --iterations 5 --out runs/coma_switch_smoke   # smoke run
    python scripts/coma_switch.py --agents 3 --tell-rates   # does the trained GRU count its own visits?

``--tell-rates`` replays each trained greedy policy on 20,000 fresh games and prints, for the games that reach
the last day without a Tell, how often the prisoner then in the room tells, by its own number of visits; the
last-day rule tells iff that number is small enough (n=3: at most 3 of 6 days; n=4: at most 5 of 10).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(out: Path, agents: int, seed: int, iterations: int | None) -> Path:
    target = out / f"n{agents}" / f"seed{seed}"
    if not (target / "summary.json").exists():
        command = [sys.executable, "-m", "oppshape", f"experiment=coma_switch_{agents}", f"seed={seed}",
                   f"run_dir={target}"] + ([f"trainer.iterations={iterations}"] if iterations is not None else [])
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return target


def tell_rates(target: Path, agents: int, games: int = 20000, min_games: int = 50) -> dict[str, object]:
    """Greedy replay of ``target``'s last checkpoint: early-Tell rate and last-day Tell rate per own visit count
    (counts reached by fewer than ``min_games`` games are left out)."""
    import torch
    from omegaconf import OmegaConf
    from torchrl.envs.utils import ExplorationType, set_exploration_type

    from oppshape.checkpoint import load_checkpoint
    from oppshape.cli import compose
    from oppshape.config import validate
    from oppshape.envs.switch_game import TELL, switch_days
    from oppshape.experiments.coma import build, make_env
    from oppshape.modules.coma_actor import actor_body

    days = switch_days(agents)
    cfg = compose([f"experiment=coma_switch_{agents}", "env.num_envs=1", "env.eval_envs=1",
                   f"algo.frames_per_batch={days}"])
    experiment = build(validate(cfg), torch.device("cpu"))
    experiment.learner.load_state_dict(load_checkpoint(target / "checkpoints")["learner"])
    loss = experiment.learner.loss
    actor = loss.actor_network  # functional: its trained weights live in loss.actor_network_params
    env = make_env(OmegaConf.create({"name": "switch_nocomm", "n_agents": agents}), games, torch.device("cpu"), 12345)
    env = env.append_transform(actor_body(actor).make_tensordict_primer())
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC), loss.actor_network_params.to_module(actor):
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
            f"{_mean_std([r['eval_return_sampled'] for r in rows])} | {_mean_std([r['eval_normalized'] for r in rows])} | "
            f"{first['reference_return']:.3f} | {first['oracle_return']:.3f} | {first['random_return']:.3f} | "
            f"{int(first['frames']):,} | {statistics.mean(r['wall_time_s'] for r in rows):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[3, 4], help="prisoner counts (>= 2)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=None, help="override trainer.iterations (smoke runs)")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "coma_switch", help="where the runs go")
    parser.add_argument("--output", type=Path, default=None, help="also write the table here (Markdown)")
    parser.add_argument("--tell-rates", action="store_true", help="replay each trained policy: who tells when")
    args = parser.parse_args()
    bad = [n for n in args.agents if n < 2]
    if bad:
        parser.error(f"--agents {bad[0]}: the riddle needs at least 2 prisoners")
    jobs = [(n, s) for n in args.agents for s in args.seeds]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        targets = list(pool.map(lambda job: run(args.out, job[0], job[1], args.iterations), jobs))
    runs: dict[int, list[Path]] = {}
    for (agents, _), target in zip(jobs, targets):
        runs.setdefault(agents, []).append(target)
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


if __name__ == "__main__":
    main()
