"""Checks every embedded-database store (DBM, SQLite, LMDB) runs beside the conformance
suite: a czarr group written, closed, reopened and read back, and the data exchanged with
zarr-python 3, which has no such stores, through its own in-memory store."""

from __future__ import annotations

import numcodecs
import numpy as np
import zarr
from zarr.core.buffer.cpu import Buffer

import czarr
from czarr.storage import close

INTS = np.arange(12 * 10, dtype="<i4").reshape(12, 10)
FLOATS = np.linspace(-1, 1, 7 * 9 * 4).reshape(7, 9, 4)


def write_group(store) -> None:
    """A group with attributes, a raw int array and a Blosc-compressed float array."""
    root = czarr.group(store=store)
    root.attrs["title"] = "round trip"
    sub = root.create_group("sub")
    sub.attrs["level"] = 1
    raw = root.create_dataset("ints", shape=INTS.shape, chunks=(5, 4), dtype=INTS.dtype,
                              compressor=None, fill_value=-1)
    raw[:] = INTS
    raw.attrs["units"] = "counts"
    packed = sub.create_dataset("floats", shape=FLOATS.shape, chunks=(3, 4, 4),
                                dtype="<f8", compressor=czarr.Blosc(cname="zstd", clevel=3))
    packed[:] = FLOATS


def check_group(store) -> None:
    """What :func:`write_group` wrote, read back through czarr."""
    root = czarr.open_group(store=store, mode="r")
    assert root.attrs["title"] == "round trip"
    assert sorted(root) == ["ints", "sub"]
    assert root["sub"].attrs["level"] == 1
    ints = root["ints"]
    assert ints.attrs["units"] == "counts"
    assert ints.compressor is None and ints.chunks == (5, 4) and ints.fill_value == -1
    np.testing.assert_array_equal(ints[:], INTS)
    floats = root["sub/floats"]
    assert floats.compressor.get_config()["cname"] == "zstd"
    np.testing.assert_array_equal(floats[:], FLOATS)
    np.testing.assert_array_equal(floats[2:5, ::2, 1], FLOATS[2:5, ::2, 1])


def group_round_trip(store, reopen) -> None:
    """Write a group into ``store``, close it, read it back from ``reopen()``."""
    write_group(store)
    n = len(store)
    assert n >= 8  # metadata, attributes and chunks all landed
    close(store)
    again = reopen()
    try:
        assert len(again) == n
        check_group(again)
    finally:
        close(again)


def zarr3_reads(store) -> None:
    """Every key of ``store`` (written by :func:`write_group`) copied into zarr-python 3's
    MemoryStore opens there as the same zarr_format=2 hierarchy."""
    copied = {key: Buffer.from_bytes(bytes(store[key])) for key in store}
    root = zarr.open_group(zarr.storage.MemoryStore(copied), mode="r", zarr_format=2)
    assert root.attrs["title"] == "round trip"
    assert root["sub"].attrs["level"] == 1
    assert root["ints"].attrs["units"] == "counts"
    np.testing.assert_array_equal(root["ints"][:], INTS)
    np.testing.assert_array_equal(root["sub/floats"][:], FLOATS)


def czarr_reads_zarr3(store) -> None:
    """A zarr_format=2 hierarchy zarr-python 3 wrote, its keys copied into ``store``,
    opens in czarr with the same values."""
    source = zarr.storage.MemoryStore()
    root = zarr.open_group(source, mode="w", zarr_format=2)
    root.attrs["by"] = "zarr-python 3"
    a = root.create_array("a", shape=INTS.shape, chunks=(4, 4), dtype="<i4",
                          compressors=None, fill_value=0)
    a[:] = INTS
    b = root.create_group("g").create_array(
        "b", shape=FLOATS.shape, chunks=(4, 4, 2), dtype="<f8", fill_value=0.0,
        compressors=numcodecs.Zlib(level=1))
    b[:] = FLOATS
    store.setitems({key: value.to_bytes() for key, value in source._store_dict.items()})
    mine = czarr.open_group(store=store, mode="r")
    assert mine.attrs["by"] == "zarr-python 3"
    assert mine["g/b"].compressor.get_config() == {"id": "zlib", "level": 1}
    np.testing.assert_array_equal(mine["a"][:], INTS)
    np.testing.assert_array_equal(mine["g/b"][:], FLOATS)


def check_dimension_separator(store) -> None:
    """A store made with ``dimension_separator='/'`` gives arrays created in it nested
    chunk keys."""
    arr = czarr.zeros((4, 4), chunks=(2, 2), dtype="u1", store=store)
    arr[:] = 1
    assert arr.dimension_separator == "/"
    assert {"0/0", "0/1", "1/0", "1/1"} <= set(store)
    np.testing.assert_array_equal(czarr.open_array(store=store, mode="r")[:], 1)
