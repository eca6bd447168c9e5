"""resize and append: shapes, values, metadata, and no orphan chunk keys."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr
from czarr.errors import ReadOnlyError


def _chunk_keys(store):
    return sorted(k for k in store if not k.startswith("."))


def test_shrink_deletes_chunks_outside():
    store = czarr.MemoryStore()
    z = czarr.array(np.arange(100).reshape(10, 10), chunks=(3, 3), store=store)
    assert len(_chunk_keys(store)) == 16
    z.resize(4, 5)
    assert z.shape == (4, 5)
    assert json.loads(store[".zarray"])["shape"] == [4, 5]
    assert _chunk_keys(store) == ["0.0", "0.1", "1.0", "1.1"]
    assert np.array_equal(z[...], np.arange(100).reshape(10, 10)[:4, :5])
    reopened = czarr.Array(store)
    assert reopened.shape == (4, 5)


def test_grow_reads_fill_value_even_after_shrink():
    z = czarr.array(np.arange(1, 101).reshape(10, 10), chunks=(4, 4), fill_value=-1)
    z.resize((5, 5))
    z.resize(10, 10)
    expected = np.full((10, 10), -1)
    expected[:5, :5] = np.arange(1, 101).reshape(10, 10)[:5, :5]
    assert np.array_equal(z[...], expected)


def test_append_axes_and_nested_keys(tmp_path):
    path = str(tmp_path / "a.zarr")
    z = czarr.open_array(path, mode="w", shape=(2, 3), chunks=(2, 2), dtype="i4",
                         dimension_separator="/")
    z[...] = 1
    assert z.append(np.full((3, 3), 2)) == (5, 3)
    assert z.append(np.full((5, 1), 3), axis=1) == (5, 4)
    ref = np.ones((2, 3), "i4")
    ref = np.concatenate([ref, np.full((3, 3), 2)], axis=0)
    ref = np.concatenate([ref, np.full((5, 1), 3)], axis=1)
    assert np.array_equal(czarr.open_array(path, mode="r")[...], ref)
    z.resize(1, 1)
    store = czarr.DirectoryStore(path)
    assert _chunk_keys(store) == ["0/0"]
    with pytest.raises(ValueError, match="not compatible"):
        z.append(np.ones((2, 2)))
    with pytest.raises(ValueError, match="number of dimensions"):
        z.resize(3)


def test_read_only_refuses_resize():
    z = czarr.zeros((4,), chunks=2)
    z.read_only = True
    with pytest.raises(ReadOnlyError):
        z.resize(8)
    with pytest.raises(ReadOnlyError):
        z.append([1, 2])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=4),
       st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_resize_sequence_matches_numpy(shapes, chunks):
    store = czarr.MemoryStore()
    model = np.arange(1, 50).reshape(7, 7)
    z = czarr.array(model, chunks=chunks, store=store, fill_value=0)
    for shape in shapes:
        z.resize(shape)
        grown = np.zeros(shape, dtype=model.dtype)
        overlap = tuple(slice(0, min(a, b)) for a, b in zip(shape, model.shape))
        grown[overlap] = model[overlap]
        model = grown
        assert np.array_equal(z[...], model)
        for key in _chunk_keys(store):  # no orphan: every key lies inside the grid
            coords = [int(c) for c in key.split(".")]
            assert all(c * k < n for c, k, n in zip(coords, chunks, shape)), key


def test_shrink_in_a_group_with_nested_keys():
    root = czarr.group()
    z = root.zeros("g/a", shape=(6, 6), chunks=(2, 2), dtype="i4", dimension_separator="/")
    z[...] = 1
    assert z.nchunks_initialized == 9
    z.resize(2, 3)
    assert sorted(k for k in root.store if k.startswith("g/a/") and ".z" not in k) == [
        "g/a/0/0", "g/a/0/1"]
    assert z.nchunks_initialized == 2
