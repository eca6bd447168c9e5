"""Head-to-head: czarr against zarr-python 3 (zarr_format=2), zarr-python 3 with the zarrs
Rust codec pipeline, tensorstore (zarr driver) and h5py, on the same data, each library in
a process of its own (``isolated.py``: a thread pool one library leaves spinning must not
slow the next), on a DirectoryStore-style folder each.

Prints one table: per workload the median seconds (or µs per read) of each library, its
MB/s, and the ratio peer_time / czarr_time (above 1: czarr is faster). Then the ceiling,
in its own process: c-blosc (numcodecs) decoding czarr's stored chunks with 1 and 2
threads into a preallocated buffer (``out=``) and into a fresh one, encoding the same
chunks with 2 threads, and a memcpy of the same bytes; and the ratios the targets are
stated in. Rows of the other suites (``point_cache.py``: random reads with a chunk cache;
``hierarchy_scale.py``: large hierarchies) are added when those modules are present.
Ratios, not absolute times, are what to compare: machines here are shared and noisy.

Run: ``make compare`` (or ``python benchmarks/compare.py [--repeat N] [--quick]``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
from isolated import emit, median_time, run_isolated, use_checkout  # noqa: E402

use_checkout()  # this checkout's czarr, before anything imports one
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
from demo import smooth_data  # noqa: E402  (one definition of the benchmark data)

import czarr  # noqa: E402
from czarr import config as czarr_config  # noqa: E402

PEERS = ["czarr", "zarr-python", "zarrs", "tensorstore", "h5py"]
# suites of other workloads that add rows here when their module is in benchmarks/: each
# defines compare_rows(tmpdir: str, quick: bool) -> list of [workload, unit, library,
# value, MB or None] (unit "s" or "us/read"), run in a process of its own
SUITES = ["point_cache", "hierarchy_scale"]
CHUNK = 512


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

    def read_into(self, arr, out):
        with czarr_config.set(threads=self.threads):
            return arr.get_basic_selection(Ellipsis, out=out)


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

    def read_into(self, arr, out):
        from zarr.core.buffer import default_buffer_prototype

        with self._cfg():
            arr.get_basic_selection(
                Ellipsis, out=default_buffer_prototype().nd_buffer.from_numpy_array(out))
        return out


class ZarrsLib(ZarrLib):
    """zarr-python 3 with the zarrs codec pipeline (Rust, its own thread pool)."""

    name = "zarrs"

    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        import zarrs  # noqa: F401

        self.zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})


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

    def read_into(self, arr, out):
        arr.read_direct(out)
        return out

    def close(self):
        for f in self.files:
            f.close()


LIBS = {cls.name: cls for cls in (CzarrLib, ZarrLib, ZarrsLib, TensorstoreLib, H5pyLib)}


# ------------------------------------------------------------------ the workloads

def lib_rows(name: str, tmp: str, args: argparse.Namespace) -> list[list]:
    """Every workload of one library (run in a process of its own): rows of
    ``[workload, unit, library, value, MB or None]``."""
    rows: list[list] = []
    lib = LIBS[name](args.threads)
    n = 4096 if args.quick else 8192
    data = smooth_data(n)
    mb = data.nbytes / 1e6
    small = (np.arange(n // 2 * n // 2, dtype="i4") % 1000).reshape(n // 2, n // 2)
    rng = np.random.default_rng(42)
    points = [tuple(int(v) for v in rng.integers(0, n, 2)) for _ in range(args.points)]

    def add(workload, unit, value, nbytes_mb):
        rows.append([workload, unit, name, value, nbytes_mb])

    comps = {"lz4 byte-shuffle": ("lz4", 5, 1), "zstd bit-shuffle": ("zstd", 3, 2)}
    for label, comp in comps.items():
        path = os.path.join(tmp, f"{name}-{comp[0]}")
        arr = lib.create(path, data.shape, (CHUNK, CHUNK), "f8", comp)
        add(f"full write {n}^2 f8 [{label}]", "s",
            median_time(lambda: lib.write(arr, data), args.repeat), mb)
        arr = lib.open(path)
        assert np.array_equal(np.asarray(lib.read(arr)), data), name
        add(f"full read {n}^2 f8 [{label}]", "s",
            median_time(lambda: lib.read(arr), args.repeat), mb)
        if comp[0] != "lz4":
            continue
        if hasattr(lib, "read_into"):
            out = np.empty_like(data)
            out[...] = 0  # faulted in once: the rows below time the decode alone
            lib.read_into(arr, out)
            assert np.array_equal(out, data), name
            add(f"full read into out= (preallocated), {args.threads} thread(s) [lz4]", "s",
                median_time(lambda: lib.read_into(arr, out), args.repeat), mb)
            del out
        regions = {
            "aligned 2048x2048 read": (slice(0, 2048), slice(0, 2048)),
            "unaligned [100:2148, 300:2348] read": (slice(100, 2148), slice(300, 2348)),
        }
        for rlabel, sel in regions.items():
            add(rlabel, "s", median_time(lambda: lib.read(arr, sel), args.repeat),
                2048 * 2048 * 8 / 1e6)
        assert float(lib.read(arr, points[0])) == data[points[0]]
        t = median_time(lambda: [lib.read(arr, p) for p in points], max(1, args.repeat))
        add(f"{len(points)} random single-element reads", "us/read", t / len(points) * 1e6,
            None)
        for threads in (1, 2):
            tl = type(lib)(threads)
            ta = tl.open(path)
            add(f"full read, {threads} thread(s) [lz4]", "s",
                median_time(lambda: tl.read(ta), args.repeat), mb)
    path = os.path.join(tmp, f"{name}-small")
    arr = lib.create(path, small.shape, (64, 64), "i4", ("lz4", 5, 1))
    label = f"{n // 2}^2 i4, 64^2 chunks ({arr_nchunks(small.shape)} chunks)"
    add(f"{label}: write", "s", median_time(lambda: lib.write(arr, small), args.repeat),
        small.nbytes / 1e6)
    arr = lib.open(path)
    add(f"{label}: read", "s", median_time(lambda: lib.read(arr), args.repeat),
        small.nbytes / 1e6)
    if hasattr(lib, "close"):
        lib.close()
    return rows


def run(args: argparse.Namespace) -> list[tuple[str, str, dict[str, tuple]]]:
    """Each library's workloads, then the ceiling, then the other suites, each in a
    process of its own, one after the other; the merged table rows."""
    rows: list[tuple[str, str, dict[str, tuple]]] = []  # (workload, unit, {lib: (v, MB)})
    tmp = tempfile.mkdtemp(prefix="czarr-compare-", dir=args.tmpdir)
    common = ["--tmpdir", tmp, "--repeat", str(args.repeat), "--threads", str(args.threads),
              "--points", str(args.points)] + (["--quick"] if args.quick else [])
    jobs = [(lib, ["--worker", lib]) for lib in args.libs]
    if "czarr" in args.libs:  # the ceiling decodes the chunks czarr wrote
        jobs.append(("ceiling", ["--worker", "ceiling"]))
    jobs += [(suite, ["--suite", suite]) for suite in SUITES
             if os.path.exists(os.path.join(HERE, f"{suite}.py"))]
    try:
        for label, extra in jobs:
            got = run_isolated(os.path.abspath(__file__), extra + common, label)
            for workload, unit, lib, value, mb in got or []:
                _add(rows, workload, unit, lib, value, mb)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def arr_nchunks(shape: tuple[int, int]) -> int:
    return (shape[0] // 64) * (shape[1] // 64)


def ceiling_rows(tmp: str, args: argparse.Namespace) -> list[list]:
    """c-blosc (numcodecs) decoding czarr's stored lz4 chunks with 1 and 2 threads into a
    preallocated buffer (``out=``) and into a fresh one; encoding the same chunks with 2
    threads; and a memcpy of the same bytes."""
    import numcodecs
    from numcodecs import blosc as nblosc

    nblosc.use_threads = False
    rows: list[list] = []
    folder = os.path.join(tmp, "czarr-lz4")
    names = [k for k in os.listdir(folder) if not k.startswith(".")]
    frames = []
    for k in names:
        with open(os.path.join(folder, k), "rb") as f:
            frames.append(f.read())
    dest = np.empty((len(frames), CHUNK * CHUNK), dtype="f8")
    dest[...] = 0
    codec = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)
    pool = ThreadPoolExecutor(2)

    def spans(threads):
        step = -(-len(frames) // threads)
        return [(s, min(s + step, len(frames))) for s in range(0, len(frames), step)]

    def decode_all(threads, out):
        def work(lo_hi):
            for i in range(*lo_hi):
                codec.decode(frames[i], out=out[i])
        list(pool.map(work, spans(threads)))

    mb = dest.nbytes / 1e6
    for threads in (1, 2):
        t = median_time(lambda: decode_all(threads, dest), args.repeat)
        rows.append([f"ceiling: c-blosc decode, {threads} thread(s), into out= (preallocated)",
                     "s", "c-blosc", t, mb])
        t = median_time(lambda: decode_all(threads, np.empty_like(dest)), args.repeat)
        rows.append([f"ceiling: c-blosc decode, {threads} thread(s), into a fresh output",
                     "s", "c-blosc", t, mb])
    chunks = [np.ascontiguousarray(d) for d in dest]

    def encode_all():
        def work(lo_hi):
            return [codec.encode(chunks[i]) for i in range(*lo_hi)]
        return list(pool.map(work, spans(2)))

    t = median_time(encode_all, args.repeat)
    rows.append(["ceiling: c-blosc encode, 2 threads", "s", "c-blosc", t, mb])
    src = dest.reshape(-1)
    out = np.empty_like(src)
    out[...] = 0
    t = median_time(lambda: np.copyto(out, src), args.repeat)
    rows.append(["ceiling: memcpy of the same bytes", "s", "memcpy", t, src.nbytes / 1e6])
    return rows


def suite_rows(name: str, tmp: str, args: argparse.Namespace) -> list[list]:
    """The rows of another suite's module (see SUITES)."""
    module = importlib.import_module(name)
    compare_rows = getattr(module, "compare_rows", None)
    if compare_rows is not None:
        return [list(row) for row in compare_rows(tmp, args.quick)]
    if name == "hierarchy_scale":  # its run(): (workload, czarr s, zarr-python 3 s, note)
        rows = []
        suite = argparse.Namespace(repeat=1 if args.quick else args.repeat, dir=None,
                                   peer_budget=60.0, quick=args.quick)
        for workload, mine, theirs, _note in module.run(suite):
            per_chunk = workload.startswith("per-chunk") or "store lookups" in workload
            unit, scale = ("us/chunk", 1e6) if per_chunk else ("s", 1.0)
            for lib, value in (("czarr", mine), ("zarr-python", theirs)):
                if value is not None:
                    rows.append([workload.strip(), unit, lib, value * scale, None])
        return rows
    print(f"# {name}.py has no compare_rows(tmpdir, quick): no rows", file=sys.stderr)
    return []


