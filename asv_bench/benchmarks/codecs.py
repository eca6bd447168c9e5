"""Compress and decompress throughput of each codec (czarr, and numcodecs beside it when
installed) on 8 MiB of smooth float64 data: ``time_*`` for asv's timings and ``track_*``
for MB/s."""

from __future__ import annotations

import time

import numpy as np

import czarr.codecs as cc

try:
    import numcodecs
except ImportError:  # pragma: no cover
    numcodecs = None

N = 1 << 20  # float64 items: 8 MiB
CODECS = {
    "blosc-lz4": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
    "blosc-zstd": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 1, "blocksize": 0},
    "blosc-blosclz": {"id": "blosc", "cname": "blosclz", "clevel": 5, "shuffle": 1,
                      "blocksize": 0},
    "zstd": {"id": "zstd", "level": 1, "checksum": False},
    "lz4": {"id": "lz4", "acceleration": 1},
    "zlib": {"id": "zlib", "level": 1},
}


def _data() -> np.ndarray:
    x = np.linspace(0, 100, N)
    return np.sin(x) * 1000 + np.cos(x / 7) * 10


def _mbps(func, nbytes: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return nbytes / best / 1e6


class CodecSuite:
    params = (list(CODECS), ["czarr", "numcodecs"])
    param_names = ["codec", "library"]

    def setup(self, name, library):
        if library == "numcodecs":
            if numcodecs is None:
                raise NotImplementedError("numcodecs is not installed")
            self.codec = numcodecs.get_codec(CODECS[name])
        else:
            self.codec = cc.get_codec(CODECS[name])
        self.data = _data()
        self.encoded = self.codec.encode(self.data)
        self.out = np.empty_like(self.data)

    def time_compress(self, name, library):
        self.codec.encode(self.data)

    def time_decompress(self, name, library):
        self.codec.decode(self.encoded, out=self.out)

    def track_compress_mbps(self, name, library):
        return _mbps(lambda: self.codec.encode(self.data), self.data.nbytes)

    track_compress_mbps.unit = "MB/s"

    def track_decompress_mbps(self, name, library):
        return _mbps(lambda: self.codec.decode(self.encoded, out=self.out), self.data.nbytes)

    track_decompress_mbps.unit = "MB/s"

    def track_ratio(self, name, library):
        return self.data.nbytes / len(self.encoded)

    track_ratio.unit = "ratio"
