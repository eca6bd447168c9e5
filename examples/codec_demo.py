"""Compress 512 MiB of smooth float64 data with each czarr codec, beside numcodecs.

Prints one line per codec: compression ratio, then compress and decompress throughput
(MB/s of uncompressed data, best of two runs, one for the slow codecs; single-threaded)
for czarr and, when it is installed, numcodecs on the same data. Decompression writes
into a preallocated array (``decode(buf, out=arr)``) for both. BZ2 and LZMA are too
slow for 512 MiB in a demo: they run on the first 16 MiB / 8 MiB only, as the "MiB"
column says.

Run: ``python examples/codec_demo.py`` (about a minute on two cores).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import czarr.codecs as cc  # noqa: E402

try:
    import numcodecs
    import numcodecs.blosc

    numcodecs.blosc.use_threads = False  # same footing as czarr: one thread per call
except ImportError:
    numcodecs = None

MIB = 1 << 20
CODECS = [  # (label, config, MiB of data used)
    ("Blosc lz4 shuffle", {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1,
                           "blocksize": 0}, 512),
    ("Blosc zstd shuffle", {"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 1,
                            "blocksize": 0}, 512),
    ("Blosc blosclz shuffle", {"id": "blosc", "cname": "blosclz", "clevel": 5,
                               "shuffle": 1, "blocksize": 0}, 512),
    ("Zstd level 1", {"id": "zstd", "level": 1, "checksum": False}, 512),
    ("LZ4", {"id": "lz4", "acceleration": 1}, 512),
    ("Zlib level 1", {"id": "zlib", "level": 1}, 512),
    ("BZ2 level 1", {"id": "bz2", "level": 1}, 16),
    ("LZMA preset 1", {"id": "lzma", "format": 1, "check": -1, "preset": 1,
                       "filters": None}, 8),
]


def smooth_data(nbytes: int) -> np.ndarray:
    """A linspace/sin mix quantised to 1/1024, so the low mantissa bits are zeros."""
    x = np.linspace(0.0, 2000.0, nbytes // 8)
    data = np.sin(x)
    data += 0.25 * np.sin(x / 17.0)
    data *= 1024.0
    np.round(data, out=data)
    data /= 1024.0
    return data


def measure(codec, data: np.ndarray, runs: int) -> tuple[float, float, float]:
    """(ratio, compress MB/s, decompress MB/s), best of ``runs``; the destination is
    allocated and touched before timing so page faults are not counted."""
    best_c = best_d = float("inf")
    out = np.zeros_like(data)
    for _ in range(runs):
        t0 = time.perf_counter()
        encoded = codec.encode(data)
        best_c = min(best_c, time.perf_counter() - t0)
        t0 = time.perf_counter()
        codec.decode(encoded, out=out)
        best_d = min(best_d, time.perf_counter() - t0)
    if not np.array_equal(out, data):
        raise AssertionError(f"{codec!r} did not round-trip")
    return data.nbytes / len(encoded), data.nbytes / best_c / 1e6, data.nbytes / best_d / 1e6


def main() -> None:
    start = time.perf_counter()
    data = smooth_data(512 * MIB)
    print(f"512 MiB float64 (smooth, quantised) ready in {time.perf_counter() - start:.1f}s;"
          f" numcodecs {numcodecs.__version__ if numcodecs else 'not installed'}")
    header = (f"{'codec':<22} {'MiB':>4} {'ratio':>7} {'czarr c MB/s':>13} "
              f"{'czarr d MB/s':>13} {'numcodecs c':>12} {'numcodecs d':>12}")
    print(header)
    print("-" * len(header))
    for label, config, mib in CODECS:
        part = data[: mib * MIB // 8]
        runs = 1 if label.startswith(("Zlib", "BZ2", "LZMA")) else 2
        ratio, c_speed, d_speed = measure(cc.get_codec(config), part, runs)
        line = f"{label:<22} {mib:>4} {ratio:>7.2f} {c_speed:>13.0f} {d_speed:>13.0f}"
        if numcodecs is not None:
            _, nc_c, nc_d = measure(numcodecs.get_codec(config), part, runs)
            line += f" {nc_c:>12.0f} {nc_d:>12.0f}"
        print(line, flush=True)
    print(f"total {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
