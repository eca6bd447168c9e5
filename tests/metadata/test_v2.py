"""czarr.metadata.v2 on its own: exact bytes, round trips, validation, normalisation."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st

from czarr.errors import MetadataError
from czarr.metadata.v2 import (
    ArrayMetadata,
    decode_array_metadata,
    decode_attrs,
    decode_dtype,
    decode_fill_value,
    decode_group_metadata,
    encode_array_metadata,
    encode_attrs,
    encode_dtype,
    encode_fill_value,
    encode_group_metadata,
    guess_chunks,
    normalize_chunks,
    normalize_dimension_separator,
    normalize_dtype,
    normalize_fill_value,
    normalize_order,
    normalize_shape,
)

BLOSC = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}

# What zarr-python 2's init_array docstring shows for shape=(10000, 10000),
# chunks=(1000, 1000), plus "dimension_separator", which czarr always writes (zarr-python
# 2 writes it whenever an Array rewrites its metadata, zarr-python 3 always).
ZARR2_DOC = b"""{
    "chunks": [
        1000,
        1000
    ],
    "compressor": {
        "blocksize": 0,
        "clevel": 5,
        "cname": "lz4",
        "id": "blosc",
        "shuffle": 1
    },
    "dimension_separator": ".",
    "dtype": "<f8",
    "fill_value": null,
    "filters": null,
    "order": "C",
    "shape": [
        10000,
        10000
    ],
    "zarr_format": 2
}"""


def _meta(**overrides) -> ArrayMetadata:
    kwargs = dict(shape=(10000, 10000), chunks=(1000, 1000), dtype="<f8", compressor=BLOSC)
    kwargs.update(overrides)
    return ArrayMetadata(**kwargs)


def _doc(**overrides) -> dict:
    doc = json.loads(ZARR2_DOC)
    doc.update(overrides)
    return doc


# exact bytes ---------------------------------------------------------------------------


def test_encode_array_metadata_exact_bytes():
    assert encode_array_metadata(_meta()) == ZARR2_DOC


def test_encode_group_metadata_exact_bytes():
    assert encode_group_metadata() == b'{\n    "zarr_format": 2\n}'


def test_encode_attrs_exact_bytes():
    data = encode_attrs({"b": [1, 2], "a": "\u00e9", "c": {"z": None, "y": 1.5}})
    assert data == (
        b'{\n    "a": "\\u00e9",\n    "b": [\n        1,\n        2\n    ],\n'
        b'    "c": {\n        "y": 1.5,\n        "z": null\n    }\n}'
    )
    assert encode_attrs({}) == b"{}"


def test_encode_attrs_converts_numpy_and_refuses_the_rest():
    data = encode_attrs(
        {"i": np.int16(3), "f": np.float32(0.5), "b": np.bool_(True), "a": np.arange(3)}
    )
    assert json.loads(data) == {"i": 3, "f": 0.5, "b": True, "a": [0, 1, 2]}
    with pytest.raises(TypeError, match="bytes"):
        encode_attrs({"x": b"raw"})
    with pytest.raises(TypeError, match="complex"):
        encode_attrs({"x": 1j})
    with pytest.raises(TypeError, match="int"):
        encode_attrs({1: "non-str key"})


# round trips ---------------------------------------------------------------------------

DTYPES = [
    "|b1", "|i1", "|u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", ">u4", "<i8", ">i8",
    "<u8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16",
    "|S1", "|S7", "<U1", ">U5", "|V4", "<M8[ns]", ">M8[s]", "<M8[D]", "<m8[us]", ">m8[h]", "|O",
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_round_trip(dtype):
    dtype = np.dtype(dtype)
    assert encode_dtype(dtype) == dtype.str
    assert decode_dtype(encode_dtype(dtype)) == dtype


@pytest.mark.parametrize(
    "dtype",
    [
        [("a", "<i4"), ("b", ">f8")],
        [("a", "|u1"), ("b", [("c", "<i2"), ("d", "|S3")])],
        [("a", "<i4"), ("b", ">f8", (2, 3))],
        [("p", [("q", "<f4", (2,)), ("r", [("s", "|b1")])]), ("t", "<U2")],
    ],
)
def test_structured_dtype_round_trip(dtype):
    dtype = np.dtype(dtype)
    encoded = encode_dtype(dtype)
    assert isinstance(encoded, list)
    assert json.loads(json.dumps(encoded)) == encoded  # plain JSON, lists all the way
    assert decode_dtype(encoded) == dtype


def test_structured_dtype_json_form():
    dtype = np.dtype([("a", "<i4"), ("b", [("c", ">f8", (2,))])])
    assert encode_dtype(dtype) == [["a", "<i4"], ["b", [["c", ">f8", [2]]]]]


FILL_CASES = [
    ("<f8", np.nan, "NaN"),
    ("<f4", np.inf, "Infinity"),
    (">f2", -np.inf, "-Infinity"),
    ("<f8", 1.5, 1.5),
    ("<f8", 0, 0.0),
    ("<i4", -7, -7),
    (">u8", 2**64 - 1, 2**64 - 1),
    ("|b1", True, True),
    ("<c16", complex(1, -2), [1.0, -2.0]),
    ("<c8", complex(np.nan, np.inf), ["NaN", "Infinity"]),
    ("|S4", b"ab", "YWI="),
    ("|S4", 0, ""),
    ("|V3", b"\x00\x01\xff", "AAH/"),
    ("<U3", "\u00e9a", "\u00e9a"),
    ("<M8[ns]", np.datetime64("NaT"), -(2**63)),
    (">M8[D]", np.datetime64("2020-01-02"), 18263),
    ("<m8[s]", np.timedelta64(90, "s"), 90),
    ("<i4", None, None),
]


@pytest.mark.parametrize(("dtype", "value", "encoded"), FILL_CASES)
def test_fill_value_encoding(dtype, value, encoded):
    dtype = np.dtype(dtype)
    assert encode_fill_value(value, dtype) == encoded
    decoded = decode_fill_value(encoded, dtype)
    assert encode_fill_value(decoded, dtype) == encoded
    if value is None:
        assert decoded is None
    elif dtype.kind == "U":
        assert decoded == value
    else:
        got = np.asarray(decoded, dtype=dtype)
        want = np.asarray(normalize_fill_value(value, dtype), dtype=dtype)
        np.testing.assert_array_equal(got, want)  # NaN equals NaN here
        assert got.tobytes() == want.tobytes() or np.isnan(want.real)


def test_structured_fill_value():
    dtype = np.dtype([("a", "<i4"), ("b", "|S2")])
    value = np.array((5, b"hi"), dtype=dtype)[()]
    encoded = encode_fill_value(value, dtype)
    assert encoded == "BQAAAGhp"
    decoded = decode_fill_value(encoded, dtype)
    assert isinstance(decoded, np.void)
    assert decoded.tobytes() == value.tobytes()
    assert encode_fill_value(0, dtype) == "AAAAAAAA"  # 0 means all zero bytes


def test_decoded_fill_values_are_numpy_scalars_of_the_dtype():
    assert decode_fill_value("NaN", np.dtype(">f4")).dtype == np.dtype("f4")
    assert type(decode_fill_value(3, np.dtype("<u2"))) is np.uint16
    assert type(decode_fill_value(True, np.dtype("|b1"))) is np.bool_
    assert decode_fill_value(-(2**63), np.dtype(">M8[ns]")) != decode_fill_value(
        0, np.dtype(">M8[ns]")
    )
    assert np.isnat(decode_fill_value(-(2**63), np.dtype(">M8[ns]")))


def test_decode_fill_value_is_lenient_as_zarr2_for_bytes():
    # zarr-python 2 leaves non-base64 values of S dtypes as they are
    assert decode_fill_value(0, np.dtype("|S3")) == b"0"


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("separator", [".", "/"])
@pytest.mark.parametrize(("dtype", "value", "encoded"), FILL_CASES)
def test_array_metadata_round_trip(dtype, value, encoded, order, separator):
    meta = ArrayMetadata(
        shape=(5, 0, 3), chunks=(2, 1, 3), dtype=dtype, compressor=None, fill_value=value,
        order=order, filters=({"id": "delta", "dtype": "<i4"},), dimension_separator=separator,
    )
    data = encode_array_metadata(meta)
    back = decode_array_metadata(data)
    assert back == meta
    assert hash(back) == hash(meta)
    assert encode_array_metadata(back) == data


def test_array_metadata_round_trip_structured():
    dtype = np.dtype([("a", "<i4"), ("b", [("c", ">f8", (2,)), ("d", "|S3")])])
    meta = ArrayMetadata(shape=(4,), chunks=(2,), dtype=dtype, fill_value=0, compressor=BLOSC)
    assert decode_array_metadata(encode_array_metadata(meta)) == meta


@settings(max_examples=200, deadline=None)
@given(
    shape=st.lists(st.integers(0, 10**12), min_size=0, max_size=5),
    data=st.data(),
    dtype=st.sampled_from(DTYPES[:-1]),
)
def test_array_metadata_round_trip_property(shape, data, dtype):
    chunks = [data.draw(st.integers(1, 10**9)) for _ in shape]
    dtype = np.dtype(dtype)
    # czarr's geometry limit (tests/test_limits.py): beyond it, a clear refusal
    grid = [-(-s // c) for s, c in zip(shape, chunks)]
    if (math.prod(grid) > 2**63 - 1 or math.prod(chunks) * dtype.itemsize > 2**63 - 1
            or any(g * c > 2**63 - 1 for g, c in zip(grid, chunks))):
        with pytest.raises(MetadataError, match="beyond czarr's limits"):
            ArrayMetadata(shape=shape, chunks=chunks, dtype=dtype)
        return
    if dtype.kind == "f":
        fill = data.draw(st.none() | st.floats(width=8 * dtype.itemsize))
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        fill = data.draw(st.none() | st.integers(int(info.min), int(info.max)))
    elif dtype.kind in "SV":
        fill = data.draw(st.none() | st.binary(min_size=dtype.itemsize, max_size=dtype.itemsize))
    elif dtype.kind == "U":
        fill = data.draw(st.none() | st.text(max_size=dtype.itemsize // 4))
    elif dtype.kind in "mM":
        fill = data.draw(st.none() | st.integers(-(2**63), 2**63 - 1))
        fill = None if fill is None else np.array(fill, "i8").view(dtype.newbyteorder("="))[()]
    else:
        fill = data.draw(st.none() | st.booleans())
    meta = ArrayMetadata(shape=shape, chunks=chunks, dtype=dtype, fill_value=fill)
    assert decode_array_metadata(encode_array_metadata(meta)) == meta


def test_equality_distinguishes_fields():
    assert _meta() == _meta()
    assert _meta() != _meta(order="F")
    assert _meta() != _meta(dtype=">f8")
    assert _meta(fill_value=np.nan) == _meta(fill_value=float("nan"))
    assert _meta() != "not metadata"


def test_array_metadata_canonicalises():
    import numcodecs

    meta = ArrayMetadata(
        shape=[3], chunks=[2], dtype="i2", compressor=numcodecs.Zlib(level=1),
        filters=[], fill_value=1,
    )
    assert meta.shape == (3,)
    assert meta.dtype == np.dtype("int16")
    assert meta.compressor == {"id": "zlib", "level": 1}
    assert meta.filters is None
    assert type(meta.fill_value) is np.int16
    assert meta.ndim == 1
    assert meta.cdata_shape == (2,)
    assert meta.nchunks == 2
    resized = dataclasses.replace(meta, shape=(10,))
    assert resized.cdata_shape == (5,)


def test_array_metadata_is_frozen_and_owns_its_configs():
    config = {"id": "zlib", "level": 1}
    meta = ArrayMetadata(shape=(3,), chunks=(2,), dtype="i2", compressor=config)
    config["level"] = 9
    assert meta.compressor == {"id": "zlib", "level": 1}
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.shape = (4,)  # type: ignore[misc]


def test_missing_dimension_separator_means_dot():
    doc = _doc()
    del doc["dimension_separator"]
    assert decode_array_metadata(json.dumps(doc)).dimension_separator == "."
    doc["dimension_separator"] = None
    assert decode_array_metadata(json.dumps(doc)).dimension_separator == "."


def test_decode_accepts_bytes_like_str_and_mapping():
    expected = _meta()
    assert decode_array_metadata(ZARR2_DOC) == expected
    assert decode_array_metadata(bytearray(ZARR2_DOC)) == expected
    assert decode_array_metadata(memoryview(ZARR2_DOC)) == expected
    assert decode_array_metadata(np.frombuffer(ZARR2_DOC, dtype="u1")) == expected
    assert decode_array_metadata(ZARR2_DOC.decode()) == expected
    assert decode_array_metadata(json.loads(ZARR2_DOC)) == expected


def test_unknown_extra_fields_are_ignored():
    # the v2 spec: other keys SHOULD NOT be present and SHOULD be ignored by readers
    assert decode_array_metadata(json.dumps(_doc(extra="x"))) == _meta()


def test_empty_filters_list_reads_as_none():
    assert decode_array_metadata(json.dumps(_doc(filters=[]))).filters is None


# malformed documents -------------------------------------------------------------------

KEY = "foo/bar/.zarray"
WHERE = ".zarray at 'foo/bar'"


def _missing(field):
    doc = _doc()
    del doc[field]
    return json.dumps(doc)


MALFORMED = [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "UTF-8"),
    (b"[1, 2]", "JSON object"),
    (json.dumps(_doc(zarr_format=3)), "'zarr_format'"),
    (json.dumps(_doc(zarr_format="2")), "'zarr_format'"),
    (json.dumps(_doc(zarr_format=2.0)), "'zarr_format'"),
    (json.dumps(_doc(zarr_format=True)), "'zarr_format'"),
    (_missing("zarr_format"), "'zarr_format' is missing"),
    (_missing("shape"), "'shape' is missing"),
    (_missing("chunks"), "'chunks' is missing"),
    (_missing("dtype"), "'dtype' is missing"),
    (_missing("compressor"), "'compressor' is missing"),
    (_missing("fill_value"), "'fill_value' is missing"),
    (_missing("order"), "'order' is missing"),
    (_missing("filters"), "'filters' is missing"),
    (json.dumps(_doc(order="K")), "'order'"),
    (json.dumps(_doc(order=None)), "'order'"),
    (json.dumps(_doc(chunks=[1000])), "'chunks' has 1 dimensions but shape has 2"),
    (json.dumps(_doc(chunks=[1000, 0])), "'chunks'"),
    (json.dumps(_doc(chunks=[1000, 10.5])), "'chunks'"),
    (json.dumps(_doc(chunks="1000")), "'chunks'"),
    (json.dumps(_doc(shape=[-1, 10])), "'shape'"),
    (json.dumps(_doc(shape=[True, 10])), "'shape'"),
    (json.dumps(_doc(shape=None)), "'shape'"),
    (json.dumps(_doc(dtype="<q9")), "'dtype'"),
    (json.dumps(_doc(dtype="float128x")), "'dtype'"),
    (json.dumps(_doc(dtype=None)), "'dtype'"),
    (json.dumps(_doc(dtype=5)), "'dtype'"),
    (json.dumps(_doc(dtype=[["a"]])), "'dtype'"),
    (json.dumps(_doc(dtype=[[1, "<i4"]])), "'dtype'"),
    (json.dumps(_doc(dtype="(2,)<i4")), "'dtype'"),
    (json.dumps(_doc(fill_value="nope")), "'fill_value'"),
    (json.dumps(_doc(fill_value=[1, 2])), "'fill_value'"),
    (json.dumps(_doc(dtype="<i2", fill_value=70000)), "'fill_value'"),
    (json.dumps(_doc(dtype="<c8", fill_value=1.0)), "'fill_value'"),
    (json.dumps(_doc(dtype="|V2", fill_value="AAAA")), "'fill_value'"),
    (json.dumps(_doc(compressor="blosc")), "'compressor'"),
    (json.dumps(_doc(compressor={"cname": "lz4"})), "'compressor'"),
    (json.dumps(_doc(filters={"id": "delta"})), "'filters'"),
    (json.dumps(_doc(filters=[{"id": 3}])), "'filters'"),
    (json.dumps(_doc(dimension_separator="-")), "'dimension_separator'"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed_array_metadata(data, message):
    with pytest.raises(MetadataError) as info:
        decode_array_metadata(data, key=KEY)
    assert str(info.value).startswith(WHERE)
    assert message in str(info.value)


def test_error_names_root_key():
    with pytest.raises(MetadataError, match=r"^\.zarray: field 'order'"):
        decode_array_metadata(json.dumps(_doc(order="K")))


def test_decode_not_bytes():
    with pytest.raises(MetadataError, match="expected bytes, str or a mapping"):
        decode_array_metadata(12, key=KEY)


def test_constructor_validates():
    with pytest.raises(MetadataError, match="ArrayMetadata: field 'chunks'"):
        ArrayMetadata(shape=(3,), chunks=(0,), dtype="i4")
    with pytest.raises(MetadataError, match="field 'dtype'"):
        ArrayMetadata(shape=(3,), chunks=(1,), dtype="(2,)i4")
    with pytest.raises(MetadataError, match="field 'fill_value'"):
        ArrayMetadata(shape=(3,), chunks=(1,), dtype="u1", fill_value=-1)
    with pytest.raises(MetadataError, match="field 'compressor'"):
        ArrayMetadata(shape=(3,), chunks=(1,), dtype="u1", compressor="zlib")


def test_group_metadata():
    assert decode_group_metadata(encode_group_metadata()) == {"zarr_format": 2}
    assert decode_group_metadata({"zarr_format": 2}) == {"zarr_format": 2}
    with pytest.raises(MetadataError, match=r"^\.zgroup at 'a': field 'zarr_format'"):
        decode_group_metadata(b'{"zarr_format": 3}', key="a/.zgroup")
    with pytest.raises(MetadataError, match="is missing"):
        decode_group_metadata(b"{}")
    with pytest.raises(MetadataError, match="not valid JSON"):
        decode_group_metadata(b"")


def test_attrs_documents():
    assert decode_attrs(encode_attrs({"a": [1, {"b": None}]})) == {"a": [1, {"b": None}]}
    assert decode_attrs(b'{"x": NaN}')["x"] != decode_attrs(b'{"x": NaN}')["x"]
    with pytest.raises(MetadataError, match=r"^\.zattrs at 'g': expected a JSON object"):
        decode_attrs(b"[1]", key="g/.zattrs")


# normalisation -------------------------------------------------------------------------

GUESS_CASES = [
    # computed with zarr-python 2's algorithm (same as zarr 3's _guess_chunks)
    ((100,), 1, (100,)),
    ((10000, 10000), 8, (313, 625)),
    ((1000000,), 4, (125000,)),
    ((10000000, 1000), 1, (156250, 32)),
    ((1000, 10000000, 2), 1, (16, 312500, 1)),
    ((10000, 10000, 10000), 8, (157, 157, 157)),
    ((512, 512, 512), 2, (64, 64, 128)),
    ((0,), 8, (1,)),
    ((1, 2, 0, 4, 5), 4, (1, 2, 1, 4, 5)),
    ((1000000,), 40000000000, (1,)),
    ((), 8, ()),
]


@pytest.mark.parametrize(("shape", "itemsize", "expected"), GUESS_CASES)
def test_guess_chunks_known_values(shape, itemsize, expected):
    assert guess_chunks(shape, itemsize) == expected


@pytest.mark.parametrize(
    "shape",
    [(100,), (100, 100), (1000000,), (10**9,), (10**22,), (10000, 10000), (10**7, 1000),
     (1000, 10**7), (10**7, 1000, 2), (1000, 10**7, 2), (10**5, 10**5, 10**5),
     (10**9, 10**9, 10**9), (0,), (0, 0), (10, 0), (0, 10), (1, 2, 0, 4, 5), (7, 3, 5, 9)],
)
@pytest.mark.parametrize("dtype", ["u1", "u2", "f8", "V24", "V1000"])
def test_guess_chunks_matches_zarr(shape, dtype):
    """The chunks zarr-python 3 picks when a v2 array is created without chunks (public
    behaviour; it calls the same algorithm, _guess_chunks, as zarr-python 2)."""
    itemsize = np.dtype(dtype).itemsize
    got = guess_chunks(shape, itemsize)
    assert all(isinstance(c, int) for c in got)
    assert all(0 < c <= max(s, 1) for c, s in zip(got, shape))
    assert got == zarr.create(shape=shape, dtype=dtype, zarr_format=2, store={}).chunks


def test_normalize_chunks():
    assert normalize_chunks((10,), (100,), 1) == (10,)
    assert normalize_chunks([10], (100,), 1) == (10,)
    assert normalize_chunks(10, (100,), 1) == (10,)
    assert normalize_chunks(np.int64(10), (100, 10), 1) == (10, 10)
    assert normalize_chunks((10, None), (100, 10), 1) == (10, 10)
    assert normalize_chunks((30, -1, None), (100, 20, 10), 1) == (30, 20, 10)
    assert normalize_chunks((30,), (100, 20, 10), 1) == (30, 20, 10)
    assert normalize_chunks(False, (100, 20), 1) == (100, 20)
    assert normalize_chunks(True, (100,), 1) == (100,)
    assert normalize_chunks(None, (10000, 10000), 8) == (313, 625)
    assert normalize_chunks(-1, (0, 5), 1) == (1, 5)  # never a chunk of 0
    with pytest.raises(ValueError):
        normalize_chunks("foo", (100,), 1)
    with pytest.raises(ValueError):
        normalize_chunks((100, 10), (100,), 1)
    with pytest.raises(ValueError):
        normalize_chunks((0,), (100,), 1)
    with pytest.raises(ValueError):
        normalize_chunks((2.5,), (100,), 1)


def test_normalize_shape():
    assert normalize_shape(5) == (5,)
    assert normalize_shape(np.int32(5)) == (5,)
    assert normalize_shape([2, np.uint8(3)]) == (2, 3)
    assert normalize_shape(()) == ()
    with pytest.raises(TypeError):
        normalize_shape(None)
    with pytest.warns(UserWarning, match="non-integer"):  # as zarr-python 2
        assert normalize_shape((2.0, 3)) == (2, 3)
    with pytest.raises(TypeError):
        normalize_shape(("2",))
    with pytest.raises(ValueError):
        normalize_shape((-1,))


def test_normalize_order_and_separator():
    assert normalize_order("c") == "C"
    assert normalize_order("F") == "F"
    with pytest.raises(ValueError):
        normalize_order("K")
    assert normalize_dimension_separator(None) is None
    assert normalize_dimension_separator("/") == "/"
    with pytest.raises(ValueError):
        normalize_dimension_separator("-")


def test_normalize_dtype():
    assert normalize_dtype("i4") == np.dtype("<i4")
    assert normalize_dtype(np.float32) == np.dtype("f4")
    assert normalize_dtype(None) == np.dtype("f8")
    assert normalize_dtype(">u2") == np.dtype(">u2")
    assert normalize_dtype(str) == np.dtype(object)
    assert normalize_dtype(bytes) == np.dtype(object)
    assert normalize_dtype("str") == np.dtype(object)
    assert normalize_dtype("array:i4") == np.dtype(object)
    assert normalize_dtype("M8[ns]") == np.dtype("M8[ns]")
    with pytest.raises(ValueError, match="generic units"):
        normalize_dtype("M8")
    with pytest.raises(ValueError, match="generic units"):
        normalize_dtype("m8")
    with pytest.raises(ValueError, match="not a dtype"):
        normalize_dtype("not-a-dtype")


def test_normalize_fill_value():
    assert normalize_fill_value(None, np.dtype("f8")) is None
    assert type(normalize_fill_value(1, np.dtype("f4"))) is np.float32
    assert normalize_fill_value(0, np.dtype("|S3")) == b""
    assert normalize_fill_value(0, np.dtype("<U3")) == ""
    assert normalize_fill_value("ab", np.dtype("<U3")) == "ab"
    zero = normalize_fill_value(0, np.dtype([("a", "<i4"), ("b", "|S2")]))
    assert isinstance(zero, np.void) and zero.tobytes() == bytes(6)
    assert normalize_fill_value(b"ab", np.dtype("|V2")).tobytes() == b"ab"
    assert normalize_fill_value("x", np.dtype(object)) == "x"
    with pytest.raises(ValueError, match="unicode string"):
        normalize_fill_value(5, np.dtype("<U3"))
    with pytest.raises(ValueError, match="not valid"):
        normalize_fill_value("abc", np.dtype("i4"))
    with pytest.raises(ValueError, match="not valid"):
        normalize_fill_value(b"abc", np.dtype("|V2"))
    with pytest.raises(ValueError, match="not valid"):
        normalize_fill_value(300, np.dtype("u1"))
