"""The chunk engine's kernels against NumPy: projections, strided copy, fill."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from czarr._core.copy import all_equal, copy_array, fill_array
from czarr.indexing import BasicProjection, normalize_basic_selection


@st.composite
def shapes_chunks_selections(draw, max_dims=4):
    ndim = draw(st.integers(0, max_dims))
    shape = tuple(draw(st.integers(0, 12)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 7)) for _ in range(ndim))
    sel = []
    for n in shape:
        if n > 0 and draw(st.booleans()) and draw(st.booleans()):
            sel.append(draw(st.integers(-n, n - 1)))
        else:
            start = draw(st.none() | st.integers(-15, 15))
            stop = draw(st.none() | st.integers(-15, 15))
            step = draw(st.none() | st.integers(-5, 5).filter(lambda s: s != 0))
            sel.append(slice(start, stop, step))
    return shape, chunks, tuple(sel)


def _read_via_projection(data, chunks, selection, order="C"):
    shape = data.shape
    norm = normalize_basic_selection(selection, shape)
    proj = BasicProjection(norm, shape, chunks)
    out = np.full(proj.out_shape, -1, dtype=data.dtype)
    fill_value = np.array(-7).astype(data.dtype)
    fill = fill_value.tobytes()
    for i in range(proj.nchunks):
        coords = proj.chunk_coords(i)
        region = tuple(slice(c * k, (c + 1) * k) for c, k in zip(coords, chunks))
        piece = data[region]
        chunk = np.full(chunks, -9, dtype=data.dtype, order=order)
        chunk[tuple(slice(0, s) for s in piece.shape)] = piece
        proj.copy_from_chunk(i, chunk, out)
        # the Python fallback describes the same projection
        alt = np.full(proj.out_shape, -1, dtype=data.dtype)
        alt[proj.out_selection(i)] = chunk[proj.chunk_selection(i)]
        assert np.array_equal(alt[proj.out_selection(i)], out[proj.out_selection(i)])
        probe = out.copy()
        proj.fill_out(i, probe, fill)
        assert np.all(probe[proj.out_selection(i)] == fill_value)
    return out


@settings(max_examples=300, deadline=None)
@given(shapes_chunks_selections(), st.sampled_from(["C", "F"]),
       st.sampled_from(["i1", "<i2", ">i4", "f8", "c16", "S3"]))
def test_read_projection_matches_numpy(scs, order, dtype):
    shape, chunks, sel = scs
    data = np.arange(int(np.prod(shape)), dtype="i8").reshape(shape).astype(dtype)
    out = _read_via_projection(data, chunks, sel, order)
    expected = data[sel]
    assert out.shape == np.shape(expected)
    assert np.array_equal(out, expected)


@settings(max_examples=300, deadline=None)
@given(shapes_chunks_selections(), st.sampled_from(["C", "F"]), st.booleans())
def test_write_projection_matches_numpy(scs, order, scalar):
    shape, chunks, sel = scs
    data = np.arange(int(np.prod(shape)), dtype="f8").reshape(shape)
    norm = normalize_basic_selection(sel, shape)
    proj = BasicProjection(norm, shape, chunks)
    if scalar:
        value = np.broadcast_to(np.array(-3.5), proj.out_shape)
    else:
        value = np.asarray(-np.arange(int(np.prod(proj.out_shape)), dtype="f8") - 1)
        value = value.reshape(proj.out_shape)
    expected = data.copy()
    expected[sel] = value
    result = data.copy()
    seen = set()
    for i in range(proj.nchunks):
        coords = proj.chunk_coords(i)
        assert coords not in seen
        seen.add(coords)
        region = tuple(slice(c * k, (c + 1) * k) for c, k in zip(coords, chunks))
        chunk = np.zeros(chunks, dtype="f8", order=order)
        valid = tuple(slice(0, s) for s in result[region].shape)
        chunk[valid] = result[region]
        covered = proj.chunk_is_covered(i)
        proj.copy_to_chunk(i, value, chunk)
        if covered:  # a covered chunk is overwritten entirely inside the array
            assert np.array_equal(chunk[valid], expected[region])
        result[region] = chunk[valid]
    assert np.array_equal(result, expected)


def test_keys_and_coords():
    proj = BasicProjection((slice(None), 3), (10, 10), (4, 4))
    assert proj.nchunks == 3
    assert proj.out_shape == (10,)
    assert proj.chunk_keys("a/b/", ".") == ["a/b/0.0", "a/b/1.0", "a/b/2.0"]
    assert proj.chunk_keys("", "/") == ["0/0", "1/0", "2/0"]
    assert proj.chunk_is_edge(2) and not proj.chunk_is_edge(0)
    zero_d = BasicProjection((), (), ())
    assert zero_d.nchunks == 1 and zero_d.chunk_keys("x/", ".") == ["x/0"]


def test_huge_array_projection_is_cheap():
    shape = (100_000_000, 100_000_000)
    proj = BasicProjection((slice(0, 5), slice(99_999_990, None, 3)), shape, (10_000, 10_000))
    assert proj.nchunks == 1
    assert proj.chunk_coords(0) == (0, 9_999)
    # a stride larger than a chunk touches only the chunks it lands in
    proj = BasicProjection((0, slice(None, None, 25_000)), shape, (10_000, 10_000))
    assert proj.nchunks == 4000 and proj.out_shape == (4000,)


def test_contiguous_region():
    proj = BasicProjection((slice(None), slice(None)), (8, 6), (2, 6))
    out = np.empty((8, 6))
    assert [proj.out_contiguous_region(i, out) for i in range(proj.nchunks)] == [
        (0, 12), (12, 24), (24, 36), (36, 48)]
    proj = BasicProjection((slice(None), slice(None)), (8, 6), (2, 3))
    assert proj.out_contiguous_region(0, np.empty((8, 6))) is None
    proj = BasicProjection((slice(2, 4), slice(None)), (8, 6), (2, 6))
    assert proj.out_contiguous_region(0, np.empty((2, 6))) == (0, 12)


def test_shape_checks_before_copy():
    proj = BasicProjection((slice(None),), (10,), (4,))
    with pytest.raises(ValueError, match="chunk buffer has shape"):
        proj.copy_from_chunk(0, np.zeros(3), np.zeros(10))
    with pytest.raises(ValueError, match="output has shape"):
        proj.copy_from_chunk(0, np.zeros(4), np.zeros(9))
    with pytest.raises(ValueError, match="item sizes differ"):
        proj.copy_from_chunk(0, np.zeros(4, "f4"), np.zeros(10, "f8"))
    with pytest.raises(IndexError):
        proj.copy_from_chunk(3, np.zeros(4), np.zeros(10))
    ro = np.zeros(10)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        proj.copy_from_chunk(0, np.zeros(4), ro)


@given(st.integers(0, 40), st.sampled_from(["u1", "i2", "f4", "f8", "S5", "c16"]))
def test_fill_and_all_equal(n, dtype):
    value = np.array(b"xy" if dtype == "S5" else 3, dtype=dtype)
    arr = np.zeros((n, 3), dtype=dtype)[:, ::2]
    fill_array(arr, value.tobytes())
    assert (arr == value).all()
    full = np.full(n * 2, value, dtype=dtype)
    assert all_equal(full.view("u1"), value.tobytes())
    if n:
        full[-1] = np.zeros((), dtype)
        assert not all_equal(full.view("u1"), value.tobytes())


def test_copy_array_strided():
    src = np.arange(60, dtype="i4").reshape(3, 4, 5)
    dst = np.zeros((5, 4, 3), dtype="i4")
    copy_array(dst, src.T[::-1])
    assert np.array_equal(dst, src.T[::-1])
    with pytest.raises(ValueError):
        copy_array(np.zeros(3), np.zeros(4))


def test_normalize_errors():
    with pytest.raises(IndexError, match="too many indices"):
        normalize_basic_selection((0, 0, 0), (2, 2))
    with pytest.raises(IndexError, match="out of bounds"):
        normalize_basic_selection((5,), (2,))
    with pytest.raises(IndexError, match="single Ellipsis"):
        normalize_basic_selection((..., ...), (2,))
    with pytest.raises(ValueError, match="step cannot be zero"):
        normalize_basic_selection(slice(None, None, 0), (2,))
    with pytest.raises(TypeError, match="unsupported selection"):
        normalize_basic_selection("a", (2,))
    assert normalize_basic_selection((..., -1), (3, 4)) == (slice(None), 3)


@pytest.mark.parametrize("kind", ["basic", "orthogonal", "coordinate"])
def test_every_exported_projection_refuses_object_arrays(kind):
    """Object arrays hold references: copying them as raw bytes skips the reference
    counts (a segfault once the copies are freed). Every projection refuses them in
    copy_from_chunk, copy_to_chunk and fill_out; the engine uses NumPy for them."""
    from czarr._core.fancy import CoordinateProjection, OrthogonalProjection

    shape, chunks = (4, 4), (2, 2)
    if kind == "basic":
        proj = BasicProjection((slice(None), slice(None)), shape, chunks)
        out = np.empty((4, 4), dtype=object)
    elif kind == "orthogonal":
        proj = OrthogonalProjection((np.array([0, 1], dtype=np.int64), slice(None)),
                                    shape, chunks)
        out = np.empty((2, 4), dtype=object)
    else:
        proj = CoordinateProjection((np.array([0, 1], dtype=np.int64),
                                     np.array([0, 1], dtype=np.int64)), shape, chunks, (2,))
        out = np.empty(2, dtype=object)
    chunk = np.empty(chunks, dtype=object)
    chunk[...] = "x" * 100
    out[...] = None
    with pytest.raises(TypeError, match="object arrays"):
        proj.copy_from_chunk(0, chunk, out)
    with pytest.raises(TypeError, match="object arrays"):
        proj.copy_to_chunk(0, out, chunk)
    with pytest.raises(TypeError, match="object arrays"):
        proj.fill_out(0, out, bytes(out.itemsize))
    assert all(v is None for v in out.ravel()) and all(v == "x" * 100 for v in chunk.ravel())
