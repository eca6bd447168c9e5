"""Interop with zarr-python 3 writing and reading ``zarr_format=2``: data written by one
opens in the other with equal values and equivalent metadata."""

from __future__ import annotations

import json
import os

import numcodecs
import numpy as np
import pytest
import zarr

import czarr

COMPRESSORS = {
    "none": (None, None),
    "blosc-lz4": (czarr.Blosc(cname="lz4", clevel=5, shuffle=czarr.Blosc.SHUFFLE),
                  numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)),
    "blosc-zstd-bit": (czarr.Blosc(cname="zstd", clevel=1, shuffle=czarr.Blosc.BITSHUFFLE),
                       numcodecs.Blosc(cname="zstd", clevel=1,
                                       shuffle=numcodecs.Blosc.BITSHUFFLE)),
    "zstd": (czarr.Zstd(level=3), numcodecs.Zstd(level=3)),
    "zlib": (czarr.Zlib(level=1), numcodecs.Zlib(level=1)),
    "lz4": (czarr.LZ4(acceleration=1), numcodecs.LZ4(acceleration=1)),
    "gzip": (czarr.GZip(level=5), numcodecs.GZip(level=5)),
}

DTYPES = ["bool", "i1", "<i2", ">i4", "<i8", "u1", ">u2", "<u4", "u8", "<f2", ">f4", "<f8",
          "<c8", ">c16", "S5", "<U3", "<M8[s]", "<m8[ms]"]

SHAPES = [((), ()), ((17,), (5,)), ((6, 7, 5), (4, 3, 2))]


def _data(shape, dtype):
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    base = np.arange(n, dtype="i8") % 97
    if dtype.kind == "b":
        arr = base % 3 == 0
    elif dtype.kind in "SU":
        arr = np.array([f"x{i}" for i in base], dtype=dtype)
    elif dtype.kind in "Mm":
        arr = base.astype(dtype)
    elif dtype.kind == "c":
        arr = (base + 1j * base).astype(dtype)
    else:
        arr = base.astype(dtype)
    return arr.reshape(shape)


def _fill(dtype):
    dtype = np.dtype(dtype)
    return {"b": True, "S": b"zz", "U": "q", "f": np.nan, "c": 1 + 2j, "M": 7, "m": 7}.get(
        dtype.kind, 3)


def _assert_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    # zarr-python 3 hands back native byte order (and, for 0-d S/U, a scalar whose
    # width is the value's); czarr keeps the stored dtype, checked by the callers
    assert a.shape == b.shape and a.dtype.kind == b.dtype.kind
    if a.dtype.kind in "fc":
        assert np.array_equal(a, b, equal_nan=True)
    else:
        assert np.array_equal(a, b)


def _meta(path):
    with open(os.path.join(path, ".zarray")) as f:
        return json.load(f)


CASES = [
    (dtype, shape, chunks, comp, order, sep)
    for i, dtype in enumerate(DTYPES)
    for shape, chunks in SHAPES
    for comp, order, sep in [
        (list(COMPRESSORS)[i % len(COMPRESSORS)], "C", "."),
        (list(COMPRESSORS)[(i + 3) % len(COMPRESSORS)], "F", "/"),
    ]
]


@pytest.mark.parametrize("dtype,shape,chunks,comp,order,sep", CASES)
def test_czarr_writes_zarr_reads(tmp_path, dtype, shape, chunks, comp, order, sep):
    path = str(tmp_path / "a.zarr")
    data = _data(shape, dtype)
    z = czarr.open_array(path, mode="w", shape=shape, chunks=chunks, dtype=dtype,
                         compressor=COMPRESSORS[comp][0], order=order,
                         fill_value=_fill(dtype), dimension_separator=sep)
    if shape:
        z[tuple(slice(0, s - 1) for s in shape)] = data[tuple(slice(0, s - 1) for s in shape)]
    else:
        z[...] = data
    expected = np.full(shape, _fill(dtype), dtype=dtype)
    if shape:
        expected[tuple(slice(0, s - 1) for s in shape)] = data[
            tuple(slice(0, s - 1) for s in shape)]
    else:
        expected[...] = data
    ref = zarr.open_array(path, mode="r", zarr_format=2)
    _assert_equal(ref[...], expected)
    _assert_equal(z[...], expected)
    assert z[...].dtype == np.dtype(dtype)
    assert ref.shape == z.shape
    assert ref.metadata.chunks == z.chunks


