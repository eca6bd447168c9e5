"""Reference encoders over the very C libraries czarr's extensions link, called through
ctypes, with numcodecs' semantics (its zstd.pyx, lz4.pyx and blosc.pyx, read, not run).

numcodecs bundles its own libzstd, liblz4 and c-blosc, whose versions differ from the
system libraries czarr links; Zstd and the Blosc zstd/lz4hc compressors then produce other
(equally valid) bytes. Comparing czarr with these references instead enforces byte
identity whatever numcodecs bundles: czarr must call the library exactly as numcodecs
does (level, checksum flag, shuffle, block size, destination size...).

Each library is found from the extension module that links it (``ldd`` of its ``.so``)
and its version string must equal the one czarr reports, or the tests fail loudly. In the
bundled build (``CZARR_BLOSC=bundled``) the libraries are compiled into the extension
itself: ``ldd`` lists none, and the reference calls the functions the extension exports,
still the very code czarr runs (czarr is then built from numcodecs' own c-blosc tree, so
test_codecs_compat.py also holds it to byte identity with numcodecs).
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
from ctypes import c_char_p, c_int, c_size_t, c_uint, c_void_p
from types import ModuleType

import numpy as np

from czarr._core import blosc as core_blosc
from czarr._core import lz4 as core_lz4
from czarr._core import zstd as core_zstd

# zstd.h: ZSTD_cParameter values (stable since libzstd 1.4.0)
ZSTD_C_COMPRESSION_LEVEL = 100
ZSTD_C_CHECKSUM_FLAG = 201
# blosc.h
BLOSC_MAX_OVERHEAD = 16
NOSHUFFLE, SHUFFLE, BITSHUFFLE, AUTOSHUFFLE = 0, 1, 2, -1


def linked_library(module: ModuleType, soname: str, symbol: str) -> str:
    """The path of the shared library ``soname*`` that the extension ``module`` links,
    as the dynamic loader resolves it; the extension's own path when it links no such
    library but exports ``symbol`` (the library is compiled into it)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        raise RuntimeError("ldd not found: cannot tell which C libraries czarr links")
    listing = subprocess.run([ldd, module.__file__], capture_output=True, text=True,
                             check=True).stdout
    for line in listing.splitlines():
        name, arrow, rest = line.strip().partition(" => ")
        if arrow and name.startswith(soname):
            path = rest.split(" (")[0].strip()
            if not os.path.isfile(path):
                raise RuntimeError(f"{module.__name__} links {name}, which the loader "
                                   f"does not find ({line.strip()!r})")
            return path
    if hasattr(ctypes.CDLL(module.__file__), symbol):  # statically linked, symbols exported
        return module.__file__
    raise RuntimeError(f"{module.__file__} neither links {soname}* nor exports {symbol}:\n"
                       f"{listing}")


def _open(module: ModuleType, soname: str, version_fn: str, expected: str) -> ctypes.CDLL:
    path = linked_library(module, soname, version_fn)
    lib = ctypes.CDLL(path)
    getattr(lib, version_fn).restype = c_char_p
    version = getattr(lib, version_fn)().decode("ascii")
    if version != expected:
        raise RuntimeError(f"{path} reports version {version}, but {module.__name__} "
                           f"reports {expected}: the reference would not be the library "
                           f"czarr calls")
    return lib


@functools.cache
def libzstd() -> ctypes.CDLL:
    lib = _open(core_zstd, "libzstd.so", "ZSTD_versionString", core_zstd.VERSION_STRING)
    lib.ZSTD_maxCLevel.restype = c_int
    lib.ZSTD_compressBound.argtypes = [c_size_t]
    lib.ZSTD_compressBound.restype = c_size_t
    lib.ZSTD_isError.argtypes = [c_size_t]
    lib.ZSTD_isError.restype = c_uint
    lib.ZSTD_getErrorName.argtypes = [c_size_t]
    lib.ZSTD_getErrorName.restype = c_char_p
    lib.ZSTD_createCCtx.restype = c_void_p
    lib.ZSTD_freeCCtx.argtypes = [c_void_p]
    lib.ZSTD_freeCCtx.restype = c_size_t
    lib.ZSTD_CCtx_setParameter.argtypes = [c_void_p, c_int, c_int]
    lib.ZSTD_CCtx_setParameter.restype = c_size_t
    lib.ZSTD_compress2.argtypes = [c_void_p, c_void_p, c_size_t, c_void_p, c_size_t]
    lib.ZSTD_compress2.restype = c_size_t
    return lib


