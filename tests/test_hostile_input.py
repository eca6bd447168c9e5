"""Hostile input, table by table: every malformed metadata document, corrupt chunk and
bad shard index raises a czarr error whose message names the store key, and none
crashes, hangs or allocates without bound.

The tables are the figures of the reliability note: ``METADATA_CASES`` holds the
bad-document cases per document kind (``.zarray``, ``.zgroup``, ``.zattrs``,
``.zmetadata``, v3 array and group ``zarr.json``), ``CHUNK_CASES`` the corrupt chunks
per codec and array format, ``SHARD_INDEX_CASES`` the bad shard indexes; ``python -m
pytest tests/test_hostile_input.py --collect-only -q`` counts them.
"""

from __future__ import annotations

import bz2
import functools
import json
import lzma
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import czarr
import czarr.codecs as cc
from czarr._core.filters import crc32c_checksum
from czarr.errors import ChunkDecodeError, CzarrError, MetadataError
from czarr.sharding import decode_index

NODE = "node"   # every document lives below this path, so messages must name it

# ------------------------------------------------------------------------------------
# metadata documents
# ------------------------------------------------------------------------------------

ZARRAY = {"chunks": [5], "compressor": {"id": "zlib", "level": 1}, "dimension_separator": ".",
          "dtype": "<f8", "fill_value": 0.0, "filters": None, "order": "C", "shape": [10],
          "zarr_format": 2}
