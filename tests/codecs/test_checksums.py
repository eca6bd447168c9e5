"""CRC32, Adler32 and Fletcher32 against numcodecs (identical configurations and bytes,
each decoding the other's output) and against a plain-Python Fletcher-32 written from
HDF5's description; corrupt or truncated input raises CodecError naming both values."""

from __future__ import annotations

import struct
import zlib

import numcodecs
import numpy as np
import pytest
from codec_testdata import sample
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr.codecs as cc
from czarr._core import filters as core_filters
from czarr.errors import CodecError

SIZES = [0, 1, 2, 3, 4, 5, 719, 720, 721, 1441, 100_003]


def raw(buf) -> bytes:
    if isinstance(buf, np.ndarray):
        return buf.tobytes(order="A")
    return bytes(memoryview(buf).cast("B"))


def fletcher32_reference(data: bytes) -> int:
    """HDF5's Fletcher-32, one 16-bit big-endian word at a time, folding every 360."""
    sum1 = sum2 = 0
    words = len(data) // 2
    for start in range(0, words, 360):
        for i in range(start, min(start + 360, words)):
            sum1 += (data[2 * i] << 8) | data[2 * i + 1]
            sum2 += sum1
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    if len(data) % 2:
        sum1 += data[-1] << 8
        sum2 += sum1
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
    sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    return (sum2 << 16) | sum1


CODECS = [
    (cc.CRC32(), numcodecs.CRC32()),
    (cc.CRC32(location="start"), numcodecs.CRC32(location="start")),
    (cc.CRC32(location="end"), numcodecs.CRC32(location="end")),
    (cc.Adler32(), numcodecs.Adler32()),
    (cc.Adler32(location="end"), numcodecs.Adler32(location="end")),
    (cc.Fletcher32(), numcodecs.Fletcher32()),
]
IDS = [repr(ours) for ours, _ in CODECS]


def payload(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8)


@pytest.mark.parametrize("ours,theirs", CODECS, ids=IDS)
def test_config(ours, theirs):
    config = ours.get_config()
    assert config == theirs.get_config()
    assert repr(ours) == repr(theirs)
    assert type(cc.get_codec(dict(config))) is type(ours)
    assert cc.get_codec(dict(config)) == ours
    assert numcodecs.get_codec(dict(config)).get_config() == config


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("ours,theirs", CODECS, ids=IDS)
def test_bytes_identical_both_ways(ours, theirs, n):
    data = payload(n)
    mine = ours.encode(data)
    assert len(mine) == n + 4
    if n == 0 and ours.codec_id == "fletcher32":  # numcodecs fails on empty input
        assert mine == b"\0\0\0\0"
        assert ours.decode(mine) == b""
        return
    ref = theirs.encode(data)
    assert mine == raw(ref)
    assert ours.decode(raw(ref)) == data.tobytes()
    assert raw(theirs.decode(mine)) == data.tobytes()
    out = np.empty(n, dtype=np.uint8)
    assert ours.decode(mine, out=out) is out
    assert out.tobytes() == data.tobytes()


@pytest.mark.parametrize("dtype", ["i2", "f8", "c8", "?", "M8[s]", ">i4"])
@pytest.mark.parametrize("ours,theirs", CODECS, ids=IDS)
def test_typed_arrays_and_out(ours, theirs, dtype):
    data = sample(dtype, 333).reshape(9, 37)
    mine = ours.encode(data)
    assert mine == raw(theirs.encode(data))
    out = np.empty_like(data, order="F")
    ours.decode(mine, out=out.T)  # a C-contiguous view of an F-ordered array
    assert np.array_equal(out.T.reshape(-1), data.reshape(-1))
    target = bytearray(data.nbytes)
    ours.decode(mine, out=memoryview(target))
    assert bytes(target) == data.tobytes()
    with pytest.raises(CodecError):
        ours.decode(mine, out=bytearray(data.nbytes - 1))


def test_layout():
    data = b"hello, checksums"
    assert cc.CRC32().encode(data) == struct.pack("<I", zlib.crc32(data)) + data
    assert cc.CRC32("end").encode(data) == data + struct.pack("<I", zlib.crc32(data))
    assert cc.Adler32().encode(data) == struct.pack("<I", zlib.adler32(data)) + data
    assert cc.Fletcher32().encode(data) == data + struct.pack(
        "<I", fletcher32_reference(data))


@pytest.mark.parametrize("n", SIZES[:-1] + [20_000])
def test_fletcher32_reference(n):
    for data in (payload(n, seed=n).tobytes(), b"\xff" * n):  # 0xff: every fold matters
        assert core_filters.fletcher32(data) == fletcher32_reference(data)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=3000))
def test_fletcher32_random(data):
    assert core_filters.fletcher32(data) == fletcher32_reference(data)
    if data:
        assert cc.Fletcher32().encode(data) == raw(numcodecs.Fletcher32().encode(data))


@pytest.mark.parametrize("ours,theirs", CODECS, ids=IDS)
def test_corruption_detected(ours, theirs):
    data = payload(1000)
    good = ours.encode(data)
    for position in (0, 3, 4, 500, len(good) - 5, len(good) - 1):
        bad = bytearray(good)
        bad[position] ^= 0x10
        with pytest.raises(CodecError, match="stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}"):
            ours.decode(bytes(bad))
    with pytest.raises(ValueError):  # CodecError is a ValueError
        ours.decode(good[:-1])
    with pytest.raises(CodecError):
        ours.decode(good[1:])


@pytest.mark.parametrize("ours,theirs", CODECS, ids=IDS)
def test_truncated(ours, theirs):
    for n in range(4):
        with pytest.raises(CodecError, match="truncated"):
            ours.decode(b"\0" * n)
    assert ours.decode(ours.encode(b"")) == b""


def test_location_refused():
    with pytest.raises(CodecError):
        cc.CRC32(location="middle")
    with pytest.raises(CodecError):
        cc.Adler32(location="")


def test_registry_ids():
    for codec_id, cls in [("crc32", cc.CRC32), ("adler32", cc.Adler32),
                          ("fletcher32", cc.Fletcher32)]:
        assert cc.codec_registry[codec_id] is cls


def test_crc32c_matches_numcodecs_and_the_standard_check_value():
    import os

    import numcodecs.checksum32

    from czarr._core.filters import crc32c_checksum
    from czarr.codecs import CRC32C

    assert crc32c_checksum(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert crc32c_checksum(b"") == 0
    for n in (0, 1, 7, 8, 9, 1000, 65537):
        data = os.urandom(n)
        for loc in (None, "start", "end"):
            ours, theirs = CRC32C(loc), numcodecs.checksum32.CRC32C(loc)
            assert ours.encode(data) == bytes(theirs.encode(data))
            assert ours.get_config() == theirs.get_config()
            assert bytes(ours.decode(theirs.encode(data))) == data
    bad = bytearray(CRC32C().encode(b"abcdef"))
    bad[0] ^= 1
    with pytest.raises(CodecError, match="crc32c checksum mismatch"):
        CRC32C().decode(bytes(bad))
