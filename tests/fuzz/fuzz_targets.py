"""Fuzz targets for czarr's readers of untrusted bytes, shared by the hypothesis tests
(``test_fuzz.py``) and atheris (this file run as a script).

Each target takes one input (bytes) and feeds it to one reader: the codec decoders
(``codecs``), the chunk pipeline of filtered chains (``pipeline``), the Zarr v2 and v3
metadata parsers, opened as a store would hold them (``metadata_v2``, ``metadata_v3``,
``zmetadata``) and the shard index decoder, alone and under a sharded array
(``shard_index``). A target may raise a czarr error (a ``CzarrError``): that is the
reader refusing the input. Anything else (another exception, a crash, a hang, a large
allocation) is a bug.

Run one with atheris (``pip install atheris``)::

    python tests/fuzz/fuzz_targets.py metadata_v3 -runs=20000 -seed=13 \
        -rss_limit_mb=1024 -timeout=10 [corpus folder]

A failure is replayed with the same ``-seed`` and ``-runs``, or from the crash file
libFuzzer writes (``python tests/fuzz/fuzz_targets.py <target> crash-<hash>``).
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Callable

import numpy as np

import czarr
import czarr.codecs as cc
from czarr._core import blosc as _blosc
from czarr._core.filters import crc32c_checksum
from czarr.errors import CzarrError
from czarr.metadata.v2 import decode_array_metadata, decode_attrs, decode_group_metadata
from czarr.metadata.v3 import decode_array_metadata_v3, decode_group_metadata_v3
from czarr.pipeline import ChunkPipeline
from czarr.sharding import decode_index

# the largest chunk a metadata target reads an element of: bigger declared chunks are
# legal (and allocated when read), so they are opened but not read
_READ_LIMIT = 1 << 20

CODECS: list = [
    cc.Blosc("lz4", 5, cc.Blosc.SHUFFLE), cc.Blosc("zstd", 3, cc.Blosc.BITSHUFFLE),
    cc.Blosc("blosclz", 9, cc.Blosc.NOSHUFFLE), cc.Blosc("zlib", 1, cc.Blosc.SHUFFLE),
    cc.Zstd(), cc.Zstd(3, True), cc.LZ4(), cc.Zlib(), cc.GZip(), cc.BZ2(), cc.LZMA(),
    cc.CRC32C(), cc.Adler32(), cc.Fletcher32(), cc.Delta("<i4"), cc.Shuffle(4),
    cc.PackBits(), cc.Base64(), cc.VLenUTF8(), cc.VLenBytes(), cc.VLenArray("<i4"),
    cc.JSON(),   # not Pickle: unpickling is code execution, refused unless allowed
]

# chains a chunk pipeline decodes stage by stage (filters, compressor)
PIPELINES: list[ChunkPipeline] = [
    ChunkPipeline(np.dtype("<i4"), (64,), "C", cc.CRC32C(), [cc.Zstd()]),   # v3 + crc32c
    ChunkPipeline(np.dtype("<f8"), (8, 8), "C", cc.Zlib(), [cc.Delta("<f8")]),
    ChunkPipeline(np.dtype("<u2"), (100,), "F", cc.BZ2(), [cc.Shuffle(2), cc.LZ4()]),
    ChunkPipeline(np.dtype("|b1"), (64,), "C", cc.GZip(), [cc.PackBits()]),
    ChunkPipeline(np.dtype("<i8"), (16,), "C", cc.Blosc(), [cc.AsType("<i1", "<i8")]),
]

ZARRAY = {"chunks": [5, 5], "compressor": {"id": "zlib", "level": 1},
          "dimension_separator": ".", "dtype": "<f8", "fill_value": 0.0, "filters": None,
          "order": "C", "shape": [10, 10], "zarr_format": 2}
V3_ARRAY = {"shape": [10, 10], "data_type": "float64",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 5]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0.0,
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                       {"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
            "attributes": {}, "zarr_format": 3, "node_type": "array",
            "storage_transformers": []}
V3_SHARDED = {**V3_ARRAY, "codecs": [{"name": "sharding_indexed", "configuration": {
    "chunk_shape": [5, 1], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                     {"name": "crc32c"}], "index_location": "end"}}]}
V3_GROUP = {"attributes": {"a": [1, {"b": None}]}, "zarr_format": 3, "node_type": "group",
            "consolidated_metadata": {"kind": "inline", "must_understand": False,
                                      "metadata": {"x": V3_ARRAY}}}
ZMETADATA = {"metadata": {".zgroup": {"zarr_format": 2}, ".zattrs": {"a": 1},
                          "x/.zarray": ZARRAY, "x/.zattrs": {}},
             "zarr_consolidated_format": 1}

# the shard index target's array: 10 x 10 int32, shards 10 x 10 of 5 x 1 inner chunks
_SHARD_INNER = 20
_SHARD_ARRAY = {**V3_SHARDED, "data_type": "int32", "fill_value": 0}


def _refused(call: Callable[..., object], *args: object) -> bool:
    """Run ``call(*args)``; True when a czarr error refused the input, False when it
    ran. Any other exception propagates: that is the bug the fuzzer looks for."""
    try:
        call(*args)
    except CzarrError:
        return True
    return False


def fuzz_codecs(data: bytes) -> None:
    """Decode ``data[3:]`` with the codec ``data[0]`` picks: into new bytes, into a
    destination of ``data[1:3]`` bytes, bounded to that size, and (Blosc) by item."""
    if len(data) < 3:
        return
    codec = CODECS[data[0] % len(CODECS)]
    size = int.from_bytes(data[1:3], "little")
    frame = data[3:]
    _refused(lambda: codec.decode(frame))
    _refused(lambda: codec.decode(frame, out=bytearray(size)))
    _refused(lambda: codec.decode_bounded(frame, size))
    if isinstance(codec, cc.Blosc):
        _refused(lambda: _blosc.getitem(frame, size % 97, size % 13))


def fuzz_pipeline(data: bytes) -> None:
    """Decode ``data[1:]`` as a stored chunk of the pipeline ``data[0]`` picks."""
    if not data:
        return
    pipeline = PIPELINES[data[0] % len(PIPELINES)]
    _refused(lambda: pipeline.decode_into(data[1:], pipeline.empty_chunk(), "c/0"))


def _read_a_corner(arr: czarr.Array) -> None:
    """Read the first element of ``arr`` unless its declared chunk is large."""
    itemsize = max(arr.dtype.itemsize, 1)
    if int(np.prod(arr.chunks, dtype=object)) * itemsize <= _READ_LIMIT:
        arr[(slice(0, 1),) * arr.ndim]


def _open_node(store: dict, path: str = "") -> None:
    node = czarr.open(store, mode="r", path=path)
    node.attrs.asdict()
    if isinstance(node, czarr.Array):
        _read_a_corner(node)
    else:
        for _, arr in node.arrays():
            _read_a_corner(arr)


# a stored chunk for the arrays the metadata targets open, so a corner read decodes it
# through whatever codecs the fuzzed document names (mostly refusing it)
_CHUNK = cc.Zlib().encode(np.arange(25, dtype="<f8"))


def fuzz_metadata_v2(data: bytes) -> None:
    """``data`` as each Zarr v2 document: parsed, then opened from a store."""
    _refused(lambda: decode_array_metadata(data))
    _refused(lambda: decode_group_metadata(data))
    _refused(lambda: decode_attrs(data))
    _refused(lambda: _open_node({"a/.zarray": data, "a/0.0": _CHUNK, "a/0": _CHUNK}, "a"))
    _refused(lambda: _open_node({"a/.zgroup": data}, "a"))
    _refused(lambda: _open_node({"a/.zgroup": b'{"zarr_format": 2}', "a/.zattrs": data}, "a"))


def fuzz_metadata_v3(data: bytes) -> None:
    """``data`` as a Zarr v3 ``zarr.json``: parsed as an array's and a group's, then
    opened from a store (consolidated members and sharded arrays included)."""
    _refused(lambda: decode_array_metadata_v3(data))
    _refused(lambda: decode_group_metadata_v3(data))
    _refused(lambda: _open_node({"a/zarr.json": data, "a/c/0/0": _CHUNK, "a/c/0": _CHUNK,
                                 "a/0.0": _CHUNK}, "a"))


def fuzz_zmetadata(data: bytes) -> None:
    """``data`` as a ``.zmetadata`` document, opened and walked."""
    def walk() -> None:
        group = czarr.open_consolidated({".zmetadata": data}, mode="r")
        group.attrs.asdict()
        group.visitvalues(lambda node: _read_a_corner(node)
                          if isinstance(node, czarr.Array) else node.attrs.asdict())
    _refused(walk)


def fuzz_shard_index(data: bytes) -> None:
    """``data`` as a shard: its index decoded (with and without a CRC-32C), then the
    shard read whole, by one inner chunk, listed, and partly rewritten."""
    for crc in (True, False):
        size = 16 * _SHARD_INNER + (4 if crc else 0)
        _refused(decode_index, data[-size:], _SHARD_INNER, crc, "c/0/0")
    meta = json.dumps(_SHARD_ARRAY).encode()
    for use in (lambda a: a[:], lambda a: a[0:5, 3], lambda a: a.nchunks_initialized,
                lambda a: a.__setitem__((slice(0, 5), 0), 7)):
        store = {"zarr.json": meta, "c/0/0": data}
        _refused(lambda use, store: use(czarr.open_array(store, mode="r+")), use, store)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "codecs": fuzz_codecs,
    "pipeline": fuzz_pipeline,
    "metadata_v2": fuzz_metadata_v2,
    "metadata_v3": fuzz_metadata_v3,
    "zmetadata": fuzz_zmetadata,
    "shard_index": fuzz_shard_index,
}


def _shard(n: int) -> bytes:
    chunks = [np.arange(5 * i, 5 * i + 5, dtype="<i4").tobytes() for i in range(n)]
    raw = np.array([(20 * i, 20) for i in range(n)], dtype="<u8").tobytes()
    return b"".join(chunks) + raw + struct.pack("<I", crc32c_checksum(raw))


def _bytes(encoded: object) -> bytes:
    return np.asarray(encoded).tobytes() if isinstance(encoded, np.ndarray) \
        else bytes(encoded)  # type: ignore[call-overload]


def seed_corpus(target: str) -> list[bytes]:
    """Valid inputs of a target, from which the fuzzers mutate."""
    data = np.arange(64, dtype="<i4")
    if target == "codecs":
        objects = np.array(["a", "bc", ""], dtype=object)
        arrays = np.array([np.arange(3, dtype="<i4"), np.arange(0, dtype="<i4")] + [None],
                          dtype=object)[:2]
        samples = {cc.PackBits: np.ones(64, bool), cc.VLenUTF8: objects,
                   cc.VLenBytes: np.array([b"a", b""], dtype=object), cc.JSON: objects,
                   cc.VLenArray: arrays}
        return [bytes([i, 0, 1]) + _bytes(c.encode(samples.get(type(c), data)))
                for i, c in enumerate(CODECS)]
    if target == "pipeline":
        return [bytes([i]) + _bytes(p.encode(np.zeros(p.chunks, p.dtype, order=p.order)))
                for i, p in enumerate(PIPELINES)]
    if target == "metadata_v2":
        return [json.dumps(d).encode() for d in (ZARRAY, {"zarr_format": 2}, {"a": [1]},
                                                  {**ZARRAY, "dtype": [["a", "<i4"]],
                                                   "fill_value": "AAAAAA=="})]
    if target == "metadata_v3":
        return [json.dumps(d).encode() for d in (V3_ARRAY, V3_SHARDED, V3_GROUP)]
    if target == "zmetadata":
        return [json.dumps(ZMETADATA).encode()]
    if target == "shard_index":
        return [_shard(_SHARD_INNER)]
    raise KeyError(target)


# words libFuzzer splices into inputs (its -dict): the keys and values metadata uses
DICTIONARY = sorted({
    *ZARRAY, *V3_ARRAY, *V3_GROUP["consolidated_metadata"], *ZMETADATA,
    "name", "configuration", "endian", "little", "big", "id", "bytes", "zstd", "blosc",
    "gzip", "crc32c", "sharding_indexed", "transpose", "index_codecs", "index_location",
    "chunk_shape", "separator", "regular", "default", "v2", "array", "group", "NaN",
    "Infinity", "-Infinity", "null", "true", "false", "<f8", "|O", "<U4", "|V8", "|S4",
    "string", "int8", "float32", "complex128", "fixed_length_utf32", "length_bytes",
    "numpy.datetime64", "unit", "scale_factor", "vlen-utf8", "delta", "astype",
})


# the czarr modules whose coverage guides each target's mutations (instrumenting all of
# czarr costs seconds per process; these are the code each target reaches)
INSTRUMENTED: dict[str, tuple[str, ...]] = {
    "codecs": ("czarr.codecs",),
    "pipeline": ("czarr.pipeline", "czarr.codecs"),
    "metadata_v2": ("czarr.metadata", "czarr.formats", "czarr.layout", "czarr.attrs"),
    "metadata_v3": ("czarr.metadata", "czarr.formats", "czarr.layout", "czarr.codecs.v3"),
    "zmetadata": ("czarr.consolidated", "czarr.metadata"),
    "shard_index": ("czarr.sharding", "czarr.engine", "czarr.pipeline"),
}


def _instrument(prefixes: tuple[str, ...]) -> int:
    """Add atheris' coverage hooks to the functions and methods of the modules named
    by ``prefixes``; returns how many."""
    import types

    import atheris

    count = 0
    for name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType) or not any(
                name == p or name.startswith(p + ".") for p in prefixes):
            continue
        for obj in list(vars(module).values()):
            members = vars(obj).values() if isinstance(obj, type) else [obj]
            for func in members:
                if isinstance(func, types.FunctionType) and func.__module__ == name:
                    atheris.instrument_func(func)
                    count += 1
    return count


# JSON values the document mutator puts in place of another (with words of DICTIONARY)
_VALUES: list = [None, True, False, 0, 1, -1, 2, 3, 8, 2**31, 2**53, 2**63 - 1, 2**63,
                 2**64, -(2**63), 1.5, -0.0, 1e308, [], {}, [0], [1, 1], [0, 0], [-1],
                 [2**62, 2**62], "", "<f8", "|O", "|V0", "NaN", "0x7fc00000", "AAAA"]


def _json_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """libFuzzer's custom mutator for the metadata targets: a JSON document has one value
    replaced (by an interesting value, a word, or another of its values), removed, or a
    field added; anything else gets libFuzzer's own byte mutations."""
    import random

    import atheris

    rng = random.Random(seed)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        doc = None
    if doc is None or rng.random() < 0.2:
        return atheris.Mutate(data, max_size)
    places: list[tuple[object, object]] = []
    stack = [doc]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item) \
            if isinstance(item, list) else ()
        for key, value in pairs:
            places.append((item, key))
            stack.append(value)
    pick = rng.random()
    if isinstance(doc, dict) and (not places or pick < 0.15):
        doc[rng.choice(DICTIONARY)] = rng.choice(_VALUES)
    elif places:
        parent, key = rng.choice(places)
        if pick < 0.3:
            del parent[key]  # type: ignore[attr-defined]
        else:
            other_parent, other_key = rng.choice(places)
            parent[key] = (other_parent[other_key] if pick < 0.45  # type: ignore[index]
                           else rng.choice(DICTIONARY) if pick < 0.6
                           else rng.choice(_VALUES))
    try:
        out = json.dumps(doc).encode()
    except (ValueError, RecursionError):  # a value moved inside itself
        return atheris.Mutate(data, max_size)
    return out if len(out) <= max_size else atheris.Mutate(data, max_size)


def main(argv: list[str]) -> None:
    """``fuzz_targets.py TARGET [libFuzzer options] [corpus folders]`` under atheris."""
    import atheris

    name = argv[1]
    print(f"czarr fuzz target {name}: {_instrument(INSTRUMENTED[name])} functions "
          "instrumented", flush=True)
    mutator = {"custom_mutator": _json_mutator} if name.startswith(("metadata", "zmeta")) \
        else {}
    atheris.Setup([argv[0], *argv[2:]], TARGETS[name], **mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
