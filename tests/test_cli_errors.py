"""What a user meets when things go wrong (issue #22): one line naming the bad value and the valid choices, a
non-zero exit, no trace, no run directory; Ctrl-C saves and resumes exactly; a sweep is refused whole."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from toy_family import install, toy_config

from oppshape.cli import compose, execute, resumed_config, run
from oppshape.cli.help import field_docs, help_text
from oppshape.cli.sweep import expand
from oppshape.config import TrainerConfig
from oppshape.config_errors import describe_composition_error

TOY = Path(__file__).resolve().parent / "toy_family.py"
QUICK = ["logger=quiet", "trainer.progress=false"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", "oppshape", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _one_line(result: subprocess.CompletedProcess, code: int) -> str:
    assert result.returncode == code, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("oppshape:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_rejected_command_names_the_value_and_leaves_no_run_directory(tmp_path):
    line = _one_line(_cli("algo=naive", "env=ipd_exact", "env.gamma=1.5", *QUICK, cwd=tmp_path), 2)
    assert "env.gamma=1.5" in line
    assert not (tmp_path / "runs").exists() and not (tmp_path / "multirun").exists()


def test_run_dir_an_existing_file(tmp_path):
    (tmp_path / "taken").write_text("")
    line = _one_line(_cli("algo=naive", "env=ipd_exact", "run_dir=taken", *QUICK, cwd=tmp_path), 2)
    assert line == "oppshape: config error: run_dir='taken' is an existing file; give a directory path (it is created)"


def test_exact_blame_with_the_experiment_applied():
    overrides = ["experiment=loqa_ipd", "algo.hidden_size=8"]
    with pytest.raises(Exception) as error:
        compose(overrides)
    message = describe_composition_error(error.value, overrides, compose)
    loqa_keys = ", ".join(map(str, compose(["experiment=loqa_ipd"]).algo.keys()))
    assert message == f"unknown key 'algo.hidden_size' in 'algo.hidden_size=8'; valid keys of algo: {loqa_keys}"


def test_a_bad_group_choice_lists_the_valid_ones(tmp_path):
    line = _one_line(_cli("algo=dqn_plus", "trainer.iterations=2", cwd=tmp_path), 2)
    assert line.startswith("oppshape: config error: bad override: invalid algo='dqn_plus'; valid choices: aa, coma,")
    assert line.endswith(", stackelberg"), line  # the choices alone, not Hydra's search-path paragraph after them
    assert not (tmp_path / "runs").exists()


def test_a_sweep_with_one_bad_value_is_refused_before_its_first_job(tmp_path):
    assert expand(["seed=0,1", "env.gamma=0.9,1.5", "algo=naive"])[1] == ["seed=0", "env.gamma=1.5", "algo=naive"]
    result = _cli("-m", "algo=naive", "env=ipd_exact", "trainer.iterations=2", "env.gamma=0.9,1.5",
                  f"hydra.sweep.dir={tmp_path / 'sweep'}", *QUICK, cwd=tmp_path)
    line = _one_line(result, 2)
    assert "job algo=naive env=ipd_exact trainer.iterations=2 env.gamma=1.5" in line and "gamma=1.5" in line
    assert not (tmp_path / "sweep").exists()


def test_a_group_glob_sweep_expands_to_the_matching_options():
    """``make pola-ipd-exact`` sweeps ``experiment=glob(pola_fig3_*)``: the check expands it as Hydra does."""
    jobs = expand(["experiment=glob(pola_fig3_pola_nn_*)", "seed=1"])
    assert jobs == [[f"experiment=pola_fig3_pola_nn_cf{cf}", "seed=1"] for cf in (110, 125, 133, 140, 160)]


def test_resume_without_a_checkpoint_and_with_a_damaged_one(tmp_path):
    run_dir = run(["algo=naive", "env=ipd_exact", "trainer.iterations=2", f"run_dir={tmp_path / 'run'}", *QUICK])
    (run_dir / "checkpoints" / "last.pt").write_bytes(b"PK\3\4 truncated")
    line = _one_line(_cli(f"resume={run_dir}", cwd=tmp_path), 2)
    assert line.startswith(f"oppshape: checkpoint error: checkpoint {run_dir}/checkpoints/last.pt is damaged (")
    assert "weights_only" not in line
    for checkpoint in (run_dir / "checkpoints").iterdir():
        checkpoint.unlink()
    line = _one_line(_cli(f"resume={run_dir}", "trainer.iterations=3", cwd=tmp_path), 2)
    assert line.startswith(f"oppshape: checkpoint error: no checkpoint at {run_dir}/checkpoints/last.pt")


def test_resume_refuses_an_algorithm_change_and_points_to_init_from(tmp_path):
    run_dir = run(["algo=naive", "env=ipd_exact", "trainer.iterations=2", f"run_dir={tmp_path / 'run'}", *QUICK])
    line = _one_line(_cli(f"resume={run_dir}", "seed=5", cwd=tmp_path), 2)
    assert "cannot change seed=5; honoured on resume: trainer.iterations" in line and f"init_from={run_dir}" in line


def _toy(run_dir: Path, *dotlist: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(TOY), str(run_dir), *dotlist], stderr=subprocess.PIPE, text=True,
                            **popen)


def test_the_nan_guard_is_one_line(tmp_path):
    process = _toy(tmp_path / "run", "algo.blow_up_at=2", "algo.blow_up=parameter")
    _, stderr = process.communicate(timeout=300)
    line = _one_line(subprocess.CompletedProcess([], process.returncode, "", stderr), 1)
    assert line.startswith("oppshape: stopped: learner tensor theta became NaN or inf at iteration 2; no checkpoint")


@pytest.mark.parametrize("sent,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_saves_and_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch, sent, code):
    install(monkeypatch)
    run_dir = tmp_path / "run"
    process = _toy(run_dir, "trainer.iterations=40", "trainer.checkpoint_every=100", "algo.sleep=0.05")
    deadline = time.time() + 240
    while time.time() < deadline and not _logged_rows(run_dir) >= 3:
        time.sleep(0.1)
    process.send_signal(sent)
    _, stderr = process.communicate(timeout=120)
    line = _one_line(subprocess.CompletedProcess([], process.returncode, "", stderr), code)
    assert f"oppshape: interrupted: {sent.name} at iteration" in line
    assert line.endswith(f"; checkpoint {run_dir}/checkpoints/last.pt; resume with: python -m oppshape resume={run_dir}")
    assert not (run_dir / "summary.json").exists()

    resumed = execute(resumed_config(run_dir, []), run_dir)
    reference = execute(toy_config(iterations=40, checkpoint_every=100), tmp_path / "reference")
    drop = {"wall_time_s"}
    assert {k: v for k, v in resumed["final"].items() if k not in drop} == {
        k: v for k, v in reference["final"].items() if k not in drop}


def test_a_second_ctrl_c_quits_at_once_without_saving(tmp_path, monkeypatch):
    install(monkeypatch)
    run_dir = tmp_path / "run"
    process = _toy(run_dir, "trainer.iterations=40", "trainer.checkpoint_every=100", "algo.sleep=2.0")
    deadline = time.time() + 240
    while time.time() < deadline and not _logged_rows(run_dir) >= 1:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)  # the first asks to stop after the iteration in progress (2 s long) ...
    time.sleep(0.3)
    started = time.time()
    process.send_signal(signal.SIGINT)  # ... the second leaves at once
    process.communicate(timeout=60)
    assert process.returncode == 130
    assert time.time() - started < 1.5  # did not wait for the iteration to end
    assert not (run_dir / "checkpoints" / "last.pt").exists()


def _logged_rows(run_dir: Path) -> int:
    metrics = run_dir / "metrics.csv"
    return len(metrics.read_text().splitlines()) - 1 if metrics.exists() else 0


def test_init_from_starts_a_new_run_from_the_weights_with_a_new_config(tmp_path, monkeypatch):
    install(monkeypatch)
    execute(toy_config(iterations=5), tmp_path / "first")
    cfg = toy_config(iterations=1)
    cfg.init_from, cfg.algo.lr = str(tmp_path / "first"), 0.01
    summary = execute(cfg, tmp_path / "second")
    assert summary["init_from"] == {"run": str(tmp_path / "first"), "iteration": 5}
    assert "init_from: " + str(tmp_path / "first") in (tmp_path / "second" / "config.yaml").read_text()
    fresh = execute(toy_config(iterations=1), tmp_path / "fresh")["final"]["theta_0"]
    assert abs(summary["final"]["theta_0"]) > abs(fresh) + 0.1  # it went on from 5 steps of lr 0.1


def test_help_lists_groups_fields_and_experiments():
    text = help_text()
    assert "experiments (experiment=<name>): " in text and "loqa_ipd" in text
    assert "  logger: default, quiet" in text
    assert "  iterations = 100  learner updates in the whole run" in text
    assert field_docs(TrainerConfig)["isolate_eval"].startswith("evaluate on generators seeded from (seed, iteration)")


def test_a_multirun_writes_a_summary_table(tmp_path):
    result = _cli("-m", "algo=naive", "env=ipd_exact", "trainer.iterations=2", "seed=0,1",
                  f"hydra.sweep.dir={tmp_path / 'sweep'}", *QUICK, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = (tmp_path / "sweep" / "summary.csv").read_text().splitlines()
    assert rows[0].startswith("job,overrides,status,iterations,wall_time_s,") and len(rows) == 3
    assert rows[2].startswith("1,algo=naive env=ipd_exact trainer.iterations=2 seed=1 ") and ",ok,2," in rows[2]


def test_a_multirun_with_a_failed_job_exits_non_zero_naming_it(tmp_path, monkeypatch, capsys):
    import importlib

    from oppshape.cli import entry
    from oppshape.trainer import NonFiniteError

    execute_module = importlib.import_module("oppshape.cli.execute")  # the package re-exports the function's name
    real_execute = execute_module.execute

    def failing_for_seed_1(cfg, run_dir):
        if cfg.seed == 1:
            raise NonFiniteError("loss_toy is nan at iteration 2")
        return real_execute(cfg, run_dir)

    monkeypatch.setattr(execute_module, "execute", failing_for_seed_1)
    argv = ["-m", "algo=naive", "env=ipd_exact", "trainer.iterations=2", "seed=0,1",
            f"hydra.sweep.dir={tmp_path / 'sweep'}", *QUICK]
    monkeypatch.setattr(sys, "argv", ["oppshape", *argv])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        entry.guarded(lambda: entry._run(argv))
    assert exit_.value.code == 1
    assert "oppshape: sweep: 1 job(s) failed: 1; their reasons are in the sweep's summary.md" in capsys.readouterr().err
    assert "loss_toy is nan" in (tmp_path / "sweep" / "summary.md").read_text()
