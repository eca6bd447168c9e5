"""Orthogonal, coordinate, mask and block selections, and fields, against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr

COMPRESSORS = [None, czarr.Blosc(cname="lz4", clevel=1)]
DTYPES = ["<i4", ">f8", "u1"]
STRUCT = np.dtype([("a", "<i4"), ("b", ">f8"), ("c", "u1", (2,))])


def _reference(shape, dtype):
    n = int(np.prod(shape))
    if np.dtype(dtype).names:
        ref = np.zeros(n, dtype=dtype)
        for k, name in enumerate(ref.dtype.names):
            ref[name] = (np.arange(n) * (k + 3) % 97).reshape((n,) + (1,) * (ref[name].ndim - 1))
        return ref.reshape(shape)
    return (np.arange(n, dtype="i8") % 251).astype(dtype).reshape(shape)


def _values(shape, dtype, offset=100):
    n = int(np.prod(shape))
    return _reference((n,), dtype).reshape(shape) if np.dtype(dtype).names else \
        ((np.arange(n, dtype="i8") % 13 + offset).astype(dtype).reshape(shape))


@st.composite
def grid(draw, min_ndim=0):
    ndim = draw(st.integers(min_ndim, 4))
    shape = tuple(draw(st.integers(0 if ndim < 3 else 1, 9)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    return shape, chunks


def _array(ref, chunks, order, comp):
    return czarr.array(ref, chunks=chunks, order=order, compressor=COMPRESSORS[comp],
                       fill_value=None if ref.dtype.names else 5)


# ------------------------------------------------------------------------- orthogonal

@st.composite
def orthogonal_case(draw):
    shape, chunks = draw(grid())
    sel = []
    for n in shape:
        kinds = ["slice", "ints", "mask"] + (["int"] if n else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "int":
            sel.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            sel.append(slice(draw(st.none() | st.integers(-12, 12)),
                             draw(st.none() | st.integers(-12, 12)),
                             draw(st.none() | st.sampled_from([1, 2, 3, -1, -2]))))
        elif kind == "ints":
            k = draw(st.integers(0, 8)) if n else 0
            ints = draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k)) if n else []
            sel.append(np.array(ints, dtype=draw(st.sampled_from(["i8", "i4"]))))
        else:
            sel.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)),
                                dtype=bool))
    return shape, chunks, tuple(sel)


def _ix(sel, shape):
    """np.ix_ index arrays for an orthogonal selection, and the dims ints drop."""
    idx, keep = [], []
    for s, n in zip(sel, shape):
        if isinstance(s, slice):
            idx.append(np.arange(n)[s])
            keep.append(True)
        elif isinstance(s, np.ndarray) and s.dtype == bool:
            idx.append(np.flatnonzero(s))
            keep.append(True)
        elif isinstance(s, np.ndarray):
            idx.append(s.astype(np.int64) % max(n, 1))
            keep.append(True)
        else:
            idx.append(np.array([s % n]))
            keep.append(False)
    return idx, keep


def np_oindex_get(ref, sel):
    idx, keep = _ix(sel, ref.shape)
    if not idx:
        return ref[()]
    res = ref[np.ix_(*idx)]
    return res.reshape([len(i) for i, k in zip(idx, keep) if k] + list(ref.shape[ref.ndim:]))


def np_oindex_set(ref, sel, value):
    idx, keep = _ix(sel, ref.shape)
    if not idx:
        ref[()] = value
        return
    full = [len(i) for i in idx]
    ref[np.ix_(*idx)] = np.broadcast_to(value, [f for f, k in zip(full, keep) if k]).reshape(full)


@settings(max_examples=300, deadline=None)
@given(orthogonal_case(), st.sampled_from(["C", "F"]), st.sampled_from([0, 1]),
       st.sampled_from(DTYPES), st.sampled_from([1, 4]))
def test_orthogonal_matches_numpy(case, order, comp, dtype, threads):
    shape, chunks, sel = case
    ref = _reference(shape, dtype)
    z = _array(ref, chunks, order, comp)
    with czarr.config.set(threads=threads):
        expected = np_oindex_get(ref, sel)
        got = z.oindex[sel]
        assert np.shape(got) == np.shape(expected)
        assert np.array_equal(got, expected)
        assert np.array_equal(z.get_orthogonal_selection(sel), expected)
        if np.ndim(expected):
            out = np.full(np.shape(expected), 7, dtype=ref.dtype)
            assert z.get_orthogonal_selection(sel, out=out) is out
            assert np.array_equal(out, expected)
        value = _values(np.shape(expected), dtype)
        np_oindex_set(ref, sel, value)
        z.oindex[sel] = value
        assert np.array_equal(z[...], ref)
        np_oindex_set(ref, sel, 42)
        z.set_orthogonal_selection(sel, 42)
        assert np.array_equal(z[...], ref)


def test_orthogonal_unsorted_repeated_negative():
    ref = _reference((20, 13), "<f8")
    z = czarr.array(ref, chunks=(6, 4))
    rows = np.array([19, -1, 0, 7, 7, 3, -20, 12])
    cols = np.array([True, False] * 6 + [True])
    assert np.array_equal(z.oindex[rows, cols], ref[np.ix_(rows % 20, np.flatnonzero(cols))])
    assert np.array_equal(z.oindex[[4, 2, 4], 5], ref[[4, 2, 4], 5])
    assert np.array_equal(z.oindex[..., [3, 1]], ref[:, [3, 1]])
    # a permutation covering a whole chunk: the write must not take the encode-as-is path
    z.oindex[[5, 4, 3, 2, 1, 0], [3, 2, 1, 0]] = np.arange(24).reshape(6, 4)
    ref[np.ix_([5, 4, 3, 2, 1, 0], [3, 2, 1, 0])] = np.arange(24).reshape(6, 4)
    assert np.array_equal(z[...], ref)
    # repeated indices: the last value wins, as in NumPy
    z.oindex[[1, 1, 1], [2]] = [[10], [11], [12]]
    assert z[1, 2] == 12


def test_orthogonal_through_getitem():
    ref = _reference((9, 8, 7), "<i4")
    z = czarr.array(ref, chunks=(4, 3, 5))
    assert np.array_equal(z[[0, 5, 2]], ref[[0, 5, 2]])
    assert np.array_equal(z[2:7, [6, 0]], ref[2:7, [6, 0]])
    assert np.array_equal(z[..., np.arange(7) % 2 == 0], ref[..., np.arange(7) % 2 == 0])
    assert np.array_equal(z[[1, 2], :, [3, 4]], ref[np.ix_([1, 2], range(8), [3, 4])])
    z[:, [1, 3], 4] = -3
    ref[:, [1, 3], 4] = -3
    assert np.array_equal(z[...], ref)


# ------------------------------------------------------------------------- coordinate

@st.composite
def coordinate_case(draw):
    shape, chunks = draw(grid(min_ndim=1))
    if 0 in shape:
        shape = tuple(max(n, 1) for n in shape)
    pshape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=2)))
    sel = []
    for n in shape:
        if draw(st.integers(0, 4)) == 0:
            sel.append(draw(st.integers(-n, n - 1)))
        else:
            vals = draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(pshape)),
                                 max_size=int(np.prod(pshape))))
            a = np.array(vals, dtype="i8").reshape(pshape)
            if pshape and draw(st.booleans()):
                a = a[..., :1]  # broadcast along the last axis
            sel.append(a)
    if all(not isinstance(s, np.ndarray) for s in sel):
        sel[0] = np.array([sel[0]])
    return shape, chunks, tuple(sel)


@settings(max_examples=250, deadline=None)
@given(coordinate_case(), st.sampled_from(["C", "F"]), st.sampled_from([0, 1]),
       st.sampled_from(DTYPES), st.sampled_from([1, 4]))
def test_coordinate_matches_numpy(case, order, comp, dtype, threads):
    shape, chunks, sel = case
    ref = _reference(shape, dtype)
    z = _array(ref, chunks, order, comp)
    with czarr.config.set(threads=threads):
        expected = ref[sel]
        got = z.vindex[sel]
        assert np.shape(got) == np.shape(expected)
        assert np.array_equal(got, expected)
        out = np.empty(np.shape(expected), dtype=ref.dtype)
        z.get_coordinate_selection(sel, out=out)
        assert np.array_equal(out, expected)
        value = _values(np.shape(expected), dtype)
        ref[sel] = value
        z.vindex[sel] = value
        assert np.array_equal(z[...], ref)
        ref[sel] = 42
        z.set_coordinate_selection(sel, 42)
        assert np.array_equal(z[...], ref)


@st.composite
def mask_case(draw):
    shape, chunks = draw(grid(min_ndim=1))
    n = int(np.prod(shape))
    density = draw(st.sampled_from([0.0, 0.2, 0.7, 1.0]))
    seed = draw(st.integers(0, 2**16))
    mask = np.random.default_rng(seed).random(n).reshape(shape) < density
    return shape, chunks, mask


@settings(max_examples=200, deadline=None)
@given(mask_case(), st.sampled_from(["C", "F"]), st.sampled_from([0, 1]),
       st.sampled_from(DTYPES), st.sampled_from([1, 4]))
def test_mask_matches_numpy(case, order, comp, dtype, threads):
    shape, chunks, mask = case
    ref = _reference(shape, dtype)
    z = _array(ref, chunks, order, comp)
    with czarr.config.set(threads=threads):
        assert np.array_equal(z.vindex[mask], ref[mask])
        assert np.array_equal(z.get_mask_selection(mask), ref[mask])
        if mask.ndim > 1:
            assert np.array_equal(z[mask], ref[mask])
        value = _values((int(mask.sum()),), dtype)
        ref[mask] = value
        z.vindex[mask] = value
        assert np.array_equal(z[...], ref)
        ref[mask] = 9
        z.set_mask_selection(mask, 9)
        assert np.array_equal(z[...], ref)


def test_coordinate_repeated_points_last_write_wins():
    ref = _reference((10, 10), "<i4")
    z = czarr.array(ref, chunks=(3, 3))
    rows, cols = np.array([4, 4, 0, 4, 9]), np.array([5, 5, 0, 5, 9])
    z.vindex[rows, cols] = [1, 2, 3, 4, 5]
    ref[rows, cols] = [1, 2, 3, 4, 5]
    assert np.array_equal(z[...], ref)
    assert z[4, 5] == 4
    # pure fancy indexing through [] is a coordinate selection, as in NumPy
    assert np.array_equal(z[[1, 2, 3], [3, 2, 1]], ref[[1, 2, 3], [3, 2, 1]])
    assert np.array_equal(z[[[1], [2]], 4], ref[[[1], [2]], 4])


@pytest.mark.parametrize("order", ["C", "F"])
def test_points_covering_whole_chunks(order):
    ref = _reference((6, 8), "<f8")
    z = czarr.array(ref, chunks=(3, 4), order=order)
    rows, cols = np.meshgrid(np.arange(3)[::-1], np.arange(4, 8), indexing="ij")
    z.vindex[rows, cols] = -np.arange(12.0).reshape(3, 4)
    ref[rows, cols] = -np.arange(12.0).reshape(3, 4)
    assert np.array_equal(z[...], ref)
    mask = np.zeros((6, 8), dtype=bool)
    mask[3:, :4] = True
    z[mask] = np.arange(12.0)
    ref[mask] = np.arange(12.0)
    assert np.array_equal(z[...], ref)


# ------------------------------------------------------------------------- blocks

@st.composite
def block_case(draw):
    shape, chunks = draw(grid())
    sel = []
    for n, c in zip(shape, chunks):
        nb = -(-n // c)
        if nb and draw(st.booleans()):
            sel.append(draw(st.integers(-nb, nb - 1)))
        else:
            sel.append(slice(draw(st.none() | st.integers(-4, 4)),
                             draw(st.none() | st.integers(-4, 4))))
    return shape, chunks, tuple(sel)


def np_blocks(sel, shape, chunks):
    out = []
    for s, n, c in zip(sel, shape, chunks):
        nb = -(-n // c)
        blocks = np.arange(nb)[s] if isinstance(s, slice) else [s % nb]
        out.append(slice(blocks[0] * c, min((blocks[-1] + 1) * c, n)) if len(blocks)
                   else slice(0, 0))
    return tuple(out)


@settings(max_examples=150, deadline=None)
@given(block_case(), st.sampled_from(DTYPES), st.sampled_from([1, 4]))
def test_blocks_match_numpy(case, dtype, threads):
    shape, chunks, sel = case
    ref = _reference(shape, dtype)
    z = czarr.array(ref, chunks=chunks, compressor=COMPRESSORS[1])
    basic = np_blocks(sel, shape, chunks)
    with czarr.config.set(threads=threads):
        got = z.blocks[sel]
        assert np.array_equal(got, ref[basic]) and got.shape == ref[basic].shape
        assert np.array_equal(z.get_block_selection(sel), ref[basic])
        value = _values(ref[basic].shape, dtype)
        z.blocks[sel] = value
        ref[basic] = value
        assert np.array_equal(z[...], ref)


def test_blocks_edge_and_negative():
    ref = _reference((10, 7), "<i4")
    z = czarr.array(ref, chunks=(4, 3))
    assert np.array_equal(z.blocks[-1], ref[8:])
    assert np.array_equal(z.blocks[1:, 2], ref[4:, 6:])
    assert np.array_equal(z.blocks[...], ref)
    z.set_block_selection((2, 0), 0)
    ref[8:, :3] = 0
    assert np.array_equal(z[...], ref)


# ------------------------------------------------------------------------- fields

@settings(max_examples=80, deadline=None)
@given(orthogonal_case(), st.sampled_from([1, 4]))
def test_fields_orthogonal(case, threads):
    shape, chunks, sel = case
    ref = _reference(shape, STRUCT)
    z = czarr.array(ref, chunks=chunks, compressor=COMPRESSORS[1])
    with czarr.config.set(threads=threads):
        whole = np_oindex_get(ref, sel)
        for f in ("a", "b", "c"):
            got = z.get_orthogonal_selection(sel, fields=f)
            assert np.array_equal(got, whole[f]) and np.shape(got) == np.shape(whole[f])
        got = z.get_orthogonal_selection(sel, fields=["c", "a"])
        assert got.dtype.names == ("c", "a")
        assert np.array_equal(got["a"], whole["a"]) and np.array_equal(got["c"], whole["c"])
        value = (np.arange(int(np.prod(np.shape(whole)))) * 0.5).reshape(np.shape(whole))
        z.set_orthogonal_selection(sel, value, fields="b")
        idx, keep = _ix(sel, shape)
        if idx:
            full = [len(i) for i in idx]
            ref["b"][np.ix_(*idx)] = value.reshape(full)
        else:
            ref["b"][()] = value
        assert np.array_equal(z[...], ref)


def test_fields_every_kind():
    ref = _reference((6, 5), STRUCT)
    z = czarr.array(ref, chunks=(4, 2))
    assert np.array_equal(z["a"], ref["a"])
    assert np.array_equal(z["b", 1:4], ref["b"][1:4])
    assert np.array_equal(z["c", [0, 5], 1], ref["c"][[0, 5], 1])
    assert np.array_equal(z.vindex[[1, 2], [3, 4], "b"], ref["b"][[1, 2], [3, 4]])
    mask = ref["a"] % 2 == 0
    assert np.array_equal(z.get_mask_selection(mask, fields="a"), ref["a"][mask])
    assert np.array_equal(z.blocks[1, "b"], ref["b"][4:])
    assert np.array_equal(z.blocks[1, 0, "b"], ref["b"][4:, :2])
    out = np.zeros((2, 3), dtype=">f8")
    z.get_basic_selection((slice(0, 2), slice(2, 5)), out=out, fields="b")
    assert np.array_equal(out, ref["b"][:2, 2:])
    assert z.get_basic_selection((1, 1), fields="a") == ref["a"][1, 1]
    z["a"] = 3
    ref["a"] = 3
    z.vindex[[0, 5], [0, 4], "c"] = [[1, 2], [3, 4]]
    ref["c"][[0, 5], [0, 4]] = [[1, 2], [3, 4]]
    z.set_mask_selection(mask, -1.5, fields=["b"])
    ref["b"][mask] = -1.5
    assert np.array_equal(z[...], ref)


# ------------------------------------------------------------------------- errors

@pytest.fixture
def z2():
    return czarr.array(_reference((10, 8), "<i4"), chunks=(3, 3))


@pytest.mark.parametrize(
    "sel, exc, words",
    [
        (([0, 10], slice(None)), IndexError, "index 10 is out of bounds for axis 0 with size 10"),
        ((slice(None), [-9]), IndexError, "index -9 is out of bounds for axis 1 with size 8"),
        ((np.ones(9, dtype=bool),), IndexError, "boolean index did not match"),
        ((np.array([0.5, 1.0]),), TypeError, "integer or boolean type"),
        ((1.5,), TypeError, "orthogonal selections take integers"),
        ((np.zeros((2, 2), dtype=int),), IndexError, "1-D index arrays"),
        ((None, [1]), IndexError, "newaxis"),
        (([1], [2], [3]), IndexError, "too many indices"),
    ],
)
def test_orthogonal_errors(z2, sel, exc, words):
    with pytest.raises(exc, match=words):
        z2.oindex[sel]
    with pytest.raises(exc, match=words):
        z2.set_orthogonal_selection(sel, 0)


@pytest.mark.parametrize(
    "sel, exc, words",
    [
        (([0, 1],), IndexError, "one integer array per dimension"),
        (([0, 1], [1, 2, 3]), IndexError, "could not be broadcast together"),
        (([0, 1], slice(None)), IndexError, "take integers and integer arrays"),
        (([0, 10], [1, 2]), IndexError, "index 10 is out of bounds for axis 0"),
        (([0.0], [1]), TypeError, "integer or boolean type"),
        ((np.ones((10, 7), dtype=bool),), IndexError, "mask has shape"),
        ((np.ones((10,), dtype=bool), [1] * 10), IndexError, "boolean array on axis 0"),
    ],
)
def test_coordinate_and_mask_errors(z2, sel, exc, words):
    with pytest.raises(exc, match=words):
        z2.vindex[sel if len(sel) > 1 else sel[0]]
    with pytest.raises(exc, match=words):
        z2.vindex[sel if len(sel) > 1 else sel[0]] = 0


def test_block_field_and_out_errors(z2):
    with pytest.raises(IndexError, match="block index 4 is out of bounds for axis 0 with 4"):
        z2.blocks[4]
    with pytest.raises(IndexError, match="step 1"):
        z2.blocks[::2]
    with pytest.raises(TypeError, match="block selections take integers"):
        z2.blocks[[0, 1]]
    with pytest.raises(IndexError, match="has no fields"):
        z2["a"]
    with pytest.raises(IndexError, match="newaxis"):
        z2[None, 1]
    with pytest.raises(TypeError, match="basic selections take"):
        z2[1.0]
    with pytest.raises(ValueError, match="out has shape"):
        z2.get_orthogonal_selection(([1, 2], 0), out=np.empty(3, dtype="<i4"))
    zs = czarr.array(_reference((4,), STRUCT), chunks=(2,))
    with pytest.raises(IndexError, match="no field 'z'"):
        zs.get_orthogonal_selection([0], fields="z")
    with pytest.raises(IndexError, match="single field"):
        zs.set_orthogonal_selection([0], 1, fields=["a", "b"])
    ro = czarr.array(_reference((4,), "<i4"), chunks=(2,))
    ro.read_only = True
    with pytest.raises(czarr.errors.ReadOnlyError):
        ro.oindex[[0]] = 1


def test_projection_interface():
    from czarr._core.fancy import CoordinateProjection, OrthogonalProjection

    p = OrthogonalProjection((np.array([7, 1, 1], dtype=np.int64), slice(0, 5, 2)), (9, 5),
                             (4, 3))
    assert p.out_shape == (3, 3) and p.nchunks == 4
    assert p.chunk_keys("x/", ".") == ["x/0.0", "x/0.1", "x/1.0", "x/1.1"]
    assert p.chunk_item_range(0, "C") == (3, 6)
    assert p.out_contiguous_region(0, np.empty((3, 3))) is None
    chunk = np.arange(12.0).reshape(4, 3)
    out = np.zeros((3, 3))
    p.copy_from_chunk(0, chunk, out)
    assert np.array_equal(out[1:, :2], [[3, 5], [3, 5]])
    with pytest.raises(ValueError, match="chunk buffer has shape"):
        p.copy_from_chunk(0, np.zeros((3, 3)), out)
    with pytest.raises(IndexError, match="out of range"):
        p.chunk_is_covered(4)
    with pytest.raises(IndexError, match="out of bounds"):
        OrthogonalProjection((np.array([9], dtype=np.int64),), (9,), (4,))
    c = CoordinateProjection((np.array([8, 0, 8], dtype=np.int64),), (9,), (4,), (3,))
    assert c.nchunks == 2 and c.chunk_keys("", ".") == ["0", "2"]
    assert c.chunk_item_range(1, "C") == (0, 1) and c.chunk_is_edge(1)
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        CoordinateProjection((np.array([-1], dtype=np.int64),), (9,), (4,), (1,))


def test_object_arrays_take_the_numpy_fallback():
    ref = np.array([f"s{i}" for i in range(30)], dtype=object).reshape(6, 5)
    z = czarr.array(ref, chunks=(4, 2), dtype=str)
    assert np.array_equal(z.oindex[[5, 0, 0], [4, 1]], ref[np.ix_([5, 0, 0], [4, 1])])
    assert np.array_equal(z.vindex[[5, 0, 0], [4, 1, 1]], ref[[5, 0, 0], [4, 1, 1]])
    mask = np.zeros((6, 5), dtype=bool)
    mask[::2, 1::2] = True
    assert np.array_equal(z[mask], ref[mask])
    value = np.array([["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]], dtype=object)
    z.oindex[[3, 2, 1, 0], [1, 0]] = value
    ref[np.ix_([3, 2, 1, 0], [1, 0])] = value
    z.vindex[[1, 1, 5], [4, 4, 0]] = ["x", "y", "z"]
    ref[[1, 1, 5], [4, 4, 0]] = ["x", "y", "z"]
    assert np.array_equal(z[...], ref)


@pytest.mark.parametrize("threads", [1, 4])
def test_missing_chunks_read_as_fill_value(threads):
    z = czarr.full((9, 7), fill_value=-2.5, chunks=(4, 3), dtype="<f8")
    ref = np.full((9, 7), -2.5)
    with czarr.config.set(threads=threads):
        assert np.array_equal(z.oindex[[8, 0, 4], [6, 1]], ref[np.ix_([8, 0, 4], [6, 1])])
        assert np.array_equal(z.vindex[[8, 0], [6, 1]], ref[[8, 0], [6, 1]])
        z.oindex[[5, 1], 2:6:3] = [[1, 2], [3, 4]]
        ref[np.ix_([5, 1], [2, 5])] = [[1, 2], [3, 4]]
        z.vindex[[8, 8], [0, 6]] = 9
        ref[[8, 8], [0, 6]] = 9
        assert np.array_equal(z[...], ref)
        assert np.array_equal(z.oindex[[8, 0, 5], :], ref[[8, 0, 5]])
        assert z.nchunks_initialized == 6
