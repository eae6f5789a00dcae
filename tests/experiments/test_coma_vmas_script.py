"""scripts/coma_vmas.py: one sweep's run overrides, and the checks made before any run starts."""

import json

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from script_loader import load_script

from oppshape.cli import compose
from oppshape.config import ConfigError


def test_baselines_replace_the_algo_and_sweep_overrides_come_last(tmp_path) -> None:
    script = load_script("coma_vmas")
    extra = ["trainer.iterations=5", "env.max_steps=200"]
    coma = script.overrides_for("give_way", "coma", 1, tmp_path, extra)
    mappo = script.overrides_for("give_way", "mappo", 1, tmp_path, extra)
    assert coma == ["experiment=coma_give_way", "seed=1", f"run_dir={tmp_path}", *extra]
    assert mappo == ["experiment=coma_give_way", "seed=1", f"run_dir={tmp_path}", "algo=mappo", *extra]
    assert compose(mappo).env.max_steps == 200


def test_a_bad_sweep_override_is_refused_before_any_run(tmp_path) -> None:
    script = load_script("coma_vmas")
    with pytest.raises(ConfigError, match="env.max_steps"):
        script.check_job(tmp_path, "give_way", "coma", 0, ["env.max_steps=0"])
    with pytest.raises(ConfigCompositionException, match="Could not override 'env.max_step'"):
        script.check_job(tmp_path, "give_way", "coma", 0, ["env.max_step=200"])
    assert not any(tmp_path.iterdir())


def test_a_finished_run_with_other_settings_is_not_reused(tmp_path) -> None:
    script = load_script("coma_vmas")
    target = script.run_dir(tmp_path, "give_way", "coma", 0)
    target.mkdir(parents=True)
    finished = compose(script.overrides_for("give_way", "coma", 0, target))
    (target / "config.yaml").write_text(OmegaConf.to_yaml(finished, resolve=True))
    (target / "summary.json").write_text(json.dumps({"eval_return": 0.0}))
    script.check_job(tmp_path, "give_way", "coma", 0)  # same settings: reused
    with pytest.raises(RuntimeError, match=r"'env.max_steps': \(100, 200\)"):
        script.check_job(tmp_path, "give_way", "coma", 0, ["env.max_steps=200"])