@pytest.mark.parametrize("dtype,shape,chunks,comp,order,sep", CASES)
def test_zarr_writes_czarr_reads(tmp_path, dtype, shape, chunks, comp, order, sep):
    path = str(tmp_path / "b.zarr")
    data = _data(shape, dtype)
    ref = zarr.create(shape=shape, chunks=chunks, dtype=dtype,
                      compressor=COMPRESSORS[comp][1], order=order, fill_value=_fill(dtype),
                      store=path, zarr_format=2, dimension_separator=sep)
    ref[...] = data
    z = czarr.open_array(path, mode="r")
    _assert_equal(z[...], data)
    assert z.dtype == np.dtype(dtype)
    meta = _meta(path)
    assert z.shape == tuple(meta["shape"]) and z.chunks == tuple(meta["chunks"])
    assert z.order == meta["order"] and z.dimension_separator == sep
    if COMPRESSORS[comp][0] is not None:
        assert z.compressor == czarr.get_codec(meta["compressor"])
        assert z.compressor == COMPRESSORS[comp][0] or not shape
    else:
        assert z.compressor is None
    # czarr writes into zarr's array and zarr sees it
    zw = czarr.open_array(path, mode="r+")
    if shape:
        zw[(0,) * len(shape)] = data[(1,) * len(shape)] if min(shape) > 1 else data.flat[0]
        _assert_equal(ref[...], zw[...])
    # czarr's .zarray for the same array matches zarr's
    path2 = str(tmp_path / "c.zarr")
    czarr.open_array(path2, mode="w", shape=shape, chunks=chunks, dtype=dtype,
                     compressor=COMPRESSORS[comp][0], order=order, fill_value=_fill(dtype),
                     dimension_separator=sep)
    mine, theirs = _meta(path2), _meta(path)
    if not shape:  # zarr-python 2 never compresses a 0-d array; zarr-python 3 does
        assert mine["compressor"] is None
        mine["compressor"] = theirs["compressor"]
    elif theirs["compressor"] and theirs["compressor"]["id"] == "zstd":
        # zarr-python 3 drops numcodecs' "checksum": false from the config
        assert mine["compressor"].pop("checksum") is False
    for key in ["shape", "chunks", "dtype", "compressor", "order", "filters", "zarr_format",
                "dimension_separator"]:
        assert mine.get(key) == theirs.get(key), key
    assert str(mine["fill_value"]) == str(theirs["fill_value"]) or (
        czarr.open_array(path2, mode="r").fill_value == z.fill_value)


def test_groups_interop(tmp_path):
    path = str(tmp_path / "g.zarr")
    root = czarr.group(path)
    sub = root.create_group("sub")
    sub.zeros("arr", shape=(10, 10), chunks=(3, 3), dtype="i4")[2:5, 2:5] = 7
    root.attrs["title"] = "czarr"
    zroot = zarr.open_group(path, mode="r", zarr_format=2)
    assert zroot.attrs["title"] == "czarr"
    assert int(zroot["sub/arr"][3, 3]) == 7
    zg = zarr.open_group(str(tmp_path / "h.zarr"), mode="w", zarr_format=2)
    zg.create_group("x").create_array("y", shape=(4,), chunks=(2,), dtype="f8",
                                      fill_value=0.5)
    croot = czarr.open_group(str(tmp_path / "h.zarr"), mode="r")
    assert list(croot) == ["x"]
    assert np.array_equal(croot["x/y"][:], np.full(4, 0.5))
