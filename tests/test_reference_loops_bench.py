"""scripts/bench/reference_loops.py: every row has its reference figures; the thread pinning is undone; rows run."""

from __future__ import annotations

import os

import torch

from script_loader import load_script


def test_every_row_has_a_reference_and_a_base_time() -> None:
    bench = load_script("bench/reference_loops")
    keys = [row[0] for row in bench.rows(quick=True)]
    assert keys == list(bench.REFERENCES) == list(bench.BASE_SECONDS)
    for key in keys:
        reference = bench.REFERENCES[key]
        assert reference.issue_ratio > 0 and reference.target > 0 and reference.source


def test_threads_pins_and_restores() -> None:
    bench = load_script("bench/reference_loops")
    threads, cores = torch.get_num_threads(), os.sched_getaffinity(0)
    with bench.threads(1):
        assert torch.get_num_threads() == 1
        if (os.cpu_count() or 1) > 1:
            assert os.sched_getaffinity(0) == {1}
    assert torch.get_num_threads() == threads and os.sched_getaffinity(0) == cores


def test_a_small_coin_rollout_row_runs_and_is_timed() -> None:
    bench = load_script("bench/reference_loops")
    wall, cpu, first = bench.median_seconds(bench.coin_rollout(values=True, games=8, steps=3), repeats=1)
    assert wall > 0 and cpu > 0 and first > 0
