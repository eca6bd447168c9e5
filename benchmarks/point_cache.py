"""Random single-element reads with a decoded-chunk cache: czarr with its cache off and
on, zarr-python 3, and tensorstore with a cache pool of the same size.

The data is ``benchmarks/compare.py``'s: 8192^2 float64 (512 MiB) in 512^2 chunks, Blosc
lz4 level 5 byte-shuffle, written once by czarr as Zarr v2 in a folder that every
library reads. Each library runs in a process of its own (:func:`in_subprocess`), so no
cache, thread pool or page of another library's heap is shared. A run reads ``count``
random points (seed 42) once to warm up (filling the caches), then times ``repeat``
passes over the same points and returns the median, in µs per read.

Two point sets: ``whole`` draws the points over the whole array, as compare.py's row
does; its decoded chunks (512 MiB) are twice a 256 MiB cache, so in the steady state
half the reads miss whatever the cache does. ``hot`` draws them in the top-left
4096^2 quarter (128 MiB decoded), a hot set the cache holds.

The library functions are importable: ``czarr_reads``, ``zarr_python_reads``,
``zarrs_reads`` (zarr-python 3 with the zarrs Rust codec pipeline), ``tensorstore_reads``;
each takes the array's folder, a :func:`points` list and, for the caches, their size in
bytes. :func:`compare_rows` gives ``benchmarks/compare.py`` its rows.

Run: ``python benchmarks/point_cache.py [--repeat 5] [--rounds 3] [--quick]`` (``--quick``:
4096^2 with a 64 MiB cache, the same proportions).
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
from collections.abc import Callable
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
N = 8192
CHUNK = 512
CACHE_BYTES = 256 * 2**20


def write_data(folder: str, n: int = N) -> str:
    """Write the array (compare.py's smooth data) with czarr; return its path."""
    sys.path.insert(0, os.path.join(HERE, "..", "examples"))
    from demo import smooth_data

    import czarr

    path = os.path.join(folder, "points.zarr")
    z = czarr.open_array(path, mode="w", shape=(n, n), chunks=(CHUNK, CHUNK), dtype="f8",
                         compressor=czarr.Blosc(cname="lz4", clevel=5, shuffle=1))
    z[...] = smooth_data(n)
    return path


def points(n: int = N, count: int = 2000, region: str = "whole",
           seed: int = 42) -> list[tuple[int, int]]:
    """``count`` random points of an ``n``^2 array; ``region='hot'``: in its top-left
    quarter."""
    hi = n // 2 if region == "hot" else n
    rng = np.random.default_rng(seed)
    return [tuple(int(v) for v in rng.integers(0, hi, 2)) for _ in range(count)]


def _median_us(read: Callable[[tuple[int, int]], Any], pts: list, repeat: int) -> float:
    for p in pts:  # warm-up: the caches fill, the files are in the page cache
        read(p)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for p in pts:
            read(p)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / len(pts) * 1e6


def czarr_reads(path: str, pts: list, cache_bytes: int = 0, repeat: int = 3,
                threads: int = 2) -> float:
    """czarr, µs per read; ``cache_bytes`` 0 is the cache off."""
    import czarr

    with czarr.config.set(threads=threads, chunk_cache=cache_bytes):
        arr = czarr.open_array(path, mode="r")
        return _median_us(arr.__getitem__, pts, repeat)


def zarr_python_reads(path: str, pts: list, repeat: int = 3, threads: int = 2) -> float:
    """zarr-python 3 (no chunk cache), µs per read."""
    import zarr

    with zarr.config.set({"threading.max_workers": threads}):
        arr = zarr.open_array(path, mode="r", zarr_format=2)
        return _median_us(arr.__getitem__, pts, repeat)


def zarrs_reads(path: str, pts: list, repeat: int = 3, threads: int = 2) -> float:
    """zarr-python 3 with the zarrs codec pipeline (no chunk cache), µs per read."""
    import zarr
    import zarrs  # noqa: F401  (the pipeline's module must import)

    with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline",
                          "threading.max_workers": threads}):
        arr = zarr.open_array(path, mode="r", zarr_format=2)
        return _median_us(arr.__getitem__, pts, repeat)


def tensorstore_reads(path: str, pts: list, cache_bytes: int = 0, repeat: int = 3,
                      threads: int = 2) -> float:
    """tensorstore's zarr driver with a cache pool of ``cache_bytes`` (cached data never
    rechecked against the store, as czarr's cache), µs per read."""
    import tensorstore as ts

    context = ts.Context({"cache_pool": {"total_bytes_limit": cache_bytes},
                          "data_copy_concurrency": {"limit": threads},
                          "file_io_concurrency": {"limit": max(threads, 2)}})
    arr = ts.open({"driver": "zarr", "kvstore": {"driver": "file", "path": path},
                   "recheck_cached_data": False}, read=True, context=context).result()
    return _median_us(lambda p: arr[p].read().result(), pts, repeat)


