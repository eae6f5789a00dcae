"""`make bench`: run every benchmark module in scripts/bench/ and write docs/BENCHMARKS.md.

Each module exposes ``run(quick: bool) -> str`` returning a Markdown section. ``--quick`` shrinks the
sizes for a smoke run; ``--only name[,name]`` runs a subset (the file keeps the other sections).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "scripts" / "bench"
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"
SECTION = re.compile(r"<!-- bench:(\w+) -->.*?<!-- /bench:\1 -->", re.S)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return (f"{cpu}, {os.cpu_count()} cores; GPU: {gpu}; torch {torch.__version__}, "
            f"Python {platform.python_version()}")


def load_module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_collect_update(collect: Callable[[], Any], update: Callable[[Any], Any], iterations: int) -> dict[str, float]:
    """Per-iteration wall seconds of ``collect()`` and ``update(batch)`` and CPU seconds of both, after one
    warm-up iteration (the loop every family's collect-then-update bench times)."""
    update(collect())  # warm-up
    collect_s = update_s = 0.0
    cpu = time.process_time()
    for _ in range(iterations):
        started = time.perf_counter()
        batch = collect()
        middle = time.perf_counter()
        update(batch)
        collect_s, update_s = collect_s + middle - started, update_s + time.perf_counter() - middle
    return {"collect": collect_s / iterations, "update": update_s / iterations,
            "cpu": (time.process_time() - cpu) / iterations}


def startup(quick: bool) -> str:
    """The CLI's start-up: ``python -m oppshape --help`` and a config error, each in a fresh interpreter (median of
    three; issue #22 asks for under 2 s)."""
    import statistics
    import subprocess

    rows = []
    for label, args in (("`python -m oppshape --help`", ["--help"]),
                        ("config error (`trainer.iterations=-1`)", ["trainer.iterations=-1"])):
        times = []
        for _ in range(1 if quick else 3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "oppshape", *args], cwd=ROOT, capture_output=True, check=False)
            times.append(time.perf_counter() - started)
        rows.append(f"| {label} | {statistics.median(times):.2f} |")
    return "\n".join(["### CLI start-up", "", "| command | seconds (median) |", "|---|---|", *rows])


BUILT_IN = {"startup": startup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", default="", help="comma-separated benchmark module names")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    available = sorted([*BUILT_IN, *(p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_"))])
    chosen = [n for n in args.only.split(",") if n] or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        sys.exit(f"unknown benchmark(s) {unknown}; valid choices: {', '.join(available)}")
    # one intra-op thread: faster for these small batched ops on 2 cores, and robust to other load
    torch.set_num_threads(int(os.environ.get("OPPSHAPE_BENCH_THREADS", "1")))
    existing = args.output.read_text() if args.output.exists() else ""
    sections = {m.group(1): m.group(0) for m in SECTION.finditer(existing)}
    for name in chosen:
        started, load_average = time.perf_counter(), os.getloadavg()[0]
        print(f"[bench] {name} ...", flush=True)
        body = (BUILT_IN[name] if name in BUILT_IN else load_module(name).run)(quick=args.quick).strip()
        stamp = f"_{datetime.date.today()} on {machine()}; `{' '.join(sys.argv[1:]) or 'make bench'}`; {time.perf_counter() - started:.0f} s; load average at start {load_average:.1f}_"
        sections[name] = f"<!-- bench:{name} -->\n{body}\n\n{stamp}\n<!-- /bench:{name} -->"
        print(body, flush=True)
        write(args.output, sections)  # after every section: an interrupted run keeps what it measured
    print(f"wrote {args.output}")


def write(output: Path, sections: dict[str, str]) -> None:
    header = (
        "# Benchmarks\n\nMeasured by `make bench` (`scripts/bench.py`, one module per family in `scripts/bench/`).\n"
        "Each section records the date, machine and command that produced it; re-run a single section with\n"
        "`make bench ARGS=\"--only <name>\"`. CI never runs these. On the 2-core VM used so far, the same code\n"
        "timed minutes apart differs by up to ~25%: compare rows taken in one run, not across sections.\n"
    )
    output.write_text(header + "\n" + "\n\n".join(sections[k] for k in sorted(sections)) + "\n")


if __name__ == "__main__":
    main()
