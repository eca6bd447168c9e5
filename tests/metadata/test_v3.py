"""czarr.metadata.v3 on its own: documents zarr-python 3.1 writes decode to the expected
values and encode back byte for byte; malformed documents are refused naming the key and
the field; numeric fill values survive a round trip bit for bit."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st
from zarr.codecs import BloscCodec, Crc32cCodec, GzipCodec, TransposeCodec
from zarr.core.dtype import VariableLengthBytes

from czarr.errors import MetadataError
from czarr.metadata.v3 import (
    ArrayMetadataV3,
    decode_array_metadata_v3,
    decode_data_type,
    decode_fill_value_v3,
    decode_group_metadata_v3,
    encode_array_metadata_v3,
    encode_data_type,
    encode_fill_value_v3,
    encode_group_metadata_v3,
    node_type_v3,
)

NaT = np.datetime64("NaT")


def _zarr_json(**kwargs) -> bytes:
    """The zarr.json zarr-python 3 writes for ``zarr.create_array(**kwargs)``."""
    store: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr-python warns about unstable v3 data types
        zarr.create_array(store, **kwargs)
    return store["zarr.json"].to_bytes()


def _same_scalar(got, expected) -> bool:
    """Equal values of the same type, NaN payloads and bytes compared bit for bit."""
    if isinstance(expected, np.generic):
        if not isinstance(got, np.generic) or got.dtype != expected.dtype:
            return False
        return np.array(got).tobytes() == np.array(expected).tobytes()
    return type(got) is type(expected) and got == expected


# (dtype given to zarr-python, fill_value given, expected data_type, expected fill_value)
MATRIX = [
    ("bool", True, np.dtype("?"), np.True_),
    ("bool", None, np.dtype("?"), np.False_),
    ("int8", -3, np.dtype("i1"), np.int8(-3)),
    ("int16", None, np.dtype("i2"), np.int16(0)),
    ("int32", 2**31 - 1, np.dtype("i4"), np.int32(2**31 - 1)),
    ("int64", -(2**63), np.dtype("i8"), np.int64(-(2**63))),
    ("uint8", 255, np.dtype("u1"), np.uint8(255)),
    ("uint16", 7, np.dtype("u2"), np.uint16(7)),
    ("uint32", None, np.dtype("u4"), np.uint32(0)),
    ("uint64", 2**64 - 1, np.dtype("u8"), np.uint64(2**64 - 1)),
    (">i4", 1, np.dtype("i4"), np.int32(1)),
    ("float16", np.nan, np.dtype("f2"), np.float16(np.nan)),
    ("float16", 0.1, np.dtype("f2"), np.float16(0.1)),
    ("float32", np.inf, np.dtype("f4"), np.float32(np.inf)),
    ("float32", 0.1, np.dtype("f4"), np.float32(0.1)),
    ("float64", -np.inf, np.dtype("f8"), np.float64(-np.inf)),
    ("float64", 1.5, np.dtype("f8"), np.float64(1.5)),
    ("float64", None, np.dtype("f8"), np.float64(0)),
    ("<f8", -0.0, np.dtype("f8"), np.float64(-0.0)),
    ("complex64", complex(np.nan, 1), np.dtype("c8"), np.complex64(complex(np.nan, 1))),
    ("complex128", 1 + 2j, np.dtype("c16"), np.complex128(1 + 2j)),
    ("complex128", complex(-np.inf, np.inf), np.dtype("c16"),
     np.complex128(complex(-np.inf, np.inf))),
    ("U5", "ab", np.dtype("U5"), np.str_("ab")),
    ("<U3", None, np.dtype("U3"), np.str_("")),
    ("U2", "\u00e9\u4e2d", np.dtype("U2"), np.str_("\u00e9\u4e2d")),
    ("S3", b"", np.dtype("S3"), np.bytes_(b"")),
    ("S3", b"ab\x00", np.dtype("S3"), np.bytes_(b"ab\x00")),
    ("S4", b"\xff\x00zz", np.dtype("S4"), np.bytes_(b"\xff\x00zz")),
    ("V2", None, np.dtype("V2"), np.void(b"\x00\x00")),
    ("V4", b"\x01\x02\x03\x04", np.dtype("V4"), np.void(b"\x01\x02\x03\x04")),
    ("M8[ns]", 0, np.dtype("M8[ns]"), np.datetime64(0, "ns")),
    ("M8[ns]", None, np.dtype("M8[ns]"), np.datetime64("NaT", "ns")),
    ("M8[D]", np.datetime64("2020-01-02"), np.dtype("M8[D]"), np.datetime64("2020-01-02")),
    ("M8[10s]", 0, np.dtype("M8[10s]"), np.array(0, "i8").view("M8[10s]")[()]),
    ("m8[s]", 5, np.dtype("m8[s]"), np.timedelta64(5, "s")),
    ("m8[ms]", None, np.dtype("m8[ms]"), np.timedelta64("NaT", "ms")),
    (str, "x", np.dtype("O"), "x"),
    (str, "\u00e9", np.dtype("O"), "\u00e9"),
    (np.dtypes.StringDType(), None, np.dtype("O"), ""),
    (VariableLengthBytes(), b"ab", np.dtype("O"), b"ab"),
    (VariableLengthBytes(), None, np.dtype("O"), b""),
]


@pytest.mark.parametrize(("dtype", "fill", "expected_dtype", "expected_fill"), MATRIX,
                         ids=[f"{m[0]}-{m[1]!r}" for m in MATRIX])
def test_decodes_and_reencodes_what_zarr_python_3_writes(dtype, fill, expected_dtype,
                                                         expected_fill):
    raw = _zarr_json(shape=(5, 4), chunks=(2, 3), dtype=dtype, fill_value=fill,
                     dimension_names=["y", None], attributes={"a": [1, "\u00e9"], "b": None})
    meta = decode_array_metadata_v3(raw)
    assert meta.shape == (5, 4)
    assert meta.chunk_shape == (2, 3)
    assert meta.data_type == expected_dtype
    assert meta.data_type.byteorder in "=|"
    assert _same_scalar(meta.fill_value, expected_fill), (meta.fill_value, expected_fill)
    assert meta.dimension_names == ("y", None)
    assert meta.attributes == {"a": [1, "\u00e9"], "b": None}
    assert meta.chunk_key_encoding == ("default", "/")
    assert meta.codecs == tuple(json.loads(raw)["codecs"])
    assert meta.cdata_shape == (3, 2) and meta.nchunks == 6
    assert encode_array_metadata_v3(meta) == raw
    # the same metadata built from Python values writes the same document
    built = ArrayMetadataV3(
        shape=(5, 4), data_type="O" if isinstance(dtype, VariableLengthBytes) else dtype,
        chunk_shape=(2, 3), fill_value=b"" if isinstance(dtype, VariableLengthBytes)
        and fill is None else fill, codecs=meta.codecs, attributes=meta.attributes,
        dimension_names=["y", None])
    assert encode_array_metadata_v3(built) == raw
    assert built == meta


def test_structure_of_the_document():
    raw = _zarr_json(shape=(3,), chunks=(2,), dtype="f4")
    assert raw.startswith(b'{\n  "shape": [\n    3\n  ],\n  "data_type": "float32",')
    assert list(json.loads(raw)) == [
        "shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs",
        "attributes", "zarr_format", "node_type", "storage_transformers"]
    meta = decode_array_metadata_v3(raw)
    assert meta.dimension_names is None
    assert meta.zarr_format == 3 and meta.node_type == "array" and meta.ndim == 1
    assert meta.storage_transformers == ()
    assert "dimension_names" not in json.loads(encode_array_metadata_v3(meta))


@pytest.mark.parametrize("kwargs", [
    dict(shape=(8, 8), chunks=(2, 2), shards=(4, 4), dtype=">f8",
         compressors=[BloscCodec()], filters=[TransposeCodec(order=(1, 0))]),
    dict(shape=(8,), chunks=(2,), dtype="u1", compressors=[GzipCodec(level=3), Crc32cCodec()]),
    dict(shape=(8,), chunks=(3,), dtype="i2", compressors=None),
    dict(shape=(), chunks=(), dtype="i2", compressors=None),
    dict(shape=(0, 3), chunks=(1, 1), dtype="f4", fill_value=np.nan),
    dict(shape=(4, 3), chunks=(2, 2), dtype="i4", shards=(4, 2), dimension_names=["a", "b"]),
], ids=["sharded-blosc-transpose", "gzip-crc32c", "uncompressed", "0d", "empty", "sharded"])
def test_codec_chains_and_grids_round_trip(kwargs):
    raw = _zarr_json(**kwargs)
    meta = decode_array_metadata_v3(raw)
    doc = json.loads(raw)
    assert list(meta.chunk_shape) == doc["chunk_grid"]["configuration"]["chunk_shape"]
    assert [dict(c) for c in meta.codecs] == doc["codecs"]
    assert encode_array_metadata_v3(meta) == raw


@pytest.mark.parametrize("encoding", [
    {"name": "default", "separator": "/"}, {"name": "default", "separator": "."},
    {"name": "v2", "separator": "."}, {"name": "v2", "separator": "/"},
])
@pytest.mark.parametrize("shape", [(), (5,), (5, 7, 3)])
def test_chunk_keys_are_zarr_python_3s(encoding, shape):
    store: dict = {}
    arr = zarr.create_array(store, shape=shape, chunks=tuple(2 for _ in shape), dtype="u1",
                            chunk_key_encoding=encoding, compressors=None)
    raw = store["zarr.json"].to_bytes()
    meta = decode_array_metadata_v3(raw)
    assert meta.chunk_key_encoding == (encoding["name"], encoding["separator"])
    assert encode_array_metadata_v3(meta) == raw
    for coords in ([()] if not shape else [(0,) * len(shape), tuple(range(1, len(shape) + 1))]):
        assert meta.chunk_key(coords) == arr.metadata.encode_chunk_key(coords)
    if not shape:
        assert meta.chunk_key(()) == ("0" if encoding["name"] == "v2" else "c")


def test_chunk_key_encoding_without_configuration_takes_the_defaults():
    doc = json.loads(_zarr_json(shape=(4,), chunks=(2,), dtype="u1"))
    doc["chunk_key_encoding"] = {"name": "v2"}
    assert decode_array_metadata_v3(doc).chunk_key_encoding == ("v2", ".")
    doc["chunk_key_encoding"] = "default"
    assert decode_array_metadata_v3(doc).chunk_key((1,)) == "c/1"


# ---------------------------------------------------------------------------------------
# data types and fill values on their own
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("obj", "dtype"), [
    ("bool", "?"), ("int64", "i8"), ("uint16", "u2"), ("float16", "f2"), ("complex128", "c16"),
    ("string", "O"), ("variable_length_bytes", "O"), ("bytes", "O"), ("r8", "V1"), ("r24", "V3"),
    ({"name": "fixed_length_utf32", "configuration": {"length_bytes": 20}}, "U5"),
    ({"name": "null_terminated_bytes", "configuration": {"length_bytes": 3}}, "S3"),
    ({"name": "raw_bytes", "configuration": {"length_bytes": 2}}, "V2"),
    ({"name": "numpy.datetime64", "configuration": {"unit": "ns", "scale_factor": 1}}, "M8[ns]"),
    ({"name": "numpy.timedelta64", "configuration": {"unit": "D", "scale_factor": 7}}, "m8[7D]"),
    ({"name": "int32"}, "i4"),
])
def test_decode_data_type(obj, dtype):
    assert decode_data_type(obj) == np.dtype(dtype)


@pytest.mark.parametrize("bad", [
    "int128", "float8", "r7", "r0", {"name": "structured", "configuration": {"fields": []}},
    {"name": "fixed_length_utf32", "configuration": {"length_bytes": 6}},
    {"name": "null_terminated_bytes", "configuration": {"length_bytes": 0}},
    {"name": "numpy.datetime64", "configuration": {"unit": "parsec", "scale_factor": 1}},
    {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 0}},
    {"configuration": {}}, 3, None,
])
def test_decode_data_type_refuses(bad):
    with pytest.raises(MetadataError):
        decode_data_type(bad)


def test_encode_data_type():
    assert encode_data_type(">u8") == "uint64"
    assert encode_data_type(np.dtype("<U4")) == {
        "name": "fixed_length_utf32", "configuration": {"length_bytes": 16}}
    assert encode_data_type("M8[10s]") == {
        "name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}}
    assert encode_data_type("O") == "string"
    assert encode_data_type(str) == "string"
    assert encode_data_type(np.dtypes.StringDType()) == "string"
    assert encode_data_type("O", object_kind="bytes") == "variable_length_bytes"
    assert encode_data_type(np.dtypes.StringDType(), object_kind="bytes") == "string"
    assert encode_data_type("variable_length_bytes") == "variable_length_bytes"
    assert decode_data_type(encode_data_type("V3")) == np.dtype("V3")
    for bad in ([("a", "i4")], "(2,)i4", "V0"):
        with pytest.raises(MetadataError, match="no Zarr v3 data type"):
            encode_data_type(bad)


def test_hex_float_fill_values():
    """The spec's hex form is the raw big-endian bytes of the float; NaN payloads survive
    and are written back as hex, the plain quiet NaN as "NaN"."""
    assert np.isnan(decode_fill_value_v3("0x7fc00000", "float32"))
    assert encode_fill_value_v3(decode_fill_value_v3("0x7fc00000", "float32"), "float32") == "NaN"
    payload = decode_fill_value_v3("0x7fc00001", np.dtype("f4"))
    assert np.array(payload).view("u4") == 0x7FC00001
    assert encode_fill_value_v3(payload, "float32") == "0x7fc00001"
    assert decode_fill_value_v3("0x3ff0000000000000", "float64") == 1.0
    assert decode_fill_value_v3("0x3c00", "float16") == 1.0
    assert decode_fill_value_v3("0x3f800000", "float64") == 1.0  # another width, as zarr-python
    assert decode_fill_value_v3(["0x3f800000", "NaN"], "complex64").real == 1.0
    assert np.array(decode_fill_value_v3("0xfff8000000000000", "f8")).view("u8") == \
        0xFFF8000000000000
    assert encode_fill_value_v3(np.float64("-nan"), "float64") == "NaN"  # sign only: "NaN"
    with pytest.raises(MetadataError, match="hex"):
        decode_fill_value_v3("0x7fc0000", "float32")
    with pytest.raises(MetadataError, match="hex"):
        decode_fill_value_v3("0xzz", "float16")


def test_fill_value_spellings_zarr_python_3_accepts():
    assert decode_fill_value_v3(3.0, "int8") == 3
    assert decode_fill_value_v3("7", "int8") == 7
    assert decode_fill_value_v3(2, "float32") == np.float32(2)
    assert decode_fill_value_v3("1.5", "float64") == 1.5
    assert decode_fill_value_v3("NaT", {"name": "numpy.datetime64", "configuration": {
        "unit": "s", "scale_factor": 1}}) != decode_fill_value_v3(0, "M8[s]")
    assert decode_fill_value_v3([0, 255], "r16") == np.void(b"\x00\xff")
    assert decode_fill_value_v3("YWI=", "variable_length_bytes") == b"ab"
    assert decode_fill_value_v3("YWI=", "string") == "YWI="
    assert encode_fill_value_v3(b"ab", "O") == "YWI="
    assert encode_fill_value_v3("ab", "O") == "ab"


@pytest.mark.parametrize(("value", "dtype"), [
    (True, "int8"), (1.5, "int32"), (256, "uint8"), (-1, "uint64"), ("x", "int8"),
    (1, "bool"), ("nan", "bool"), ([1.0], "complex64"), ([1, 2, 3], "complex128"),
    (True, "float32"), ("inf", "float32"), (None, "float32"), (1, "U3"), ("abcd", "U3"),
    ("not base64!", "S3"), ("YWJjZA==", "S3"), ("YQ==", "V2"), ([1, 256], "r16"),
    ({}, "string"), (1, "variable_length_bytes"), (1.5, "M8[s]"),
])
def test_bad_fill_values_are_refused(value, dtype):
    with pytest.raises(MetadataError, match="fill value"):
        decode_fill_value_v3(value, dtype)


# ---------------------------------------------------------------------------------------
# groups and consolidated metadata
# ---------------------------------------------------------------------------------------


def test_group_with_attributes():
    store: dict = {}
    zarr.open_group(store, mode="w", attributes={"title": "t", "n": [1, 2.5, None]})
    raw = store["zarr.json"].to_bytes()
    assert node_type_v3(raw) == "group"
    got = decode_group_metadata_v3(raw)
    assert got == {"attributes": {"title": "t", "n": [1, 2.5, None]},
                   "consolidated_metadata": None}
    assert encode_group_metadata_v3(got["attributes"]) == raw
    assert encode_group_metadata_v3() == encode_group_metadata_v3({}, None)
    assert decode_group_metadata_v3(encode_group_metadata_v3())["attributes"] == {}


def test_consolidated_metadata_round_trips():
    store: dict = {}
    root = zarr.open_group(store, mode="w", attributes={"title": "t"})
    root.create_array("x", shape=(3,), chunks=(2,), dtype="f4", fill_value=np.nan)
    sub = root.create_group("Sub", attributes={"a": [1, 2]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr-python warns about unstable v3 data types
        sub.create_array("inner", shape=(2, 2), chunks=(1, 1), dtype="<U2", fill_value="z")
    sub.create_group("deeper").create_array("leaf", shape=(1,), chunks=(1,), dtype="i8")
    root.create_group("another")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # consolidated metadata is not in the v3 spec yet
        zarr.consolidate_metadata(store)
    raw = store["zarr.json"].to_bytes()
    got = decode_group_metadata_v3(raw)
    assert got["attributes"] == {"title": "t"}
    consolidated = got["consolidated_metadata"]
    assert consolidated["kind"] == "inline" and consolidated["must_understand"] is False
    nodes = consolidated["metadata"]
    assert set(nodes) == {"x", "Sub", "another", "Sub/inner", "Sub/deeper", "Sub/deeper/leaf"}
    assert np.isnan(decode_array_metadata_v3(nodes["x"]).fill_value)
    assert decode_array_metadata_v3(nodes["Sub/inner"]).data_type == np.dtype("U2")
    assert decode_group_metadata_v3(nodes["Sub"])["attributes"] == {"a": [1, 2]}
    assert encode_group_metadata_v3(got["attributes"], consolidated) == raw
    # zarr-python's order is restored whatever order the paths come in, and array nodes
    # may be given as ArrayMetadataV3
    shuffled = dict(reversed(list(nodes.items())))
    shuffled["x"] = decode_array_metadata_v3(nodes["x"])
    again = encode_group_metadata_v3(got["attributes"], {"metadata": shuffled})
    assert again == raw


def test_node_type():
    array_doc = _zarr_json(shape=(1,), chunks=(1,), dtype="u1")
    assert node_type_v3(array_doc, "a/zarr.json") == "array"
    with pytest.raises(MetadataError, match="node_type"):
        node_type_v3({"zarr_format": 3, "node_type": "dataset"})
    with pytest.raises(MetadataError, match="zarr_format"):
        node_type_v3({"zarr_format": 2})


# ---------------------------------------------------------------------------------------
# errors: each names the key and the field
# ---------------------------------------------------------------------------------------

BASE = json.loads(_zarr_json(shape=(4, 4), chunks=(2, 2), dtype="f8", fill_value=1.0))


def _without(doc: dict, field: str) -> dict:
    return {k: v for k, v in doc.items() if k != field}


ARRAY_ERRORS = [
    ("not-json", b"{", None, "not valid JSON"),
    ("not-an-object", b"[1]", None, "expected a JSON object"),
    ("v2-doc", {"zarr_format": 2, "shape": [1]}, "zarr_format", "must be 3, got 2"),
    ("format-missing", _without(BASE, "zarr_format"), "zarr_format", "is missing"),
    ("format-4", {**BASE, "zarr_format": 4}, "zarr_format", "must be 3"),
    ("group-doc", {**BASE, "node_type": "group"}, "node_type", "expected 'array'"),
    ("node-type-missing", _without(BASE, "node_type"), "node_type", "is missing"),
    ("shape-missing", _without(BASE, "shape"), "shape", "is missing"),
    ("shape-negative", {**BASE, "shape": [-1, 4]}, "shape", "non-negative"),
    ("shape-float", {**BASE, "shape": [1.5, 4]}, "shape", "integers only"),
    ("shape-str", {**BASE, "shape": "4,4"}, "shape", "list of integers"),
    ("shape-huge", {**BASE, "shape": [2**62, 2**62]}, "shape", "beyond czarr's limits"),
    ("chunks-zero", {**BASE, "chunk_grid": {"name": "regular", "configuration": {
        "chunk_shape": [0, 2]}}}, "chunk_grid", "positive"),
    ("chunks-ndim", {**BASE, "chunk_grid": {"name": "regular", "configuration": {
        "chunk_shape": [2]}}}, "chunk_grid", "1 dimensions but shape has 2"),
    ("grid-rectilinear", {**BASE, "chunk_grid": {"name": "rectilinear", "configuration": {
        "chunk_shapes": [[2, 2], [4]]}}}, "chunk_grid", "'rectilinear' is not supported"),
    ("grid-no-shape", {**BASE, "chunk_grid": {"name": "regular"}}, "chunk_grid",
     "no configuration.chunk_shape"),
    ("grid-malformed", {**BASE, "chunk_grid": [2, 2]}, "chunk_grid", "string 'name'"),
    ("dtype-unknown", {**BASE, "data_type": "float128"}, "data_type", "unknown data type"),
    ("fill-null", {**BASE, "fill_value": None}, "fill_value", "requires a fill value"),
    ("fill-bad", {**BASE, "fill_value": "one"}, "fill_value", "not valid for data type"),
    ("fill-missing", _without(BASE, "fill_value"), "fill_value", "is missing"),
    ("cke-unknown", {**BASE, "chunk_key_encoding": {"name": "hash"}}, "chunk_key_encoding",
     "'hash' is not supported"),
    ("cke-separator", {**BASE, "chunk_key_encoding": {"name": "default", "configuration": {
        "separator": "-"}}}, "chunk_key_encoding", "separator '-'"),
    ("codecs-missing", _without(BASE, "codecs"), "codecs", "is missing"),
    ("codecs-object", {**BASE, "codecs": {"name": "bytes"}}, "codecs", "must be a list"),
    ("codecs-empty", {**BASE, "codecs": []}, "codecs", "is empty"),
    ("codec-nameless", {**BASE, "codecs": [{"configuration": {}}]}, "codecs", "string 'name'"),
    ("attributes-list", {**BASE, "attributes": [1]}, "attributes", "must be an object"),
    ("dimnames-int", {**BASE, "dimension_names": [1, 2]}, "dimension_names", "strings or nulls"),
    ("dimnames-count", {**BASE, "dimension_names": ["a"]}, "dimension_names", "1 names for 2"),
    ("transformers", {**BASE, "storage_transformers": [{"name": "chunk-manifest-json"}]},
     "storage_transformers", "chunk-manifest-json"),
    ("extension-true", {**BASE, "ext": {"must_understand": True}}, "ext", "must be understood"),
    ("extension-plain", {**BASE, "ext": 1, "other": {}}, "ext", "['ext', 'other']"),
    ("string-vs-vlen-bytes", {**BASE, "data_type": "string", "fill_value": "",
                              "codecs": [{"name": "vlen-bytes"}]}, "codecs",
     "vlen-bytes codec, which cannot encode data type 'string'"),
]


@pytest.mark.parametrize(("doc", "field", "message"), [e[1:] for e in ARRAY_ERRORS],
                         ids=[e[0] for e in ARRAY_ERRORS])
def test_array_errors_name_key_and_field(doc, field, message):
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    with pytest.raises(MetadataError, match="zarr.json at 'grp/arr'") as info:
        decode_array_metadata_v3(data, key="grp/arr/zarr.json")
    text = str(info.value)
    if field is not None:
        assert f"field {field!r}" in text, text
    assert message in text, text


def test_extensions_that_need_not_be_understood_are_ignored():
    doc = {**BASE, "ext": {"must_understand": False, "configuration": {"x": 1}}}
    meta = decode_array_metadata_v3(doc)
    assert meta == decode_array_metadata_v3(BASE)
    group = {"zarr_format": 3, "node_type": "group", "ext": {"must_understand": False}}
    assert decode_group_metadata_v3(group)["attributes"] == {}


GROUP_ERRORS = [
    ("v2-doc", {"zarr_format": 2}, "zarr_format", "must be 3, got 2"),
    ("array-doc", BASE, "node_type", "expected 'group'"),
    ("attributes", {"zarr_format": 3, "node_type": "group", "attributes": 1}, "attributes",
     "must be an object"),
    ("extension", {"zarr_format": 3, "node_type": "group", "ext": {"must_understand": True}},
     "ext", "must be understood"),
    ("consolidated-kind", {"zarr_format": 3, "node_type": "group", "consolidated_metadata": {
        "kind": "offline", "must_understand": False, "metadata": {}}},
     "consolidated_metadata", "kind 'offline'"),
    ("consolidated-nodes", {"zarr_format": 3, "node_type": "group", "consolidated_metadata": {
        "kind": "inline", "must_understand": False, "metadata": []}},
     "consolidated_metadata", "no 'metadata' object"),
]


@pytest.mark.parametrize(("doc", "field", "message"), [e[1:] for e in GROUP_ERRORS],
                         ids=[e[0] for e in GROUP_ERRORS])
def test_group_errors_name_key_and_field(doc, field, message):
    with pytest.raises(MetadataError, match="zarr.json at 'grp'") as info:
        decode_group_metadata_v3(json.dumps(doc), key="grp/zarr.json")
    assert f"field {field!r}" in str(info.value) and message in str(info.value), str(info.value)


def test_a_bad_node_in_consolidated_metadata_is_named():
    doc = {"zarr_format": 3, "node_type": "group", "consolidated_metadata": {
        "kind": "inline", "must_understand": False,
        "metadata": {"a/b": {**BASE, "shape": [-4, 4]}}}}
    with pytest.raises(MetadataError, match=r"^zarr.json at 'g': field 'consolidated_metadata':"
                       r" node 'a/b': zarr.json at 'g/a/b': field 'shape' must hold non-neg"):
        decode_group_metadata_v3(doc, key="g/zarr.json")
    with pytest.raises(MetadataError, match=r"'consolidated_metadata': node 'a/b'"):
        encode_group_metadata_v3({}, doc["consolidated_metadata"])


# ---------------------------------------------------------------------------------------
# construction
# ---------------------------------------------------------------------------------------


def test_construction_validates_and_canonicalises():
    meta = ArrayMetadataV3(shape=[4], data_type=">i2", chunk_shape=[2],
                           codecs=[{"name": "bytes", "configuration": {"endian": "big"}}])
    assert meta.shape == (4,) and meta.chunk_shape == (2,)
    assert meta.data_type == np.dtype("i2") and meta.data_type.byteorder == "="
    assert meta.fill_value == 0 and isinstance(meta.fill_value, np.int16)
    assert isinstance(meta.codecs, tuple) and meta.codecs[0]["configuration"]["endian"] == "big"
    assert dataclasses.replace(meta, shape=(6,)).cdata_shape == (3,)
    nan = ArrayMetadataV3(shape=(1,), data_type="f8", chunk_shape=(1,), fill_value=np.nan,
                          codecs=["bytes"])
    assert nan == dataclasses.replace(nan) and hash(nan) == hash(dataclasses.replace(nan))
    assert nan.codecs == ({"name": "bytes"},)
    assert ArrayMetadataV3(shape=(1,), data_type="f8", chunk_shape=(1,),
                           fill_value="Infinity").fill_value == np.inf
    # an object array holds bytes when its codecs say so
    vb = ArrayMetadataV3(shape=(1,), data_type="O", chunk_shape=(1,),
                         codecs=[{"name": "vlen-bytes", "configuration": {}}])
    assert vb.fill_value == b"" and vb.data_type_json == "variable_length_bytes"


@pytest.mark.parametrize(("kwargs", "field"), [
    (dict(chunk_shape=(2, 2)), "chunk_grid"),
    (dict(chunk_key_encoding=("hash", "/")), "chunk_key_encoding"),
    (dict(chunk_key_encoding=("default", "-")), "chunk_key_encoding"),
    (dict(fill_value="x"), "fill_value"),
    (dict(data_type=[("a", "i4")]), "data_type"),
    (dict(storage_transformers=({"name": "t"},)), "storage_transformers"),
    (dict(dimension_names=("a", "b")), "dimension_names"),
    (dict(zarr_format=2), "zarr_format"),
    (dict(node_type="group"), "node_type"),
    (dict(attributes=[1]), "attributes"),
])
def test_construction_errors_name_the_field(kwargs, field):
    args = dict(shape=(4,), data_type="i4", chunk_shape=(2,)) | kwargs
    with pytest.raises(MetadataError, match=f"field '{field}'"):
        ArrayMetadataV3(**args)


# ---------------------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------------------

NUMERIC = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "complex64", "complex128"]


@st.composite
def _numeric_fill(draw):
    name = draw(st.sampled_from(NUMERIC))
    dtype = decode_data_type(name)
    if dtype.kind in "fc":
        # any bit pattern: NaNs with payloads, signed zeros, infinities, subnormals
        raw = draw(st.binary(min_size=dtype.itemsize, max_size=dtype.itemsize))
        return name, np.frombuffer(raw, dtype=dtype)[0]
    if dtype.kind == "b":
        return name, np.bool_(draw(st.booleans()))
    info = np.iinfo(dtype)
    return name, dtype.type(draw(st.integers(int(info.min), int(info.max))))


@settings(max_examples=300, deadline=None)
@given(_numeric_fill(), st.lists(st.integers(0, 50), min_size=0, max_size=3))
def test_numeric_fill_values_round_trip_bit_for_bit(case, shape):
    name, fill = case
    meta = ArrayMetadataV3(shape=tuple(shape), data_type=name,
                           chunk_shape=tuple(max(1, s // 3) for s in shape), fill_value=fill,
                           codecs=({"name": "bytes", "configuration": {"endian": "little"}},))
    raw = encode_array_metadata_v3(meta)
    back = decode_array_metadata_v3(raw)
    assert _same_scalar(back.fill_value, fill)
    assert back == meta and encode_array_metadata_v3(back) == raw
    json_fill = encode_fill_value_v3(fill, name)
    assert _same_scalar(decode_fill_value_v3(json_fill, name), fill)
    # the hex spelling of the same bits decodes to the same value
    dtype = np.dtype(fill.dtype)
    if dtype.kind == "f":
        hexed = "0x" + np.array(fill, dtype=dtype.newbyteorder(">")).tobytes().hex()
        assert _same_scalar(decode_fill_value_v3(hexed, name), fill)
