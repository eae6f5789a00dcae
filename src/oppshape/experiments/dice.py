"""Sample-based opponent shaping with DiCE: LOLA-DiCE, POLA-DiCE, POLA-OM (POLA paper, Figures 4 and 5).

Serves algorithms ``lola_dice``, ``pola_dice`` and ``pola_om`` (schemas in ``config/dice.py``) on envs
``iterated_matrix_game`` (the IPD, with ``env.payoff=ipd_cf env.cf=1.33``, played by GRU policies that see
the last joint action) and ``coin_game``. One trainer iteration is one update ("epoch") of the reference
``POLA_dice_jax.py``: both agents' outer loops from the same start.
"""

from __future__ import annotations

from pathlib import Path

import torch

from oppshape.config import RunConfig
from oppshape.envs import make_env
from oppshape.eval.dice import dice_metrics, plot_dice_history, strategies_for
from oppshape.experiments.base import Experiment, MetricsHistory
from oppshape.learners.lola_dice import LOLADiCE
from oppshape.learners.pola_dice import POLADiCE
from oppshape.learners.pola_om import POLAOM

LEARNERS: dict[str, type[POLADiCE]] = {"lola_dice": LOLADiCE, "pola_dice": POLADiCE, "pola_om": POLAOM}


def build(run: RunConfig, device: torch.device) -> Experiment:
    """The DiCE-family experiment of ``run`` (validated by the CLI)."""
    algo, env = run.algo, run.env
    game = make_env(env.name, num_envs=algo.num_envs, device=device, **env.kwargs())
    learner = LEARNERS[algo.name](game, algo)
    strategies = strategies_for(game)
    title = f"{algo.name} on {env.name}"

    def evaluate() -> dict[str, float]:
        return dice_metrics(game, learner.policies(), algo.eval_envs, env.episode_length, strategies)

    def plot(history: MetricsHistory, plots_dir: Path) -> None:
        plot_dice_history(history, plots_dir, title)

    rate = "own_coin_rate" if env.name == "coin_game" else "cooperation_rate"
    return Experiment(learner=learner, evaluate=evaluate, plot=plot, progress_keys=("score_mean", rate, "score_vs_alld"))
