"""The objectives are the importable core: loading them must not pull in the trainer, envs, Hydra or wandb."""

import subprocess
import sys

FORBIDDEN = ("hydra", "wandb", "oppshape.envs", "oppshape.trainer", "oppshape.learners", "oppshape.experiments",
             "oppshape.cli")


def test_objectives_import_alone():
    code = (
        "import sys\n"
        "from oppshape.objectives import COMALoss, DIALLoss, DiCELoss, LOQALoss, RIALLoss\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout


def test_dice_family_objectives_import_alone():
    """POLA-DiCE, LOLA-DiCE (DiCELoss + dice_lookahead) and POLA-OM losses load without envs, rollouts or learners."""
    code = (
        "import sys\n"
        "from oppshape.objectives import DiCELoss, OpponentModelLoss, POLADiCELoss, dice_lookahead\n"
        f"print(sorted(m for m in sys.modules if m.startswith({(*FORBIDDEN, 'oppshape.rollouts', 'oppshape.config')!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout
