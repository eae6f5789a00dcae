"""``make gpu-check`` (scripts/gpu_check.py) on a CPU-only machine, its BENCHMARKS.md section writer, and the
CUDA tests it runs (collected here, skipped without a GPU)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from script_loader import SCRIPTS, load_script

from oppshape.cli import compose
from oppshape.config import validate

ROOT = SCRIPTS.parent
DOC = """# Benchmarks

Header text.

<!-- bench:coin_dice -->
## Coin Game
| a | b |
<!-- /bench:coin_dice -->

{gpu}<!-- bench:loqa -->
## LOQA
<!-- /bench:loqa -->
"""


def test_without_a_gpu_it_says_so_in_one_line_and_exits_0(tmp_path: Path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    done = subprocess.run([sys.executable, str(SCRIPTS / "gpu_check.py"), "--output", str(output)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"gpu-check: no GPU (torch {torch.__version__}, CUDA available: False); "
                           "nothing to check\n")
    assert not output.exists()


@pytest.mark.parametrize("earlier", [
    "<!-- bench:gpu_check -->\n## GPU check (Old GPU, 2026-01-01)\nold rows\n<!-- /bench:gpu_check -->\n\n",
    "## GPU check (Old GPU, 2026-01-01)\n\nold rows\n\n",
])
def test_the_section_replaces_an_earlier_one_and_keeps_the_rest(earlier: str) -> None:
    gpu_check = load_script("gpu_check")
    new = gpu_check.replace_section(DOC.format(gpu=earlier), "## GPU check (H200, 2026-12-02)\n\nnew rows\n")
    section = "<!-- bench:gpu_check -->\n## GPU check (H200, 2026-12-02)\n\nnew rows\n<!-- /bench:gpu_check -->\n\n"
    assert new == DOC.format(gpu=section)
    # make bench rewrites the file from its marked sections: the GPU check is one of them, so it survives
    assert [m.group(1) for m in load_script("bench").SECTION.finditer(new)] == ["coin_dice", "gpu_check", "loqa"]


def test_the_section_is_appended_when_there_is_none() -> None:
    gpu_check = load_script("gpu_check")
    text = DOC.format(gpu="")
    new = gpu_check.replace_section(text, "## GPU check (H200, 2026-12-02)\nrows")
    assert new == text + "\n<!-- bench:gpu_check -->\n## GPU check (H200, 2026-12-02)\nrows\n<!-- /bench:gpu_check -->\n"
    assert gpu_check.replace_section("", "## GPU check (x, y)") == ("<!-- bench:gpu_check -->\n## GPU check (x, y)\n"
                                                                    "<!-- /bench:gpu_check -->\n")


def test_the_bench_skips_every_row_past_its_deadline() -> None:
    bench = load_script("bench/_gpu")
    markdown, failures = bench.run(torch.device("cpu"), deadline=0.0, log=lambda line: None)
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| env |")
            and not line.startswith("| step |")]
    assert failures == 0 and len(rows) == 2 * len(bench.ENV_SIZES) + 6
    assert all(row.endswith("| skipped (time cap) |") for row in rows)


def test_every_smoke_run_is_a_valid_command() -> None:
    gpu_check = load_script("gpu_check")
    assert {"exact_ipd", "dice", "loqa", "communication", "stackelberg", "advantage_alignment"} < set(gpu_check.SMOKE_RUNS)
    for overrides in gpu_check.SMOKE_RUNS.values():
        validate(compose([*overrides, *gpu_check.SMOKE_COMMON, "trainer.max_seconds=20"]))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks what a CPU-only machine collects")
def test_the_cuda_tests_are_collected_and_skipped_without_a_gpu() -> None:
    files = ["tests/test_cuda_families.py", "tests/envs/test_cuda_envs.py", "tests/envs/test_coin_game.py::test_runs_on_cuda"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "cuda", "-rs", *files], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    skipped = int(re.search(r"(\d+) skipped", done.stdout).group(1))
    assert skipped == 8 + 5 + 1 and "passed" not in done.stdout and "SKIPPED" in done.stdout
    assert "needs CUDA" in done.stdout