ZGROUP = {"zarr_format": 2}
V3_ARRAY = {"shape": [10], "data_type": "float64",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0.0,
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                       {"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
            "attributes": {}, "zarr_format": 3, "node_type": "array",
            "storage_transformers": []}
V3_GROUP = {"attributes": {}, "zarr_format": 3, "node_type": "group"}
ZMETADATA = {"metadata": {".zgroup": ZGROUP, f"{NODE}/.zgroup": ZGROUP,
                          f"{NODE}/.zattrs": {"a": 1}}, "zarr_consolidated_format": 1}

_MISSING = object()  # a field value meaning "remove the field"
_DEEP = 200          # levels of nesting inside a field: valid JSON, deeper than czarr reads

# documents no metadata document may be: refused whatever the document
RAW_CASES: dict[str, bytes] = {
    "empty": b"",
    "not-json": b'{"zarr_format": ',
    "not-utf8": b'\xff\xfe{"zarr_format": 2}',
    "nul-bytes": b"\0" * 64,
    "json-list": b"[]",
    "json-string": b'"zarr"',
    "json-null": b"null",
    "json-number": b"2",
    "nested-lists-100000": b"[" * 100_000 + b"]" * 100_000,
    "nested-objects-100000": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "unclosed-nesting-100000": b"[" * 100_000,
    "number-of-5000-digits": b'{"zarr_format": ' + b"9" * 5000 + b"}",
    "huge-file-unterminated": b'{"zarr_format": 2, "pad": "' + b"x" * (16 << 20),
}


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def _field_cases(fields: dict[str, list]) -> dict[str, Callable[[dict], Any]]:
    """``{field: [bad values]}`` -> cases setting each field to each value."""
    cases = {}
    for field, values in fields.items():
        for i, value in enumerate(values):
            label = "missing" if value is _MISSING else json.dumps(value)
            name = f"{field}={label}" if len(label) <= 40 else f"{field}={label[:32]}...#{i}"
            assert name not in cases, name
            cases[name] = functools.partial(_with, field=field, value=value)
    return cases


def _with(doc: dict, field: str, value: Any) -> dict:
    doc = json.loads(json.dumps(doc))
    if value is _MISSING:
        doc.pop(field, None)
    else:
        doc[field] = value
    return doc


def _with_many(**fields: Any) -> Callable[[dict], dict]:
    def apply(doc: dict) -> dict:
        for field, value in fields.items():
            doc = _with(doc, field, value)
        return doc
    return apply


ZARRAY_CASES = _field_cases({
    "zarr_format": [_MISSING, None, "2", 2.0, 1, 3, True, [2]],
    "shape": [_MISSING, None, "10", 10, [-1], [10.5], ["10"], [True], [None], [[10]],
              {"0": 10}, [2**63], [2**64], [2**70]],
    "chunks": [_MISSING, None, "5", 5, [0], [-5], [5.0], [True], [None], [5, 5], [],
               {"0": 5}],
    "dtype": [_MISSING, None, 5, "", "<q9", "|V0", "<U2000000000", "(3,)<i4", "(1+)f8",
              "(" * 10_000 + "1" + ",)" * 10_000 + "f8", "(10**100,)f8", [], [[]],
              [["a"]], [["a", 5]], [[5, "<i4"]], [["a", "<i4", -1]],
              [["a", "<i4", [2**40]]], {"a": "<i4"}, "|O"],
    "fill_value": [[1], {}, "abc", [1.0, 2.0]],
    "order": [_MISSING, None, "X", "c", 1, ["C"]],
    "compressor": [_MISSING, "zlib", 5, [], {}, {"id": 5}, {"id": "no-such-codec"},
                   {"id": "zlib", "level": 99}, {"id": "zlib", "bogus": 1},
                   {"id": "blosc", "clevel": "x"}, {"id": "zstd", "level": 2**40},
                   {"id": "lz4", "acceleration": None}],
    "filters": [_MISSING, "delta", 5, {}, [5], [{}], [{"id": "no-such-codec"}],
                [{"id": "delta", "dtype": "nope"}],
                [{"id": "fixedscaleoffset", "scale": "x", "offset": 0, "dtype": "<f8"}]],
    "dimension_separator": ["-", 5, "", "//", ["."]],
})
ZARRAY_CASES.update({
    "33-dimensions": _with_many(shape=[1] * 33, chunks=[1] * 33),
    "100000-dimensions": _with_many(shape=[1] * 10**5, chunks=[1] * 10**5),
    "grid-overflows-int64": _with_many(shape=[2**62, 2**62], chunks=[1, 1]),
    "bytes-overflow-int64": _with_many(shape=[2**61], chunks=[2**61]),
    "int-fill-too-large": _with_many(dtype="<i4", fill_value=2**80),
    "int-fill-a-string": _with_many(dtype="<i4", fill_value="abc"),
    "int-fill-a-list": _with_many(dtype="<i4", fill_value=[1]),
    "complex-fill-3-parts": _with_many(dtype="<c16", fill_value=[1.0, 2.0, 3.0]),
    "complex-fill-a-string": _with_many(dtype="<c16", fill_value="x"),
    "void-fill-not-base64": _with_many(dtype="|V4", fill_value="not base64!"),
    "void-fill-wrong-size": _with_many(dtype="|V4", fill_value="AAAAAAAAAAA="),
    "void-fill-a-number": _with_many(dtype="|V4", fill_value=5),
    "datetime-fill-a-list": _with_many(dtype="<M8[s]", fill_value=[1]),
    "bool-fill-a-list": _with_many(dtype="|b1", fill_value=[True]),
    "unicode-fill-a-list": _with_many(dtype="<U4", fill_value=[1]),
    "deep-inside-a-field": _with_many(shape=_deep(_DEEP)),
})

ZGROUP_CASES = _field_cases({"zarr_format": [_MISSING, None, "2", 2.0, 1, 3, True, [2]]})
ZGROUP_CASES["deep-inside-a-field"] = _with_many(extra=_deep(_DEEP))

ZATTRS_CASES: dict[str, Callable[[dict], Any]] = {
    "deep-inside-a-field": _with_many(a=_deep(_DEEP)),
}

ZMETADATA_CASES = _field_cases({
    "metadata": [_MISSING, None, [], "x", 5],
    "zarr_consolidated_format": [_MISSING, None, 2, "1", [1]],
})
ZMETADATA_CASES.update({
    "entry-not-an-object": lambda d: _with(d, "metadata", {**d["metadata"], ".zgroup": [1]}),
    "entry-a-string": lambda d: _with(d, "metadata", {**d["metadata"], f"{NODE}/.zattrs": "x"}),
    "entry-unknown-key": lambda d: _with(d, "metadata", {**d["metadata"], f"{NODE}/x": {}}),
    "entry-dot-segment": lambda d: _with(d, "metadata", {**d["metadata"], "./.zgroup": {}}),
    "entry-dotdot-segment": lambda d: _with(d, "metadata",
                                            {**d["metadata"], "../.zattrs": {}}),
    "entry-leading-slash": lambda d: _with(d, "metadata",
                                           {**d["metadata"], f"/{NODE}/.zattrs": {}}),
    "entry-group-bad-format": lambda d: _with(d, "metadata",
                                              {**d["metadata"], f"{NODE}/.zgroup": {}}),
    "deep-inside-a-field": _with_many(extra=_deep(_DEEP)),
})
ENTRY_KEYS = {"entry-group-bad-format": f"{NODE}/.zgroup"}

_SHARDING = {"name": "sharding_indexed", "configuration": {
    "chunk_shape": [5], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                     {"name": "crc32c"}], "index_location": "end"}}


