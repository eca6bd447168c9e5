"""Random single-element reads through the decoded-chunk cache, for asv history: the
workload of benchmarks/point_cache.py at compare.py's ``--quick`` size. 4096^2 float64
(128 MiB decoded) in 512^2 chunks, Blosc lz4 byte shuffle, on a DirectoryStore, v2 and a
sharded v3 array (2048^2 shards); 2,000 random points over the whole array or its
top-left quarter, with the cache off, at 64 MiB (half the decoded array, as 256 MiB is
for compare.py's 8192^2) and at 256 MiB (all of it). Each timing follows a warm-up pass.

Commits from before the cache existed are marked as not applicable, not failed.
"""

from __future__ import annotations

import numpy as np

import czarr
from czarr import config

N = 4096
CHUNK, SHARD = 512, 2048
POINTS = 2000
PATHS = {"v2": "cache-points-v2.zarr", "sharded": "cache-points-sharded.zarr"}


def _data() -> np.ndarray:
    x = np.linspace(0, 4 * np.pi, N)
    return np.round(np.sin(x)[:, None] * np.cos(x)[None, :] * 1024.0) / 1024.0


class CachedPointReads:
    params = [["off", "64MiB", "256MiB"], ["whole", "quarter"], ["v2", "sharded"]]
    param_names = ["cache", "points", "format"]
    timeout = 600

    def setup_cache(self):
        comp = czarr.Blosc(cname="lz4", clevel=5, shuffle=1)
        data = _data()
        czarr.open_array(PATHS["v2"], mode="w", shape=(N, N), chunks=(CHUNK, CHUNK),
                         dtype="f8", compressor=comp)[...] = data
        try:
            czarr.create(shape=(N, N), chunks=(CHUNK, CHUNK), shards=(SHARD, SHARD),
                         dtype="f8", compressor=comp, zarr_format=3, overwrite=True,
                         store=PATHS["sharded"])[...] = data
        except (TypeError, ValueError, NotImplementedError):  # an older czarr
            pass

    def setup(self, cache, points, fmt):
        try:
            self.cfg = config.set(chunk_cache=0 if cache == "off" else cache)
        except TypeError:  # no chunk cache in this commit
            raise NotImplementedError from None
        try:
            self.arr = czarr.open_array(PATHS[fmt], mode="r")
        except Exception:
            self.cfg.__exit__(None, None, None)
            raise NotImplementedError from None
        hi = N // 2 if points == "quarter" else N
        rng = np.random.default_rng(42)
        self.points = [tuple(int(v) for v in rng.integers(0, hi, 2)) for _ in range(POINTS)]
        for p in self.points:  # warm-up: fills the cache
            self.arr[p]

    def teardown(self, cache, points, fmt):
        self.cfg.__exit__(None, None, None)

    def time_2000_point_reads(self, cache, points, fmt):
        for p in self.points:
            self.arr[p]
