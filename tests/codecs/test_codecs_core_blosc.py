"""czarr._core.blosc beyond the codec class: header sizes, partial decompression with
getitem, header validation before decompressing, and many threads at once."""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor

import numcodecs
import numpy as np
import pytest
from codec_testdata import sample

from czarr._core import blosc, lz4, zlib, zstd
from czarr.errors import CodecError


def _frame(cname="lz4", clevel=5, shuffle=1, n=10_000, dtype="f8", blocksize=0):
    data = sample(dtype, n)
    return data, blosc.compress(data, cname, clevel, shuffle, None, blocksize)


def test_cbuffer_sizes_match_numcodecs():
    for cname in ("lz4", "zstd", "blosclz"):
        data, enc = _frame(cname, blocksize=4096)
        nbytes, cbytes, blocksize = blosc.cbuffer_sizes(enc)
        assert (nbytes, cbytes, blocksize) == numcodecs.blosc._cbuffer_sizes(enc)
        assert nbytes == data.nbytes and cbytes == len(enc) and blocksize >= 4096


@pytest.mark.parametrize("cname,clevel", [("lz4", 5), ("zstd", 3), ("blosclz", 9),
                                          ("zlib", 1), ("lz4", 0)])
@pytest.mark.parametrize("shuffle", [0, 1, 2])
def test_getitem_matches_slices(cname, clevel, shuffle):
    data, enc = _frame(cname, clevel, shuffle, n=50_000, blocksize=8192)
    for start, nitems in [(0, 1), (0, 50_000), (1023, 2), (1000, 3000), (49_999, 1),
                          (12_345, 0), (50_000, 0)]:
        got = blosc.getitem(enc, start, nitems)
        assert got == data[start:start + nitems].tobytes()
        out = np.empty(nitems, "f8")
        assert blosc.getitem(enc, start, nitems, out) is out
        assert np.array_equal(out, data[start:start + nitems])


def test_getitem_refuses_bad_ranges_and_sizes():
    data, enc = _frame(n=1000)
    for start, nitems in [(-1, 1), (0, -1), (0, 1001), (1000, 1), (999, 2), (2**40, 1)]:
        with pytest.raises(CodecError):
            blosc.getitem(enc, start, nitems)
    with pytest.raises(CodecError):
        blosc.getitem(enc, 0, 10, np.empty(9))
    with pytest.raises(CodecError):
        blosc.getitem(enc, 0, 10, np.empty(11))


def test_decompress_into_dest_and_size_checks():
    data, enc = _frame(n=1000)
    out = np.empty(1000)
    assert blosc.decompress(enc, out) is out and np.array_equal(out, data)
    for wrong in (np.empty(999), np.empty(1001), bytearray(0)):
        with pytest.raises(CodecError, match="destination"):
            blosc.decompress(enc, wrong)


def test_header_claiming_more_than_dest_is_refused_before_decompressing():
    data, enc = _frame(n=1000)
    hostile = bytearray(enc)
    struct.pack_into("<i", hostile, 4, 2 * data.nbytes)   # nbytes
    sentinel = np.full(1000, 7.0)
    with pytest.raises(CodecError):
        blosc.decompress(hostile, sentinel)
    assert (sentinel == 7.0).all()


def test_cbytes_larger_than_buffer_is_refused():
    data, enc = _frame(n=1000)
    with pytest.raises(CodecError, match="more compressed bytes"):
        blosc.decompress(enc[:-1])
    hostile = bytearray(enc)
    struct.pack_into("<i", hostile, 12, len(enc) + 1)
    with pytest.raises(CodecError, match="more compressed bytes"):
        blosc.decompress(hostile)
    with pytest.raises(CodecError):
        blosc.cbuffer_sizes(hostile)
    with pytest.raises(CodecError):
        blosc.getitem(hostile, 0, 1)
    # trailing bytes after the frame are ignored, as by c-blosc and numcodecs
    assert blosc.decompress(enc + b"junk") == data.tobytes()


@pytest.mark.parametrize("offset,value", [(0, 3), (0, 1), (1, 9), (2, 0x08 | 0x21),
                                          (2, 0xE1), (3, 0)])
