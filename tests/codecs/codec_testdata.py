"""Shared inputs for the codec tests: compressible data of every numeric dtype, the
parameters every byte-identity test covers, and which C libraries czarr and numcodecs
were built against (byte identity of zstd and lz4hc output needs the same library
version; see linked_reference.py for the comparison that holds whatever the versions)."""

from __future__ import annotations

import itertools

import numpy as np

from czarr._core import lz4 as core_lz4
from czarr._core import zstd as core_zstd

try:
    from numcodecs import lz4 as nc_lz4
    from numcodecs import zstd as nc_zstd
except ImportError:  # the fixture tests run without numcodecs; the others import it
    nc_lz4 = nc_zstd = None

DTYPES = ["u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f2", "f4", "f8", "c8", "c16",
          "?", "M8[s]", ">i4", ">f8"]

SAME_ZSTD = nc_zstd is not None and nc_zstd.VERSION_NUMBER == core_zstd.VERSION_NUMBER
SAME_LZ4 = nc_lz4 is not None and nc_lz4.VERSION_STRING == core_lz4.VERSION_STRING

# every Blosc compressor, shuffle, level (0 is a plain copy) and block size
BLOSC_PARAMS = list(itertools.product(["blosclz", "lz4", "lz4hc", "zlib", "zstd"],
                                      [-1, 0, 1, 2], [0, 1, 5, 9], [0, 256, 1 << 16]))
ZSTD_PARAMS = [dict(level=lv, checksum=ck)
               for lv in (-131072, -50, -5, -1, 0, 1, 2, 3, 9, 19, 22) for ck in (False, True)]
LZ4_PARAMS = [dict(acceleration=a) for a in (-1, 0, 1, 2, 8, 64, 65537)]


def library_dependent(config: dict) -> str | None:
    """'zstd' or 'lz4' when the bytes encoded with ``config`` depend on the version of that
    C library (Zstd; Blosc with zstd or lz4hc, except at clevel 0, a plain copy), else None.

    Plain LZ4 and Blosc's lz4 are left out: their output is the same for the liblz4
    versions czarr and numcodecs use, and the tests hold them to byte identity.
    """
    if config["id"] == "zstd":
        return "zstd"
    if config["id"] == "blosc" and config["clevel"] > 0:
        return {"zstd": "zstd", "lz4hc": "lz4"}.get(config["cname"])
    return None


def same_library(kind: str | None) -> bool:
    """Whether czarr and numcodecs use the same version of the library ``kind``."""
    return {"zstd": SAME_ZSTD, "lz4": SAME_LZ4, None: True}[kind]


def sample(dtype: str, n: int = 4096, seed: int = 0) -> np.ndarray:
    """Smooth, noisy, compressible data of ``dtype``."""
    rng = np.random.default_rng(seed)
    base = np.sin(np.arange(n) / 37.0) * 100 + rng.integers(0, 8, n)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return base > 50
    if dt.kind == "M":
        return (base.astype("i8") + 1_600_000_000).astype(dt)
    if dt.kind == "c":
        return (base + 1j * base[::-1]).astype(dt)
    if dt.kind == "u":
        return np.abs(base).astype(dt)
    return base.astype(dt)
