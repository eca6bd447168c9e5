"""Sharded Zarr v3 reads, head to head: czarr, zarr-python 3, zarr-python 3 with the zarrs
Rust codec pipeline, and tensorstore, each in its own process, one after the other.

The array is 8192 x 8192 float64 in 512 x 512 inner chunks inside 2048 x 2048 shards
(Blosc lz4, byte shuffle), written once by zarr-python 3 to a folder. Each library then
reads it in full, reads an unaligned region, and makes 2,000 random single-element reads
(medians of 3), each library in a process of its own (``isolated.py``). Bytes read per
point read are what the process passed through read/pread system calls (``rchar`` of
/proc/self/io), so they count index and chunk bytes for every library alike. Ratios, not
seconds, are the result: this machine is shared.

Run: ``python benchmarks/sharded_compare.py [--dir DIR] [--size 8192]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from isolated import emit, run_isolated, use_checkout

use_checkout()  # this checkout's czarr in the czarr worker

SHAPE_DEFAULT = 8192
CHUNK, SHARD = 512, 2048
POINTS = 2000
REPEAT = 3


def _rchar() -> int:
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return -1


def _median(fn, repeat=REPEAT):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def worker(lib: str, path: str, n: int) -> dict:
    """Run in a fresh process: time the three workloads with one library."""
    import numpy as np

    rng = np.random.default_rng(42)
    rows, cols = rng.integers(0, n, POINTS), rng.integers(0, n, POINTS)
    region = (slice(100, 100 + n // 4), slice(300, 300 + n // 4))
    if lib == "czarr":
        import czarr

        arr = czarr.open_array(path, mode="r")
        full = lambda: arr[...]  # noqa: E731
        reg = lambda: arr[region]  # noqa: E731
        point = lambda r, c: arr[r, c]  # noqa: E731
    elif lib in ("zarr-python", "zarr-python+zarrs"):
        import zarr

        if lib.endswith("zarrs"):
            import zarrs  # noqa: F401

            zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})
        arr = zarr.open_array(path, mode="r")
        full = lambda: arr[...]  # noqa: E731
        reg = lambda: arr[region]  # noqa: E731
        point = lambda r, c: arr[r, c]  # noqa: E731
    elif lib == "tensorstore":
        import tensorstore as ts

        arr = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}},
                      read=True).result()
        full = lambda: arr.read().result()  # noqa: E731
        reg = lambda: arr[region].read().result()  # noqa: E731
        point = lambda r, c: arr[r, c].read().result()  # noqa: E731
    else:
        raise SystemExit(f"unknown library {lib}")
    check = full()
    expected = float(np.asarray(check)[n - 1, n - 1])
    out = {"full": _median(full), "region": _median(reg)}

    def points():
        for r, c in zip(rows.tolist(), cols.tolist()):
            point(r, c)

    before = _rchar()
    out["points"] = _median(points) / POINTS
    out["bytes_per_point"] = (_rchar() - before) / (REPEAT * POINTS)
    out["check"] = expected
    return out


def write(path: str, n: int) -> None:
    import numpy as np
    import zarr

    arr = zarr.create_array(path, shape=(n, n), chunks=(CHUNK, CHUNK), shards=(SHARD, SHARD),
                            dtype="f8", compressors=zarr.codecs.BloscCodec(
                                cname="lz4", clevel=5, shuffle="shuffle"), overwrite=True)
    x = np.linspace(0, 1000, n * n).reshape(n, n)
    arr[...] = x + np.sin(x)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None)
    parser.add_argument("--size", type=int, default=SHAPE_DEFAULT)
    parser.add_argument("--worker", nargs=2, metavar=("LIB", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--libs", default="czarr,zarr-python,zarr-python+zarrs,tensorstore")
    args = parser.parse_args(argv)
    if args.worker:
        emit(worker(args.worker[0], args.worker[1], args.size))
        return 0
    tmp = args.dir or tempfile.mkdtemp(prefix="czarr-sharded-")
    path = os.path.join(tmp, "sharded.zarr")
    if not os.path.exists(os.path.join(path, "zarr.json")):
        write(path, args.size)
    results = {}
    for lib in args.libs.split(","):
        got = run_isolated(__file__, ["--worker", lib, path, "--size", str(args.size)], lib)
        if got is not None:
            results[lib] = got
    base = results.get("czarr")
    mb = args.size * args.size * 8 / 1e6
    print(f"sharded v3: {args.size}^2 f8, {CHUNK}^2 chunks in {SHARD}^2 shards, Blosc lz4; "
          "medians of 3; ratio = peer time / czarr time")
    print(f"{'library':20} {'full read':>16} {'region':>16} {'point read':>18} {'B/point':>9}")
    for lib, r in results.items():
        def ratio(k, r=r, lib=lib):
            return f" {r[k] / base[k]:5.2f}x" if base and lib != "czarr" else "       "

        print(f"{lib:20} {r['full']:8.3f}s{ratio('full')} {r['region']:8.3f}s"
              f"{ratio('region')} {r['points'] * 1e6:9.1f}us{ratio('points')} "
              f"{r['bytes_per_point']:9.0f}")
    if base:
        print(f"czarr full read: {mb / base['full']:.0f} MB/s")
    checks = {round(r["check"], 6) for r in results.values()}
    if len(checks) > 1:
        print(f"WARNING: libraries disagree on the last element: {checks}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