@functools.cache
def liblz4() -> ctypes.CDLL:
    lib = _open(core_lz4, "liblz4.so", "LZ4_versionString", core_lz4.VERSION_STRING)
    lib.LZ4_compressBound.argtypes = [c_int]
    lib.LZ4_compressBound.restype = c_int
    lib.LZ4_compress_fast.argtypes = [c_void_p, c_void_p, c_int, c_int, c_int]
    lib.LZ4_compress_fast.restype = c_int
    return lib


@functools.cache
def libblosc() -> ctypes.CDLL:
    lib = _open(core_blosc, "libblosc.so", "blosc_get_version_string",
                core_blosc.VERSION_STRING)
    lib.blosc_compress_ctx.argtypes = [c_int, c_int, c_size_t, c_size_t, c_void_p, c_void_p,
                                       c_size_t, c_char_p, c_size_t, c_int]
    lib.blosc_compress_ctx.restype = c_int
    return lib


def _zstd_check(lib: ctypes.CDLL, code: int, what: str) -> None:
    if lib.ZSTD_isError(code):
        raise RuntimeError(f"{what}: {lib.ZSTD_getErrorName(code).decode()}")


def zstd_encode(data: bytes, level: int, checksum: bool) -> bytes:
    """numcodecs' Zstd: levels above the maximum are clamped, both parameters set on a
    fresh context, one ``ZSTD_compress2`` call into a ``ZSTD_compressBound`` buffer."""
    lib = libzstd()
    level = min(level, lib.ZSTD_maxCLevel())
    dest = ctypes.create_string_buffer(lib.ZSTD_compressBound(len(data)))
    cctx = lib.ZSTD_createCCtx()
    if not cctx:
        raise MemoryError("ZSTD_createCCtx")
    try:
        _zstd_check(lib, lib.ZSTD_CCtx_setParameter(cctx, ZSTD_C_COMPRESSION_LEVEL, level),
                    "compression level")
        _zstd_check(lib, lib.ZSTD_CCtx_setParameter(cctx, ZSTD_C_CHECKSUM_FLAG,
                                                    1 if checksum else 0), "checksum flag")
        size = lib.ZSTD_compress2(cctx, dest, len(dest), data, len(data))
        _zstd_check(lib, size, "ZSTD_compress2")
    finally:
        lib.ZSTD_freeCCtx(cctx)
    return dest.raw[:size]


def lz4_encode(data: bytes, acceleration: int) -> bytes:
    """numcodecs' LZ4: accelerations below 1 mean 1; a 4-byte little-endian size, then
    one ``LZ4_compress_fast`` block."""
    lib = liblz4()
    bound = lib.LZ4_compressBound(len(data))
    dest = ctypes.create_string_buffer(bound)
    size = lib.LZ4_compress_fast(data, dest, len(data), bound,
                                 acceleration if acceleration > 0 else 1)
    if size <= 0:
        raise RuntimeError(f"LZ4_compress_fast returned {size}")
    return len(data).to_bytes(4, "little") + dest.raw[:size]


def blosc_encode(data: bytes, typesize: int, cname: str, clevel: int, shuffle: int,
                 blocksize: int) -> bytes:
    """numcodecs' Blosc without internal threads: AUTOSHUFFLE is bit-shuffle for 1-byte
    items and byte shuffle otherwise; ``blosc_compress_ctx`` with one thread into a buffer
    of ``len(data) + BLOSC_MAX_OVERHEAD`` bytes."""
    if shuffle == AUTOSHUFFLE:
        shuffle = BITSHUFFLE if typesize == 1 else SHUFFLE
    destsize = len(data) + BLOSC_MAX_OVERHEAD
    dest = ctypes.create_string_buffer(destsize)
    size = libblosc().blosc_compress_ctx(clevel, shuffle, typesize, len(data), data, dest,
                                         destsize, cname.encode("ascii"), blocksize, 1)
    if size <= 0:
        raise RuntimeError(f"blosc_compress_ctx returned {size}")
    return dest.raw[:size]


def encode(config: dict, data) -> bytes:
    """Encode ``data`` (an array or bytes) as the codec ``config`` ("zstd", "lz4" or
    "blosc") says, with the linked library."""
    if isinstance(data, bytes):
        raw, itemsize = data, 1
    else:
        arr = np.ascontiguousarray(data)
        raw, itemsize = arr.tobytes(), arr.itemsize
    codec_id = config["id"]
    if codec_id == "zstd":
        return zstd_encode(raw, config["level"], config["checksum"])
    if codec_id == "lz4":
        return lz4_encode(raw, config["acceleration"])
    if codec_id == "blosc":
        return blosc_encode(raw, itemsize, config["cname"], config["clevel"],
                            config["shuffle"], config["blocksize"])
    raise ValueError(f"no linked-library reference for {codec_id!r}")
