"""The one limit on array geometry, and what it protects: every product the chunk kernels
form (extents in whole chunks, chunks in the grid, bytes in a chunk) fits in an int64.
Arrays past it are refused at creation and at open with an error naming the shape;
arrays up to it index exactly (no wrapped chunk index lands a write in the wrong chunk)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import czarr
from czarr._core.fancy import CoordinateProjection, OrthogonalProjection
from czarr._core.indexing import BasicProjection, check_array_grid
from czarr.errors import MetadataError

INT64_MAX = 2**63 - 1


@pytest.mark.parametrize("shape,chunks,itemsize,what", [
    ((INT64_MAX,), (2,), 1, "dimension 0 spans 9223372036854775808"),
    ((2**40, 2**40), (1, 1), 1, "its grid holds 1208925819614629174706176 chunks"),
    ((2**63 - 1, 4), (2, 2), 1, "dimension 0 spans"),
    ((4, 4), (2**32, 2**32), 1, "would hold 18446744073709551616 bytes"),
    ((4,), (2**62,), 2, "would hold 9223372036854775808 bytes"),
    ((1,) * 33, (1,) * 33, 1, "at most 32 are supported"),
])
def test_beyond_the_limit_is_refused_naming_the_shape(shape, chunks, itemsize, what):
    with pytest.raises(ValueError, match=what) as info:
        check_array_grid(shape, chunks, itemsize)
    assert f"shape {shape}" in str(info.value)
    dtype = {1: "i1", 2: "i2"}[itemsize]
    with pytest.raises(MetadataError, match="field 'shape' is beyond czarr's limits"):
        czarr.zeros(shape, chunks=chunks, dtype=dtype, store={})


@pytest.mark.parametrize("shape,chunks", [((INT64_MAX,), (1,)), ((2**62,), (2,)),
                                          ((2**31, 2**31), (1, 1)), ((2**62, 4), (2, 2)),
                                          ((INT64_MAX - 1,), (2,))])
def test_up_to_the_limit_is_accepted(shape, chunks):
    check_array_grid(shape, chunks, 1)
    assert czarr.zeros(shape, chunks=chunks, dtype="i1", store={}).shape == shape


def test_open_refuses_a_zarray_beyond_the_limit():
    store = {}
    czarr.zeros((4,), chunks=(2,), dtype="i1", store=store)
    doc = json.loads(store[".zarray"])
    doc["shape"] = [2**40, 2**40]
    doc["chunks"] = [1, 1]
    store[".zarray"] = json.dumps(doc).encode()
    with pytest.raises(MetadataError, match=r"\.zarray: field 'shape'.*grid holds"):
        czarr.open_array(store, mode="r")


@pytest.mark.parametrize("make", [
    lambda s, c: BasicProjection((slice(None),) * len(s), s, c),
    lambda s, c: OrthogonalProjection(
        (np.arange(0, 200000, 2, dtype=np.int64),) + (slice(None),) * (len(s) - 1), s, c),
    lambda s, c: CoordinateProjection(
        tuple(np.zeros(3, dtype=np.int64) for _ in s), s, c, (3,)),
])
@pytest.mark.parametrize("shape,chunks", [((INT64_MAX,), (2,)), ((2**40, 2**40), (1, 1))])
def test_projections_check_the_grid_themselves(make, shape, chunks):
    """The exported projections are safe on their own, not only behind the metadata."""
    with pytest.raises(ValueError, match="too large"):
        make(shape, chunks)


def test_reproducer_oindex_on_the_longest_dimension():
    """Was a segfault: ``_ceildiv`` formed ``n + c - 1``, the capacity came out negative
    and the loop wrote past a 4-entry allocation. ``(2**63 - 1,)`` in chunks of 2 is now
    refused (its last chunk would end past 2**63 - 1); in chunks of 1 it works."""
    with pytest.raises(MetadataError, match=r"shape \(9223372036854775807,\)"):
        czarr.zeros((INT64_MAX,), chunks=(2,), dtype="i1", store={})
    store = {}
    z = czarr.zeros((INT64_MAX,), chunks=(1,), dtype="i1", store=store)
    idx = np.arange(0, 200000, 2)
    assert not z.oindex[idx].any() and z.oindex[idx].shape == (100000,)
    z.oindex[[INT64_MAX - 1, 5, 0]] = [9, 8, 7]
    assert sorted(k for k in store if k != ".zarray") == ["0", "5", str(INT64_MAX - 1)]
    assert z[-1] == 9 and z[5] == 8 and z[0] == 7
    assert z[-3:].tolist() == [0, 0, 9]
    assert z[::2**62].tolist() == [7, 0]


def test_reproducer_coordinate_write_lands_in_its_own_chunk():
    """Was a silent wrong chunk: the flat chunk index wrapped, so a write to
    ``[2**39, 5]`` of a ``(2**40, 2**40)`` array in 1x1 chunks landed in ``'0.5'``. That
    grid (2**80 chunks) is refused now; the largest grids index exactly."""
    with pytest.raises(MetadataError, match="grid holds"):
        czarr.zeros((2**40, 2**40), chunks=(1, 1), dtype="i1", store={})
    store = {}
    z = czarr.zeros((2**31, 2**31), chunks=(1, 1), dtype="i1", store=store)
    z.vindex[[2**30], [5]] = 7
    assert [k for k in store if k != ".zarray"] == [f"{2**30}.5"]
    assert z[2**30, 5] == 7 and z[0, 5] == 0


def test_reproducer_no_coordinate_write_is_lost():
    """Was one of three coordinate writes lost on ``(2**63 - 1, 4)`` in ``(2, 2)`` chunks
    (now refused); on ``(2**62, 4)`` all three land, each in its chunk."""
    store = {}
    z = czarr.zeros((2**62, 4), chunks=(2, 2), dtype="i1", store=store)
    rows, cols = [2**62 - 1, 2**61, 3], [3, 0, 1]
    z.vindex[rows, cols] = [1, 2, 3]
    assert sorted(k for k in store if k != ".zarray") == [
        "1.0", f"{2**60}.0", f"{2**61 - 1}.1"]
    assert z.vindex[rows, cols].tolist() == [1, 2, 3]
    assert z.oindex[[2**62 - 1], [3]].tolist() == [[1]]
    assert z[2**62 - 2:, 2:].tolist() == [[0, 0], [0, 1]]


def test_the_talks_35_petabyte_array_still_works():
    store = {}
    big = czarr.zeros((10**8, 10**8), chunks=(10**4, 10**4), dtype="i4", store=store)
    big[0, 0:20000] = np.arange(20000)
    big[0:20000, 0] = np.arange(20000)
    assert big.nchunks == 10**8 and big.nchunks_initialized == 3
    assert big[0, :10].tolist() == list(range(10))
    assert big.vindex[[19999, 0], [0, 19999]].tolist() == [19999, 19999]
