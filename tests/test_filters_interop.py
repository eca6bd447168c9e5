"""Arrays with filters and checksums through the whole stack, with zarr-python 3
(``zarr_format=2``) on the other side: czarr writes and zarr reads, zarr writes (with
numcodecs' filters) and czarr reads, the ``.zarray`` filter lists agree, and the chunk
files both write are the same bytes. zarr-python 3 handles every one of these filters for
v2 arrays, so no case falls back to numcodecs alone."""

from __future__ import annotations

import json
import os

import numcodecs
import numpy as np
import pytest
import zarr

import czarr
import czarr.codecs as cc

SHAPE, CHUNKS = (23, 9), (5, 4)


def _ints(dtype):
    return (np.arange(np.prod(SHAPE)).reshape(SHAPE) * 37 % 1001 - 300).astype(dtype)


def _floats(dtype):
    grid = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    return (np.sin(grid / 7.0) * 40 + grid / 10.0).astype(dtype)


def _words():
    words = np.array(["red", "green", "blue", "violet", "gold"])
    return words[np.arange(np.prod(SHAPE)).reshape(SHAPE) * 7 % 5].astype("<U6")


# name -> (dtype, data, czarr filters, numcodecs filters)
CASES = {
    "delta": ("<i4", _ints("<i4"), [cc.Delta("<i4")], [numcodecs.Delta("<i4")]),
    "delta-astype": ("<i8", _ints("<i8"), [cc.Delta("<i8", astype="<i2")],
                     [numcodecs.Delta("<i8", astype="<i2")]),
    "fixedscaleoffset": ("<f8", _floats("<f8"),
                         [cc.FixedScaleOffset(offset=-60, scale=100, dtype="<f8",
                                              astype="<u2")],
                         [numcodecs.FixedScaleOffset(offset=-60, scale=100, dtype="<f8",
                                                     astype="<u2")]),
    "quantize": ("<f8", _floats("<f8"), [cc.Quantize(digits=2, dtype="<f8")],
                 [numcodecs.Quantize(digits=2, dtype="<f8")]),
    "astype": ("<f8", _floats("<f8"), [cc.AsType(encode_dtype="<f4", decode_dtype="<f8")],
               [numcodecs.AsType(encode_dtype="<f4", decode_dtype="<f8")]),
    "bitround": ("<f4", _floats("<f4"), [cc.BitRound(keepbits=6)],
                 [numcodecs.BitRound(keepbits=6)]),
    "categorize": ("<U6", _words(),
                   [cc.Categorize(["red", "green", "blue", "gold"], dtype="<U6")],
                   [numcodecs.Categorize(["red", "green", "blue", "gold"], dtype="<U6")]),
    "packbits": ("|b1", _ints("<i4") % 3 == 0, [cc.PackBits()], [numcodecs.PackBits()]),
    "shuffle": ("<f8", _floats("<f8"), [cc.Shuffle(elementsize=8)],
                [numcodecs.Shuffle(elementsize=8)]),
    "crc32": ("<i2", _ints("<i2"), [cc.CRC32()], [numcodecs.CRC32()]),
    "crc32-end": ("<i2", _ints("<i2"), [cc.CRC32(location="end")],
                  [numcodecs.CRC32(location="end")]),
    "adler32": ("<u4", _ints("<u4"), [cc.Adler32()], [numcodecs.Adler32()]),
    "fletcher32": ("<i2", _ints("<i2"), [cc.Fletcher32()], [numcodecs.Fletcher32()]),
    "chain": ("<i4", _ints("<i4"), [cc.Delta("<i4"), cc.Shuffle(4), cc.CRC32()],
              [numcodecs.Delta("<i4"), numcodecs.Shuffle(4), numcodecs.CRC32()]),
}


def _expected(name):
    """What reading gives back: the data through numcodecs' filters and back (the lossy
    filters work element by element, so whole-array and per-chunk agree)."""
    dtype, data, _, filters = CASES[name]
    buf = data.reshape(-1)
    for f in filters:
        buf = f.encode(buf)
    for f in reversed(filters):
        buf = f.decode(buf)
    return np.asarray(buf).view(dtype).reshape(SHAPE)


def _chunk_files(path):
    return {name: open(os.path.join(path, name), "rb").read()
            for name in sorted(os.listdir(path)) if not name.startswith(".")}


def _filters_meta(path):
    with open(os.path.join(path, ".zarray")) as f:
        return json.load(f)["filters"]


@pytest.mark.parametrize("name,order", [(name, "C") for name in CASES] + [
    (name, "F") for name in ("delta", "shuffle", "crc32", "chain")])
def test_both_ways(tmp_path, name, order):
    dtype, data, ours, theirs = CASES[name]
    expected = _expected(name)

    # czarr writes, zarr-python reads
    mine = str(tmp_path / "czarr.zarr")
    z = czarr.open_array(mine, mode="w", shape=SHAPE, chunks=CHUNKS, dtype=dtype,
                         filters=ours, compressor=czarr.Blosc(), order=order,
                         write_empty_chunks=False)  # zarr-python 3's default
    z[...] = data
    ref = zarr.open_array(mine, mode="r", zarr_format=2)
    assert np.array_equal(np.asarray(ref[...]), expected)
    assert np.array_equal(z[...], expected)

    # zarr-python writes with numcodecs' filters, czarr reads
    other = str(tmp_path / "zarr.zarr")
    zw = zarr.create(shape=SHAPE, chunks=CHUNKS, dtype=dtype, filters=theirs,
                     compressor=numcodecs.Blosc(), zarr_format=2, store=other, order=order,
                     fill_value=z.fill_value)
    zw[...] = data
    back = czarr.open_array(other, mode="r")
    assert np.array_equal(back[...], expected)
    assert back.filters == ours
    assert all(type(f) is type(o) for f, o in zip(back.filters, ours))

    # same metadata, same chunk bytes
    assert _filters_meta(mine) == _filters_meta(other)
    assert _chunk_files(mine) == _chunk_files(other)


def test_corrupt_chunk_named(tmp_path):
    path = str(tmp_path / "a.zarr")
    z = czarr.open_array(path, mode="w", shape=(10,), chunks=(5,), dtype="<i4",
                         filters=[cc.CRC32()], compressor=None)
    z[...] = np.arange(10)
    with open(os.path.join(path, "1"), "r+b") as f:
        f.seek(6)
        f.write(b"\x99")
    with pytest.raises(czarr.errors.ChunkDecodeError, match="'1'.*crc32 checksum mismatch"):
        czarr.open_array(path, mode="r")[...]
    assert list(czarr.open_array(path, mode="r")[:5]) == [0, 1, 2, 3, 4]
