"""Blosc frames decoded block by block (``czarr._core.blosc.decode_range``, the decoder of
the compiled read loop): any byte range of any frame c-blosc writes gives exactly the
bytes of c-blosc's whole decode, and a damaged frame is refused as c-blosc refuses it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from czarr._core import blosc
from czarr.errors import CodecError

# flags bits of the Blosc header (byte 2)
SHUFFLED, MEMCPYED, BITSHUFFLED, DONT_SPLIT = 0x1, 0x2, 0x4, 0x10


def _payload(nbytes: int, seed: int = 0) -> bytes:
    """Compressible but not trivial: a slow ramp of float64 with noise in low bytes."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 50, nbytes // 8 + 1).astype("f8")
    raw = bytearray(ramp.tobytes()[:nbytes])
    noise = rng.integers(0, 4, nbytes, dtype=np.uint8)
    for i in range(0, nbytes, 8):
        raw[i] ^= int(noise[i])
    return bytes(raw)


def _ranges(nbytes: int, blocksize: int, typesize: int, seed: int) -> list[tuple[int, int]]:
    """Ranges at and around block and item boundaries, plus random ones."""
    rng = np.random.default_rng(seed)
    edges = {0, nbytes}
    for b in range(0, nbytes, blocksize):
        edges.update(x for x in (b - 1, b, b + 1, b + typesize, b + blocksize - 1)
                     if 0 <= x <= nbytes)
    edges = sorted(edges)
    out = [(0, nbytes), (nbytes, nbytes)]
    out += [(a, b) for a, b in itertools.combinations(edges, 2)][:60]
    for _ in range(40):
        a, b = sorted(int(v) for v in rng.integers(0, nbytes + 1, 2))
        out.append((a, b))
    return out


FRAMES = [
    # cname, clevel, shuffle, typesize, blocksize, nbytes
    ("lz4", 5, 1, 8, 0, 80_000),        # split into 8 lanes per block
    ("lz4", 5, 1, 8, 4096, 80_003),     # leftover block, bytes past the last whole item
    ("lz4", 1, 1, 4, 1000, 30_000),     # blocksize not a power of two
    ("lz4", 9, 1, 3, 999, 20_001),      # odd type size
    ("lz4", 5, 1, 24, 4800, 24_000),    # type size above 16: never split
    ("lz4", 5, 1, 16, 1024, 16_384),    # 64 items per block: too few to split
    ("lz4", 5, 0, 8, 2048, 40_000),     # no shuffle
    ("lz4", 5, 1, 1, 2048, 40_000),     # type size 1: the shuffle flag means nothing
    ("lz4hc", 4, 1, 2, 0, 50_000),
    ("zstd", 3, 1, 8, 0, 80_000),       # zstd: one stream per block
    ("zstd", 1, 0, 4, 3000, 33_333),
    ("zlib", 2, 1, 8, 8192, 65_536),
    ("lz4", 0, 1, 8, 4096, 40_000),     # clevel 0: stored uncompressed
    # frames czarr hands to c-blosc: bit shuffle, blosclz, snappy
    ("lz4", 5, 2, 8, 4096, 40_000),
    ("zstd", 3, 2, 4, 0, 40_000),
    ("blosclz", 5, 1, 8, 4096, 40_000),
    ("snappy", 5, 1, 8, 4096, 40_000),
]


@pytest.mark.parametrize("cname,clevel,shuffle,typesize,blocksize,nbytes", FRAMES)
def test_ranges_match_whole_decode(cname, clevel, shuffle, typesize, blocksize, nbytes):
    if cname not in blosc.COMPRESSORS:
        pytest.skip(f"this c-blosc has no {cname}")
    raw = _payload(nbytes)
    frame = blosc.compress(raw, cname, clevel, shuffle, typesize, blocksize)
    assert blosc.decompress(frame) == raw
    _, _, bs = blosc.cbuffer_sizes(frame)
    for few in (False, True):
        for a, b in _ranges(nbytes, bs, typesize, seed=nbytes):
            assert blosc.decode_range(frame, a, b, few) == raw[a:b], (a, b, few)


def test_frame_kinds_are_covered():
    # the table above reaches every path of the decoder: split lanes, unsplit streams,
    # memcpyed frames, leftover blocks, and c-blosc's own frames
    flags = {}
    for cname, clevel, shuffle, typesize, blocksize, nbytes in FRAMES:
        frame = blosc.compress(_payload(nbytes), cname, clevel, shuffle, typesize, blocksize)
        flags[(cname, clevel, shuffle, typesize, blocksize)] = frame[2]
    assert flags[("lz4", 5, 1, 8, 0)] & (SHUFFLED | DONT_SPLIT) == SHUFFLED
    assert flags[("zstd", 3, 1, 8, 0)] & DONT_SPLIT
    assert flags[("lz4", 0, 1, 8, 4096)] & MEMCPYED
    assert flags[("lz4", 5, 2, 8, 4096)] & BITSHUFFLED


def test_incompressible_data_is_stored_and_read_in_place():
    raw = np.random.default_rng(1).integers(0, 256, 30_000, dtype=np.uint8).tobytes()
    frame = blosc.compress(raw, "lz4", 5, 1, 8, 4096)
    assert frame[2] & MEMCPYED
    assert blosc.decode_range(frame, 1234, 23_456) == raw[1234:23_456]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["lz4", "zstd", "zlib"]), st.sampled_from([0, 1]),
       st.integers(1, 20), st.integers(0, 3), st.integers(1, 12_000), st.data())
def test_any_range_of_any_frame(cname, shuffle, typesize, bs_kind, nbytes, data):
    blocksize = (0, 128, 700, 4096)[bs_kind]
    raw = _payload(nbytes, seed=nbytes)
    frame = blosc.compress(raw, cname, 5, shuffle, typesize, blocksize)
    a = data.draw(st.integers(0, nbytes))
    b = data.draw(st.integers(a, nbytes))
    assert blosc.decode_range(frame, a, b) == raw[a:b]


def test_range_outside_the_frame_is_refused():
    frame = blosc.compress(_payload(1000), "lz4", 5, 1, 8)
    for a, b in [(-1, 10), (0, 1001), (10, 5)]:
        with pytest.raises(CodecError, match="outside"):
            blosc.decode_range(frame, a, b)
    with pytest.raises(CodecError):
        blosc.decode_range(b"\x02\x01", 0, 0)


@pytest.mark.parametrize("cname,shuffle", [("lz4", 1), ("zstd", 1), ("zlib", 0)])
def test_damaged_frames_fail_as_c_blosc_fails(cname, shuffle):
    # every byte of the block starts and the first split sizes, and random bytes, set to
    # values that point outside the frame or into it: the block decoder never reads out of
    # bounds, and refuses exactly the frames c-blosc refuses (same bytes otherwise)
    raw = _payload(20_000)
    frame = blosc.compress(raw, cname, 5, shuffle, 8, 2048)
    rng = np.random.default_rng(7)
    spots = list(range(16, 16 + 4 * 12)) + [int(v) for v in rng.integers(16, len(frame), 80)]
    for pos in spots:
        for value in (0x00, 0x7F, 0xFF):
            bad = bytearray(frame)
            bad[pos] = value
            bad = bytes(bad)
            try:
                expected = blosc.decompress(bad)
            except CodecError:
                with pytest.raises(CodecError):
                    blosc.decode_range(bad, 0, len(raw))
            else:
                assert blosc.decode_range(bad, 0, len(raw)) == expected
