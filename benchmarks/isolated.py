"""Run a benchmark's worker in a process of its own and read back its result.

A library that leaves threads behind (a Rust thread pool spinning down, tensorstore's
executors, a BLAS pool) slows whichever library runs next in the same process, so the
head-to-head scripts (``compare.py``, ``sharded_compare.py``) run each library in a fresh
interpreter: the script calls itself with worker arguments, the worker prints one JSON
object as its last line of output, and the parent collects them one after the other.
"""

from __future__ import annotations

import glob
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    """The median of ``repeat`` wall-clock timings of ``fn()``, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def use_checkout() -> None:
    """Import czarr from this checkout when its extensions are built in place (``make
    build``), whatever czarr the interpreter has installed, so that a benchmark measures
    the code beside it; every process started afterwards (the workers, and the processes
    of the suites they run) gets it first on its ``PYTHONPATH`` too."""
    if glob.glob(os.path.join(ROOT, "czarr", "_core", "blosc*.so")) + glob.glob(
            os.path.join(ROOT, "czarr", "_core", "blosc*.pyd")):
        if ROOT not in sys.path:
            sys.path.insert(0, ROOT)
        paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
        if ROOT not in paths:
            os.environ["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in paths if p])


def run_isolated(script: str, args: list[str], label: str) -> Any | None:
    """Run ``python script *args`` and return the JSON value of its last output line, or
    ``None`` (with the error's last line printed, named ``label``) when it failed."""
    proc = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        err = proc.stderr.strip().splitlines() or ["no output"]
        print(f"# {label}: failed: {err[-1]}")
        for line in err[-12:-1]:
            print(f"#   {line}")
        return None
    return json.loads(lines[-1])


def emit(result: Any) -> None:
    """The worker's side: print ``result`` as the one JSON line the parent reads."""
    print(json.dumps(result), flush=True)
