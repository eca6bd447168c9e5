"""Array workloads for asv history, the same as benchmarks/compare.py's (at its ``--quick``
size): full write and read of 4096^2 float64 on a DirectoryStore with Blosc lz4 byte
shuffle and zstd bit shuffle, with 1 and 2 threads, the read also into a preallocated
``out=``; aligned and unaligned 2048^2 region reads; random single-element reads;
2048^2 int32 in 1,024 chunks of 64^2 (per-chunk overhead); and the ceiling the full read
and write are measured against (c-blosc decoding the same chunks with 2 threads into
``out=`` and into a fresh buffer, and encoding them). The sharded v3 read is in
sharded.py, the codecs alone in codecs.py.

The arrays are written once per environment (``setup_cache``, in the folder asv runs the
benchmarks in) and reopened for each benchmark.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import czarr
from czarr import config

try:
    import numcodecs
except ImportError:  # pragma: no cover
    numcodecs = None

N = 4096  # 4096^2 float64 = 128 MiB
COMPRESSORS = {"lz4-shuffle": ("lz4", 5, 1), "zstd-bitshuffle": ("zstd", 3, 2)}
POINTS = 200


def _data(n: int = N) -> np.ndarray:
    """compare.py's smooth data: a product of sines rounded to 1/1024."""
    x = np.linspace(0, 4 * np.pi, n)
    data = np.sin(x)[:, None] * np.cos(x)[None, :] * 1024.0
    np.round(data, out=data)
    return data / 1024.0


def _small() -> np.ndarray:
    return (np.arange((N // 2) ** 2, dtype="i4") % 1000).reshape(N // 2, N // 2)


def _create(path: str, data: np.ndarray, chunks: tuple[int, int], comp: tuple) -> None:
    cname, clevel, shuffle = comp
    arr = czarr.open_array(path, mode="w", shape=data.shape, chunks=chunks, dtype=data.dtype,
                           compressor=czarr.Blosc(cname=cname, clevel=clevel, shuffle=shuffle))
    arr[...] = data


class FullArray:
    params = [list(COMPRESSORS), [1, 2]]
    param_names = ["compressor", "threads"]
    timeout = 600

    def setup_cache(self):
        data = _data()
        for name, comp in COMPRESSORS.items():
            _create(f"full-{name}.zarr", data, (512, 512), comp)

    def setup(self, comp, threads):
        self.data = _data()
        self.arr = czarr.open_array(f"full-{comp}.zarr", mode="r+")
        self.out = np.zeros_like(self.data)  # faulted in: the decode alone is timed
        self.cfg = config.set(threads=threads)
        rng = np.random.default_rng(42)
        self.points = [tuple(int(v) for v in rng.integers(0, N, 2)) for _ in range(POINTS)]

    def teardown(self, comp, threads):
        self.cfg.__exit__(None, None, None)

    def time_write(self, comp, threads):
        self.arr[...] = self.data

    def time_read(self, comp, threads):
        self.arr[...]

    def time_read_into_out(self, comp, threads):
        self.arr.get_basic_selection(Ellipsis, out=self.out)

    def time_read_aligned_region(self, comp, threads):
        self.arr[0:2048, 0:2048]

    def time_read_unaligned_region(self, comp, threads):
        self.arr[100:2148, 300:2348]

    def time_200_single_element_reads(self, comp, threads):
        for p in self.points:
            self.arr[p]

    def track_read_mbps(self, comp, threads):
        t0 = time.perf_counter()
        self.arr[...]
        return self.data.nbytes / 1e6 / (time.perf_counter() - t0)

    track_read_mbps.unit = "MB/s"

    def track_read_into_out_mbps(self, comp, threads):
        t0 = time.perf_counter()
        self.arr.get_basic_selection(Ellipsis, out=self.out)
        return self.data.nbytes / 1e6 / (time.perf_counter() - t0)

    track_read_into_out_mbps.unit = "MB/s"

    def track_write_mbps(self, comp, threads):
        t0 = time.perf_counter()
        self.arr[...] = self.data
        return self.data.nbytes / 1e6 / (time.perf_counter() - t0)

    track_write_mbps.unit = "MB/s"


class SmallChunks:
    """Per-chunk overhead: 2048^2 int32 in 64^2 chunks (1,024 chunks), Blosc lz4 shuffle."""

    timeout = 300

    def setup_cache(self):
        _create("small.zarr", _small(), (64, 64), COMPRESSORS["lz4-shuffle"])

    def setup(self):
        self.data = _small()
        self.arr = czarr.open_array("small.zarr", mode="r+")

    def time_write(self):
        self.arr[...] = self.data

    def time_read(self):
        self.arr[...]


class Ceiling:
    """c-blosc (numcodecs) with 2 threads on the chunks FullArray's lz4 array holds: the
    decode into a preallocated buffer and into a fresh one, and the encode; czarr's full
    read and write are measured against these."""

    timeout = 300

    def setup_cache(self):
        _create("ceiling.zarr", _data(), (512, 512), COMPRESSORS["lz4-shuffle"])

    def setup(self):
        if numcodecs is None:
            raise NotImplementedError("numcodecs is not installed")
        from numcodecs import blosc as nblosc

        nblosc.use_threads = False
        names = sorted(k for k in os.listdir("ceiling.zarr") if not k.startswith("."))
        self.frames = []
        for name in names:
            with open(os.path.join("ceiling.zarr", name), "rb") as f:
                self.frames.append(f.read())
        self.codec = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)
        self.dest = np.zeros((len(self.frames), 512 * 512))
        self.chunks = list(self.dest)
        half = len(self.frames) // 2
        self.spans = [(0, half), (half, len(self.frames))]
        self.pool = ThreadPoolExecutor(2)

    def teardown(self):
        self.pool.shutdown()

    def _decode(self, out):
        def work(span):
            for i in range(*span):
                self.codec.decode(self.frames[i], out=out[i])
        list(self.pool.map(work, self.spans))

    def time_decode_2_threads_into_out(self):
        self._decode(self.dest)

    def time_decode_2_threads_fresh(self):
        self._decode(np.empty_like(self.dest))

    def time_encode_2_threads(self):
        def work(span):
            return [self.codec.encode(self.chunks[i]) for i in range(*span)]
        list(self.pool.map(work, self.spans))
