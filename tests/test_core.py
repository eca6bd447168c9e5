"""Array: selections against NumPy, fill values, empty chunks, errors, pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr
from czarr.errors import ChunkDecodeError, ReadOnlyError


@st.composite
def array_and_selection(draw):
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.integers(0, 9)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    sel = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "slice", "full"]))
        if kind == "int" and n:
            sel.append(draw(st.integers(-n, n - 1)))
        elif kind == "full":
            sel.append(slice(None))
        else:
            sel.append(slice(draw(st.none() | st.integers(-12, 12)),
                             draw(st.none() | st.integers(-12, 12)),
                             draw(st.none() | st.sampled_from([1, 2, 3, -1, -2, 7]))))
    if draw(st.booleans()) and ndim:
        cut = draw(st.integers(0, ndim))
        sel = sel[:cut] + [Ellipsis] + sel[cut + 1:] if cut < ndim else sel + [Ellipsis]
    return shape, chunks, tuple(sel)


COMPRESSORS = [None, czarr.Blosc(cname="lz4", clevel=1), czarr.Zstd(level=1)]


@settings(max_examples=200, deadline=None)
@given(array_and_selection(), st.sampled_from(["C", "F"]), st.sampled_from([0, 1, 2]),
       st.sampled_from(["<i4", ">f8", "u1"]))
def test_read_write_match_numpy(asel, order, comp, dtype):
    shape, chunks, sel = asel
    ref = (np.arange(int(np.prod(shape)), dtype="i8") % 251).astype(dtype).reshape(shape)
    z = czarr.array(ref, chunks=chunks, order=order, compressor=COMPRESSORS[comp],
                    fill_value=5)
    assert np.array_equal(z[...], ref)
    got = z[sel]
    assert np.array_equal(np.asarray(got), ref[sel])
    assert np.shape(got) == np.shape(ref[sel])
    value = (np.arange(int(np.prod(np.shape(ref[sel]))), dtype="i8") % 13 + 100).astype(dtype)
    value = value.reshape(np.shape(ref[sel]))
    ref[sel] = value
    z[sel] = value
    assert np.array_equal(z[...], ref)
    ref[sel] = 42
    z[sel] = 42
    assert np.array_equal(z[...], ref)


def test_fill_value_and_empty_chunks():
    store = czarr.MemoryStore()
    z = czarr.full((10, 10), fill_value=-1, chunks=(5, 5), dtype="i2", store=store,
                   write_empty_chunks=False)
    assert (z[...] == -1).all()
    assert z.nchunks_initialized == 0
    z[0:5, 0:5] = 3
    assert z.nchunks_initialized == 1 and "0.0" in store
    z[0:5, 0:5] = -1  # back to the fill value: the chunk is deleted
    assert "0.0" not in store and z.nchunks_initialized == 0
    z[0, 0] = -1  # partial write of fill into a missing chunk stores nothing
    assert z.nchunks_initialized == 0
    z2 = czarr.zeros((4,), chunks=2, store=czarr.MemoryStore(), write_empty_chunks=True)
    z2[:] = 0
    assert z2.nchunks_initialized == 2


def test_write_empty_chunks_defaults_to_true_as_zarr_python_2():
    store = czarr.MemoryStore()
    z = czarr.zeros((4,), chunks=2, store=store)
    z[:2] = 0
    assert "0" in store and z.nchunks_initialized == 1


def test_nan_fill_value_empty_chunk():
    z = czarr.full((4,), fill_value=np.nan, chunks=2, dtype="f8", write_empty_chunks=False)
    z[:2] = np.array([np.nan, -np.nan])
    assert z.nchunks_initialized == 0
    assert np.isnan(z[...]).all()


def test_edge_chunks_and_scalars():
    z = czarr.zeros((7, 3), chunks=(3, 2), dtype="f4")
    z[...] = np.arange(21, dtype="f4").reshape(7, 3)
    assert z[6, 2] == 20 and isinstance(z[6, 2], np.float32)
    assert z.nchunks == 6 and z.cdata_shape == (3, 2)
    assert np.array_equal(z[::-1, ::-2], np.arange(21, dtype="f4").reshape(7, 3)[::-1, ::-2])


def test_zero_d_array():
    z = czarr.zeros((), dtype="i8")
    z[...] = 5
    assert z[()] == 5 and isinstance(z[...], np.ndarray) and z[...].shape == ()
    assert z.nchunks == 1 and list(z.store) == [".zarray", "0"]


def test_out_parameter():
    z = czarr.array(np.arange(12).reshape(3, 4), chunks=(2, 2))
    out = np.empty((2, 4), dtype=z.dtype)
    res = z.get_basic_selection((slice(1, 3), slice(None)), out=out)
    assert res is out and np.array_equal(out, np.arange(12).reshape(3, 4)[1:3])
    with pytest.raises(ValueError, match="shape"):
        z.get_basic_selection(slice(None), out=np.empty((2, 2), dtype=z.dtype))


def test_read_only_and_errors():
    z = czarr.zeros((4, 4), chunks=2)
    z.read_only = True
    with pytest.raises(ReadOnlyError):
        z[0, 0] = 1
    z.read_only = False
    with pytest.raises(IndexError):
        z[4, 0]
    with pytest.raises(IndexError):
        z[0, 0, 0]
    with pytest.raises(ValueError, match="broadcast"):
        z[0:2, 0:2] = np.ones((3, 3))
    with pytest.raises(TypeError):
        len(czarr.zeros(()))


def test_corrupt_chunk_names_key():
    store = czarr.MemoryStore()
    z = czarr.array(np.arange(100, dtype="f8"), chunks=10, store=store,
                    compressor=czarr.Blosc())
    store["3"] = store["3"][:20]
    with pytest.raises(ChunkDecodeError, match="'3'"):
        z[...]
    assert np.array_equal(z[:30], np.arange(30.0))
    raw = czarr.array(np.arange(10), chunks=5, compressor=None)
    raw.store["1"] = b"\0" * 7
    with pytest.raises(ChunkDecodeError, match="'1'"):
        raw[...]


def test_pickle_and_len_and_iter(tmp_path):
    z = czarr.open_array(str(tmp_path / "p.zarr"), mode="w", shape=(10,), chunks=3, dtype="i4")
    z[...] = np.arange(10)
    z2 = pickle.loads(pickle.dumps(z))
    assert z2 == z and np.array_equal(z2[...], np.arange(10))
    assert len(z) == 10 and list(z) == list(range(10))
    assert np.array_equal(np.asarray(z), np.arange(10))
    m = czarr.array(np.arange(6), chunks=2)
    assert np.array_equal(pickle.loads(pickle.dumps(m))[...], np.arange(6))


def test_properties():
    z = czarr.zeros((100, 100), chunks=(10, 10), dtype="i4", compressor=None)
    assert z.nbytes == 40000 and z.ndim == 2 and z.size == 10000 and z.itemsize == 4
    assert z.name == "/" and z.basename == ""
    z[:] = 1
    assert z.nbytes_stored == 40000 + len(z.store[".zarray"]) + (
        len(z.store[".zattrs"]) if ".zattrs" in z.store else 0)
    assert z.nchunks_initialized == 100


def test_auto_chunks():
    z = czarr.zeros((10000, 10000), dtype="f8")
    assert z.chunks == (313, 625)  # zarr-python's guess
    z = czarr.zeros((100,), chunks=True)
    assert z.chunks == (100,)


def test_cache_metadata_false_sees_changes():
    store = czarr.MemoryStore()
    z = czarr.zeros((4,), chunks=2, store=store)
    z2 = czarr.Array(store, cache_metadata=False)
    czarr.zeros((6,), chunks=2, store=store, overwrite=True)
    assert z2.shape == (6,) and z.shape == (4,)
