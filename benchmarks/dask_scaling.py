"""The distributed job's time on 1 and 2 worker processes: a 4096 x 4096 float64 array
(128 MiB in 512 x 512 chunks, a DirectoryStore) read with ``czarr.to_dask``, each row
mean-normalised, ``(x - mean) / std``, and written back with ``czarr.from_dask`` into a
new array with the same chunks.

Each cluster is a ``dask.distributed.LocalCluster`` of N worker processes with one
thread each. The clock runs from the graph's construction to the last chunk written;
cluster start-up is not timed, and a tiny job first imports czarr in every worker. One
run per worker count (the machine is shared: read ratios, not absolute times).

Run: ``python benchmarks/dask_scaling.py [--size 4096] [--chunk 512] [--workers 1 2]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import czarr  # noqa: E402


def job(src: str, dst: str) -> None:
    x = czarr.to_dask(src)
    y = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    czarr.from_dask(y, dst, overwrite=True)


def main() -> None:
    import distributed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--chunk", type=int, default=512)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="czarr-dask-scaling-")
    try:
        src, dst = os.path.join(folder, "x.zarr"), os.path.join(folder, "y.zarr")
        values = np.random.default_rng(0).standard_normal((args.size, args.size))
        czarr.array(values, chunks=(args.chunk, args.chunk), store=src)
        mib = values.nbytes / 2**20
        print(f"{args.size} x {args.size} float64 ({mib:.0f} MiB), chunks "
              f"{args.chunk} x {args.chunk}, {os.cpu_count()} cores; "
              f"czarr {czarr.__version__}, distributed {distributed.__version__}")
        times = {}
        for n in args.workers:
            with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                          dashboard_address=None) as cluster, \
                    distributed.Client(cluster):
                job(src, os.path.join(folder, "warm.zarr"))  # imports, not timed
                t0 = time.perf_counter()
                job(src, dst)
                times[n] = time.perf_counter() - t0
            expected = values[:64] - values[:64].mean(axis=1, keepdims=True)
            expected /= values[:64].std(axis=1, keepdims=True)
            np.testing.assert_allclose(czarr.open_array(dst, mode="r")[:64], expected,
                                       rtol=1e-12, atol=1e-12)
            print(f"{n} worker(s): {times[n]:.2f} s  ({mib / times[n]:.0f} MiB/s read + "
                  "written)")
        if 1 in times:
            for n, t in times.items():
                if n != 1:
                    print(f"speed-up with {n} workers: {times[1] / t:.2f}x")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
