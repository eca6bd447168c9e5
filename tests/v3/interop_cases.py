"""The Zarr v3 interop matrix shared by the peer test modules: one row per array
(dtype, fill value, codec, chunk key encoding, shape and shards), chosen so every value of
every axis appears without the full cross product, with the data written, the values
expected back, and how each row's codecs are spelled for czarr and in ``zarr.json``.

Shapes have partial edge chunks ((13, 7) over (4, 3) chunks) and partial edge shards
((8, 6) shards over them). Only part of each array is written, so chunks and shards that
were never written read back as the fill value.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
from typing import Any

import numpy as np

import czarr
from czarr.codecs.checksums import CRC32C

NAN, INF = float("nan"), float("inf")


@dataclasses.dataclass(frozen=True)
class Case:
    """One array of the matrix."""

    dtype: str                      # numpy spelling; "str" for variable-length strings
    fill: Any
    codec: str                      # a key of CODECS
    key: tuple[str, str]            # chunk key encoding: (name, separator)
    shape: tuple[int, ...] = (13, 7)
    chunks: tuple[int, ...] = (4, 3)
    shards: tuple[int, ...] | None = None

    @property
    def id(self) -> str:
        grid = "x".join(map(str, self.shape)) or "0d"
        return (f"{self.dtype}-fill={self.fill!r}-{self.codec}-{self.key[0]}{self.key[1]}-"
                f"{grid}{'-sharded' if self.shards else ''}")

    @property
    def numeric(self) -> bool:
        return self.dtype not in ("U4", "S3", "str")

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(object) if self.dtype == "str" else np.dtype(self.dtype)


SHARDED = {"shards": (8, 6)}
ONE_D = {"shape": (17,), "chunks": (5,), "shards": (10,)}
THREE_D = {"shape": (5, 6, 7), "chunks": (2, 3, 4), "shards": (4, 3, 8)}
ZERO_D = {"shape": (), "chunks": ()}

D_SLASH, D_DOT, V2_DOT, V2_SLASH = ("default", "/"), ("default", "."), ("v2", "."), ("v2", "/")

# every dtype, fill kind (0, non-zero, NaN, +/-inf), codec, key encoding, dimensionality,
# sharded and not, appears at least once
CASES = [
    Case("bool", False, "bytes", D_SLASH),
    Case("bool", True, "crc32c", V2_DOT, **SHARDED),
    Case("int8", -3, "blosc", D_DOT, **SHARDED),
    Case("uint16", 0, "zstd", V2_DOT),
    Case("int32", 7, "gzip", V2_SLASH, **SHARDED),
    Case("int64", 0, "crc32c", D_SLASH, **SHARDED),
    Case("float16", NAN, "bytes", D_DOT, **SHARDED),
    Case("float32", INF, "transpose", D_SLASH),
    Case("float64", 0.0, "blosc", V2_DOT),
    Case("float64", -INF, "transpose", D_SLASH, **THREE_D),
    Case("float64", 1.5, "zstd", D_SLASH, **ZERO_D),
    Case("complex64", 1 + 2j, "zstd", D_SLASH, **ONE_D),
    Case("complex128", complex(NAN, 0), "gzip", D_DOT),
    Case("U4", "ab", "bytes", D_SLASH, **SHARDED),
    Case("S3", b"", "zstd", V2_DOT),
    Case("str", "", "bytes", D_SLASH),
    Case("str", "fill", "transpose", D_DOT, **SHARDED),
]
NUMERIC_CASES = [c for c in CASES if c.numeric]

# the codecs of each matrix value, as czarr takes them (compressor=); "transpose" is also
# order='F'
CODECS: dict[str, Any] = {
    "bytes": lambda: None,
    "blosc": lambda: czarr.Blosc(cname="zstd", clevel=3, shuffle=czarr.Blosc.SHUFFLE),
    "zstd": lambda: czarr.Zstd(level=3),
    "gzip": lambda: czarr.GZip(level=5),
    "crc32c": lambda: [czarr.Zstd(level=1), CRC32C()],
    "transpose": lambda: czarr.GZip(level=1),
}


def bytes_codecs_json(codec: str, typesize: int) -> list[dict]:
    """The bytes->bytes part of a row's chain as ``zarr.json`` spells it."""
    return {
        "bytes": [],
        "blosc": [{"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3,
                                                      "shuffle": "shuffle",
                                                      "typesize": typesize,
                                                      "blocksize": 0}}],
        "zstd": [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
        "gzip": [{"name": "gzip", "configuration": {"level": 5}}],
        "crc32c": [{"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                   {"name": "crc32c"}],
        "transpose": [{"name": "gzip", "configuration": {"level": 1}}],
    }[codec]


def order(case: Case) -> str:
    return "F" if case.codec == "transpose" else "C"


def data(case: Case) -> np.ndarray:
    """Values for the whole array, none of them equal to the fill value (but for bool)."""
    shape, dt = case.shape, case.dtype
    n = int(np.prod(shape))
    base = np.arange(n, dtype="i8") % 97
    if dt == "bool":
        arr = (base % 3 == 0) if case.fill is False else (base % 3 != 0)
        arr = arr ^ (base % 5 == 1)
    elif dt in ("U4", "S3", "str"):
        words = [("é" if i % 4 == 0 else "w") + str(i) for i in base.tolist()]
        if dt == "U4":
            arr = np.array([w[:4] for w in words], dtype="U4")
        elif dt == "S3":
            arr = np.array([w.encode("ascii", "replace")[:3] for w in words], dtype="S3")
        else:  # variable length, empty strings included unless "" is the fill
            arr = np.array(["x" * (i % 6) + ("" if i % 7 else w) for i, w in
                            zip(base.tolist(), words)], dtype=object)
            if case.fill == "":
                arr[arr == ""] = "z"
    elif dt.startswith("complex"):
        arr = (base - 20 + 1j * (base % 11)).astype(dt)
    elif dt.startswith("float"):
        arr = ((base - 30) / 4).astype(dt)
    elif dt.startswith("uint"):
        arr = (base * 677 + 1).astype(dt)
    else:
        arr = (base - 40).astype(dt)
        arr[arr == 0] = 1
    if case.numeric and dt != "bool" and not isinstance(case.fill, float | complex):
        arr[arr == case.fill] = case.fill + 1
    elif case.numeric and dt != "bool":
        arr[arr == case.fill] = 2
    return arr.reshape(shape)


def region(case: Case) -> tuple[slice, ...]:
    """The part of the array that is written: the leading rows, stopping inside or before
    the last full chunk row, so at least one chunk (for sharded rows, one inner chunk of
    a written shard) is never written and reads back as the fill value."""
    if not case.shape:
        return ()
    stop = case.shape[0] - case.shape[0] % case.chunks[0] or case.shape[0] - case.chunks[0]
    stop = max(1, stop - case.chunks[0] // 2 - 1)
    return (slice(0, stop),) + tuple(slice(None) for _ in case.shape[1:])


def expected(case: Case) -> np.ndarray:
    """The array's values once ``region`` holds ``data`` and the rest is never written."""
    out = np.empty(case.shape, dtype=case.np_dtype)
    out[...] = case.fill
    out[region(case)] = data(case)[region(case)]
    return out


def assert_values(got: Any, want: np.ndarray) -> None:
    """Equal shape and values (NaN equal to NaN; strings compared as Python objects,
    whatever dtype each library hands them back as)."""
    got = np.asarray(got)
    assert got.shape == want.shape
    if want.dtype.kind in "OUS" or got.dtype.kind == "T":
        assert got.astype(object).tolist() == want.astype(object).tolist()
        return
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)  # NaN == NaN here


def czarr_create(case: Case, path: str, *, path_in_store: str | None = None,
                 **extra: Any) -> Any:
    """A czarr array for ``case`` at ``path`` (a directory) with ``region`` written.
    Chunks equal to the fill value are not stored, zarr-python 3's default (czarr's,
    as zarr-python 2's, is to store them)."""
    arr = czarr.create(case.shape, chunks=case.chunks, dtype=str if case.dtype == "str"
                       else case.dtype, compressor=CODECS[case.codec](),
                       fill_value=case.fill, order=order(case),
                       store=czarr.DirectoryStore(path), path=path_in_store,
                       zarr_format=3, shards=case.shards, dimension_separator=case.key[1],
                       write_empty_chunks=False, **extra)
    arr[region(case)] = data(case)[region(case)]
    return arr


def chunk_files(root: str) -> dict[str, bytes]:
    """Every file under ``root`` but ``zarr.json``, by its key."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            full = os.path.join(folder, name)
            key = os.path.relpath(full, root).replace(os.sep, "/")
            if key != "zarr.json":
                with open(full, "rb") as f:
                    out[key] = f.read()
    return out


def read_json(path: str) -> dict:
    with open(os.path.join(path, "zarr.json")) as f:
        return json.load(f)


def shard_chunks(value: bytes, n: int) -> list[bytes | None]:
    """The inner chunks of a shard (index at the end, CRC-32C after it), in index order."""
    index = value[len(value) - 16 * n - 4:len(value) - 4]
    out = []
    for i in range(n):
        offset, nbytes = struct.unpack_from("<QQ", index, 16 * i)
        out.append(None if offset == nbytes == 2**64 - 1 else value[offset:offset + nbytes])
    return out


def without_gzip_mtime(value: bytes | None) -> bytes | None:
    """A gzip stream with its header's modification time zeroed. zarr-python's GzipCodec
    (numcodecs' GZip, Python's gzip module) stamps the current time there and so does
    czarr, byte compatible; two writes a second apart differ in those four bytes only."""
    if value is not None and value[:3] == b"\x1f\x8b\x08":
        return value[:4] + bytes(4) + value[8:]
    return value