def _sharding(**config: Any) -> list:
    return [{"name": "sharding_indexed",
             "configuration": {**_SHARDING["configuration"], **config}}]


V3_ARRAY_CASES = _field_cases({
    "zarr_format": [_MISSING, None, 2, "3", 3.0, True],
    "node_type": [_MISSING, None, "foo", 5],
    "shape": [_MISSING, None, "10", 10, [-1], [1.5], [True], [2**64], {"0": 10}],
    "data_type": [_MISSING, None, 5, "", "int33", "<f8", [], {"name": 5},
                  {"name": "float64", "configuration": {"x": 1}},
                  {"name": "fixed_length_utf32", "configuration": {"length_bytes": 2**62}},
                  {"name": "fixed_length_utf32", "configuration": {"length_bytes": 3}},
                  {"name": "null_terminated_bytes", "configuration": {}},
                  {"name": "numpy.datetime64", "configuration": {"unit": "eons"}},
                  "r8000000000000", "r7"],
    "chunk_grid": [_MISSING, None, 5, "regular", {"name": "rectilinear"},
                   {"name": "regular"}, {"name": "regular", "configuration": [5]},
                   {"name": "regular", "configuration": {"chunk_shape": [0]}},
                   {"name": "regular", "configuration": {"chunk_shape": [-5]}},
                   {"name": "regular", "configuration": {"chunk_shape": "5"}},
                   {"name": "regular", "configuration": {"chunk_shape": [5, 5]}},
                   {"name": "regular", "configuration": {"chunk_shape": [2**64]}}],
    "chunk_key_encoding": [_MISSING, None, 5, {"name": "weird"},
                           {"name": "default", "configuration": {"separator": "-"}},
                           {"name": "v2", "configuration": [1]}],
    "fill_value": [_MISSING, None, "x", [1], {}, "0x12", True],
    "codecs": [_MISSING, None, [], "bytes", 5, [5], [{"name": "nope"}], [{}],
               [{"name": "bytes", "configuration": {"endian": "middle"}}],
               [{"name": "bytes", "configuration": [1]}],
               [{"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "zstd", "configuration": {"level": "x"}}],
               [{"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "blosc", "configuration": {"cname": "nope"}}],
               [{"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "numcodecs.nope"}],
               [{"name": "transpose", "configuration": {"order": [5]}},
                {"name": "bytes", "configuration": {"endian": "little"}}],
               _sharding(chunk_shape=[0]), _sharding(chunk_shape="x"),
               _sharding(chunk_shape=[3]), _sharding(chunk_shape=[5, 5]),
               _sharding(codecs=None), _sharding(codecs=[]), _sharding(index_codecs=5),
               _sharding(index_codecs=[{"name": "zstd"}]), _sharding(index_location="mid"),
               _sharding(codecs=[_SHARDING])],
    "attributes": [None, [], "x", 5],
    "dimension_names": ["x", [1], ["a", "b"], {"a": 1}],
    "storage_transformers": [[{"name": "x"}], "x", 5],
    "extension": [1, {"must_understand": True}, "x"],
})
V3_ARRAY_CASES.update({
    "33-dimensions": _with_many(
        shape=[1] * 33, chunk_grid={"name": "regular",
                                    "configuration": {"chunk_shape": [1] * 33}}),
    "grid-overflows-int64": _with_many(
        shape=[2**62, 2**62], chunk_grid={"name": "regular",
                                          "configuration": {"chunk_shape": [1, 1]}}),
    "int-fill-too-large": _with_many(data_type="int8", fill_value=300),
    "complex-fill-a-number": _with_many(data_type="complex128", fill_value=1.5),
    "deep-inside-a-field": _with_many(attributes={"a": _deep(_DEEP)}),
})

V3_GROUP_CASES = _field_cases({
    "zarr_format": [_MISSING, None, 2, "3"],
    "node_type": [_MISSING, None, "foo", 5],
    "attributes": [None, [], "x"],
    "consolidated_metadata": [5, [], {"kind": "other", "metadata": {}},
                              {"kind": "inline", "metadata": []},
                              {"kind": "inline", "metadata": {"a": 5}},
                              {"kind": "inline", "metadata": {"a": {"zarr_format": 3}}},
                              {"kind": "inline", "metadata": {
                                  "a": {**V3_ARRAY, "shape": [-1]}}},
                              *({"kind": "inline", "metadata": {path: V3_ARRAY}}
                                for path in ("", ".", "..", "../a", "a/../b", "/a", "a//b",
                                             "a/", "a\\b"))],
    "extension": [1, {"must_understand": True}],
})
V3_GROUP_CASES["deep-inside-a-field"] = _with_many(attributes={"a": _deep(_DEEP)})


def _open_array(store: dict) -> None:
    czarr.open_array(store, mode="r", path=NODE)


def _open_group(store: dict) -> None:
    # a node of a consolidated block is checked when it is opened (opening a hierarchy
    # of any size costs one parse), so every member is opened too
    group = czarr.open_group(store, mode="r", path=NODE)
    for name in group:
        group[name]


def _read_attrs(store: dict) -> None:
    czarr.open_group(store, mode="r", path=NODE).attrs.asdict()


def _open_consolidated(store: dict) -> None:
    czarr.open_consolidated(store, mode="r")[NODE].attrs.asdict()


# document kind -> (its store key, the valid document, the cases, how it is opened,
# the other documents the store holds)
DOCUMENTS: dict[str, tuple[str, dict, dict, Callable, dict]] = {
    ".zarray": (f"{NODE}/.zarray", ZARRAY, ZARRAY_CASES, _open_array, {}),
    ".zgroup": (f"{NODE}/.zgroup", ZGROUP, ZGROUP_CASES, _open_group, {}),
    ".zattrs": (f"{NODE}/.zattrs", {"a": 1}, ZATTRS_CASES, _read_attrs,
                {f"{NODE}/.zgroup": ZGROUP}),
    ".zmetadata": (".zmetadata", ZMETADATA, ZMETADATA_CASES, _open_consolidated,
                   {".zgroup": ZGROUP, f"{NODE}/.zgroup": ZGROUP}),
    "zarr.json (array)": (f"{NODE}/zarr.json", V3_ARRAY, V3_ARRAY_CASES, _open_array, {}),
    "zarr.json (group)": (f"{NODE}/zarr.json", V3_GROUP, V3_GROUP_CASES, _open_group, {}),
}

METADATA_CASES = [
    pytest.param(kind, name, case, id=f"{kind}-{name}")
    for kind, (_, _, cases, _, _) in DOCUMENTS.items()
    for name, case in [*[(n, raw) for n, raw in RAW_CASES.items()], *cases.items()]
]


def _store_with(kind: str, case: bytes | Callable[[dict], Any]) -> tuple[dict, str]:
    key, valid, _, _, others = DOCUMENTS[kind]
    doc = case if isinstance(case, bytes) else case(valid)
    store = {k: json.dumps(v).encode() for k, v in others.items()}
    store[key] = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return store, key


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_the_valid_documents_open(kind):
    """The starting point of every case is a document czarr reads."""
    store, _ = _store_with(kind, lambda doc: doc)
    DOCUMENTS[kind][3](store)


@pytest.mark.parametrize(("kind", "name", "case"), METADATA_CASES)
def test_malformed_metadata_raises_metadata_error_naming_the_key(kind, name, case):
    store, key = _store_with(kind, case)
    with pytest.raises(MetadataError) as info:
        DOCUMENTS[kind][3](store)
    message = str(info.value)
    # a document inside .zmetadata is named by its own key there
    names = [key, *([ENTRY_KEYS[name]] if kind == ".zmetadata" and name in ENTRY_KEYS
                    else [])]
    assert any(_names(message, k) for k in names), message


def _names(message: str, key: str) -> bool:
    """Whether ``message`` names ``key`` (``'a/b/.zarray'`` may read ``.zarray at 'a/b'``)."""
    folder, _, document = key.rpartition("/")
    return document in message and folder in message


# ------------------------------------------------------------------------------------
# corrupt chunks
# ------------------------------------------------------------------------------------

_N = 100                          # items per chunk (float64: 800 bytes)
_CHUNK_NBYTES = 8 * _N
_BOMB_NBYTES = 64 << 20           # what a bomb inflates to: 80,000 chunks' worth
_PEAK_LIMIT = 16 << 20            # what reading one may allocate at most, in one
                                  # thread (LZMA's decoder takes 8 MiB for a default
                                  # stream)

CODECS = {
    "blosc-lz4": cc.Blosc("lz4", 5, cc.Blosc.SHUFFLE),
    "blosc-zstd": cc.Blosc("zstd", 3, cc.Blosc.BITSHUFFLE),
    "zstd": cc.Zstd(),
    "lz4": cc.LZ4(),
    "zlib": cc.Zlib(),
    "gzip": cc.GZip(),
    "bz2": cc.BZ2(),
    "lzma": cc.LZMA(),
    "raw": None,
}


def _rle_zstd_frame(nbytes: int) -> bytes:
    """One zstd frame of RLE blocks (4 bytes per 128 KiB of output) that records no
    content size: only decoding it shows its size."""
    frame = bytearray(struct.pack("<I", 0xFD2FB528) + bytes([0x00, 0x38]))
    block = 128 << 10
    for i in range(nbytes // block):
        last = 1 if i == nbytes // block - 1 else 0
        frame += (last | 1 << 1 | block << 3).to_bytes(3, "little") + b"\x07"
    return bytes(frame)


def _stream(compressor: Any, nbytes: int) -> bytes:
    zeros = bytes(1 << 20)
    return b"".join(compressor.compress(zeros) for _ in range(nbytes >> 20)) + \
        compressor.flush()


def _blosc_claiming(nbytes: int) -> bytes:
    frame = bytearray(cc.Blosc("zstd", 9, 0).encode(bytes(2 << 20)))
    struct.pack_into("<i", frame, 4, nbytes)   # the header's decompressed size
    return bytes(frame)


@functools.cache
def _bomb(name: str) -> bytes:
    """A small frame of each codec claiming or inflating to ``_BOMB_NBYTES``."""
    if name == "zstd":
        return _rle_zstd_frame(_BOMB_NBYTES)
    if name == "zlib":
        return _stream(zlib.compressobj(9), _BOMB_NBYTES)
    if name == "gzip":
        return _stream(zlib.compressobj(9, zlib.DEFLATED, 31), _BOMB_NBYTES)
    if name == "bz2":
        return _stream(bz2.BZ2Compressor(9), _BOMB_NBYTES)
    if name == "lzma":
        return _stream(lzma.LZMACompressor(preset=1), _BOMB_NBYTES)
    if name == "lz4":  # LZ4 expands at most 255-fold: claim what 8 KiB can hold
        return struct.pack("<I", 255 * 8192) + bytes(8192)
    return _blosc_claiming(_BOMB_NBYTES)


def _header_claims_more(name: str, frame: bytes, nbytes: int) -> bytes:
    """``frame`` (of ``nbytes`` decoded) with the size its header records doubled."""
    out = bytearray(frame)
    if name.startswith("blosc"):
        struct.pack_into("<i", out, 4, 2 * nbytes)
    elif name == "lz4":
        struct.pack_into("<I", out, 0, 2 * nbytes)
    else:
        # zstd: a single-segment frame of 256..65791 bytes records its size in 2 bytes,
        # minus 256
        assert out[4] & 0xE0 == 0x60, "expected a single-segment frame, 2-byte size"
        struct.pack_into("<H", out, 5, 2 * nbytes - 256)
    return bytes(out)


def _encoded_zeros(codec: Any, nitems: int) -> bytes:
    zeros = np.zeros(nitems)
    return zeros.tobytes() if codec is None else codec.encode(zeros)


# corruption -> (applies to codec name, (name, codec, frame, items) -> corrupt frame)
CORRUPTIONS: dict[str, tuple[Callable[[str], bool], Callable[..., bytes]]] = {
    "truncated": (lambda n: True, lambda n, c, f, k: f[:len(f) // 2]),
    "empty": (lambda n: True, lambda n, c, f, k: b""),
    "garbage": (lambda n: n != "raw",
                lambda n, c, f, k: np.random.default_rng(13).bytes(len(f))),
    "decodes-to-twice-the-chunk": (lambda n: True,
                                   lambda n, c, f, k: _encoded_zeros(c, 2 * k)),
    "decodes-to-half-the-chunk": (lambda n: True,
                                  lambda n, c, f, k: _encoded_zeros(c, k // 2)),
    "header-claims-more": (lambda n: n.startswith("blosc") or n in ("lz4", "zstd"),
                           lambda n, c, f, k: _header_claims_more(n, f, 8 * k)),
    "bomb": (lambda n: n != "raw", lambda n, c, f, k: _bomb(n)),
}
# checksummed formats: a flipped byte is detected
CHECKED = {"zlib", "gzip", "bz2", "lzma"}
CORRUPTIONS["flipped-byte"] = (lambda n: n in CHECKED,
                               lambda n, c, f, k: f[:-6] + bytes([f[-6] ^ 0x55]) + f[-5:])

FORMATS = ("v2", "v2-filtered", "v3", "v3-crc32c", "v3-sharded")


def _make_array(fmt: str, codec: Any) -> tuple[czarr.Array, dict, str]:
    """An array of one chunk (two inner chunks when sharded) holding 0..N-1; returns it,
    its store and the store key of the chunk (or shard) the cases corrupt."""
    store: dict = {}
    data = np.arange(_N, dtype="f8")
    if fmt.startswith("v2"):
        filters = [cc.Delta("<f8")] if fmt == "v2-filtered" else None
        arr = czarr.create(shape=_N, chunks=_N, dtype="f8", store=store, path=NODE,
                           compressor=codec, filters=filters)
        key = f"{NODE}/0"
    else:
        compressors = [] if codec is None else [codec]
        if fmt == "v3-crc32c":
            compressors.append(cc.CRC32C())
        arr = czarr.create_array(store=store, name=NODE, shape=(_N,), dtype="f8",
                                 chunks=(_N // 2,) if fmt == "v3-sharded" else (_N,),
                                 shards=(_N,) if fmt == "v3-sharded" else None,
                                 compressors=compressors, fill_value=0.0)
        key = f"{NODE}/c/0"
    arr[:] = data
    return arr, store, key


def _replace_first_inner_chunk(shard: bytes, new: bytes) -> bytes:
    """The shard with its first inner chunk's bytes replaced (index rewritten, CRC too)."""
    index = decode_index(shard[-36:], 2, True, "shard")
    chunks = [shard[o:o + n] for o, n in index.tolist()]
    chunks[0] = new
    return _shard(chunks)


def _shard(chunks: list[bytes], entries: list | None = None) -> bytes:
    """A shard (index at the end, CRC-32C) of ``chunks``, with ``entries`` as its index
    when given (else the chunks' true offsets)."""
    if entries is None:
        offsets = np.cumsum([0] + [len(c) for c in chunks[:-1]])
        entries = [(int(o), len(c)) for o, c in zip(offsets, chunks)]
    raw = np.array(entries, dtype="<u8").tobytes()
    return b"".join(chunks) + raw + struct.pack("<I", crc32c_checksum(raw))


CHUNK_CASES = [
    pytest.param(fmt, name, corruption, id=f"{fmt}-{name}-{corruption}")
    for fmt in FORMATS for name in CODECS for corruption, (applies, _) in CORRUPTIONS.items()
    if applies(name)
]


@pytest.mark.parametrize(("fmt", "name", "corruption"), CHUNK_CASES)
def test_corrupt_chunk_raises_chunk_decode_error_naming_the_key(fmt, name, corruption):
    codec = CODECS[name]
    arr, store, key = _make_array(fmt, codec)
    frame = store[key]
    if fmt == "v3-sharded":
        inner = decode_index(frame[-36:], 2, True, key)
        first = frame[int(inner[0, 0]):int(inner[0, 0] + inner[0, 1])]
        store[key] = _replace_first_inner_chunk(frame, CORRUPTIONS[corruption][1](
            name, codec, first, _N // 2))
    else:
        stage = frame[:-4] if fmt == "v3-crc32c" else frame
        bad = CORRUPTIONS[corruption][1](name, codec, stage, _N)
        # behind a CRC-32C the corrupt frame carries a valid checksum, so the codec sees it
        store[key] = bad + struct.pack("<I", crc32c_checksum(bad)) \
            if fmt == "v3-crc32c" else bad
    tracemalloc.start()
    try:
        with czarr.config.set(threads=1), pytest.raises(ChunkDecodeError) as info:
            arr[:]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert key in str(info.value), str(info.value)
    assert peak < _PEAK_LIMIT, f"reading the corrupt chunk allocated {peak} bytes"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_uncorrupted_arrays_read_back(fmt):
    for codec in CODECS.values():
        arr, _, _ = _make_array(fmt, codec)
        np.testing.assert_array_equal(arr[:], np.arange(_N, dtype="f8"))


@pytest.mark.parametrize("name", [n for n in CODECS if n != "raw"])
def test_a_bomb_is_refused_by_the_codec_before_it_is_inflated(name):
    """Each compressor's bounded decoding (the pipeline's filtered stages) and its
    decoding into a chunk-sized buffer refuse the bomb within a small allocation."""
    codec, bomb = CODECS[name], _bomb(name)
    for decode in (lambda: codec.decode_bounded(bomb, _CHUNK_NBYTES),
                   lambda: codec.decode(bomb, out=np.empty(_N))):
        tracemalloc.start()
        try:
            with pytest.raises(CzarrError):
                decode()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < _PEAK_LIMIT, f"{name}: {peak} bytes allocated for a bomb"


@pytest.mark.parametrize("name", [n for n in CODECS if n != "raw"])
def test_bounded_decoding_returns_what_fits(name):
    codec = CODECS[name]
    frame = codec.encode(np.arange(_N, dtype="f8"))
    assert bytes(codec.decode_bounded(frame, _CHUNK_NBYTES)) == \
        np.arange(_N, dtype="f8").tobytes()
    with pytest.raises(CzarrError, match="expected"):
        codec.decode_bounded(frame, _CHUNK_NBYTES - 1)


# ------------------------------------------------------------------------------------
# shard indexes
# ------------------------------------------------------------------------------------

_INNER = 4                 # inner chunks per shard
_M = 2**64 - 1             # the index's "no chunk" marker


def _sharded_array(location: str = "end") -> tuple[czarr.Array, dict, list[bytes]]:
    store: dict = {}
    arr = czarr.create_array(store=store, name=NODE, shape=(4 * _INNER,), dtype="i4",
                             chunks=(4,), shards=(4 * _INNER,), compressors=[],
                             fill_value=0)
    if location == "start":
        doc = json.loads(store[f"{NODE}/zarr.json"])
        doc["codecs"][0]["configuration"]["index_location"] = "start"
        store[f"{NODE}/zarr.json"] = json.dumps(doc).encode()
        arr = czarr.open_array(store, mode="r+", path=NODE)
    arr[:] = np.arange(4 * _INNER, dtype="i4")
    return arr, store, [np.arange(4 * i, 4 * i + 4, dtype="<i4").tobytes()
                        for i in range(_INNER)]


def _index_bytes(entries: list) -> bytes:
    raw = np.array(entries, dtype="<u8").tobytes()
    return raw + struct.pack("<I", crc32c_checksum(raw))


def _with_entries(edit: Callable[[list, int], list]) -> Callable[[list[bytes]], bytes]:
    """A shard of the four 16-byte chunks whose index ``edit(entries, nbytes)`` changes
    (the CRC-32C recomputed, so the check under test is the one that fires)."""
    def build(chunks: list[bytes]) -> bytes:
        entries = [(16 * i, 16) for i in range(_INNER)]
        body = b"".join(chunks)
        return body + _index_bytes(edit(entries, len(body) + 16 * _INNER * 2 + 4))
    return build


def _set(i: int, offset: int, nbytes: int) -> Callable[[list, int], list]:
    def edit(entries: list, total: int) -> list:
        entries[i] = (offset if offset >= 0 else total + offset, nbytes)
        return entries
    return edit


SHARD_INDEX_CASES: dict[str, Callable[[list[bytes]], bytes]] = {
    "offset-past-the-end": _with_entries(_set(1, 10_000, 16)),
    "length-past-the-end": _with_entries(_set(3, 48, 10_000)),
    "offset-at-uint64-max-minus-1": _with_entries(_set(0, _M - 1, 16)),
    "offset-plus-length-wraps-uint64": _with_entries(_set(0, 2**63, 2**63 + 16)),
    "offset-plus-length-past-int64": _with_entries(_set(2, 2**62, 2**62)),
    "length-2**63": _with_entries(_set(2, 0, 2**63)),
    "into-the-index": _with_entries(_set(3, -20, 16)),
    "half-missing-offset": _with_entries(_set(1, _M, 16)),
    "half-missing-length": _with_entries(_set(1, 0, _M)),
    "overlapping-chunks": _with_entries(_set(1, 8, 16)),
    "chunk-inside-another": _with_entries(lambda e, t: [(0, 64), (16, 16), (32, 16),
                                                        (48, 16)]),
    "bad-checksum": lambda chunks: (lambda s: s[:-1] + bytes([s[-1] ^ 1]))(
        _shard(chunks)),
    "index-for-2-chunks": lambda chunks: b"".join(chunks) + _index_bytes(
        [(0, 16), (16, 16)]),
    "shorter-than-its-index": lambda chunks: b"\x01" * 40,
    "empty-shard": lambda chunks: b"",
    "all-0xff": lambda chunks: b"\xff" * (64 + 16 * _INNER * 2 + 4),
}

# how a shard is used -> (the call, what it gives when it may not see the bad entry)
_SHARD_USES: dict[str, tuple[Callable[[czarr.Array], Any], Any]] = {
    "whole-read": (lambda arr: arr[:], None),            # every inner chunk: one read
    "range-read": (lambda arr: arr[4:8].tolist(), [4, 5, 6, 7]),  # one chunk's bytes
    "partial-rewrite": (lambda arr: arr.__setitem__(slice(0, 4), 7), None),
    "listing": (lambda arr: arr.nchunks_initialized, _INNER),
}


@pytest.mark.parametrize("how", list(_SHARD_USES))
@pytest.mark.parametrize("case", list(SHARD_INDEX_CASES))
def test_bad_shard_index_raises_chunk_decode_error_naming_the_shard(case, how):
    arr, store, chunks = _sharded_array()
    key = f"{NODE}/c/0"
    store[key] = SHARD_INDEX_CASES[case](chunks)
    use, unaffected = _SHARD_USES[how]
    try:
        result = use(arr)
    except ChunkDecodeError as e:
        assert key in str(e), str(e)
    else:
        # the shard's size is unknown to a ranged read and a listing: an entry pointing
        # past the end is seen only when it is read; what they give is then right
        assert unaffected is not None, f"{case}: {how} raised nothing"
        assert result == unaffected, f"{case}: {how} gave {result!r}"


def test_the_index_checks_see_an_index_at_the_start():
    arr, store, chunks = _sharded_array("start")
    key = f"{NODE}/c/0"
    index_size = 16 * _INNER + 4
    entries = [(index_size + 16 * i, 16) for i in range(_INNER)]
    np.testing.assert_array_equal(arr[:], np.arange(16))
    entries[2] = (index_size - 8, 16)  # into the index
    store[key] = _index_bytes(entries) + b"".join(chunks)
    with pytest.raises(ChunkDecodeError, match="outside the shard") as info:
        arr[:]
    assert key in str(info.value)


def test_chunks_sharing_their_bytes_are_read():
    """Two index entries naming the same bytes (a writer storing a repeated chunk once)
    are not an overlap."""
    arr, store, chunks = _sharded_array()
    store[f"{NODE}/c/0"] = _shard(chunks, [(0, 16), (0, 16), (32, 16), (48, 16)])
    np.testing.assert_array_equal(arr[:], np.r_[0:4, 0:4, 8:16])


def test_a_shard_of_too_many_inner_chunks_is_refused_naming_the_key():
    """Found by atheris (metadata_v3, seed 13): a shard of 2**31 inner chunks made the
    Morton order allocate 32 GiB (MemoryError) instead of raising MetadataError."""
    doc = {"zarr_format": 3, "node_type": "array", "shape": [10, 10],
           "data_type": "float64", "fill_value": 0.0, "attributes": {},
           "chunk_grid": {"name": "regular",
                          "configuration": {"chunk_shape": [5, 2**31]}},
           "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
           "codecs": [{"name": "sharding_indexed", "configuration": {
               "chunk_shape": [5, 1], "codecs": [{"name": "bytes"}],
               "index_codecs": [{"name": "bytes"}, {"name": "crc32c"}]}}]}
    store = {"a/zarr.json": json.dumps(doc).encode()}
    with pytest.raises(MetadataError, match="a/zarr.json"):
        czarr.open_array(store, mode="r", path="a")
