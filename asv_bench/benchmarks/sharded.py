"""The sharded Zarr v3 read of benchmarks/sharded_compare.py, for asv history: 4096^2
float64 in 512^2 inner chunks inside 2048^2 shards (Blosc lz4, byte shuffle), read in
full, as an unaligned quarter region, and by 2,000 random single-element reads (each
decodes one inner chunk through the shard index).

The array is written once per environment by czarr itself (``setup_cache``); commits
from before czarr wrote sharded arrays are marked as not applicable, not failed.
"""

from __future__ import annotations

import numpy as np

import czarr

N = 4096
CHUNK, SHARD = 512, 2048
POINTS = 2000
PATH = "sharded-v3.zarr"


def _data() -> np.ndarray:
    x = np.linspace(0, 4 * np.pi, N)
    return np.round(np.sin(x)[:, None] * np.cos(x)[None, :] * 1024.0) / 1024.0


class ShardedV3Read:
    timeout = 600

    def setup_cache(self):
        create = getattr(czarr, "create_array", None)
        if create is None:
            return
        try:
            create(PATH, shape=(N, N), chunks=(CHUNK, CHUNK), shards=(SHARD, SHARD),
                   dtype="f8", compressors=czarr.Blosc(cname="lz4", clevel=5, shuffle=1),
                   zarr_format=3, overwrite=True, data=_data())
        except (TypeError, ValueError, NotImplementedError):  # an older czarr
            return

    def setup(self):
        try:
            self.arr = czarr.open_array(PATH, mode="r")
        except Exception as exc:  # nothing written: this commit cannot shard
            raise NotImplementedError(f"no sharded v3 array ({exc})") from exc
        rng = np.random.default_rng(42)
        self.rows = rng.integers(0, N, POINTS).tolist()
        self.cols = rng.integers(0, N, POINTS).tolist()
        self.region = (slice(100, 100 + N // 4), slice(300, 300 + N // 4))

    def time_full_read(self):
        self.arr[...]

    def time_unaligned_region_read(self):
        self.arr[self.region]

    def time_2000_random_point_reads(self):
        arr = self.arr
        for r, c in zip(self.rows, self.cols):
            arr[r, c]
