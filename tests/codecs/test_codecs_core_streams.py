"""zstd frames written without a content size (streaming writers), multi-frame input,
and LZ4/zlib framing details."""

from __future__ import annotations

import ctypes
import ctypes.util
import struct
import zlib as pyzlib

import numpy as np
import pytest
from codec_testdata import sample

import czarr.codecs as cc
from czarr._core import lz4, zlib, zstd
from czarr.errors import CodecError

_libzstd = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
_libzstd.ZSTD_createCCtx.restype = ctypes.c_void_p
_libzstd.ZSTD_compress2.restype = ctypes.c_size_t
_libzstd.ZSTD_compress2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.c_char_p, ctypes.c_size_t]
_libzstd.ZSTD_CCtx_setParameter.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_libzstd.ZSTD_freeCCtx.argtypes = [ctypes.c_void_p]
ZSTD_c_contentSizeFlag = 200


def zstd_without_content_size(data: bytes) -> bytes:
    cctx = _libzstd.ZSTD_createCCtx()
    try:
        _libzstd.ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)
        dst = ctypes.create_string_buffer(len(data) + 1024)
        n = _libzstd.ZSTD_compress2(cctx, dst, len(dst), data, len(data))
        assert n < len(dst)
        return dst.raw[:n]
    finally:
        _libzstd.ZSTD_freeCCtx(cctx)


@pytest.mark.parametrize("size", [0, 1, 1000, 300_000, 3_000_000])
def test_zstd_frames_without_content_size(size):
    data = sample("f8", size // 8 + 1).tobytes()[:size]
    frame = zstd_without_content_size(data)
    assert frame[4] & 0xC0 == 0 and not frame[4] & 0x20     # no content size recorded
    assert zstd.decompress(frame) == data
    out = bytearray(size)
    assert zstd.decompress(frame, out) is out and out == data
    assert cc.Zstd().decode(frame) == data
    with pytest.raises(CodecError):
        zstd.decompress(frame, bytearray(size + 1))
    if size:
        with pytest.raises(CodecError):
            zstd.decompress(frame, bytearray(size - 1))
        with pytest.raises(CodecError):
            zstd.decompress(frame[:-1])


def test_zstd_concatenated_frames():
    a, b = b"first" * 1000, b"second" * 1000
    both = zstd.compress(a) + zstd_without_content_size(b)
    assert zstd.decompress(both) == a + b
    both = zstd.compress(a) + zstd.compress(b, 5)
    assert zstd.decompress(both) == a + b
    assert zstd.decompress(both, bytearray(len(a + b))) == a + b


def test_zstd_checksum_is_verified():
    enc = bytearray(zstd.compress(b"payload" * 100, 3, True))
    enc[-1] ^= 0xFF
    with pytest.raises(CodecError):
        zstd.decompress(enc)


def test_zstd_hostile_content_size_is_refused_without_allocating():
    frame = bytearray(zstd.compress(b"x" * 100))
    # single-segment frame with an 8-byte content size field claiming 2**60 bytes
    hostile = bytes(frame[:4]) + bytes([0xE0]) + struct.pack("<Q", 2**60) + bytes(frame[6:])
    with pytest.raises(CodecError):
        zstd.decompress(hostile)


def _peak_traced(call) -> int:
    """Peak bytes allocated by Python's allocators (PyBytes included) during ``call``."""
    import tracemalloc

    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("claim", [0x7E000000, 10**6, 256 * 1 + 64 + 1])
def test_lz4_hostile_size_header_is_refused_without_allocating(claim):
    """Was: 5 bytes of input asked for about 2 GiB. An LZ4 block expands at most about
    255-fold, so a larger claim is refused before allocating anything for it."""
    hostile = struct.pack("<I", claim) + b"\x00"

    def decode():
        with pytest.raises(CodecError, match="invalid or truncated LZ4"):
            lz4.decompress(hostile)

    assert _peak_traced(decode) < 64 * 1024


def test_lz4_largest_real_ratios_still_decode():
    for n in (0, 1, 1000, 10**6, 3 * 10**7):
        assert lz4.decompress(lz4.compress(bytes(n))) == bytes(n)


def test_lz4_header_and_framing():
    data = b"abc" * 1000
    enc = lz4.compress(data)
    assert struct.unpack("<I", enc[:4])[0] == len(data)
    with pytest.raises(CodecError):
        lz4.decompress(enc[:3])
    with pytest.raises(CodecError):
        lz4.decompress(struct.pack("<I", len(data) + 1) + enc[4:])
    with pytest.raises(CodecError):
        lz4.decompress(struct.pack("<I", 0xFFFFFFFF) + enc[4:])


def test_zlib_matches_python_and_refuses_trailing_output():
    data = sample("i2", 50_000).tobytes()
    for level in range(-1, 10):
        assert zlib.compress(data, level) == pyzlib.compress(data, level)
    enc = zlib.compress(data)
    with pytest.raises(CodecError):
        zlib.decompress(enc, bytearray(len(data) - 1))
    with pytest.raises(CodecError):
        zlib.decompress(enc, bytearray(len(data) + 1))
    with pytest.raises(CodecError):
        zlib.decompress(enc[:-5])
    with pytest.raises(CodecError):
        zlib.decompress(enc[:-5], bytearray(len(data)))
    assert zlib.decompress(enc) == data


def test_large_ratio_zlib_grows_buffer():
    data = np.zeros(20_000_000, "u1").tobytes()
    enc = zlib.compress(data, 9)
    assert len(enc) < 50_000
    assert zlib.decompress(enc) == data
