"""Decoding a chunk never allocates more than the chunk's declared size, plus a constant.

The declared size is what the caller decodes into (``out``: the chunk the array's
metadata describes). For every codec czarr implements, a frame holding 16 times as much
(a real frame of 16 chunks of zeros: for a compressor, a decompression bomb; for Blosc,
LZ4 and zstd, a header claiming 16 MiB) is decoded into a 1 MiB chunk under tracemalloc
(which sees NumPy's and Python's allocations, and liblzma's and libbz2's, which go
through Python's allocator): it must be refused with a CodecError within
``declared + SLACK`` bytes (plus the codec's own working memory, for LZMA its
dictionary). A frame of the right size must decode within the same bound. The chunk
pipeline is held to it too, and with a filter to twice the declared size (the
compressor's output, then the filter's). Without ``out`` there is no declared size, but a
header's claim is still capped by what its frame can hold (Blosc, LZ4, zstd).

Two codecs allocate in proportion to the stored bytes instead (no claim to refuse):
Base64 (3/4 of them) and the object codecs' items (for VLenArray a NumPy array object per
item). Not here: JSON (a parse of the stored text, whose item count is known only after
parsing; it allocates about 12 times the stored bytes) and Pickle (refused outright).
"""

from __future__ import annotations

import functools
import struct
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import czarr.codecs as cc
from czarr.errors import ChunkDecodeError, CodecError
from czarr.pipeline import ChunkPipeline

N = 1 << 17                 # items in the declared chunk
TIMES = 16                  # how much more the hostile frames hold
SLACK = 512 << 10           # Python objects, a block of GZip's inflation, error messages
# codecs' own working memory, beyond the declared size: liblzma's dictionary (8 MiB for
# the default preset; a bounded decoding lets it have 128 MiB at most) and its buffers
WORKING = {"LZMA": 9 << 20}
# Base64's decoded size is known only by decoding (like numcodecs', it skips bytes outside
# its alphabet): it allocates up to 3/4 of the stored bytes (never more: no claim)
STORED_FRACTION = {"Base64": 0.75}
# an object codec makes its items: Python objects beyond the chunk's pointers (a NumPy
# array object for a VLenArray item)
ITEM_NBYTES = {"VLenArray": 128}

# name -> (codec, dtype of the chunk)
CODECS: dict[str, tuple[Any, str]] = {
    "Blosc-lz4": (cc.Blosc("lz4", 5, cc.Blosc.SHUFFLE), "f8"),
    "Blosc-zstd": (cc.Blosc("zstd", 1, cc.Blosc.BITSHUFFLE), "f8"),
    "Blosc-blosclz": (cc.Blosc("blosclz", 9, cc.Blosc.NOSHUFFLE), "f8"),
    "Blosc-zlib": (cc.Blosc("zlib", 1, cc.Blosc.SHUFFLE), "f8"),
    "Zstd": (cc.Zstd(), "f8"),
    "LZ4": (cc.LZ4(), "f8"),
    "Zlib": (cc.Zlib(), "f8"),
    "GZip": (cc.GZip(), "f8"),
    "BZ2": (cc.BZ2(), "f8"),
    "LZMA": (cc.LZMA(), "f8"),
    "Base64": (cc.Base64(), "f8"),
    "Delta": (cc.Delta("<f8"), "f8"),
    "FixedScaleOffset": (cc.FixedScaleOffset(0, 10, "<f8", "<i4"), "f8"),
    "Quantize": (cc.Quantize(3, "<f8"), "f8"),
    "AsType": (cc.AsType("<f4", "<f8"), "f8"),
    "BitRound": (cc.BitRound(10), "f8"),
    "PackBits": (cc.PackBits(), "?"),
    "Shuffle": (cc.Shuffle(8), "f8"),
    "CRC32": (cc.CRC32(), "f8"),
    "CRC32C": (cc.CRC32C(), "f8"),
    "Adler32": (cc.Adler32(), "f8"),
    "Fletcher32": (cc.Fletcher32(), "f8"),
    "Categorize": (cc.Categorize(["a", "b"], "<U1"), "<U1"),
    "VLenUTF8": (cc.VLenUTF8(), "O"),
    "VLenBytes": (cc.VLenBytes(), "O"),
    "VLenArray": (cc.VLenArray("<i2"), "O"),
}
COMPRESSORS = ["Blosc-lz4", "Blosc-zstd", "Blosc-blosclz", "Blosc-zlib", "Zstd", "LZ4",
               "Zlib", "GZip", "BZ2", "LZMA"]


def _values(name: str, dtype: str, n: int) -> np.ndarray:
    """``n`` items of a chunk (zeros, empty strings, empty arrays)."""
    if dtype == "O":
        item: Any = {"VLenArray": np.zeros(0, "i2"), "VLenBytes": b""}.get(name, "")
        values = np.empty(n, dtype=object)
        values[:] = [item] * n
        return values
    return np.full(n, "a", dtype) if dtype == "<U1" else np.zeros(n, dtype)


@functools.cache
def _frames(name: str) -> tuple[bytes, bytes]:
    """A frame of one declared chunk and one of ``TIMES`` chunks, as bytes."""
    codec, dtype = CODECS[name]
    return tuple(bytes(memoryview(np.ascontiguousarray(codec.encode(_values(name, dtype,
                                                                            k * N)))))
                 for k in (1, TIMES))


