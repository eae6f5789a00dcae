"""``python -m oppshape.league``: outputs of a fixed-strategy league, and bad input failing in one line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def league(*overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oppshape.league", *overrides], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_fixed_ipd_league_writes_json_markdown_heatmap(tmp_path):
    out = tmp_path / "fixed_ipd"
    done = league("episodes=20", f"out_dir={out}")
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "league.json").read_text())
    names = record["entrants"]
    assert record["game"] == "ipd" and names == ["allc", "alld", "tft", "grim", "random"]
    tft, alld = names.index("tft"), names.index("alld")
    assert record["mean_reward"][tft][alld] == pytest.approx([-2.02, -1.96], abs=1e-5)
    assert record["ci95"][tft][alld] == pytest.approx([0.0, 0.0], abs=1e-6)
    tft_row = record["best_response"]["tft"]
    assert tft_row["method"] == "exact"
    assert (tft_row["entrant_reward"], tft_row["responder_reward"]) == pytest.approx((-1.04, -0.98))
    # the round robin's best reply to TFT earns less than the exact best response: -1 (any cooperator)
    assert tft_row["strongest_opponent"]["opponent_reward"] == pytest.approx(-1.0)
    assert record["best_response"]["allc"]["strongest_opponent"] == pytest.approx(
        {"name": "alld", "opponent_reward": 0.0, "entrant_reward": -3.0})
    assert record["best_response"]["allc"]["responder_reward"] == pytest.approx(0.0)
    markdown = (out / "league.md").read_text()
    assert "| tft | -1.000 / -1.000 | -2.020 / -1.960 |" in markdown
    assert "| tft | exact | -1.040 | -0.980 | -1.000 | allc: -1.000 / -1.000 |" in markdown
    assert (out / "league_heatmap.png").stat().st_size > 0
    assert (out / "config.yaml").is_file()


def test_fixed_coin_league_reports_own_coin_rates(tmp_path):
    out = tmp_path / "coin"
    done = league("game=coin_game", "episodes=8", "best_response.method=exact", f"out_dir={out}")
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "league.json").read_text())
    assert record["entrants"] == ["allc", "alld", "random"] and record["best_response"] == {}
    assert record["own_coin_rate"][0][1][0] == 1.0  # always-cooperate takes only its own coins


@pytest.mark.parametrize("overrides,message", [
    (["entrants=[tft,tit4tat]"], "unknown entrant 'tit4tat': neither a run directory nor a ipd strategy; "
                                    "valid strategies: allc, alld, tft, grim, random"),
    (["game=coin_game", "entrants=[tft]"], "unknown entrant 'tft': neither a run directory nor a coin_game strategy; "
                                                   "valid strategies: allc, alld, random"),
    (["best_response.method=search"], "invalid best_response.method='search'; valid choices: auto, exact, learned, none"),
])
def test_bad_input_fails_in_one_line_before_playing(tmp_path, overrides, message):
    done = league(*overrides, f"out_dir={tmp_path / 'bad'}")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"oppshape.league: config error: {message}"]
    assert not (tmp_path / "bad" / "league.json").exists()
