"""Blosc frames walked block by block (``czarr._core.blosc_blocks``). Decoding, as the
compiled read loop does: any byte range of any frame c-blosc writes gives exactly the bytes
of c-blosc's whole decode, and a damaged frame is refused as c-blosc refuses it. Encoding
from a strided array: c-blosc's frame of its contiguous copy, byte for byte."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from czarr._core import blosc, blosc_blocks
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
# the compressors this c-blosc was built with (the bundled one has no snappy)
FRAMES = [f for f in FRAMES if f[0] in blosc.COMPRESSORS]


@pytest.mark.parametrize("cname,clevel,shuffle,typesize,blocksize,nbytes", FRAMES)
def test_ranges_match_whole_decode(cname, clevel, shuffle, typesize, blocksize, nbytes):
    raw = _payload(nbytes)
    frame = blosc.compress(raw, cname, clevel, shuffle, typesize, blocksize)
    assert blosc.decompress(frame) == raw
    _, _, bs = blosc.cbuffer_sizes(frame)
    for few in (False, True):
        for a, b in _ranges(nbytes, bs, typesize, seed=nbytes):
            assert blosc_blocks.decode_range(frame, a, b, few) == raw[a:b], (a, b, few)


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
    assert blosc_blocks.decode_range(frame, 1234, 23_456) == raw[1234:23_456]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["lz4", "zstd", "zlib"]), st.sampled_from([0, 1]),
       st.integers(1, 20), st.integers(0, 3), st.integers(1, 12_000), st.data())
def test_any_range_of_any_frame(cname, shuffle, typesize, bs_kind, nbytes, data):
    blocksize = (0, 128, 700, 4096)[bs_kind]
    raw = _payload(nbytes, seed=nbytes)
    frame = blosc.compress(raw, cname, 5, shuffle, typesize, blocksize)
    a = data.draw(st.integers(0, nbytes))
    b = data.draw(st.integers(a, nbytes))
    assert blosc_blocks.decode_range(frame, a, b) == raw[a:b]


def test_range_outside_the_frame_is_refused():
    frame = blosc.compress(_payload(1000), "lz4", 5, 1, 8)
    for a, b in [(-1, 10), (0, 1001), (10, 5)]:
        with pytest.raises(CodecError, match="outside"):
            blosc_blocks.decode_range(frame, a, b)
    with pytest.raises(CodecError):
        blosc_blocks.decode_range(b"\x02\x01", 0, 0)


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
                    blosc_blocks.decode_range(bad, 0, len(raw))
            else:
                assert blosc_blocks.decode_range(bad, 0, len(raw)) == expected


# ------------------------------------------------------------ encoding from strided views

def _contiguous(view: np.ndarray, order: str) -> np.ndarray:
    return np.ascontiguousarray(view) if order == "C" else np.asfortranarray(view)


def _views(dtype: str):
    shape = (6, 200, 90) if np.dtype(dtype).itemsize <= 16 else (6, 40, 30)
    base = np.frombuffer(_payload(int(np.prod(shape)) * np.dtype(dtype).itemsize, seed=3),
                         dtype=dtype).reshape(shape)
    return [base, base[1], base[2, :, :24], base[:, ::3, 1::2], base[::-1, :, ::-1],
            base[3].T, base[:, 5], np.broadcast_to(base[0, 0, :7], (50, 7))]


@pytest.mark.parametrize("dtype", ["<f8", "<i4", ">i2", "u1", "c16", "V3", "V24", "V300"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_strided_frames_are_c_blosc_frames(dtype, order):
    for view in _views(dtype):
        for clevel, shuffle, blocksize in [(5, 1, 0), (1, 0, 0), (9, 1, 1000), (3, 1, 333),
                                           (0, 1, 0), (5, 1, 64)]:
            got = blosc_blocks.compress_strided(view, "lz4", clevel, shuffle, blocksize, order)
            want = blosc.compress(_contiguous(view, order), "lz4", clevel, shuffle,
                                  view.dtype.itemsize, blocksize)
            assert got == want, (view.shape, view.strides, clevel, shuffle, blocksize)


def test_strided_frames_of_incompressible_and_tiny_data():
    rng = np.random.default_rng(5)
    noisy = rng.integers(0, 256, (300, 400), dtype=np.uint8).view("<u4")
    noisy[:40] = 0  # the first blocks compress, later ones do not fit
    for view in [noisy, noisy[:, ::2], noisy[::7, :3], noisy[:3, :5], noisy[:0]]:
        for shuffle in (0, 1):
            got = blosc_blocks.compress_strided(view, "lz4", 5, shuffle, 4096)
            assert got == blosc.compress(np.ascontiguousarray(view), "lz4", 5, shuffle, 4,
                                         4096)
            assert blosc.decompress(got) == np.ascontiguousarray(view).tobytes()


def test_strided_settings_left_to_c_blosc():
    view = np.arange(1000.0)[::2]
    assert blosc_blocks.compress_strided(view, "lz4", 5, 2) is None
    for cname in ("zstd", "blosclz", "lz4hc", "zlib"):
        assert blosc_blocks.compress_strided(view, cname, 5, 1) is None
    with pytest.raises(CodecError):
        blosc_blocks.compress_strided(view, "lz4", 10, 1)
    with pytest.raises(ValueError):
        blosc_blocks.compress_strided(view, "lz4", 5, 1, order="K")
