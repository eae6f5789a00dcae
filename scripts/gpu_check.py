"""`make gpu-check`: on a machine with a GPU, the CUDA tests, a short CUDA run of each family through the CLI,
and the GPU bench (scripts/bench/_gpu.py), written as one section of docs/BENCHMARKS.md; without a GPU it
says so in one line and exits 0.

Every part is time-capped (``--budget`` seconds in all, 8 minutes by default) and prints its progress; the
exit status is 1 when a test, a run or a bench row failed. The section is wrapped in ``make bench``'s
markers, so ``make bench`` keeps it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- bench:gpu_check -->", "<!-- /bench:gpu_check -->"
# an earlier section: with markers, or a bare heading up to the next section
EARLIER = re.compile(rf"{re.escape(BEGIN)}.*?{re.escape(END)}|^## GPU check \(.*?(?=^## |^<!-- |\Z)", re.S | re.M)
# family -> Hydra overrides of its smoke run (each stops at trainer.iterations or --smoke-seconds)
SMOKE_RUNS: dict[str, list[str]] = {
    "exact_ipd": ["experiment=pola_ipd_exact", "trainer.iterations=3"],
    "dice": ["experiment=pola_dice_coin_small", "trainer.iterations=3"],
    "loqa": ["experiment=loqa_coin", "trainer.iterations=20"],
    "communication": ["experiment=dial_switch_3", "trainer.iterations=200"],
    "coma (matrix game)": ["experiment=coma_matrix_sanity", "trainer.iterations=10"],
    "coma (VMAS)": ["experiment=coma_navigation", "trainer.iterations=3"],
    "stackelberg": ["experiment=stackelberg_allgames_ppo", "algo.pretrain_iterations=20", "algo.leader_iterations=20",
                    "algo.post_iterations=10", "trainer.iterations=50"],
    "advantage_alignment": ["experiment=aa_coin", "trainer.iterations=20"],
}
SMOKE_COMMON = ["device=cuda", "trainer.eval_every=0", "trainer.checkpoint_every=0", "trainer.progress=false",
                "logger=quiet"]


def replace_section(text: str, section: str) -> str:
    """``text`` with its GPU-check section (marked, or a bare ``## GPU check (`` heading) replaced by
    ``section`` wrapped in the markers; appended when there is none. The rest of ``text`` is kept as is."""
    block = f"{BEGIN}\n{section.strip()}\n{END}"
    match = EARLIER.search(text)
    if match is None:
        return f"{text.rstrip()}\n\n{block}\n" if text.strip() else f"{block}\n"
    before, rest = text[:match.start()], text[match.end():]
    if match.group(0).startswith(BEGIN):
        return before + block + rest
    return before + block + ("\n\n" + rest if rest else "\n")  # a bare section took its trailing blank lines


def cuda_tests(timeout: float) -> tuple[str, bool]:
    """``pytest -m cuda`` over tests/: its summary line and whether it passed."""
    print("[gpu-check] CUDA tests (pytest -m cuda) ...", flush=True)
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-m", "cuda", "-q", "tests"], cwd=ROOT,
                              capture_output=True, text=True, timeout=max(timeout, 1))
    except subprocess.TimeoutExpired:
        return f"stopped after {timeout:.0f} s (time cap)", False
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    summary = lines[-1].strip("= ") if lines else done.stderr.strip()[-200:]
    print("\n".join([*failed, summary]), flush=True)
    return "\n".join([f"`pytest -m cuda`: {summary}", *(f"- {line}" for line in failed)]), done.returncode == 0


def smoke_run(overrides: list[str], run_dir: Path, seconds: float, deadline: float) -> tuple[str, bool]:
    """One short CUDA run through the CLI: a table row's cells (iterations, wall seconds, status) and success."""
    left = deadline - time.perf_counter()
    if left < seconds:
        return "- | - | skipped (time cap)", True
    command = [sys.executable, "-m", "oppshape", *overrides, *SMOKE_COMMON, f"trainer.max_seconds={seconds}",
               f"run_dir={run_dir}"]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=left)
    except subprocess.TimeoutExpired:
        return f"- | {time.perf_counter() - started:.0f} | stopped (time cap)", False
    wall = time.perf_counter() - started
    if done.returncode != 0:
        error = (done.stderr.strip().splitlines() or ["no output"])[-1][:160].replace("|", "/")
        return f"- | {wall:.0f} | FAILED (exit {done.returncode}: {error})", False
    summary = json.loads((run_dir / "summary.json").read_text())
    return f"{summary['iterations']} | {wall:.0f} | ok ({summary['device']})", True


def smoke_runs(seconds: float, deadline: float) -> tuple[str, bool]:
    """Every family's smoke run: a Markdown table and whether all passed."""
    rows, passed = ["| family | overrides | iterations | wall s | status |", "|---|---|---|---|---|"], True
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as folder:
        for index, (family, overrides) in enumerate(SMOKE_RUNS.items()):
            print(f"[gpu-check] smoke run {index + 1}/{len(SMOKE_RUNS)}: {family} ...", flush=True)
            cells, ok = smoke_run(overrides, Path(folder) / str(index), seconds, deadline)
            print(f"  {cells}", flush=True)
            rows.append(f"| {family} | `{' '.join(overrides)}` | {cells} |")
            passed &= ok
    return "\n".join(rows), passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=float, default=450, help="seconds for the whole check")
    parser.add_argument("--smoke-seconds", type=float, default=20, help="training seconds of each smoke run")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(f"gpu-check: no GPU (torch {torch.__version__}, CUDA available: False); nothing to check")
        return
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench import load_module

    started = time.perf_counter()
    deadline = started + args.budget
    name = torch.cuda.get_device_name(0)
    print(f"[gpu-check] {name}, torch {torch.__version__}, CUDA {torch.version.cuda}; budget {args.budget:.0f} s")
    tests, tests_ok = cuda_tests(timeout=0.3 * args.budget)
    smoke, smoke_ok = smoke_runs(args.smoke_seconds, started + 0.75 * args.budget)
    print("[gpu-check] GPU bench ...", flush=True)
    bench, bench_failures = load_module("_gpu").run(torch.device("cuda"), deadline)
    passed = tests_ok and smoke_ok and bench_failures == 0
    section = "\n".join([
        f"## GPU check ({name}, {datetime.date.today()})", "",
        f"`make gpu-check` (`scripts/gpu_check.py`): torch {torch.__version__}, CUDA {torch.version.cuda}; "
        f"{time.perf_counter() - started:.0f} s in all; {'all passed' if passed else 'FAILURES below'}.", "",
        "### CUDA tests", "", tests, "",
        f"### Smoke runs (`python -m oppshape ... {' '.join(SMOKE_COMMON)} trainer.max_seconds={args.smoke_seconds:g}`)",
        "", smoke, "", bench,
    ])
    existing = args.output.read_text() if args.output.exists() else ""
    args.output.write_text(replace_section(existing, section))
    print(f"[gpu-check] wrote {args.output} ({time.perf_counter() - started:.0f} s)")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
