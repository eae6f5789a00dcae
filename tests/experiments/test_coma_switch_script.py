"""scripts/coma_switch.py: the table of COMA's switch-riddle runs next to the last-day rule."""

import json
from pathlib import Path

from script_loader import load_script


def _load():
    return load_script("coma_switch")


def test_existing_runs_are_kept_and_tabulated(tmp_path: Path) -> None:
    script = _load()
    for seed, greedy in ((0, 0.50), (1, 0.54)):
        target = tmp_path / "n3" / f"seed{seed}"
        target.mkdir(parents=True)
        summary = {"eval_return": greedy, "eval_return_sampled": greedy - 0.1, "eval_normalized": greedy / 0.741,
                   "reference_return": 0.527, "oracle_return": 0.741, "random_return": -0.8, "frames": 1500000.0,
                   "wall_time_s": 100.0 + seed}
        (target / "summary.json").write_text(json.dumps(summary))
    targets = [script.run(tmp_path, 3, seed, None) for seed in (0, 1)]  # summary.json exists: nothing launched
    row = script.table({3: targets}).splitlines()[-1]
    assert row.startswith("| 3 | 2 | 0.520 +- 0.028 | 0.420 +- 0.028 |")
    assert "| 0.527 | 0.741 | -0.800 | 1,500,000 | 100 |" in row


def test_tell_rates_replays_a_checkpointed_policy(tmp_path: Path) -> None:
    import torch

    from oppshape.checkpoint import save_checkpoint
    from oppshape.cli import compose
    from oppshape.config import validate
    from oppshape.experiments.coma import build

    script = _load()
    cfg = compose(["experiment=coma_switch_3", "env.num_envs=2", "env.eval_envs=2", "algo.frames_per_batch=12"])
    learner = build(validate(cfg), torch.device("cpu")).learner
    head = learner.loss.actor_network_params["module", "0", "module", "0", "head"]
    with torch.no_grad():  # a policy that never tells: every game reaches the last day and nobody tells there
        head["weight"].zero_()
        head["bias"].copy_(torch.tensor([[5.0, -5.0]]))
    save_checkpoint(tmp_path / "checkpoints", {"learner": learner.state_dict()})
    rates = script.tell_rates(tmp_path, 3, games=2000)
    assert rates["early_tell"] == 0.0
    assert set(rates["last_day_tell_by_visits"]) == {1, 2, 3, 4, 5}  # 6 visits: (1/3)^5 of 2000 games < 50
    assert all(rate == 0.0 for rate in rates["last_day_tell_by_visits"].values())