# (label, compare.py's library name, function, its keyword arguments; a cache size of
# None is filled in with the run's cache size)
LIBRARIES = [
    ("czarr, cache off", "czarr", "czarr_reads", {"cache_bytes": 0}),
    ("czarr, cache on", "czarr", "czarr_reads", {"cache_bytes": None}),
    ("tensorstore, cache pool on", "tensorstore", "tensorstore_reads", {"cache_bytes": None}),
    ("zarr-python 3", "zarr-python", "zarr_python_reads", {}),
    ("zarrs", "zarrs", "zarrs_reads", {}),
]


def measure(path: str, n: int, cache_bytes: int, count: int = 2000, repeat: int = 3,
            rounds: int = 1, libraries: list[str] | None = None
            ) -> dict[str, dict[str, float]]:
    """``{region: {label: µs per read}}``: each library in a process of its own, run
    ``rounds`` times interleaved, the median kept."""
    out: dict[str, dict[str, float]] = {}
    for region in ("whole", "hot"):
        results: dict[str, list[float]] = {}
        for _ in range(rounds):
            for label, name, fn, kw in LIBRARIES:
                if libraries is not None and name not in libraries:
                    continue
                kw = {k: cache_bytes if v is None else v for k, v in kw.items()}
                try:
                    us = in_subprocess(fn, path, count, region, repeat, n, **kw)
                except subprocess.CalledProcessError as e:
                    print(f"# {label}: failed: {(e.stderr.strip().splitlines() or [''])[-1]}")
                    continue
                results.setdefault(label, []).append(us)
        out[region] = {label: statistics.median(v) for label, v in results.items()}
    return out


def _workload(region: str, count: int, cache: str) -> str:
    where = "whole array" if region == "whole" else "hot quarter"
    return f"{count} random single-element reads ({where}), {cache}"


def compare_rows(tmpdir: str, quick: bool) -> list[list]:
    """``benchmarks/compare.py``'s rows, ``[workload, 'us/read', library, µs, None]``:
    per point set, one row with the caches off (czarr, zarr-python, zarrs) and one with
    them on (czarr, tensorstore; zarr-python and zarrs, which have none, as they are)."""
    n = 4096 if quick else N
    cache_bytes = CACHE_BYTES if not quick else CACHE_BYTES // 4
    path = write_data(tmpdir, n)
    rows: list[list] = []
    for region, results in measure(path, n, cache_bytes).items():
        off = _workload(region, 2000, "cache off")
        on = _workload(region, 2000, f"cache {cache_bytes // 2**20} MiB")
        for label, name, _, kw in LIBRARIES:
            if label not in results:
                continue
            us = results[label]
            if kw.get("cache_bytes", 0) == 0:
                rows.append([off, "us/read", name, us, None])
            if kw.get("cache_bytes", 0) != 0 or name in ("zarr-python", "zarrs"):
                rows.append([on, "us/read", name, us, None])
    return rows


def in_subprocess(function: str, path: str, count: int = 2000, region: str = "whole",
                  repeat: int = 3, n: int = N, **kwargs: Any) -> float:
    """Run ``function(path, points(n, count, region), repeat=repeat, **kwargs)`` in a new
    Python process and return its µs per read."""
    args = json.dumps({"function": function, "path": path, "count": count,
                       "region": region, "repeat": repeat, "n": n, "kwargs": kwargs})
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", args],
                         capture_output=True, text=True, check=True,
                         cwd=os.path.join(HERE, ".."))
    return float(out.stdout.strip().splitlines()[-1])


def _child(spec: str) -> None:
    a = json.loads(spec)
    fn = globals()[a["function"]]
    pts = points(a["n"], a["count"], a["region"])
    print(fn(a["path"], pts, repeat=a["repeat"], **a["kwargs"]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="timed passes (median)")
    p.add_argument("--count", type=int, default=2000, help="points per pass")
    p.add_argument("--rounds", type=int, default=1,
                   help="run every library this many times, interleaved (median)")
    p.add_argument("--quick", action="store_true", help="4096^2 and a 64 MiB cache")
    p.add_argument("--libs", nargs="*", default=None,
                   help="czarr zarr-python zarrs tensorstore (default: all)")
    p.add_argument("--tmpdir", default=None)
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    n = 4096 if args.quick else N
    cache_bytes = CACHE_BYTES // 4 if args.quick else CACHE_BYTES
    tmp = tempfile.mkdtemp(prefix="czarr-points-", dir=args.tmpdir)
    try:
        path = write_data(tmp, n)
        got = measure(path, n, cache_bytes, args.count, args.repeat, args.rounds, args.libs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{n}^2 float64, {CHUNK}^2 chunks, Blosc lz4/5/shuffle; caches of "
          f"{cache_bytes // 2**20} MiB ({n * n * 8 // 2**20} MiB decoded); median of "
          f"{args.rounds} round(s) of {args.repeat} pass(es) after a warm-up pass")
    for region, results in got.items():
        zp = results.get("zarr-python 3", float("nan"))
        print(f"\n{_workload(region, args.count, 'µs/read')}  [zarr-python 3 / library]")
        for label, us in results.items():
            print(f"  {label:30s} {us:9.1f}   {zp / us:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
