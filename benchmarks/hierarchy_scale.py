"""Cost as the work grows: czarr against zarr-python 3 on a hierarchy of 10,000 arrays
and on arrays of 10^2 to 10^6 chunks.

Rows (each a function below that returns seconds, the median of ``repeat`` runs):

- opening the hierarchy through its consolidated metadata (v2 ``.zmetadata``, v3 inline
  ``consolidated_metadata``) and reading one array's shape, dtype and attributes;
- without consolidation: ``open_group``, ``group[name]`` (with shape and dtype),
  ``list(group)`` and the whole ``tree()``, in each format;
- per-chunk overhead: a full write and a full read of a 1-D int32 array in chunks of 16
  items (64 bytes), no compressor, in an in-memory store, at 10^2, 10^4 and 10^6
  chunks: seconds per chunk. A peer's 10^6 run is skipped when its 10^4 run says it
  would take more than ``--peer-budget`` seconds (60); the table says so.

Every (row, library) pair runs in its own Python process (:func:`isolated`), so neither
library's thread pools, event loops or caches slow the other. The hierarchies are
written once by czarr (both libraries read the same folders). Ratios, not absolute
times, are what to compare: the machines here are shared and noisy.

Run: ``python benchmarks/hierarchy_scale.py [--repeat N] [--quick] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np
from isolated import median_time

NODES = 10_000
ARRAY = "a04242"  # the array each row opens
CHUNK_ITEMS = 16
CHUNK_COUNTS = (10**2, 10**4, 10**6)


# ------------------------------------------------------------------ the data

def make_hierarchy(path: str, n_arrays: int = NODES, zarr_format: int = 2,
                   consolidated: bool = False) -> None:
    """A root group holding ``n_arrays`` arrays of 4 int32 (one chunk each, written),
    each with one attribute, in a folder; consolidated when asked."""
    import czarr

    shutil.rmtree(path, ignore_errors=True)
    root = czarr.open_group(path, mode="w", zarr_format=zarr_format)
    root.attrs["title"] = "scale"
    for i in range(n_arrays):
        a = root.create_dataset(f"a{i:05d}", shape=(4,), chunks=(4,), dtype="i4",
                                compressor=None)
        a[...] = i
        a.attrs["i"] = i
    if consolidated:
        czarr.consolidate_metadata(path)


def hierarchy_paths(base: str) -> dict[tuple[int, bool], str]:
    """Where each (format, consolidated) hierarchy lives under ``base``."""
    return {(fmt, cons): os.path.join(base, f"v{fmt}{'-consolidated' if cons else ''}.zarr")
            for fmt in (2, 3) for cons in (False, True)}


# ------------------------------------------------------------------ czarr rows

def czarr_open_consolidated(path: str, zarr_format: int, repeat: int = 5) -> float:
    import czarr

    def run():
        g = czarr.open_consolidated(path, mode="r", zarr_format=zarr_format)
        a = g[ARRAY]
        assert a.shape == (4,) and a.dtype == np.dtype("i4") and a.attrs["i"] == int(ARRAY[1:])

    return median_time(run, repeat)


def czarr_open_group(path: str, zarr_format: int, repeat: int = 5) -> float:
    import czarr

    return median_time(lambda: czarr.open_group(path, mode="r", use_consolidated=False,
                                            zarr_format=zarr_format), repeat)


def czarr_getitem(path: str, zarr_format: int, repeat: int = 5) -> float:
    import czarr

    g = czarr.open_group(path, mode="r", use_consolidated=False, zarr_format=zarr_format)

    def run():
        a = g[ARRAY]
        assert a.shape == (4,) and a.dtype == np.dtype("i4")

    return median_time(run, repeat)


def czarr_list(path: str, zarr_format: int, repeat: int = 5) -> float:
    import czarr

    g = czarr.open_group(path, mode="r", use_consolidated=False, zarr_format=zarr_format)

    def run():
        assert len(list(g)) == NODES

    return median_time(run, repeat)


def czarr_tree(path: str, zarr_format: int, repeat: int = 5) -> float:
    import czarr

    g = czarr.open_group(path, mode="r", use_consolidated=False, zarr_format=zarr_format)

    def run():
        assert repr(g.tree()).count("int32") == NODES

    return median_time(run, repeat)


def _chunked_data(nchunks: int) -> np.ndarray:
    return np.arange(nchunks * CHUNK_ITEMS, dtype="i4")


def czarr_chunk_write(nchunks: int, repeat: int = 5) -> float:
    """Seconds per chunk of a full write into a new in-memory array."""
    import czarr

    data = _chunked_data(nchunks)
    times = []
    for _ in range(repeat):
        a = czarr.create(store=czarr.MemoryStore(), shape=data.shape, chunks=(CHUNK_ITEMS,),
                         dtype="i4", compressor=None)
        t0 = time.perf_counter()
        a[...] = data
        times.append(time.perf_counter() - t0)
        del a
    return statistics.median(times) / nchunks


def czarr_chunk_read(nchunks: int, repeat: int = 5) -> float:
    """Seconds per chunk of a full read of an in-memory array."""
    import czarr

    data = _chunked_data(nchunks)
    a = czarr.create(store=czarr.MemoryStore(), shape=data.shape, chunks=(CHUNK_ITEMS,),
                     dtype="i4", compressor=None)
    a[...] = data
    assert np.array_equal(a[...], data)
    return median_time(lambda: a[...], repeat) / nchunks


def store_lookups(nchunks: int, repeat: int = 5) -> float:
    """Seconds per chunk of the store's own part of a full read: czarr's MemoryStore
    returning every chunk's bytes, keys already made, in the engine's batches."""
    import czarr
    from czarr import engine

    data = _chunked_data(nchunks)
    a = czarr.create(store=czarr.MemoryStore(), shape=data.shape, chunks=(CHUNK_ITEMS,),
                     dtype="i4", compressor=None)
    a[...] = data
    keys = [str(i) for i in range(nchunks)]
    batches, _ = engine._batches(nchunks, engine._min_batch(CHUNK_ITEMS * 4, a.store))

    def run():  # one thread: what each of the engine's threads asks of the store
        for lo, hi in batches:
            a.store.getitems(keys[lo:hi])

    return median_time(run, repeat) / nchunks


# ------------------------------------------------------------------ zarr-python 3 rows

def _zarr():
    import zarr

    return zarr


def zarr_open_consolidated(path: str, zarr_format: int, repeat: int = 5) -> float:
    zarr = _zarr()

    def run():
        g = zarr.open_consolidated(path, mode="r", zarr_format=zarr_format)
        a = g[ARRAY]
        assert a.shape == (4,) and a.dtype == np.dtype("i4") and a.attrs["i"] == int(ARRAY[1:])

    return median_time(run, repeat)


def zarr_open_group(path: str, zarr_format: int, repeat: int = 5) -> float:
    zarr = _zarr()
    return median_time(lambda: zarr.open_group(path, mode="r", use_consolidated=False,
                                           zarr_format=zarr_format), repeat)


def zarr_getitem(path: str, zarr_format: int, repeat: int = 5) -> float:
    zarr = _zarr()
    g = zarr.open_group(path, mode="r", use_consolidated=False, zarr_format=zarr_format)

    def run():
        a = g[ARRAY]
        assert a.shape == (4,) and a.dtype == np.dtype("i4")

    return median_time(run, repeat)


def zarr_list(path: str, zarr_format: int, repeat: int = 5) -> float:
    zarr = _zarr()
    g = zarr.open_group(path, mode="r", use_consolidated=False, zarr_format=zarr_format)

    def run():
        assert len(list(g)) == NODES

    return median_time(run, repeat)


def zarr_tree(path: str, zarr_format: int, repeat: int = 5) -> float:
    import inspect

    zarr = _zarr()
    g = zarr.open_group(path, mode="r", use_consolidated=False, zarr_format=zarr_format)
    # zarr-python 3.1 stops at 500 nodes unless told otherwise: ask for all of them
    kwargs = ({"max_nodes": NODES + 10} if "max_nodes" in inspect.signature(g.tree).parameters
              else {})

    def run():
        assert repr(g.tree(**kwargs)).count("int32") == NODES

    return median_time(run, repeat)


def _zarr_array(nchunks: int) -> Any:
    zarr = _zarr()
    return zarr.create_array(zarr.storage.MemoryStore(), shape=(nchunks * CHUNK_ITEMS,),
                             chunks=(CHUNK_ITEMS,), dtype="i4", compressors=None,
                             filters=None, zarr_format=2)


def zarr_chunk_write(nchunks: int, repeat: int = 5) -> float:
    data = _chunked_data(nchunks)
    times = []
    for _ in range(repeat):
        a = _zarr_array(nchunks)
        t0 = time.perf_counter()
        a[...] = data
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / nchunks


def zarr_chunk_read(nchunks: int, repeat: int = 5) -> float:
    data = _chunked_data(nchunks)
    a = _zarr_array(nchunks)
    a[...] = data
    assert np.array_equal(a[...], data)
    return median_time(lambda: a[...], repeat) / nchunks


# ------------------------------------------------------------------ running in isolation

def isolated(func: str, *args: Any, timeout: float | None = None) -> float:
    """Run ``func(*args)`` of this module in a new Python process; its seconds."""
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--call", func, json.dumps(args)],
        capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode:
        raise RuntimeError(f"{func}{tuple(args)} failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def _fmt_time(seconds: float | None, missing: str = "skipped") -> str:
    if seconds is None:
        return missing
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def run(args: argparse.Namespace) -> list[tuple[str, float | None, float | None, str]]:
    """Every row: (name, czarr seconds, zarr-python 3 seconds or None, note)."""
    rows = []
    base = args.dir or tempfile.mkdtemp(prefix="czarr-scale-")
    paths = hierarchy_paths(base)
    try:
        for (fmt, cons), path in paths.items():
            if not os.path.exists(os.path.join(path, ".zgroup" if fmt == 2 else "zarr.json")) \
                    or not args.dir:
                t0 = time.perf_counter()
                make_hierarchy(path, NODES, fmt, cons)
                print(f"# wrote {path} in {time.perf_counter() - t0:.1f} s", flush=True)
        r = args.repeat
        for fmt in (2, 3):
            path = paths[(fmt, True)]
            rows.append((f"open consolidated 10k hierarchy + 1 array (v{fmt})",
                         isolated("czarr_open_consolidated", path, fmt, r),
                         isolated("zarr_open_consolidated", path, fmt, r), ""))
        for fmt in (2, 3):
            path = paths[(fmt, False)]
            for op in ("open_group", "getitem", "list", "tree"):
                label = {"getitem": "group[name]", "list": "list(group)",
                         "tree": "tree()"}.get(op, op)
                slow = op in ("list", "tree")
                rows.append((f"{label}, 10k arrays, not consolidated (v{fmt})",
                             isolated(f"czarr_{op}", path, fmt, r),
                             isolated(f"zarr_{op}", path, fmt, 1 if slow else r), ""))
        for what in ("write", "read"):
            peer_per_chunk = None
            for n in CHUNK_COUNTS:
                reps = max(1, r if n < 10**6 else min(r, 3))
                mine = isolated(f"czarr_chunk_{what}", n, reps)
                note = ""
                predicted = None if peer_per_chunk is None else peer_per_chunk * n * reps
                if predicted is not None and predicted > args.peer_budget:
                    theirs = None
                    note = f"zarr-python 3 skipped: predicted {predicted:.0f} s"
                else:
                    theirs = isolated(f"zarr_chunk_{what}", n, reps)
                    peer_per_chunk = theirs
                rows.append((f"per-chunk {what}, 10^{len(str(n)) - 1} chunks of 64 B",
                             mine, theirs, note))
        for n in CHUNK_COUNTS:
            rows.append((f"  of which store lookups, 10^{len(str(n)) - 1} chunks",
                         isolated("store_lookups", n, r), None, "czarr's MemoryStore"))
    finally:
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one run per row")
    parser.add_argument("--dir", help="keep (and reuse) the hierarchies in this folder")
    parser.add_argument("--peer-budget", type=float, default=60.0,
                        help="skip a peer's 10^6-chunk run predicted to take longer (s)")
    parser.add_argument("--call", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.call:
        print(repr(globals()[args.call](*json.loads(args.args))))
        return
    if args.quick:
        args.repeat = 1
    import zarr

    import czarr

    print(f"# czarr {czarr.__version__}, zarr-python {zarr.__version__}, "
          f"numpy {np.__version__}, {os.cpu_count()} CPUs, median of {args.repeat}")
    rows = run(args)
    print(f"{'workload':58s} {'czarr':>12s} {'zarr-python 3':>14s} {'ratio':>8s}")
    for name, mine, theirs, note in rows:
        ratio = f"{theirs / mine:.1f}x" if theirs is not None and mine else ""
        peer = _fmt_time(theirs, "skipped" if "skipped" in note else "-")
        print(f"{name:58s} {_fmt_time(mine):>12s} {peer:>14s} {ratio:>8s}"
              + (f"  ({note})" if note else ""))
    per_chunk = {}
    for name, mine, _theirs, _note in rows:
        if name.startswith("per-chunk"):
            per_chunk.setdefault(name.split(",")[0], []).append(mine)
    for what, values in per_chunk.items():
        print(f"# czarr {what}: max/min over 10^2..10^6 chunks = "
              f"{max(values) / min(values):.2f}")


if __name__ == "__main__":
    main()
