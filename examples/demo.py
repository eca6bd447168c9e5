"""The main demo: the SciPy 2019 Zarr talk's workflow with ``import czarr as zarr``.

Creates a hierarchy in a DirectoryStore, the 35 PB array, writes along row 0 and column
0, reads written and unwritten regions, prints ``.info`` and the tree, zips the folder
and reopens it with ZipStore, then measures write and read throughput on 512 MiB of
smooth float64 data (beside zarr-python's on the same data when it is installed).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import zipfile

import numpy as np

import czarr as zarr


def smooth_data(n: int = 8192) -> np.ndarray:
    """n x n float64, smooth and quantised to 1/1024 (low mantissa bits zero), so it
    compresses as measured fields do."""
    x = np.linspace(0, 4 * np.pi, n)
    data = np.sin(x)[:, None] * np.cos(x)[None, :] * 1024.0
    np.round(data, out=data)
    data /= 1024.0
    return data


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def talk(workdir: str) -> None:
    path = os.path.join(workdir, "example.zarr")
    store = zarr.DirectoryStore(path)
    root = zarr.group(store)
    root.create_group("foo").zeros("hello", shape=(10000, 10000), chunks=(1000, 1000),
                                   dtype="<i4")
    compressor = zarr.Blosc(cname="zstd", clevel=1, shuffle=zarr.Blosc.BITSHUFFLE)
    big = root.create_dataset("big", shape=(100_000_000, 100_000_000),
                              chunks=(10_000, 10_000), dtype="i4", compressor=compressor)
    print(big)
    print(big.info)
    big[0, 0:20000] = np.arange(20000)
    big[0:20000, 0] = np.arange(20000)
    print(big.info)
    print("big[0, :10]        ", big[0, :10])
    print("big[:10, 0]        ", big[:10, 0])
    print("big[-3:, -3:] (never written)\n", big[-3:, -3:])
    print(root.tree())
    print("files:", sorted(os.listdir(path)), sorted(os.listdir(os.path.join(path, "big"))))

    zpath = os.path.join(workdir, "example.zip")
    with zipfile.ZipFile(zpath, "w") as zf:
        for dirpath, _, files in os.walk(path):
            for f in files:
                full = os.path.join(dirpath, f)
                zf.write(full, os.path.relpath(full, path))
    with zarr.ZipStore(zpath, mode="r") as zstore:
        zbig = zarr.open_group(zstore, mode="r")["big"]
        assert np.array_equal(zbig[0, :20000], np.arange(20000))
        print("reopened from zip:", zbig, "chunks initialized", zbig.nchunks_initialized)


def throughput(workdir: str) -> None:
    data = smooth_data()
    mb = data.nbytes / 1e6
    comp = zarr.Blosc(cname="lz4", clevel=5, shuffle=zarr.Blosc.SHUFFLE)
    arr = zarr.open_array(os.path.join(workdir, "data.zarr"), mode="w", shape=data.shape,
                          chunks=(512, 512), dtype="f8", compressor=comp)

    def write():
        arr[...] = data

    tw = best_of(write)
    tr = best_of(lambda: arr[...])
    assert np.array_equal(arr[...], data)
    print(arr.info)
    line = f"czarr        write {mb / tw:8.0f} MB/s   read {mb / tr:8.0f} MB/s"
    try:
        import numcodecs
        import zarr as zarr_python
    except ImportError:
        print(f"throughput ({mb:.0f} MB, chunks 512x512, Blosc lz4): {line.strip()}")
        return
    ref = zarr_python.create(
        shape=data.shape, chunks=(512, 512), dtype="f8", store=os.path.join(workdir, "zp.zarr"),
        compressor=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1), zarr_format=2,
        overwrite=True)

    def zwrite():
        ref[...] = data

    zw = best_of(zwrite)
    zr = best_of(lambda: ref[...])
    print(f"throughput ({mb:.0f} MB, chunks 512x512, Blosc lz4, best of 3):")
    print(line)
    print(f"zarr-python  write {mb / zw:8.0f} MB/s   read {mb / zr:8.0f} MB/s"
          f"   (zarr {zarr_python.__version__})")
    print(f"czarr / zarr-python: write {zw / tw:.1f}x, read {zr / tr:.1f}x")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="czarr-demo-") as workdir:
        talk(workdir)
        throughput(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