def _add(rows: list, workload: str, unit: str, lib: str, value: float, mb: float | None):
    for w, _unit, vals in rows:
        if w == workload:
            vals[lib] = (value, mb)
            return
    rows.append((workload, unit, {lib: (value, mb)}))


def print_table(rows: list) -> None:
    header = f"{'workload':64s} {'library':12s} {'time':>10s} {'MB/s':>8s} {'peer/czarr':>10s}"
    print(header)
    print("-" * len(header))
    for workload, unit, vals in rows:
        base = vals.get("czarr", (None,))[0]
        for lib, (value, mb) in vals.items():
            rate = f"{mb / value:8.0f}" if mb and unit == "s" else f"{'':8s}"
            ratio = f"{value / base:10.2f}" if base and lib != "czarr" else f"{'':10s}"
            t = f"{value:9.4f}s" if unit == "s" else f"{value:7.2f}us"
            print(f"{workload:64s} {lib:12s} {t:>10s} {rate} {ratio}")
    print()
    print("peer/czarr = peer time / czarr time (above 1: czarr is faster); for ceiling rows "
          "czarr's time is beside it in the matching workload.")
    print_targets(rows)


def print_targets(rows: list) -> None:
    """czarr's full read and write as fractions of the c-blosc 2-thread ceiling."""
    def ceiling_time(name):
        for workload, _unit, vals in rows:
            if workload == name:
                return next(iter(vals.values()))[0]
        return None

    pre = ceiling_time("ceiling: c-blosc decode, 2 thread(s), into out= (preallocated)")
    fresh = ceiling_time("ceiling: c-blosc decode, 2 thread(s), into a fresh output")
    encode = ceiling_time("ceiling: c-blosc encode, 2 threads")
    read_out = _czarr_time(rows, "full read into out=")
    read_fresh = _czarr_time(rows, "full read ", "[lz4 byte-shuffle]")
    write = _czarr_time(rows, "full write ", "[lz4 byte-shuffle]")
    print()
    print("czarr against the c-blosc 2-thread ceiling (ceiling time / czarr time):")
    for label, mine, ceil in [
        ("full read into out= / decode into out=", read_out, pre),
        ("full read, fresh output / decode into out=", read_fresh, pre),
        ("full read, fresh output / decode into a fresh output", read_fresh, fresh),
        ("full write / encode", write, encode),
    ]:
        if mine and ceil:
            print(f"  {label:58s} {ceil / mine:6.0%}")


