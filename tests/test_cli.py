"""The command line as a user meets it: composition of every shipped config, a smoke run, clear errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oppshape.cli import CONFIG_DIR, compose
from oppshape.config import validate

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
QUICK = ["logger=quiet", "trainer.progress=false"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", "oppshape", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_config_composes_and_validates(experiment):
    validate(compose([f"experiment={experiment}"]))


def _makefile_cli_targets() -> list[str]:
    """The ``$(CLI) <overrides> $(ARGS)`` recipe lines of the Makefile whose overrides are literal."""
    makefile = (CONFIG_DIR.parent / "Makefile").read_text().splitlines()
    prefix, suffix = "\t$(CLI) ", " $(ARGS)"
    recipes = [line[len(prefix):-len(suffix)] for line in makefile if line.startswith(prefix) and line.endswith(suffix)]
    return [overrides for overrides in recipes if "$" not in overrides]


@pytest.mark.parametrize("overrides", _makefile_cli_targets())
def test_every_make_target_command_composes_and_validates(overrides):
    """A typo in a make target's overrides would only show after the venv is built and the run is started."""
    validate(compose(overrides.split()))


def test_makefile_has_cli_targets_to_check():
    assert len(_makefile_cli_targets()) >= 15


def test_default_config_validates():
    validate(compose([]))


def test_cli_smoke_run_writes_run_directory(tmp_path):
    run_dir = tmp_path / "run"
    result = _cli("algo=naive", "env=ipd_exact", "trainer.iterations=3", f"run_dir={run_dir}", *QUICK, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["iterations"] == 3 and summary["algo"] == "naive"
    for name in ("config.yaml", "metrics.csv", "checkpoints/last.pt"):
        assert (run_dir / name).exists()


@pytest.mark.parametrize(
    "override,message",
    [
        ("trainer.iterations=-1", "trainer.iterations=-1; expected an integer >= 1"),
        ("trainer.iteratons=3", "unknown key 'trainer.iteratons' in 'trainer.iteratons=3'; valid keys of trainer: iterations"),
        ("algo=dqn_plus", "invalid algo='dqn_plus'; valid choices: aa, coma, coma_benchmarl"),
        ("env.gamma=1.5", "gamma"),
        ("device=tpu", "device='tpu'; expected auto, cpu, cuda or cuda:N"),
    ],
)
def test_bad_values_fail_at_start_with_a_clear_message(tmp_path, override, message):
    result = _cli("algo=naive", "env=ipd_exact", override, *QUICK, f"run_dir={tmp_path / 'run'}", cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "run" / "metrics.csv").exists()  # failed before any work


def test_multirun_sweep_over_seeds(tmp_path):
    result = _cli("-m", "algo=naive", "env=ipd_exact", "trainer.iterations=2", "seed=0,1",
                  f"hydra.sweep.dir={tmp_path / 'sweep'}", *QUICK, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    seeds = sorted(json.loads(p.read_text())["seed"] for p in (tmp_path / "sweep").glob("*/summary.json"))
    assert seeds == [0, 1]
