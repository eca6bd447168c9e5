"""The value and layout filters (Delta, FixedScaleOffset, Quantize, AsType, BitRound,
Categorize, PackBits, Shuffle) against numcodecs: identical configurations and encoded
bytes (and encoded dtype, which a following Blosc shuffles by), each decoding the
other's output, ``out=`` honoured, empty input, and parameters refused with CodecError."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
from codec_testdata import sample
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr.codecs as cc
from czarr._core import filters as core_filters
from czarr.errors import CodecError


def raw(buf) -> bytes:
    """The bytes of an encoded or decoded buffer, in memory order."""
    if isinstance(buf, np.ndarray):
        return buf.tobytes(order="A")
    return bytes(memoryview(buf).cast("B"))


def pair(ours):
    """ours and the numcodecs codec built from its configuration, which must agree."""
    config = ours.get_config()
    theirs = numcodecs.get_codec(dict(config))
    assert theirs.get_config() == config
    assert type(cc.get_codec(dict(config))) is type(ours)
    assert cc.get_codec(dict(config)) == ours
    assert type(ours).from_config(dict(config)) == ours
    return theirs


def check(ours, data, decoded_dtype=None, nc_encodes_empty=True):
    """Encode ``data`` with both, compare, decode each other's output (also into
    ``out``), and return czarr's encoding."""
    theirs = pair(ours)
    data = np.asarray(data)
    mine = ours.encode(data)
    if data.size or nc_encodes_empty:
        ref = theirs.encode(data)
        assert raw(mine) == raw(ref)
        if isinstance(ref, np.ndarray):  # the item size a following Blosc would see
            mine_dtype = mine.dtype if isinstance(mine, np.ndarray) else np.dtype("u1")
            assert mine_dtype == ref.dtype
    else:
        ref = mine
    expected = raw(theirs.decode(ref))
    assert raw(ours.decode(ref)) == expected
    assert raw(theirs.decode(mine)) == expected
    dtype = np.dtype(decoded_dtype) if decoded_dtype is not None else data.dtype
    out = np.empty(len(expected) // dtype.itemsize, dtype=dtype)
    assert ours.decode(mine, out=out) is out
    assert out.tobytes() == expected
    out2 = bytearray(len(expected))
    assert ours.decode(bytes(raw(mine)), out=memoryview(out2)) is not None
    assert bytes(out2) == expected
    with pytest.raises(CodecError):
        ours.decode(mine, out=bytearray(len(expected) + dtype.itemsize))
    return mine


# ---- Delta ----------------------------------------------------------------------------

DELTA = [("i1", None), ("u1", None), ("i2", None), ("u2", "i4"), ("i4", None),
         ("i4", "i8"), ("u4", None), ("i8", None), ("u8", None), ("i8", "i2"),
         ("f4", None), ("f8", None), ("f8", "f4"), (">i4", None), (">f8", "<f8"),
         ("?", None), ("i2", "?")]


@pytest.mark.parametrize("dtype,astype", DELTA)
def test_delta(dtype, astype):
    codec = cc.Delta(dtype=dtype, astype=astype)
    data = sample(dtype, 1000)
    encoded = check(codec, data)
    if astype is None and np.dtype(dtype).kind in "iu":  # float differences round
        assert np.array_equal(codec.decode(encoded), data)


@pytest.mark.parametrize("dtype,astype", DELTA[:5])
def test_delta_empty_and_one(dtype, astype):
    codec = cc.Delta(dtype=dtype, astype=astype)
    # numcodecs cannot encode an empty array (IndexError); its decoder reads ours
    empty = check(codec, np.array([], dtype=dtype), nc_encodes_empty=False)
    assert empty.size == 0
    check(codec, np.array([7], dtype=dtype))


def test_delta_2d_f_order_is_memory_order():
    data = np.asfortranarray(np.arange(60, dtype="i4").reshape(6, 10) ** 2)
    codec = cc.Delta("i4")
    assert raw(codec.encode(data)) == raw(numcodecs.Delta("i4").encode(data))


def test_delta_bytes_input():
    data = sample("i2", 100)
    assert raw(cc.Delta("i2").encode(data.tobytes())) == raw(numcodecs.Delta("i2").encode(data))


# ---- FixedScaleOffset -----------------------------------------------------------------

FSO = [(1000, 10, "f8", "u1"), (1000, 100, "f8", "u2"), (0, 1000, "f4", "i4"),
       (-5.5, 3, "f8", "i2"), (0, 1, "i4", "i2"), (2, 0.5, "i8", None),
       (1.5, 1e3, ">f8", "<i4"), (0.25, 4.0, "f4", "f4")]


@pytest.mark.parametrize("offset,scale,dtype,astype", FSO)
def test_fixedscaleoffset(offset, scale, dtype, astype):
    codec = cc.FixedScaleOffset(offset=offset, scale=scale, dtype=dtype, astype=astype)
    if np.dtype(dtype).kind == "f":
        data = np.linspace(offset, offset + 1.5, 777).astype(dtype)
    else:
        data = sample(dtype, 777)
    check(codec, data)
    check(codec, np.array([], dtype=dtype))


def test_fixedscaleoffset_config_order_and_numbers():
    codec = cc.FixedScaleOffset(offset=np.int64(3), scale=np.float32(2.0), dtype="f8")
    assert list(codec.get_config()) == ["id", "scale", "offset", "dtype", "astype"]
    assert type(codec.offset) is int and type(codec.scale) is float
    with pytest.raises(CodecError):
        cc.FixedScaleOffset(offset="1", scale=1, dtype="f8")
    with pytest.raises(CodecError):
        cc.FixedScaleOffset(offset=0, scale=1, dtype=object)


# ---- Quantize -------------------------------------------------------------------------

@pytest.mark.parametrize("digits,dtype,astype", [
    (digits, dtype, astype) for digits in [0, 1, 2, 3, 5, 8]
    for dtype, astype in [("f8", None), ("f4", None), ("f2", None), ("f8", "f4"),
                          (">f8", "<f8")]
    if dtype != "f2" or digits <= 3])  # float16 overflows past 10**3 steps
def test_quantize(digits, dtype, astype):
    codec = cc.Quantize(digits=digits, dtype=dtype, astype=astype)
    data = (np.linspace(-3, 3, 501) ** 3).astype(dtype)
    check(codec, data, decoded_dtype=dtype)
    check(codec, np.array([], dtype=dtype))


def test_quantize_refuses_non_float():
    with pytest.raises(CodecError):
        cc.Quantize(2, "i4")
    with pytest.raises(CodecError):
        cc.Quantize(2, "f8", astype="i4")
    with pytest.raises(CodecError):
        cc.Quantize(2.5, "f8")


# ---- AsType ---------------------------------------------------------------------------

@pytest.mark.parametrize("encode_dtype,decode_dtype", [
    ("f4", "f8"), ("f8", "f4"), ("i2", "i8"), ("u1", "i4"), ("f2", "f4"), ("i8", "f8"),
    (">i4", "<i4"), ("f8", "i2")])
def test_astype(encode_dtype, decode_dtype):
    codec = cc.AsType(encode_dtype=encode_dtype, decode_dtype=decode_dtype)
    data = (np.abs(sample("f8", 600)) % 100).astype(decode_dtype)
    check(codec, data, decoded_dtype=decode_dtype)
    check(codec, np.array([], dtype=decode_dtype), decoded_dtype=decode_dtype)


# ---- BitRound -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,keepbits", [
    (d, k) for d, top in [("f2", 10), ("f4", 23), ("f8", 52)]
    for k in sorted({0, 1, 3, 7, top // 2, top - 1, top})])
def test_bitround(dtype, keepbits):
    codec = cc.BitRound(keepbits=keepbits)
    data = (np.linspace(-50, 50, 997) ** 3 / 7).astype(dtype)
    data[:4] = [0.0, -0.0, np.inf, np.nan]
    check(codec, data)
    check(codec, np.array([], dtype=dtype))


def test_bitround_big_endian():
    # numcodecs only knows native float names ('float32'); the bits are the same
    data = (np.linspace(-50, 50, 101) ** 3).astype("<f4")
    big = cc.BitRound(7).encode(data.astype(">f4"))
    assert big.dtype == np.dtype(">i4")
    assert raw(big.astype("<i4")) == raw(numcodecs.BitRound(7).encode(data))


def test_bitround_refuses():
    with pytest.raises(CodecError):
        cc.BitRound(-1)
    with pytest.raises(CodecError):
        cc.BitRound(24).encode(np.ones(3, "f4"))
    with pytest.raises(CodecError):
        cc.BitRound(3).encode(np.ones(3, "i4"))


# ---- Categorize -----------------------------------------------------------------------

LABELS = ["female", "male", "other", "unknown"]


@pytest.mark.parametrize("dtype", ["<U7", "<U10", "O"])
@pytest.mark.parametrize("astype", ["u1", "u2", "i4"])
def test_categorize(dtype, astype):
    codec = cc.Categorize(labels=LABELS, dtype=dtype, astype=astype)
    rng = np.random.default_rng(1)
    words = np.array(LABELS + ["", "unexpected"], dtype=object)
    data = words[rng.integers(0, len(words), 300)].astype(dtype)
    theirs = pair(codec)
    mine = codec.encode(data)
    ref = theirs.encode(data)
    assert raw(mine) == raw(ref) and mine.dtype == ref.dtype
    for encoded in (mine, ref):
        for decoder in (codec, theirs):
            back = decoder.decode(encoded)
            assert list(back) == [w if w in LABELS else "" for w in data]
    out = np.empty(data.shape, dtype=dtype)
    assert codec.decode(ref, out=out) is out
    assert list(out) == list(theirs.decode(ref))
    assert codec.encode(np.array([], dtype=dtype)).size == 0


def test_categorize_config_and_refusals():
    codec = cc.Categorize([b"a", "b"], dtype="U1")
    assert codec.labels == ["a", "b"]
    assert codec.get_config() == numcodecs.Categorize([b"a", "b"], dtype="U1").get_config()
    with pytest.raises(CodecError):
        cc.Categorize(["a"], dtype="i4")
    with pytest.raises(CodecError):
        cc.Categorize(["a"], dtype="U1", astype=object)
    with pytest.raises(CodecError):
        cc.Categorize("ab", dtype="U1")


# ---- PackBits -------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 17, 1001])
def test_packbits(n):
    data = (np.arange(n) * 7 % 3) == 0
    encoded = check(cc.PackBits(), data)
    assert encoded[0] == -n % 8
    assert np.array_equal(cc.PackBits().decode(encoded), data)


def test_packbits_refuses_bad_padding():
    with pytest.raises(CodecError):
        cc.PackBits().decode(b"")
    with pytest.raises(CodecError):
        cc.PackBits().decode(b"\x08\xff")
    with pytest.raises(CodecError):
        cc.PackBits().decode(b"\x03")


# ---- Shuffle --------------------------------------------------------------------------

@pytest.mark.parametrize("elementsize", [0, 1, 2, 3, 4, 8, 16, 4097])
@pytest.mark.parametrize("dtype", ["u1", "i2", "f4", "f8", "c16", "M8[s]"])
def test_shuffle(elementsize, dtype):
    data = sample(dtype, 4097 * 48 // np.dtype(dtype).itemsize)  # whole elements
    check(cc.Shuffle(elementsize), data)
    check(cc.Shuffle(elementsize), np.array([], dtype=dtype))


def test_shuffle_layout_and_refusals():
    data = np.array([0x04030201, 0x08070605], dtype="<u4")
    assert cc.Shuffle(4).encode(data) == bytes([1, 5, 2, 6, 3, 7, 4, 8])
    with pytest.raises(CodecError):
        cc.Shuffle(4).encode(b"12345")
    with pytest.raises(CodecError):
        cc.Shuffle(-1)
    with pytest.raises(CodecError):
        core_filters.shuffle(b"1234", 0)
    buf = bytearray(8)
    with pytest.raises(CodecError):  # the kernel refuses to work in place
        core_filters.unshuffle(buf, 4, buf)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=24))
def test_shuffle_random(data, elementsize):
    data = data[:len(data) // elementsize * elementsize]
    encoded = cc.Shuffle(elementsize).encode(data)
    assert encoded == raw(numcodecs.Shuffle(elementsize).encode(data))
    assert cc.Shuffle(elementsize).decode(encoded) == data


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), max_size=100))
def test_packbits_random(bits):
    data = np.array(bits, dtype=bool)
    encoded = cc.PackBits().encode(data)
    assert raw(encoded) == raw(numcodecs.PackBits().encode(data))
    assert np.array_equal(cc.PackBits().decode(encoded), data)


