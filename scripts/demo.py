"""Demo: naive learning vs LOLA vs POLA on the exact contribution-factor IPD (cf = 1.33).

Each method runs through the CLI (``oppshape.cli.run``, experiment ``demo``: 10 seeds, tabular
policies) with the POLA README's tabular settings: naive and LOLA 30 epochs at outer step 25 (LOLA's
look-ahead step 3), POLA 2 epochs (look-ahead 5, outer step 0.3, outer_beta 0.1). Prints one row per
method (final P(cooperate | state) of both agents, return per step, fraction of seeds that found TFT)
and writes ``comparison.png`` next to the three run directories.

    python scripts/demo.py [--out runs/demo] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from oppshape.cli import run
from oppshape.eval.plotting import panels, save
from oppshape.games.exact import STATE_NAMES

#: Per-method overrides on top of ``experiment=demo``.
METHODS: dict[str, list[str]] = {
    "naive": ["algo=naive", "trainer.iterations=30"],
    "LOLA": ["algo=lola", "trainer.iterations=30"],
    "POLA": ["algo=pola", "trainer.iterations=2"],
}


def run_methods(out: Path, seed: int) -> dict[str, dict]:
    """Run every method once, saying which runs and how it ended as it goes (the table waits for all three);
    returns each run's final metrics row (from ``summary.json``)."""
    finals = {}
    for number, (method, overrides) in enumerate(METHODS.items(), start=1):
        print(f"[{number}/{len(METHODS)}] {method}: {' '.join(overrides)} ...", flush=True)
        started = time.perf_counter()
        run_dir = run(["experiment=demo", f"seed={seed}", f"run_dir={out / method}", *overrides])
        finals[method] = json.loads((run_dir / "summary.json").read_text())["final"]
        print(f"[{number}/{len(METHODS)}] {method}: done in {time.perf_counter() - started:.0f} s, return/step "
              f"{finals[method]['return_per_step']:.3f}, found TFT {finals[method]['tft_fraction']:.0%}", flush=True)
    return finals


def table(finals: dict[str, dict]) -> str:
    """Markdown: per method and agent, P(C | state) (seed mean), return per step, found-TFT fraction."""
    lines = ["| method | agent | " + " | ".join(f"P(C {s})" for s in STATE_NAMES) + " | return/step | found TFT |",
             "|" + "---|" * (len(STATE_NAMES) + 4)]
    for method, final in finals.items():
        for agent in (1, 2):
            coop = " | ".join(f"{final[f'p_coop_agent{agent}_{s}']:.2f}" for s in STATE_NAMES)
            lines.append(f"| {method} | {agent} | {coop} | {final[f'return_per_step_agent{agent}']:.3f} "
                         f"| {final['tft_fraction']:.2f} |")
    return "\n".join(lines)


def plot(finals: dict[str, dict], path: Path) -> None:
    """Grouped bars of final P(C | state) per method and agent, with the seed spread as error bars."""
    figure, axes = panels(len(finals), sharey=True)
    width = 0.38
    for axis, (method, final) in zip(axes, finals.items()):
        for offset, agent in ((-width / 2, 1), (width / 2, 2)):
            means = [final[f"p_coop_agent{agent}_{s}"] for s in STATE_NAMES]
            spread = [final[f"p_coop_agent{agent}_{s}_std"] for s in STATE_NAMES]
            axis.bar([k + offset for k in range(len(STATE_NAMES))], means, width, yerr=spread, label=f"agent {agent}")
        axis.set_xticks(range(len(STATE_NAMES)), STATE_NAMES)
        axis.set_title(f"{method}: return/step {final['return_per_step']:.2f}, TFT {final['tft_fraction']:.0%}")
        axis.set_ylim(0, 1.05)
    axes[0].set_ylabel("P(cooperate | state), own view")
    save(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="folder for the three runs and the plot")
    parser.add_argument("--seed", type=int, default=0, help="root seed of every run")
    args = parser.parse_args()
    started = time.perf_counter()
    finals = run_methods(args.out, args.seed)
    plot(finals, args.out / "comparison.png")
    print(table(finals))
    print(f"\nmutual cooperation pays cf - 1 = 0.33 per step; plot: {args.out / 'comparison.png'}; "
          f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
