"""The plumbing of the head-to-head scripts in benchmarks/: a worker run in a process of
its own hands its result back (or fails without taking the run down), and the ceiling rows
land beside the workload each one bounds in the plot."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"czarr_bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_run_isolated_returns_the_last_json_line(tmp_path, capsys):
    isolated = _module("isolated")
    script = tmp_path / "worker.py"
    script.write_text("import json, os, sys\nprint('noise')\n"
                      "print(json.dumps({'args': sys.argv[1:], 'pid': os.getpid()}))\n")
    got = isolated.run_isolated(str(script), ["a", "b"], "w")
    assert got["args"] == ["a", "b"]
    assert got["pid"] != os.getpid()  # another process
    script.write_text("raise SystemExit('worker broke')\n")
    assert isolated.run_isolated(str(script), [], "broken") is None
    assert "broken: failed: worker broke" in capsys.readouterr().out


ROWS = [
    ("full write 8192^2 f8 [lz4 byte-shuffle]", "s", {"czarr": (1.0, 536.0)}),
    ("full read 8192^2 f8 [lz4 byte-shuffle]", "s", {"czarr": (0.2, 536.0)}),
    ("full read into out= (preallocated), 2 thread(s) [lz4]", "s", {"czarr": (0.1, 536.0)}),
    ("full read, 2 thread(s) [lz4]", "s", {"czarr": (0.2, 536.0), "zarrs": (0.3, 536.0)}),
    ("ceiling: c-blosc decode, 2 thread(s), into out= (preallocated)", "s",
     {"c-blosc": (0.09, 536.0)}),
    ("ceiling: c-blosc decode, 2 thread(s), into a fresh output", "s",
     {"c-blosc": (0.16, 536.0)}),
    ("ceiling: c-blosc encode, 2 threads", "s", {"c-blosc": (0.8, 536.0)}),
]


def test_ceiling_rows_join_the_workload_they_bound():
    groups = dict(_module("plot").ratios(ROWS))
    assert groups["full read into out= (preallocated), 2 thread(s) [lz4]"]["c-blosc"] == \
        pytest.approx(0.9)
    assert groups["full read, 2 thread(s) [lz4]"] == pytest.approx(
        {"czarr": 1.0, "zarrs": 1.5, "c-blosc": 0.8})
    assert groups["full write 8192^2 f8 [lz4 byte-shuffle]"]["c-blosc"] == pytest.approx(0.8)


def test_compare_prints_the_target_ratios(capsys):
    sys.path.insert(0, str(BENCH))
    try:
        compare = _module("compare")
    finally:
        sys.path.remove(str(BENCH))
    compare.print_targets([(w, u, dict(v)) for w, u, v in ROWS])
    out = capsys.readouterr().out
    assert "full read into out= / decode into out=" in out and " 90%" in out
    assert "full read, fresh output / decode into a fresh output" in out and " 80%" in out
    assert "full write / encode" in out


def test_suite_rows_from_compare_rows_or_the_hierarchy_run(monkeypatch, tmp_path):
    import argparse
    import types

    sys.path.insert(0, str(BENCH))
    try:
        compare = _module("compare")
    finally:
        sys.path.remove(str(BENCH))
    args = argparse.Namespace(quick=True, repeat=3)
    cache = types.ModuleType("point_cache")
    cache.compare_rows = lambda tmpdir, quick: [("2000 random reads, cache on", "us/read",
                                                  "czarr", 12.0, None)]
    monkeypatch.setitem(sys.modules, "point_cache", cache)
    assert compare.suite_rows("point_cache", str(tmp_path), args) == [
        ["2000 random reads, cache on", "us/read", "czarr", 12.0, None]]
    scale = types.ModuleType("hierarchy_scale")
    seen = {}

    def run(ns):
        seen["repeat"] = ns.repeat
        return [("open consolidated 10k hierarchy + 1 array (v2)", 0.004, 0.05, ""),
                ("per-chunk write, 10^6 chunks of 64 B", 2e-6, None, "skipped")]

    scale.run = run
    monkeypatch.setitem(sys.modules, "hierarchy_scale", scale)
    rows = compare.suite_rows("hierarchy_scale", str(tmp_path), args)
    assert seen["repeat"] == 1
    assert rows == [["open consolidated 10k hierarchy + 1 array (v2)", "s", "czarr", 0.004, None],
                    ["open consolidated 10k hierarchy + 1 array (v2)", "s", "zarr-python", 0.05,
                     None],
                    ["per-chunk write, 10^6 chunks of 64 B", "us/chunk", "czarr",
                     pytest.approx(2.0), None]]