# ---- all of them ----------------------------------------------------------------------

ANY_INPUT = [cc.Delta("i4"), cc.Delta("i2", "i1"), cc.FixedScaleOffset(1, 10, "f8", "i2"),
             cc.Quantize(2, "f4"), cc.AsType("f4", "f8"), cc.BitRound(3),
             cc.Categorize(["a", "b"], "U1"), cc.Categorize(["a"], object),
             cc.PackBits(), cc.Shuffle(4)]


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_input_decodes_or_raises_codec_error(data):
    for codec in ANY_INPUT:
        try:
            codec.decode(data)
        except CodecError:
            pass


def test_registry_ids():
    for codec_id, cls in [("delta", cc.Delta), ("fixedscaleoffset", cc.FixedScaleOffset),
                          ("quantize", cc.Quantize), ("astype", cc.AsType),
                          ("bitround", cc.BitRound), ("categorize", cc.Categorize),
                          ("packbits", cc.PackBits), ("shuffle", cc.Shuffle)]:
        assert cc.codec_registry[codec_id] is cls
        assert cls.codec_id == codec_id


def test_repr_matches_numcodecs():
    for ours in [cc.Delta("i4"), cc.Delta("i4", "i8"), cc.Quantize(2, "f8"),
                 cc.FixedScaleOffset(1, 10, "f8", "u1"), cc.AsType("f4", "f8"),
                 cc.BitRound(4), cc.PackBits(), cc.Shuffle(8),
                 cc.Categorize(["a", "b", "c", "d"], "U1")]:
        assert repr(ours) == repr(numcodecs.get_codec(ours.get_config()))


def test_object_dtypes_refused():
    for make in (lambda: cc.Delta(object), lambda: cc.AsType("f8", object),
                 lambda: cc.Quantize(1, object)):
        with pytest.raises(CodecError):
            make()
