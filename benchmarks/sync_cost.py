"""What a synchronizer costs: the same writes with none, a ThreadSynchronizer and a
ProcessSynchronizer (one run, DirectoryStore, Blosc lz4). Aligned whole-chunk writes
take no lock; unaligned writes lock each chunk they touch partly.

Run: ``python benchmarks/sync_cost.py``.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

import czarr


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="czarr-sync-")
    data = np.random.default_rng(0).random((4096, 4096))
    syncs = {"none": None, "ThreadSynchronizer": czarr.ThreadSynchronizer(),
             "ProcessSynchronizer": czarr.ProcessSynchronizer(f"{tmp}/locks")}
    print("write of 4096^2 f8 in 256^2 chunks (256 chunks), best of 3")
    for name, sync in syncs.items():
        z = czarr.open_array(f"{tmp}/{name}.zarr", mode="w", shape=data.shape,
                             chunks=(256, 256), dtype="f8", synchronizer=sync)
        for label, sel in (("aligned", np.s_[:, :]), ("unaligned", np.s_[100:4000, 7:4090])):
            best = min(_time(lambda sel=sel: z.__setitem__(sel, data[sel])) for _ in range(3))
            print(f"  {name:20} {label:9} {best * 1e3:8.1f} ms")


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
