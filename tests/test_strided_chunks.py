"""Chunks that are strided on the array side. Reads: a chunk that does not land on one
contiguous run of the output is decoded block by block, each run or piece copied while it
is in cache; every frame kind (split lanes, unsplit streams, stored uncompressed,
c-blosc's own), every type size, C and F order, edge chunks and outputs of any layout give
the bytes NumPy gives. Writes: a whole chunk is encoded from its strided part of the
source a block at a time, into the bytes its contiguous copy encodes to."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr
from czarr import config
from czarr._core import blosc

COMPRESSORS = {
    "lz4-shuffle": czarr.Blosc(cname="lz4", clevel=5, shuffle=1, blocksize=4096),
    "lz4-auto-blocks": czarr.Blosc(cname="lz4", clevel=5, shuffle=1),
    "zstd-noshuffle": czarr.Blosc(cname="zstd", clevel=1, shuffle=0, blocksize=3000),
    "zlib-shuffle": czarr.Blosc(cname="zlib", clevel=1, shuffle=1, blocksize=8192),
    "bitshuffle": czarr.Blosc(cname="lz4", clevel=5, shuffle=2, blocksize=4096),
    "blosclz": czarr.Blosc(cname="blosclz", clevel=5, shuffle=1, blocksize=4096),
    "stored": czarr.Blosc(cname="lz4", clevel=0, shuffle=1, blocksize=4096),
    "raw": None,
}

SELECTIONS = [
    Ellipsis,
    (slice(5, 290), slice(3, 250)),           # unaligned region
    (slice(None, None, 3), slice(1, None, 7)),  # steps in both dimensions
    (slice(None, None, -1), slice(200, 10, -3)),
    (17, slice(None)),                        # one row
    (slice(None), 101),                       # one column
    (slice(120, 140), slice(None, None, 2)),
    (299, 256),                               # the last element (edge chunks)
]


def _data(shape, dtype):
    n = int(np.prod(shape))
    return ((np.arange(n) * 37 % 1001) / 7).astype(dtype).reshape(shape)


@pytest.mark.parametrize("comp", list(COMPRESSORS))
@pytest.mark.parametrize("dtype", ["<f8", ">i2", "u1", "c16", "<i4"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_selections_match_numpy(comp, dtype, order):
    ref = _data((300, 257), dtype)
    z = czarr.array(ref, chunks=(128, 100), order=order, compressor=COMPRESSORS[comp])
    for threads in (1, 2):
        with config.set(threads=threads):
            for sel in SELECTIONS:
                assert np.array_equal(z[sel], ref[sel]), (sel, threads)


@pytest.mark.parametrize("comp", ["lz4-shuffle", "bitshuffle", "stored", "raw"])
def test_outputs_of_any_layout(comp):
    ref = _data((300, 257), "f8")
    z = czarr.array(ref, chunks=(128, 100), compressor=COMPRESSORS[comp])
    for sel in SELECTIONS[:4]:
        want = ref[sel]
        for out in (np.empty(want.shape, order="C"), np.empty(want.shape, order="F"),
                    np.empty((want.shape[0], want.shape[1] * 2))[:, ::2],
                    np.empty(want.shape[::-1]).T):
            out[...] = -1
            assert z.get_basic_selection(sel, out=out) is out
            assert np.array_equal(out, want), (sel, out.flags)


@pytest.mark.parametrize("typesize", [1, 3, 4, 16, 24])
@pytest.mark.parametrize("shuffle", [0, 1, 2])
def test_frames_with_another_type_size(typesize, shuffle):
    # a writer may compress with any type size (Blosc only needs the bytes back): the
    # block decoder cuts items of the frame's type size, not of the dtype's
    ref = _data((200, 150), "<f8")
    store = czarr.MemoryStore()
    z = czarr.array(ref, chunks=(64, 64), store=store, compressor=czarr.Blosc())
    for key in [k for k in store if not k.startswith(".")]:
        chunk = z._pipeline.empty_chunk()
        z._pipeline.decode_into(store[key], chunk, key)
        store[key] = blosc.compress(chunk, "lz4", 5, shuffle, typesize, 1000)
        assert blosc.cbuffer_metainfo(store[key])[0] == typesize
    for sel in [Ellipsis, (slice(3, 190, 2), slice(7, 140)), (slice(None), 5), (65, 66)]:
        assert np.array_equal(z[sel], ref[sel]), sel


def test_three_dimensional_pieces():
    # one index of the outer dimension spans more than a piece, so pieces are groups of
    # rows inside it; the inner step makes the runs non-contiguous
    ref = _data((5, 160, 170), "<f8")
    z = czarr.array(ref, chunks=(3, 160, 170), compressor=COMPRESSORS["lz4-shuffle"])
    for sel in [(slice(None), slice(None), slice(None, None, 2)),
                (slice(None, None, 2), slice(3, 150, 5), slice(1, 169)),
                (slice(None), slice(None, None, -1), slice(None, None, -3)),
                (1, slice(None), slice(0, 1))]:
        assert np.array_equal(z[sel], ref[sel]), sel
    out = np.empty((5, 160, 170), order="F")
    z.get_basic_selection(Ellipsis, out=out)
    assert np.array_equal(out, ref)


def test_long_one_dimensional_chunks():
    ref = _data((100_000,), "<i4")
    z = czarr.array(ref, chunks=(60_000,), compressor=COMPRESSORS["lz4-auto-blocks"])
    for sel in [slice(None), slice(None, None, 3), slice(59_990, 60_010),
                slice(None, None, -7), slice(70_000, 10, -5)]:
        assert np.array_equal(z[sel], ref[sel]), sel


def test_wrong_sized_frames_are_refused():
    z = czarr.array(_data((64, 64), "f8"), chunks=(32, 32), store=czarr.MemoryStore(),
                    compressor=czarr.Blosc())
    z.store["0.0"] = blosc.compress(np.zeros(32 * 31), "lz4", 5, 1)
    with pytest.raises(czarr.errors.ChunkDecodeError, match="'0.0'.*chunk's size"):
        z[0:40, 0:3]
    raw = czarr.array(_data((64, 64), "f8"), chunks=(32, 32), compressor=None)
    raw.store["1.1"] = bytes(100)
    with pytest.raises(czarr.errors.ChunkDecodeError, match="'1.1'"):
        raw[40:50, 40:50]


@st.composite
def basic_case(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 40)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 25)) for _ in range(ndim))
    sel = []
    for n in shape:
        if draw(st.booleans()):
            sel.append(slice(draw(st.none() | st.integers(-n, n)),
                             draw(st.none() | st.integers(-n, n)),
                             draw(st.sampled_from([None, 1, 2, 3, -1, -2]))))
        else:
            sel.append(draw(st.integers(-n, n - 1)))
    return shape, chunks, tuple(sel)


@settings(max_examples=150, deadline=None)
@given(basic_case(), st.sampled_from(["<f8", "<i2", "c8", "u1"]),
       st.sampled_from(["C", "F"]), st.sampled_from([0, 1, 2]),
       st.sampled_from(["lz4-shuffle", "zstd-noshuffle", "bitshuffle", "stored", "raw"]),
       st.sampled_from([0, 128, 260]), st.sampled_from([1, 2]))
def test_basic_selections_match_numpy(case, dtype, order, out_kind, comp, blocksize, threads):
    shape, chunks, sel = case
    ref = _data(shape, dtype)
    compressor = COMPRESSORS[comp]
    if compressor is not None:
        compressor = czarr.Blosc(cname=compressor.cname, clevel=compressor.clevel,
                                 shuffle=compressor.shuffle, blocksize=blocksize)
    z = czarr.array(ref, chunks=chunks, order=order, compressor=compressor)
    want = ref[sel]
    with config.set(threads=threads):
        if out_kind == 0 or want.ndim == 0:
            got = z[sel]
        else:
            out = (np.empty(want.shape, dtype, order="F") if out_kind == 1 else
                   np.empty(want.shape + (2,), dtype)[..., 0])
            got = z.get_basic_selection(sel, out=out)
    assert np.array_equal(got, want)


# ------------------------------------------------------------------------------ writes

WRITE_DTYPES = ["<f8", ">i4", "u1", "c16", "?", "M8[s]", "<U3",
                [("a", "<i2"), ("b", ">f8")]]


def _source(shape, dtype):
    ref = np.zeros(shape, dtype=dtype)
    flat = (np.arange(ref.size) * 7919 % 1000).reshape(shape)
    if ref.dtype.names:
        ref["a"], ref["b"] = flat, flat / 8
    elif ref.dtype.kind == "U":
        ref[...] = flat.astype(str)
    elif ref.dtype.kind == "M":
        ref[...] = flat.astype("i8").astype(ref.dtype)
    else:
        ref[...] = flat.astype(ref.dtype)
    return ref


@pytest.mark.parametrize("dtype", WRITE_DTYPES, ids=str)
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("comp", ["lz4-shuffle", "lz4-auto-blocks", "stored", "zstd-noshuffle",
                                  "bitshuffle"])
def test_strided_sources_store_the_bytes_of_contiguous_ones(dtype, order, comp):
    big = _source((130, 300), dtype)
    for value in [big[:, :257], big[::-1, 1:258], big.T[:257, :130].T, big[:, ::-1][:, :257]]:
        contiguous = np.ascontiguousarray(value)
        stores = []
        for src in (value, contiguous):
            z = czarr.zeros((130, 257), chunks=(64, 100), dtype=big.dtype, order=order,
                            compressor=COMPRESSORS[comp], store=czarr.MemoryStore())
            with config.set(threads=2):
                z[...] = src
            stores.append(dict(z.store))
            assert np.array_equal(z[...], contiguous)
        assert stores[0] == stores[1]
        # and an interior chunk holds what the codec (c-blosc) makes of its copy
        first = contiguous[:64, :100].copy(order=order)
        assert stores[0]["0.0"] == z._pipeline.encode(first)


def test_broadcast_and_dropped_axis_writes():
    z = czarr.zeros((6, 200, 90), chunks=(1, 100, 90), dtype="f8",
                    compressor=COMPRESSORS["lz4-shuffle"])
    z[...] = 2.5  # a broadcast scalar: strides 0 everywhere
    assert np.array_equal(z[...], np.full((6, 200, 90), 2.5))
    rows = _source((200, 90), "<f8")
    z[3] = rows[::-1]  # an int drops the chunk's length-1 axis
    z[4, :, :] = rows.T.copy().T
    ref = np.full((6, 200, 90), 2.5)
    ref[3], ref[4] = rows[::-1], rows
    assert np.array_equal(z[...], ref)
    same = czarr.zeros((6, 200, 90), chunks=(1, 100, 90), dtype="f8",
                       compressor=COMPRESSORS["lz4-shuffle"])
    same[...] = ref.copy()
    assert dict(z.store) == dict(same.store)


def test_empty_chunks_still_skipped_from_strided_sources():
    z = czarr.zeros((100, 100), chunks=(50, 50), dtype="i4", write_empty_chunks=False,
                    compressor=COMPRESSORS["lz4-shuffle"], store=czarr.MemoryStore())
    value = np.zeros((100, 200), dtype="i4")[:, ::2]
    value[60:, 60:] = 1
    z[...] = value
    assert sorted(k for k in z.store if not k.startswith(".")) == ["1.1"]
    assert np.array_equal(z[...], value)
