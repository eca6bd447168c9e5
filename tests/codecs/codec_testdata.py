"""Shared inputs for the codec tests: compressible data of every numeric dtype, and which
C libraries czarr and numcodecs were built against (byte identity of zstd/lz4 output
needs the same library version)."""

from __future__ import annotations

import numpy as np

from czarr._core import lz4 as core_lz4
from czarr._core import zstd as core_zstd

try:
    from numcodecs import lz4 as nc_lz4
    from numcodecs import zstd as nc_zstd
except ImportError:  # the tests comparing with numcodecs skip themselves
    nc_lz4 = nc_zstd = None

DTYPES = ["u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f2", "f4", "f8", "c8", "c16",
          "?", "M8[s]", ">i4", ">f8"]

SAME_ZSTD = nc_zstd is not None and nc_zstd.VERSION_NUMBER == core_zstd.VERSION_NUMBER
SAME_LZ4 = nc_lz4 is not None and nc_lz4.VERSION_STRING == core_lz4.VERSION_STRING
ZSTD_REASON = (f"zstd output depends on the library: czarr links libzstd "
               f"{core_zstd.VERSION_STRING}, numcodecs bundles "
               f"{getattr(nc_zstd, '__version__', '?')}")
LZ4_REASON = (f"lz4 output depends on the library: czarr links liblz4 "
              f"{core_lz4.VERSION_STRING}, numcodecs bundles "
              f"{getattr(nc_lz4, 'VERSION_STRING', '?')}")


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