def _declared(dtype: str) -> np.ndarray:
    return np.empty(N, dtype=object if dtype == "O" else dtype)


def _traced(fn: Callable[[], Any]) -> tuple[int, BaseException | None]:
    """The peak of what ``fn`` allocates, and the exception it raised."""
    tracemalloc.start()
    try:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - the callers check which
            return tracemalloc.get_traced_memory()[1], e
        return tracemalloc.get_traced_memory()[1], None
    finally:
        tracemalloc.stop()


def _bound(name: str, declared: np.ndarray, times: int = 1, frame: bytes = b"") -> int:
    """What decoding ``frame`` into ``declared`` may allocate (``times`` its size, for a
    pipeline holding an intermediate buffer too)."""
    return int(times * declared.nbytes + SLACK + WORKING.get(name, 0)
               + STORED_FRACTION.get(name, 0) * len(frame)
               + ITEM_NBYTES.get(name, 0) * declared.size)


@pytest.mark.parametrize("name", list(CODECS))
def test_a_frame_holding_more_than_the_chunk_is_refused_within_the_chunk(name):
    codec, dtype = CODECS[name]
    out, frame = _declared(dtype), _frames(name)[1]
    peak, error = _traced(lambda: codec.decode(frame, out=out))
    print(f"{name}: a {len(frame)}-byte frame of {TIMES} chunks into a "
          f"{out.nbytes}-byte chunk: refused after {peak} bytes")
    assert isinstance(error, CodecError), error
    assert peak <= _bound(name, out, frame=frame), f"{name}: {peak} bytes allocated"


@pytest.mark.parametrize("name", list(CODECS))
def test_a_chunk_decodes_within_its_declared_size(name):
    codec, dtype = CODECS[name]
    out, frame = _declared(dtype), _frames(name)[0]
    peak, error = _traced(lambda: codec.decode(frame, out=out))
    print(f"{name}: a {out.nbytes}-byte chunk decoded after {peak} bytes")
    assert error is None, error
    expected = _values(name, dtype, N)
    if dtype == "O":
        assert all(len(x) == 0 for x in out)
    else:
        np.testing.assert_array_equal(out, expected)
    assert peak <= _bound(name, out, frame=frame), f"{name}: {peak} bytes allocated"


@pytest.mark.parametrize("filtered", [False, True], ids=["compressor", "delta+compressor"])
@pytest.mark.parametrize("name", COMPRESSORS)
def test_the_pipeline_refuses_a_larger_chunk_within_its_declared_size(name, filtered):
    codec, dtype = CODECS[name]
    filters = [cc.Delta("<f8")] if filtered else None
    pipeline = ChunkPipeline(np.dtype(dtype), (N,), "C", codec, filters)
    frame = (pipeline.encode(np.zeros(TIMES * N)) if filtered else _frames(name)[1])
    chunk = pipeline.empty_chunk()
    peak, error = _traced(lambda: pipeline.decode_into(frame, chunk, "a/0"))
    assert isinstance(error, ChunkDecodeError) and "'a/0'" in str(error), error
    # with a filter the compressor decodes into an intermediate buffer, the filter into
    # another, which is then copied into the chunk
    bound = _bound(name, chunk, 2 if filtered else 1)
    assert peak <= bound, f"{name}: {peak} bytes allocated"
    good = pipeline.encode(np.arange(N, dtype="f8"))
    peak, error = _traced(lambda: pipeline.decode_into(good, chunk, "a/0"))
    assert error is None, error
    np.testing.assert_array_equal(chunk, np.arange(N, dtype="f8"))
    assert peak <= bound, f"{name}: {peak} bytes allocated"


def _claiming(name: str, nbytes: int) -> bytes:
    """A small frame whose header claims ``nbytes`` of output."""
    if name == "Blosc":
        frame = bytearray(cc.Blosc("zstd", 9, 0).encode(bytes(1 << 20)))
        struct.pack_into("<i", frame, 4, nbytes)
        return bytes(frame)
    if name == "LZ4":
        return struct.pack("<I", nbytes) + bytes(4096)
    # zstd: a single-segment frame recording an 8-byte content size, then one RLE block
    return (struct.pack("<I", 0xFD2FB528) + bytes([0xE0]) + struct.pack("<Q", nbytes)
            + (1 | 1 << 1 | 16 << 3).to_bytes(3, "little") + b"\x00")


@pytest.mark.parametrize("name,decompress", [
    ("Blosc", cc.Blosc().decode), ("LZ4", cc.LZ4().decode), ("Zstd", cc.Zstd().decode)])
def test_a_header_claim_beyond_what_its_frame_can_hold_is_refused_unallocated(
        name, decompress):
    """Without ``out``: Blosc allows 32768 bytes of output per stored byte (zstd's RLE
    blocks), LZ4 255 (a match length byte's worth), zstd 32768; 1 GiB from a frame of a
    few KiB is past all three."""
    frame = _claiming(name, 1 << 30)
    assert len(frame) < 32 << 10
    peak, error = _traced(lambda: decompress(frame))
    assert isinstance(error, CodecError), error
    assert peak <= SLACK, f"{name}: {peak} bytes allocated for a 1 GiB claim"
