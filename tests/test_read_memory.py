"""Reading a selection allocates the output plus a bounded working set per thread.

A 2 GiB float64 array (512 chunks of 4 MiB, Blosc-LZ4 at about 2.8:1, so 735 MiB stored
in a DirectoryStore) is read whole and through a strided region, with 1 and 2 threads,
each read in a fresh process. Two measures of what the read costs beyond its output:
tracemalloc's peak (NumPy's and Python's allocations, the fetched chunk bytes among
them) minus the output's size, and the process's peak RSS (``VmHWM``) minus its RSS
before the read minus the output's size. Both must stay under ``threads x (a batch of
fetched chunks + two chunk buffers)`` plus a constant, whatever the selection's size:
without the engine's cap on a batch's bytes, one thread held every fetched chunk of its
batch at once (the whole 735 MiB). Each read also checks its values. Slow: 4 reads of
2 GiB, about 15 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import czarr
from czarr.codecs import Blosc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ROWS, COLS, CHUNK_ROWS = 65536, 4096, 128       # 2 GiB of float64, 4 MiB chunks
CHUNK_NBYTES = CHUNK_ROWS * COLS * 8
PATTERNS = 8                                    # chunk i holds base + i % PATTERNS
# (start, stop, step) per axis
SELECTIONS = {"full": [[None, None, None]], "strided": [[1, None, 3], [5, -5, 2]]}
# what a thread may hold at once: a batch of fetched chunks (4 MiB of them, at least one
# chunk: czarr.engine._MAX_BATCH_BYTES), a chunk buffer and the frame being decoded
PER_THREAD = max(4 << 20, CHUNK_NBYTES) + 2 * CHUNK_NBYTES
# what a read may allocate beyond the batches and chunk buffers of its threads: the
# projection, the keys, NumPy's and Python's small objects
TRACED_SLACK = 8 << 20
# and beyond that in RSS: thread stacks, malloc arenas, the C libraries' buffers
RSS_SLACK = 64 << 20


def _base() -> np.ndarray:
    """The first chunk's values (the child processes make the same)."""
    rng = np.random.default_rng(13)
    return rng.integers(0, 1 << 16, (CHUNK_ROWS, COLS)).astype("f8")


CHILD = """
    import json, sys, tracemalloc
    import numpy as np
    import czarr

    def status(field):
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith(field + ":"))

    path, threads = sys.argv[1], int(sys.argv[2])
    selection = tuple(slice(*s) for s in json.loads(sys.argv[3]))
    czarr.config.set(threads=threads)
    a = czarr.open_array(path, mode="r")
    rss_before = status("VmRSS")
    tracemalloc.start()
    out = a[selection]
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    hwm = status("VmHWM")
    base = np.random.default_rng(13).integers(0, 1 << 16, ({rows}, {cols})).astype("f8")
    rows = np.arange({total})[selection[0]]
    cols = np.arange({cols})[selection[1] if len(selection) > 1 else slice(None)]
    assert out.shape == (rows.size, cols.size), out.shape
    for j in range(0, rows.size, 97):   # every 97th row of the output
        r = rows[j]
        want = base[r % {rows}, cols] + (r // {rows}) % {patterns}
        assert np.array_equal(out[j], want), (selection, j)
    print(json.dumps({{"out": out.nbytes, "traced_peak": traced_peak,
                      "rss_extra": hwm - rss_before - out.nbytes}}))
"""


@pytest.fixture(scope="module")
def big_array(tmp_path_factory) -> str:
    """The 2 GiB array, written chunk by chunk (PATTERNS distinct frames, encoded once)."""
    path = str(tmp_path_factory.mktemp("read_memory") / "big.zarr")
    a = czarr.open_array(path, mode="w", shape=(ROWS, COLS), chunks=(CHUNK_ROWS, COLS),
                         dtype="f8", compressor=Blosc("lz4", 1, Blosc.SHUFFLE))
    base = _base()
    frames = [a.compressor.encode(base + k) for k in range(PATTERNS)]
    for i in range(ROWS // CHUNK_ROWS):
        a.store[f"{i}.0"] = frames[i % PATTERNS]
    return path


def _read(path: str, threads: int, selection: list) -> dict:
    code = textwrap.dedent(CHILD).format(rows=CHUNK_ROWS, cols=COLS, total=ROWS,
                                         patterns=PATTERNS)
    env = dict(os.environ, PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, "-c", code, path, str(threads),
                             json.dumps(selection)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", list(SELECTIONS))
def test_read_allocates_output_plus_bounded_working_set(big_array, name, threads):
    measured = _read(big_array, threads, SELECTIONS[name])
    extra_traced = measured["traced_peak"] - measured["out"]
    print(f"{name} read, {threads} thread(s): output {measured['out'] / 2**20:.0f} MiB, "
          f"traced peak - output {extra_traced / 2**20:.1f} MiB, "
          f"peak RSS - RSS before - output {measured['rss_extra'] / 2**20:.1f} MiB")
    if name == "full":
        assert measured["out"] == 2 << 30
    assert extra_traced <= threads * PER_THREAD + TRACED_SLACK, measured
    assert measured["rss_extra"] <= threads * PER_THREAD + RSS_SLACK, measured
