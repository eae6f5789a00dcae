"""Evaluation of RIAL / DIAL on the switch riddle (Foerster et al. 2016, Fig. 3): greedy test episodes
and the normalised test reward curve of a run."""

from __future__ import annotations

from pathlib import Path

from oppshape.envs.switch_game import SwitchGame
from oppshape.eval.plotting import panels, save
from oppshape.learners.communication import CommunicationLearner
from oppshape.rollouts.communication import episode_stats, play_episodes


def greedy_test(learner: CommunicationLearner, env: SwitchGame) -> dict[str, float]:
    """``test_*`` metrics of ``env``'s batch of greedy episodes: hard DRU threshold at logit 0, batch norm
    with its running statistics; ``test_reward_normalized`` is the paper's y-axis (oracle = 1)."""
    learner.set_training(False)
    try:
        trajectory = play_episodes(learner.network, env, explore=False, dru=learner.dru)
    finally:
        learner.set_training(True)
    return {f"test_{key}": value for key, value in episode_stats(trajectory, env.n_agents).items()}


def plot_test_reward(history: list[dict[str, float]], plots_dir: Path) -> None:
    """Normalised test reward vs epoch, as in the paper's Fig. 3 (oracle = 1), into ``test_reward.png``."""
    rows = [row for row in history if "test_reward_normalized" in row]
    if not rows:
        return
    figure, (axis,) = panels()
    axis.plot([row["iteration"] for row in rows], [row["test_reward_normalized"] for row in rows], label="test")
    axis.axhline(1.0, color="k", linestyle="--", linewidth=1, label="oracle")
    axis.set(xlabel="epoch", ylabel="normalised reward", ylim=(-0.05, 1.05))
    axis.legend(loc="lower right")
    save(figure, plots_dir / "test_reward.png")
