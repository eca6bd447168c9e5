"""Fuzzing every decoder: random bytes and mutated valid frames (flipped, truncated,
extended bytes; Blosc header fields set to arbitrary values) only ever raise an
exception, never crash, hang or read out of bounds; bounded decoding never returns or
allocates more than its bound.

Seeded by ``CZARR_FUZZ_SEED`` (default 13), as tests/fuzz/, so a failure replays.
"""

from __future__ import annotations

import os
import struct
import tracemalloc

import numpy as np
import pytest
from codec_testdata import sample
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import czarr.codecs as cc
from czarr._core import blosc, lz4, zlib, zstd
from czarr.errors import CodecError

CODECS = [cc.Blosc("lz4", 5, 1), cc.Blosc("zstd", 3, 2), cc.Blosc("blosclz", 9, 0),
          cc.Blosc("zlib", 1, 1), cc.Blosc("lz4hc", 4, 1, 256), cc.Blosc("lz4", 0, 1),
          cc.Zstd(), cc.Zstd(3, True), cc.LZ4(), cc.Zlib(), cc.GZip(), cc.BZ2(), cc.LZMA()]
IDS = [repr(c) for c in CODECS]
# errors a hostile frame may legitimately cause; anything else (or a crash) fails
EXPECTED = (CodecError, MemoryError)
FUZZ_SEED = int(os.environ.get("CZARR_FUZZ_SEED", "13"))
FUZZ = settings(max_examples=250, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SEEDED = seed(FUZZ_SEED)

_DATA = sample("f8", 600)
_VALID = {repr(c): c.encode(_DATA) for c in CODECS}


MODES = st.sampled_from(["new", "out", "bounded"])


def _try_decode(codec, buf, mode):
    try:
        if mode == "out":
            out = np.empty(_DATA.shape, _DATA.dtype)
            assert codec.decode(buf, out=out) is out
        elif mode == "bounded":
            assert len(codec.decode_bounded(buf, _DATA.nbytes)) <= _DATA.nbytes
        else:
            codec.decode(buf)
    except EXPECTED:
        pass


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
@FUZZ
@SEEDED
@given(buf=st.binary(max_size=300), mode=MODES)
def test_random_bytes(codec, buf, mode):
    _try_decode(codec, buf, mode)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("extend"), st.integers(1, 64), st.integers(0, 255)),
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 255)),
)


def _mutate(frame: bytes, mutations) -> bytes:
    buf = bytearray(frame)
    for kind, pos, value in mutations:
        if kind == "flip" and buf:
            buf[pos % len(buf)] ^= value
        elif kind == "truncate":
            del buf[pos % (len(buf) + 1):]
        elif kind == "extend":
            buf += bytes([value]) * pos
        elif kind == "set" and buf:
            buf[pos % min(len(buf), 32)] = value   # mostly headers
    return bytes(buf)


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
@FUZZ
@SEEDED
@given(mutations=st.lists(mutation, min_size=1, max_size=4), mode=MODES)
def test_mutated_frames(codec, mutations, mode):
    _try_decode(codec, _mutate(_VALID[repr(codec)], mutations), mode)


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
@settings(FUZZ, max_examples=60)   # encoding the frames is what costs here
@SEEDED
@given(nbytes=st.integers(0, 1 << 18), bound=st.integers(0, 1 << 16))
def test_bounded_decoding_stops_at_the_bound(codec, nbytes, bound):
    """A frame of ``nbytes`` zeros (up to 4096 times the bound) decodes within
    ``bound`` when it fits, and otherwise is refused having allocated little more than
    the bound, not the frame's content."""
    frame = codec.encode(np.zeros(nbytes, np.uint8))
    tracemalloc.start()
    try:
        try:
            decoded = codec.decode_bounded(frame, bound)
        except CodecError:
            assert nbytes > bound
        else:
            assert nbytes <= bound and bytes(decoded) == bytes(nbytes)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # LZMA's decoder keeps its dictionary (8 MiB for the default preset)
    assert peak <= 2 * bound + (9 << 20 if isinstance(codec, cc.LZMA) else 1 << 20), peak


_BLOSC_FRAMES = [blosc.compress(_DATA, c, lv, sh, None, bs)
                 for c, lv, sh, bs in [("lz4", 5, 1, 0), ("blosclz", 5, 2, 1024),
                                       ("zstd", 1, 0, 512), ("lz4", 0, 0, 0)]]
_INT32 = st.one_of(st.integers(-(2**31), 2**31 - 1),
                   st.sampled_from([0, 1, 15, 16, 17, 255, 256, 4800, 4816, 2**31 - 1]))


@FUZZ
@SEEDED
@given(frame=st.sampled_from(_BLOSC_FRAMES),
       header=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
                        st.integers(0, 255)),
       fields=st.tuples(_INT32, _INT32, _INT32),
       which=st.sets(st.integers(0, 6), min_size=1),
       start=st.integers(-5, 700), nitems=st.integers(-5, 700))
def test_blosc_header_fields(frame, header, fields, which, start, nitems):
    """Any combination of header bytes and nbytes/blocksize/cbytes values."""
    buf = bytearray(frame)
    for i in which:
        if i < 4:
            buf[i] = header[i]
        else:
            struct.pack_into("<i", buf, 4 * (i - 3), fields[i - 4])
    for call in (lambda: blosc.decompress(buf), lambda: blosc.cbuffer_sizes(buf),
                 lambda: blosc.decompress(buf, bytearray(len(_DATA.tobytes()))),
                 lambda: blosc.getitem(buf, start, nitems)):
        try:
            call()
        except EXPECTED:
            pass


@FUZZ
@SEEDED
@given(buf=st.binary(max_size=200), size=st.integers(0, 5000))
def test_core_decoders_with_dest(buf, size):
    for module in (blosc, zstd, lz4, zlib):
        dest = bytearray(size + 8)
        view = memoryview(dest)[4:4 + size]
        try:
            module.decompress(buf, view)
        except EXPECTED:
            pass
        assert dest[:4] == b"\0" * 4 and dest[-4:] == b"\0" * 4   # nothing outside