def test_bad_header_bytes_are_refused(offset, value):
    data, enc = _frame(n=1000)
    hostile = bytearray(enc)
    hostile[offset] = value
    with pytest.raises(CodecError):
        blosc.decompress(hostile)


@pytest.mark.parametrize("field,value", [(4, -1), (8, 0), (8, -5), (8, 2**31 - 1),
                                         (12, 15), (12, -1), (4, 2**31 - 1)])
def test_bad_header_fields_are_refused(field, value):
    data, enc = _frame(n=1000)
    hostile = bytearray(enc)
    struct.pack_into("<i", hostile, field, value)
    with pytest.raises(CodecError):
        blosc.decompress(hostile)
    with pytest.raises(CodecError):
        blosc.getitem(hostile, 0, 1)


def test_short_input():
    for src in (b"", b"\x02", b"\x02\x01\x21\x08" + b"\x00" * 11):
        with pytest.raises(CodecError, match="16-byte"):
            blosc.decompress(src)


def test_internal_threads(monkeypatch):
    """With internal threads, c-blosc stores blocks in the order they finish (valid but
    not deterministic, in numcodecs too); one thread gives numcodecs' single-threaded
    bytes."""
    monkeypatch.setattr(numcodecs.blosc, "use_threads", False)
    data = sample("f8", 500_000)
    one = blosc.compress(data, "lz4", 5, 1, None, 0, 1)
    assert one == numcodecs.Blosc(shuffle=1).encode(data)
    two = blosc.compress(data, "lz4", 5, 1, None, 0, 2)
    assert blosc.decompress(two) == data.tobytes()
    assert blosc.decompress(one, numinternalthreads=2) == data.tobytes()


def test_many_threads_at_once():
    """Contexts are per call: concurrent (de)compression with different settings."""
    inputs = [sample(dt, 20_000, seed=i) for i, dt in enumerate(["f8", "i4", "u2", "f4"] * 4)]
    settings = [("lz4", 5, 1), ("zstd", 3, 2), ("blosclz", 9, 0), ("zlib", 1, 1)] * 4
    expected = [blosc.compress(d, *s) for d, s in zip(inputs, settings)]

    def work(i):
        for _ in range(10):
            enc = blosc.compress(inputs[i], *settings[i])
            assert enc == expected[i]
            out = np.empty_like(inputs[i])
            blosc.decompress(enc, out)
            assert np.array_equal(out, inputs[i])
            part = blosc.getitem(enc, 100, 50)
            assert part == inputs[i][100:150].tobytes()
            assert zstd.decompress(zstd.compress(enc)) == enc
            assert lz4.decompress(lz4.compress(enc)) == enc
            assert zlib.decompress(zlib.compress(enc)) == enc
        return True

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(len(inputs))))


def test_empty_frame():
    enc = blosc.compress(b"")
    assert blosc.cbuffer_sizes(enc)[0] == 0
    assert blosc.decompress(enc) == b""
    assert blosc.decompress(numcodecs.Blosc().encode(b""), bytearray()) == bytearray()
    assert blosc.getitem(enc, 0, 0) == b""


def test_hostile_nbytes_is_refused_without_allocating():
    """A Blosc header's nbytes is a claim too: no inner codec expands more than zstd's
    32768-fold, so a 64-byte frame cannot ask for 2 GiB (it used to be allocated)."""
    import tracemalloc

    frame = bytearray(blosc.compress(bytes(10**6), "lz4", 5, 0, 1, 0)[:64])
    frame[4:8] = struct.pack("<i", 2**31 - 100)     # nbytes
    frame[8:12] = struct.pack("<i", 2**28)          # blocksize: 8 blocks
    frame[12:16] = struct.pack("<i", 64)            # cbytes
    tracemalloc.start()
    try:
        with pytest.raises(CodecError, match="inconsistent Blosc header"):
            blosc.decompress(bytes(frame))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024
    for cname in ("zstd", "zlib", "lz4", "blosclz"):  # the largest real ratios decode
        data = bytes(3 * 10**7)
        assert blosc.decompress(blosc.compress(data, cname, 9, 0, 1, 0)) == data
