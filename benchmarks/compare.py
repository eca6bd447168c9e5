"""Head-to-head: czarr against zarr-python 3 (zarr_format=2), tensorstore (zarr driver)
and h5py, on the same data, in one run, on a DirectoryStore-style folder each.

Prints one table: per workload the median seconds (or µs per read) of each library, its
MB/s, and the ratio peer_time / czarr_time (above 1: czarr is faster). Then the ceiling:
numcodecs' c-blosc decoding the same chunks into a preallocated buffer with the same
threads, and a memcpy of the same bytes. Ratios, not absolute times, are what to
compare: machines here are shared and noisy.

Run: ``make compare`` (or ``python benchmarks/compare.py [--repeat N] [--quick]``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from demo import smooth_data  # noqa: E402  (one definition of the benchmark data)

import czarr  # noqa: E402
from czarr import config as czarr_config  # noqa: E402

PEERS = ["czarr", "zarr-python", "tensorstore", "h5py"]


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ------------------------------------------------------------------ the libraries

class CzarrLib:
    name = "czarr"

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def create(self, path, shape, chunks, dtype, comp):
        cname, clevel, shuffle = comp
        return czarr.open_array(path, mode="w", shape=shape, chunks=chunks, dtype=dtype,
                                compressor=czarr.Blosc(cname=cname, clevel=clevel,
                                                       shuffle=shuffle))

    def open(self, path):
        return czarr.open_array(path, mode="r")

    def write(self, arr, data):
        with czarr_config.set(threads=self.threads):
            arr[...] = data

    def read(self, arr, sel=Ellipsis):
        with czarr_config.set(threads=self.threads):
            return arr[sel]


class ZarrLib:
    name = "zarr-python"

    def __init__(self, threads: int) -> None:
        import numcodecs
        import zarr

        self.zarr, self.numcodecs, self.threads = zarr, numcodecs, threads

    def _cfg(self):
        return self.zarr.config.set({"threading.max_workers": self.threads})

    def create(self, path, shape, chunks, dtype, comp):
        cname, clevel, shuffle = comp
        with self._cfg():
            return self.zarr.create(
                shape=shape, chunks=chunks, dtype=dtype, store=path, zarr_format=2,
                compressor=self.numcodecs.Blosc(cname=cname, clevel=clevel, shuffle=shuffle),
                overwrite=True)

    def open(self, path):
        return self.zarr.open_array(path, mode="r", zarr_format=2)

    def write(self, arr, data):
        with self._cfg():
            arr[...] = data

    def read(self, arr, sel=Ellipsis):
        with self._cfg():
            return arr[sel]


class TensorstoreLib:
    name = "tensorstore"

    def __init__(self, threads: int) -> None:
        import tensorstore as ts

        self.ts = ts
        self.context = ts.Context({"data_copy_concurrency": {"limit": threads},
                                   "file_io_concurrency": {"limit": max(threads, 2)},
                                   "cache_pool": {"total_bytes_limit": 0}})

    def _spec(self, path):
        return {"driver": "zarr", "kvstore": {"driver": "file", "path": path}}

    def create(self, path, shape, chunks, dtype, comp):
        cname, clevel, shuffle = comp
        spec = self._spec(path)
        spec["metadata"] = {
            "shape": list(shape), "chunks": list(chunks), "dtype": np.dtype(dtype).str,
            "compressor": {"id": "blosc", "cname": cname, "clevel": clevel,
                           "shuffle": shuffle, "blocksize": 0},
            "fill_value": 0, "order": "C"}
        return self.ts.open(spec, create=True, delete_existing=True,
                            context=self.context).result()

    def open(self, path):
        return self.ts.open(self._spec(path), read=True, context=self.context).result()

    def write(self, arr, data):
        arr[...].write(data).result()

    def read(self, arr, sel=Ellipsis):
        return arr[sel].read().result()


class H5pyLib:
    """HDF5 has no Blosc filter without plugins: chunked and uncompressed here."""

    name = "h5py"

    def __init__(self, threads: int) -> None:
        import h5py

        self.h5py = h5py
        self.files: list = []

    def create(self, path, shape, chunks, dtype, comp):
        f = self.h5py.File(path + ".h5", "w")
        self.files.append(f)
        return f.create_dataset("a", shape=shape, chunks=chunks, dtype=dtype)

    def open(self, path):
        f = self.h5py.File(path + ".h5", "r")
        self.files.append(f)
        return f["a"]

    def write(self, arr, data):
        arr[...] = data
        arr.file.flush()

    def read(self, arr, sel=Ellipsis):
        return arr[sel]

    def close(self):
        for f in self.files:
            f.close()


def make_libs(threads: int, wanted: list[str]) -> list:
    libs = []
    for cls in (CzarrLib, ZarrLib, TensorstoreLib, H5pyLib):
        if cls.name not in wanted:
            continue
        try:
            libs.append(cls(threads))
        except ImportError as e:
            print(f"# skipping {cls.name}: {e}")
    return libs


# ------------------------------------------------------------------ the workloads

def run(args: argparse.Namespace) -> list[tuple[str, str, dict[str, float]]]:
    rows: list[tuple[str, str, dict[str, float]]] = []  # (workload, unit, {lib: value})
    n = 4096 if args.quick else 8192
    data = smooth_data(n)
    mb = data.nbytes / 1e6
    small = (np.arange(n // 2 * n // 2, dtype="i4") % 1000).reshape(n // 2, n // 2)
    tmp = tempfile.mkdtemp(prefix="czarr-compare-", dir=args.tmpdir)
    rng = np.random.default_rng(42)
    points = [tuple(int(v) for v in rng.integers(0, n, 2)) for _ in range(args.points)]
    try:
        libs = make_libs(args.threads, args.libs)
        comps = {"lz4 byte-shuffle": ("lz4", 5, 1), "zstd bit-shuffle": ("zstd", 3, 2)}
        for label, comp in comps.items():
            write_t, read_t = {}, {}
            for lib in libs:
                path = os.path.join(tmp, f"{lib.name}-{comp[0]}")
                arr = lib.create(path, data.shape, (512, 512), "f8", comp)
                write_t[lib.name] = median_time(lambda: lib.write(arr, data), args.repeat)
                arr = lib.open(path)
                assert np.array_equal(np.asarray(lib.read(arr)), data), lib.name
                read_t[lib.name] = median_time(lambda: lib.read(arr), args.repeat)
                if comp[0] == "lz4":
                    regions = {
                        "aligned 2048x2048 read": (slice(0, 2048), slice(0, 2048)),
                        "unaligned [100:2148, 300:2348] read":
                            (slice(100, 2148), slice(300, 2348)),
                    }
                    for rlabel, sel in regions.items():
                        t = median_time(lambda: lib.read(arr, sel), args.repeat)
                        _add(rows, rlabel, "s", lib.name, t, 2048 * 2048 * 8 / 1e6)
                    assert float(lib.read(arr, points[0])) == data[points[0]]
                    t = median_time(lambda: [lib.read(arr, p) for p in points],
                                    max(1, args.repeat))
                    _add(rows, f"{len(points)} random single-element reads", "us/read",
                         lib.name, t / len(points) * 1e6, None)
                    for threads in (1, 2):
                        tl = type(lib)(threads)
                        ta = tl.open(path)
                        t = median_time(lambda: tl.read(ta), args.repeat)
                        _add(rows, f"full read, {threads} thread(s) [lz4]", "s", lib.name,
                             t, mb)
            for lib in libs:
                _add(rows, f"full write {n}^2 f8 [{label}]", "s", lib.name,
                     write_t[lib.name], mb)
                _add(rows, f"full read {n}^2 f8 [{label}]", "s", lib.name,
                     read_t[lib.name], mb)
        for lib in libs:
            path = os.path.join(tmp, f"{lib.name}-small")
            arr = lib.create(path, small.shape, (64, 64), "i4", ("lz4", 5, 1))
            t = median_time(lambda: lib.write(arr, small), args.repeat)
            _add(rows, f"{n // 2}^2 i4, 64^2 chunks ({arr_nchunks(small.shape)} chunks): write",
                 "s", lib.name, t, small.nbytes / 1e6)
            arr = lib.open(path)
            t = median_time(lambda: lib.read(arr), args.repeat)
            _add(rows, f"{n // 2}^2 i4, 64^2 chunks ({arr_nchunks(small.shape)} chunks): read",
                 "s", lib.name, t, small.nbytes / 1e6)
        for lib in libs:
            if hasattr(lib, "close"):
                lib.close()
        ceiling(rows, tmp, data, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def arr_nchunks(shape: tuple[int, int]) -> int:
    return (shape[0] // 64) * (shape[1] // 64)


def ceiling(rows: list, tmp: str, data: np.ndarray, args: argparse.Namespace) -> None:
    """c-blosc (numcodecs) decoding the stored lz4 chunks into a preallocated buffer, and
    a memcpy of the same bytes."""
    import numcodecs
    from numcodecs import blosc as nblosc

    nblosc.use_threads = False
    folder = os.path.join(tmp, "czarr-lz4")
    names = [k for k in os.listdir(folder) if not k.startswith(".")]
    frames = []
    for k in names:
        with open(os.path.join(folder, k), "rb") as f:
            frames.append(f.read())
    dest = np.empty((len(frames), 512 * 512), dtype="f8")
    codec = numcodecs.Blosc()
    for threads in (1, 2):
        def decode_all():
            def work(lo_hi):
                for i in range(*lo_hi):
                    codec.decode(frames[i], out=dest[i])
            step = -(-len(frames) // threads)
            spans = [(s, min(s + step, len(frames))) for s in range(0, len(frames), step)]
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(work, spans))
        t = median_time(decode_all, args.repeat)
        _add(rows, f"ceiling: c-blosc decode of the same chunks, {threads} thread(s)", "s",
             "c-blosc", t, dest.nbytes / 1e6)
    src = data.reshape(-1)
    out = np.empty_like(src)
    t = median_time(lambda: np.copyto(out, src), args.repeat)
    _add(rows, "ceiling: memcpy of the same bytes", "s", "memcpy", t, src.nbytes / 1e6)


def _add(rows: list, workload: str, unit: str, lib: str, value: float, mb: float | None):
    for w, _unit, vals in rows:
        if w == workload:
            vals[lib] = (value, mb)
            return
    rows.append((workload, unit, {lib: (value, mb)}))


def print_table(rows: list) -> None:
    header = f"{'workload':56s} {'library':12s} {'time':>10s} {'MB/s':>8s} {'peer/czarr':>10s}"
    print(header)
    print("-" * len(header))
    for workload, unit, vals in rows:
        base = vals.get("czarr", (None,))[0]
        for lib, (value, mb) in vals.items():
            rate = f"{mb / value:8.0f}" if mb and unit == "s" else f"{'':8s}"
            ratio = f"{value / base:10.2f}" if base and lib != "czarr" else f"{'':10s}"
            t = f"{value:9.4f}s" if unit == "s" else f"{value:7.1f}us"
            print(f"{workload:56s} {lib:12s} {t:>10s} {rate} {ratio}")
    print()
    print("peer/czarr = peer time / czarr time (above 1: czarr is faster); for ceiling rows "
          "czarr's time is beside it in the matching workload.")


def versions() -> str:
    out = []
    for pkg in ("czarr", "zarr", "numcodecs", "tensorstore", "h5py", "numpy"):
        try:
            out.append(f"{pkg} {importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            if pkg == "czarr":
                out.append(f"czarr {czarr.__version__}")
    out.append(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    return "; ".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="repeats per timing (median)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--points", type=int, default=2000, help="random single-element reads")
    p.add_argument("--quick", action="store_true", help="a 4096^2 array (smoke test)")
    p.add_argument("--libs", nargs="+", default=PEERS, choices=PEERS)
    p.add_argument("--tmpdir", default=None)
    p.add_argument("--sharded", action="store_true",
                   help="then the sharded Zarr v3 workload (benchmarks/sharded_compare.py)")
    p.add_argument("--json", metavar="FILE", help="also write the results (benchmarks/plot.py)")
    p.add_argument("--plot", metavar="DIR", help="also save DIR/compare.png and .svg")
    args = p.parse_args(argv)
    print(versions())
    t0 = time.perf_counter()
    rows = run(args)
    print_table(rows)
    print(f"total {time.perf_counter() - t0:.0f}s")
    if args.json or args.plot:
        import plot  # benchmarks/plot.py (matplotlib only for --plot)

        print(*plot.save(rows, args.json, args.plot, versions()), sep="\n")
    if args.sharded:
        # the sharded v3 workload runs each library in its own process (zarrs included)
        import sharded_compare

        print()
        return sharded_compare.main([] if not args.tmpdir else ["--dir", args.tmpdir])
    return 0


if __name__ == "__main__":
    sys.exit(main())