def _czarr_time(rows: list, prefix: str, suffix: str = "") -> float | None:
    """czarr's time on the first row whose workload starts and ends so."""
    for workload, _unit, vals in rows:
        if workload.startswith(prefix) and workload.endswith(suffix) and "czarr" in vals:
            return vals["czarr"][0]
    return None


def versions() -> str:
    out = []
    for pkg in ("czarr", "zarr", "zarrs", "numcodecs", "tensorstore", "h5py", "numpy"):
        try:
            out.append(f"{pkg} {importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            if pkg == "czarr":
                out.append(f"czarr {czarr.__version__}")
    out[0] += f" (from {os.path.dirname(os.path.dirname(czarr.__file__))})"
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
    p.add_argument("--worker", choices=PEERS + ["ceiling"], help=argparse.SUPPRESS)
    p.add_argument("--suite", choices=SUITES, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker == "ceiling":
        emit(ceiling_rows(args.tmpdir, args))
        return 0
    if args.worker:
        emit(lib_rows(args.worker, args.tmpdir, args))
        return 0
    if args.suite:
        emit(suite_rows(args.suite, args.tmpdir, args))
        return 0
    print(versions())
    t0 = time.perf_counter()
    rows = run(args)
    print_table(rows)
    print(f"total {time.perf_counter() - t0:.0f}s")
    if args.json or args.plot:
        import plot  # benchmarks/plot.py (matplotlib only for --plot)

        print(*plot.save(rows, args.json, args.plot, versions()), sep="\n")
    if args.sharded:
        # the sharded v3 workload runs each library in its own process too
        import sharded_compare

        print()
        return sharded_compare.main([] if not args.tmpdir else ["--dir", args.tmpdir])
    return 0


if __name__ == "__main__":
    sys.exit(main())
