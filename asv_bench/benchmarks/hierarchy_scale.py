"""Cost as the work grows, for asv history: the workloads of
benchmarks/hierarchy_scale.py, czarr alone.

- A hierarchy of 10,000 small arrays in a folder, in each format, with and without
  consolidated metadata: opening it through the consolidated metadata (and one array's
  shape, dtype and attributes), and without it ``open_group``, ``group[name]``,
  ``list(group)`` and ``tree()``.
- Per-chunk overhead: a full write and a full read of a 1-D int32 array in chunks of
  16 items, no compressor, in a MemoryStore, at 10^2, 10^4 and 10^6 chunks (the times
  are whole operations; divide by the chunk count for the per-chunk figure).

The hierarchies are written once per environment (``setup_cache``, in the folder asv
runs the benchmarks in).
"""

from __future__ import annotations

import numpy as np

import czarr

NODES = 10_000
ARRAY = "a04242"
CHUNK_ITEMS = 16


def _path(zarr_format: int, consolidated: bool) -> str:
    return f"scale-v{zarr_format}{'-consolidated' if consolidated else ''}.zarr"


class Hierarchy:
    params = [[2, 3]]
    param_names = ["zarr_format"]
    timeout = 900

    def setup_cache(self):
        for fmt in (2, 3):
            for consolidated in (False, True):
                root = czarr.open_group(_path(fmt, consolidated), mode="w", zarr_format=fmt)
                for i in range(NODES):
                    a = root.create_dataset(f"a{i:05d}", shape=(4,), chunks=(4,),
                                            dtype="i4", compressor=None)
                    a[...] = i
                    a.attrs["i"] = i
                if consolidated:
                    czarr.consolidate_metadata(_path(fmt, consolidated))

    def setup(self, zarr_format):
        self.group = czarr.open_group(_path(zarr_format, False), mode="r",
                                      use_consolidated=False, zarr_format=zarr_format)

    def time_open_consolidated(self, zarr_format):
        g = czarr.open_consolidated(_path(zarr_format, True), mode="r",
                                    zarr_format=zarr_format)
        a = g[ARRAY]
        assert a.shape == (4,) and a.dtype == np.dtype("i4") and a.attrs["i"] == int(ARRAY[1:])

    def time_open_group(self, zarr_format):
        czarr.open_group(_path(zarr_format, False), mode="r", use_consolidated=False,
                         zarr_format=zarr_format)

    def time_getitem(self, zarr_format):
        a = self.group[ARRAY]
        assert a.shape == (4,) and a.dtype == np.dtype("i4")

    def time_list(self, zarr_format):
        list(self.group)

    def time_tree(self, zarr_format):
        repr(self.group.tree())


class ChunkOverhead:
    params = [[10**2, 10**4, 10**6]]
    param_names = ["nchunks"]
    timeout = 600
    number = 1
    repeat = (1, 5, 30.0)

    def setup(self, nchunks):
        self.data = np.arange(nchunks * CHUNK_ITEMS, dtype="i4")
        self.written = czarr.create(store=czarr.MemoryStore(), shape=self.data.shape,
                                    chunks=(CHUNK_ITEMS,), dtype="i4", compressor=None)
        self.written[...] = self.data
        self.fresh = czarr.create(store=czarr.MemoryStore(), shape=self.data.shape,
                                  chunks=(CHUNK_ITEMS,), dtype="i4", compressor=None)

    def time_write(self, nchunks):
        self.fresh[...] = self.data

    def time_read(self, nchunks):
        self.written[...]
