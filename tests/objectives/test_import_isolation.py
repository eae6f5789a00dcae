"""The objectives are the importable core: loading them must not pull in the trainer, envs, rollouts, learners,
evaluation, Hydra or wandb (the ground-floor config schemas, which need only omegaconf, may load)."""

import subprocess
import sys

import pytest

FORBIDDEN = ("hydra", "wandb", "oppshape.envs", "oppshape.rollouts", "oppshape.learners", "oppshape.eval",
             "oppshape.experiments", "oppshape.trainer", "oppshape.cli")

LOSSES = {
    "first families": "COMALoss, DIALLoss, DiCELoss, LOQALoss, RIALLoss",
    "exact shaping": "ExactLOLALoss, ExactPOLALoss, ExactValueLoss, lookahead_opponent",
    "advantage alignment": "AdvantageAlignmentLoss",
    "POLA-DiCE, LOLA-DiCE, POLA-OM": "DiCELoss, OpponentModelLoss, POLADiCELoss, dice_lookahead",
}


@pytest.mark.parametrize("names", LOSSES.values(), ids=LOSSES.keys())
def test_losses_import_alone(names: str) -> None:
    code = (
        "import sys\n"
        f"from oppshape.objectives import {names}\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout
