"""Array workloads for asv history, the same kinds as benchmarks/compare.py (smaller):
full write and read on a DirectoryStore, region reads, random single-element reads,
many small chunks, and thread scaling."""

from __future__ import annotations

import shutil
import tempfile

import numpy as np

import czarr
from czarr import config

N = 4096  # 4096^2 float64 = 128 MiB


def _data(n: int = N) -> np.ndarray:
    x = np.linspace(0, 4 * np.pi, n)
    data = np.sin(x)[:, None] * np.cos(x)[None, :] * 1024.0
    np.round(data, out=data)
    return data / 1024.0


class FullArray:
    params = [["lz4-shuffle", "zstd-bitshuffle"], [1, 2]]
    param_names = ["compressor", "threads"]
    timeout = 300

    def setup(self, comp, threads):
        self.tmp = tempfile.mkdtemp(prefix="czarr-asv-")
        cname, clevel, shuffle = {"lz4-shuffle": ("lz4", 5, 1),
                                  "zstd-bitshuffle": ("zstd", 3, 2)}[comp]
        self.data = _data()
        self.arr = czarr.open_array(f"{self.tmp}/a.zarr", mode="w", shape=self.data.shape,
                                    chunks=(512, 512), dtype="f8",
                                    compressor=czarr.Blosc(cname=cname, clevel=clevel,
                                                           shuffle=shuffle))
        self.arr[...] = self.data
        self.cfg = config.set(threads=threads)
        self.rng = np.random.default_rng(0)
        self.points = [tuple(p) for p in self.rng.integers(0, N, (200, 2))]

    def teardown(self, comp, threads):
        self.cfg.__exit__()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def time_write(self, comp, threads):
        self.arr[...] = self.data

    def time_read(self, comp, threads):
        self.arr[...]

    def time_read_aligned_region(self, comp, threads):
        self.arr[0:2048, 0:2048]

    def time_read_unaligned_region(self, comp, threads):
        self.arr[100:2148, 300:2348]

    def time_200_single_element_reads(self, comp, threads):
        for p in self.points:
            self.arr[p]

    def track_read_mbps(self, comp, threads):
        import time

        t0 = time.perf_counter()
        self.arr[...]
        return self.data.nbytes / 1e6 / (time.perf_counter() - t0)

    track_read_mbps.unit = "MB/s"


class SmallChunks:
    """Per-chunk overhead: 2048^2 int32 in 64^2 chunks (1,024 chunks)."""

    timeout = 300

    def setup(self):
        self.tmp = tempfile.mkdtemp(prefix="czarr-asv-")
        self.data = (np.arange(2048 * 2048, dtype="i4") % 1000).reshape(2048, 2048)
        self.arr = czarr.open_array(f"{self.tmp}/s.zarr", mode="w", shape=self.data.shape,
                                    chunks=(64, 64), dtype="i4")
        self.arr[...] = self.data

    def teardown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def time_write(self):
        self.arr[...] = self.data

    def time_read(self):
        self.arr[...]
