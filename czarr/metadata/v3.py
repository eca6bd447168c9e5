"""Zarr v3 metadata documents (one ``zarr.json`` per array or group) as plain data.

Everything here is a pure function of its arguments: bytes (or already-parsed JSON) go
in, an :class:`ArrayMetadataV3` or a ``dict`` comes out, and back again. Nothing here
touches a store, builds a codec or knows where documents live. The JSON written is byte
for byte what zarr-python 3.1 writes: its key order, ``indent=2``, ASCII only. Data types
and fill values live in :mod:`czarr.metadata.v3_dtypes` (re-exported here); codecs are
kept as their JSON configurations for the codec pipeline to build. Only the regular chunk
grid, the ``default`` and ``v2`` chunk key encodings and no storage transformers are
supported; unknown extension fields are refused unless marked ``must_understand: false``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from czarr._core.indexing import check_array_grid
from czarr.errors import MetadataError
from czarr.metadata.normalize import _is_int
from czarr.metadata.v2 import _describe_key, _fail, _NumpyJSONEncoder, _parse_json_document
from czarr.metadata.v3_dtypes import (
    _config,
    _decode_data_type,
    _decode_fill,
    _dtype_and_kind,
    _encode_fill,
    _normalize_fill,
    decode_data_type,
    decode_fill_value_v3,
    encode_data_type,
    encode_fill_value_v3,
)
from czarr.util import ceildiv

__all__ = [
    "ZARR_FORMAT",
    "ArrayMetadataV3",
    "decode_array_metadata_v3",
    "encode_array_metadata_v3",
    "decode_group_metadata_v3",
    "encode_group_metadata_v3",
    "node_type_v3",
    "parse_node_v3",
    "consolidated_nodes_v3",
    "encode_data_type",
    "decode_data_type",
    "encode_fill_value_v3",
    "decode_fill_value_v3",
]

ZARR_FORMAT = 3

# The fields of an array's zarr.json, in the order zarr-python 3 writes them.
_ARRAY_FIELDS = (
    "shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs",
    "attributes", "dimension_names", "zarr_format", "node_type", "storage_transformers",
)
_REQUIRED_ARRAY_FIELDS = (
    "shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs",
)
_GROUP_FIELDS = ("attributes", "zarr_format", "consolidated_metadata", "node_type")

# ---------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------


def _encode_json(obj: Any) -> bytes:
    """As zarr-python 3 writes every zarr.json: ``json.dumps(d, indent=2, allow_nan=True)``
    (so ASCII, ``(',', ': ')`` separators, keys in insertion order)."""
    return json.dumps(obj, indent=2, allow_nan=True, cls=_NumpyJSONEncoder).encode("ascii")


def _check_extensions(doc: Mapping, known: Sequence[str], where: str) -> None:
    """Unknown top-level fields are extensions: per the v3 specification (and as
    zarr-python 3 reads them) each must be an object with ``"must_understand": false``
    to be ignored; anything else is an extension czarr would have to understand."""
    refused = [
        k for k, v in doc.items()
        if k not in known and not (isinstance(v, Mapping) and v.get("must_understand") is False)
    ]
    if refused:
        raise _fail(
            where, refused[0],
            f"is an unknown extension that must be understood (unknown fields "
            f"{sorted(refused)!r}; only objects with \"must_understand\": false may be ignored)",
        )


def _check_format(doc: Mapping, where: str, node_type: str | None) -> str:
    if "zarr_format" not in doc:
        raise _fail(where, "zarr_format", "is missing")
    fmt = doc["zarr_format"]
    if not _is_int(fmt) or fmt != ZARR_FORMAT:
        hint = " (a Zarr v2 document: read it with czarr.metadata.v2)" if fmt == 2 else ""
        raise _fail(where, "zarr_format", f"must be 3, got {fmt!r} (unsupported format){hint}")
    if "node_type" not in doc:
        raise _fail(where, "node_type", "is missing")
    found = doc["node_type"]
    if found not in ("array", "group"):
        raise _fail(where, "node_type", f"must be 'array' or 'group', got {found!r}")
    if node_type is not None and found != node_type:
        raise _fail(where, "node_type", f"is {found!r}, expected {node_type!r} (this is "
                    f"{'an' if found == 'array' else 'a'} {found}'s zarr.json)")
    return found


def _named(obj: Any, where: str, field: str) -> tuple[str, dict]:
    """A v3 named configuration (``"name"`` or ``{"name": ..., "configuration": {...}}``)
    -> ``(name, configuration)``."""
    if isinstance(obj, str):
        return obj, {}
    if not isinstance(obj, Mapping) or not isinstance(obj.get("name"), str):
        raise _fail(where, field, f"must be a name or an object with a string 'name', got {obj!r}")
    config = obj.get("configuration", {})
    if not isinstance(config, Mapping):
        raise _fail(where, field, f"has a configuration that is not an object: {config!r}")
    return obj["name"], dict(config)


# ---------------------------------------------------------------------------------------
# array metadata
# ---------------------------------------------------------------------------------------


def _check_extents(value: Any, where: str, field: str, minimum: int) -> tuple[int, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise _fail(where, field, f"must be a list of integers, got {value!r}")
    # JSON gives plain ints: checked at C speed, so a million-entry list costs little
    if not all(type(v) is int or _is_int(v) for v in value):
        raise _fail(where, field, f"must hold integers only, got {list(value)!r}")
    if any(v < minimum for v in value):
        what = "positive" if minimum else "non-negative"
        raise _fail(where, field, f"must hold {what} integers, got {list(value)!r}")
    return tuple(int(v) for v in value)


def _copy_json(obj: Any) -> Any:
    """A deep copy of parsed JSON (dicts, lists, tuples, scalars; anything else through
    ``copy.deepcopy``), several times faster than ``deepcopy`` on the codec
    configurations every array's metadata carries."""
    kind = type(obj)
    if kind is dict:
        return {k: _copy_json(v) for k, v in obj.items()}
    if kind is list or kind is tuple:
        return kind(_copy_json(v) for v in obj)
    if obj is None or kind in (str, int, float, bool):
        return obj
    return copy.deepcopy(obj)


def _codec_list(codecs: Any, where: str) -> tuple[dict, ...]:
    if isinstance(codecs, str | bytes | Mapping) or not isinstance(codecs, Sequence):
        raise _fail(where, "codecs", f"must be a list of codec configurations, got {codecs!r}")
    out = []
    for c in codecs:
        if hasattr(c, "to_dict") and not isinstance(c, Mapping):
            c = c.to_dict()  # a zarr-python 3 codec object
        name, _ = _named(c, where, "codecs")
        out.append({"name": name} if isinstance(c, str) else _copy_json(dict(c)))
    if not out:
        raise _fail(where, "codecs", "is empty; an array needs an array -> bytes codec")
    return tuple(out)


def _object_codec_kind(codecs: Sequence[Mapping]) -> str | None:
    """'string' or 'bytes' when the array -> bytes codec (inside sharding too) says so."""
    for c in codecs:
        name = c.get("name")
        if name == "vlen-utf8":
            return "string"
        if name == "vlen-bytes":
            return "bytes"
        if name == "sharding_indexed":
            inner = c.get("configuration", {}).get("codecs", [])
            found = _object_codec_kind([i for i in inner if isinstance(i, Mapping)])
            if found:
                return found
    return None


@dataclasses.dataclass(frozen=True, eq=False)
class ArrayMetadataV3:
    """The content of an array's ``zarr.json``, decoded.

    Construction validates and canonicalises: ``data_type`` becomes a native NumPy dtype
    (``StringDType`` becomes ``object``), ``fill_value`` a scalar of it (the zarr-python 3
    default when None), ``codecs`` a tuple of config dicts. An ``object`` array holds
    ``string`` unless its fill value is ``bytes`` or its codecs hold ``vlen-bytes``. Two
    instances are equal when they encode to the same document (so a NaN fill value equals
    itself). Use ``dataclasses.replace(meta, shape=...)`` to derive one.
    """

    shape: tuple[int, ...]
    data_type: np.dtype
    chunk_shape: tuple[int, ...]
    chunk_key_encoding: tuple[str, str] = ("default", "/")
    fill_value: Any = None
    codecs: tuple[dict, ...] = ()
    attributes: dict = dataclasses.field(default_factory=dict)
    dimension_names: tuple[str | None, ...] | None = None
    storage_transformers: tuple = ()
    zarr_format: int = ZARR_FORMAT
    node_type: str = "array"

    def __post_init__(self) -> None:
        self._validate("ArrayMetadataV3")

    def _validate(self, where: str) -> None:
        set_ = object.__setattr__
        if not _is_int(self.zarr_format) or self.zarr_format != ZARR_FORMAT:
            raise _fail(where, "zarr_format", f"must be 3, got {self.zarr_format!r}")
        if self.node_type != "array":
            raise _fail(where, "node_type", f"must be 'array', got {self.node_type!r}")
        shape = _check_extents(self.shape, where, "shape", 0)
        chunks = _check_extents(self.chunk_shape, where, "chunk_grid", 1)
        if len(shape) != len(chunks):
            raise _fail(where, "chunk_grid", f"has {len(chunks)} dimensions but shape has "
                        f"{len(shape)} (chunk_shape {list(chunks)}, shape {list(shape)})")
        set_(self, "shape", shape)
        set_(self, "chunk_shape", chunks)
        codecs = _codec_list(self.codecs, where) if self.codecs else ()
        set_(self, "codecs", codecs)
        try:
            dtype, kind = _dtype_and_kind(self.data_type, self.fill_value)
            encode_data_type(dtype)
        except (TypeError, ValueError) as e:
            raise _fail(where, "data_type", f"is not supported: {self.data_type!r} ({e})") \
                from None
        kind = (_object_codec_kind(codecs) or kind) if dtype.kind == "O" else None
        set_(self, "data_type", dtype)
        try:
            check_array_grid(shape, chunks, dtype.itemsize)
        except ValueError as e:
            raise _fail(where, "shape", f"is beyond czarr's limits: {e}") from None
        try:
            set_(self, "fill_value", _normalize_fill(self.fill_value, dtype, kind))
        except (TypeError, ValueError, OverflowError) as e:
            raise _fail(where, "fill_value", f"{self.fill_value!r} is not valid for data type "
                        f"{encode_data_type(dtype, object_kind=kind or 'string')!r} ({e})") \
                from None
        cke = self.chunk_key_encoding
        if (not isinstance(cke, Sequence) or len(cke) != 2 or cke[0] not in ("default", "v2")
                or cke[1] not in ("/", ".")):
            raise _fail(where, "chunk_key_encoding",
                        f"must be ('default' or 'v2', '/' or '.'), got {cke!r}")
        set_(self, "chunk_key_encoding", (str(cke[0]), str(cke[1])))
        if not isinstance(self.attributes, Mapping):
            raise _fail(where, "attributes", f"must be an object, got {self.attributes!r}")
        set_(self, "attributes", dict(self.attributes))
        names = self.dimension_names
        if names is not None:
            if isinstance(names, str) or not isinstance(names, Sequence) or not all(
                    n is None or isinstance(n, str) for n in names):
                raise _fail(where, "dimension_names",
                            f"must be a list of strings or nulls, got {names!r}")
            if len(names) != len(shape):
                raise _fail(where, "dimension_names", f"has {len(names)} names for "
                            f"{len(shape)} dimensions")
            set_(self, "dimension_names", tuple(names))
        if self.storage_transformers:
            raise _fail(where, "storage_transformers",
                        f"is not supported by czarr (got {list(self.storage_transformers)!r})")
        set_(self, "storage_transformers", ())

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def cdata_shape(self) -> tuple[int, ...]:
        """Number of chunks (shards, when sharded) along each dimension."""
        return tuple(ceildiv(s, c) for s, c in zip(self.shape, self.chunk_shape))

    @property
    def nchunks(self) -> int:
        """Total number of chunks (shards, when sharded) in the grid."""
        return math.prod(self.cdata_shape)

    @property
    def data_type_json(self) -> str | dict:
        """The ``data_type`` as written (``string`` vs ``variable_length_bytes`` decided
        by the fill value)."""
        kind = "bytes" if isinstance(self.fill_value, bytes) else "string"
        return encode_data_type(self.data_type, object_kind=kind)

    def chunk_key(self, coords: Sequence[int]) -> str:
        """The store key of a chunk (relative to the array): ``c/1/2`` (default), ``1.2``
        (v2); ``c`` or ``0`` for a 0-d array."""
        name, sep = self.chunk_key_encoding
        if name == "v2":
            return sep.join(map(str, coords)) if len(coords) else "0"
        return sep.join(["c", *map(str, coords)])

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the ``zarr.json`` document, in zarr-python 3's key order."""
        doc = {
            "shape": list(self.shape),
            "data_type": self.data_type_json,
            "chunk_grid": _config("regular", chunk_shape=list(self.chunk_shape)),
            "chunk_key_encoding": _config(self.chunk_key_encoding[0],
                                          separator=self.chunk_key_encoding[1]),
            "fill_value": _encode_fill(self.fill_value, self.data_type),
            "codecs": copy.deepcopy(list(self.codecs)),
            "attributes": copy.deepcopy(self.attributes),
            "dimension_names": None if self.dimension_names is None
            else list(self.dimension_names),
            "zarr_format": self.zarr_format,
            "node_type": self.node_type,
            "storage_transformers": [],
        }
        if doc["dimension_names"] is None:
            del doc["dimension_names"]
        return doc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArrayMetadataV3):
            return NotImplemented
        return encode_array_metadata_v3(self) == encode_array_metadata_v3(other)

    def __hash__(self) -> int:
        return hash(encode_array_metadata_v3(self))


def encode_array_metadata_v3(meta: ArrayMetadataV3) -> bytes:
    """``ArrayMetadataV3`` -> the bytes of its ``zarr.json``, as zarr-python 3.1 writes it.

    Parameters
    ----------
    meta : ArrayMetadataV3

    Returns
    -------
    bytes
        ASCII JSON, ``indent=2``, zarr-python 3's key order.
    """
    return _encode_json(meta.to_dict())


def _decode_chunk_grid(obj: Any, where: str) -> Any:
    name, config = _named(obj, where, "chunk_grid")
    if name != "regular":
        raise _fail(where, "chunk_grid", f"{name!r} is not supported (only 'regular' is)")
    if "chunk_shape" not in config:
        raise _fail(where, "chunk_grid", "has no configuration.chunk_shape")
    return config["chunk_shape"]


def _decode_chunk_key_encoding(obj: Any, where: str) -> tuple[str, str]:
    name, config = _named(obj, where, "chunk_key_encoding")
    if name not in ("default", "v2"):
        raise _fail(where, "chunk_key_encoding",
                    f"{name!r} is not supported (only 'default' and 'v2' are)")
    sep = config.get("separator", "/" if name == "default" else ".")
    if sep not in ("/", "."):
        raise _fail(where, "chunk_key_encoding", f"has separator {sep!r}; must be '/' or '.'")
    return name, sep


def decode_array_metadata_v3(data: bytes | str | Mapping,
                             key: str = "zarr.json") -> ArrayMetadataV3:
    """The bytes (or parsed JSON) of an array's ``zarr.json`` -> ``ArrayMetadataV3``.

    Parameters
    ----------
    data : bytes, str or mapping
        The document as stored, as text, or already parsed (consolidated metadata).
    key : str
        The store key it came from, used in error messages only.

    Returns
    -------
    ArrayMetadataV3

    Raises
    ------
    MetadataError
        Bad JSON, a missing or malformed field, a zarr_format other than 3 (a v2 document),
        a group's document, a chunk grid other than regular, storage transformers, or an
        unknown extension field without ``"must_understand": false``; the message names
        the key and the field.
    """
    where = _describe_key(key)
    doc = _parse_json_document(data, key)
    _check_format(doc, where, "array")
    for field in _REQUIRED_ARRAY_FIELDS:
        if field not in doc:
            raise _fail(where, field, "is missing")
    _check_extensions(doc, _ARRAY_FIELDS, where)
    try:
        dtype, kind = _decode_data_type(doc["data_type"])
    except (TypeError, ValueError) as e:  # TypeError: NumPy refusing a size
        raise _fail(where, "data_type", str(e)) from None
    if doc["fill_value"] is None:
        raise _fail(where, "fill_value", "is null; Zarr v3 requires a fill value")
    try:
        fill = _decode_fill(doc["fill_value"], dtype, kind)
    except (TypeError, ValueError, OverflowError) as e:
        raise _fail(where, "fill_value", f"{doc['fill_value']!r} is not valid for data type "
                    f"{doc['data_type']!r} ({e})") from None
    attributes = doc.get("attributes", {})
    if not isinstance(attributes, dict):
        raise _fail(where, "attributes", f"must be an object, got {attributes!r}")
    transformers = doc.get("storage_transformers", [])
    if transformers:
        names = [t.get("name") if isinstance(t, Mapping) else t for t in transformers] \
            if isinstance(transformers, list) else transformers
        raise _fail(where, "storage_transformers",
                    f"holds {names!r}; czarr supports no storage transformers")
    if transformers is not None and not isinstance(transformers, list):
        raise _fail(where, "storage_transformers", f"must be a list, got {transformers!r}")
    codecs = _codec_list(doc["codecs"], where)
    found = _object_codec_kind(codecs) if dtype.kind == "O" else None
    if found not in (None, kind):
        raise _fail(where, "codecs", f"hold a vlen-{'utf8' if found == 'string' else found} "
                    f"codec, which cannot encode data type {doc['data_type']!r}")
    meta = ArrayMetadataV3.__new__(ArrayMetadataV3)
    for name, value in (
        ("shape", doc["shape"]),
        ("data_type", dtype),
        ("chunk_shape", _decode_chunk_grid(doc["chunk_grid"], where)),
        ("chunk_key_encoding", _decode_chunk_key_encoding(doc["chunk_key_encoding"], where)),
        ("fill_value", fill),
        ("codecs", codecs),
        ("attributes", attributes),
        ("dimension_names", doc.get("dimension_names")),
        ("storage_transformers", ()),
        ("zarr_format", doc["zarr_format"]),
        ("node_type", doc["node_type"]),
    ):
        object.__setattr__(meta, name, value)
    meta._validate(where)
    return meta


# ---------------------------------------------------------------------------------------
# groups and consolidated metadata
# ---------------------------------------------------------------------------------------


def node_type_v3(data: bytes | str | Mapping, key: str = "zarr.json") -> str:
    """``"array"`` or ``"group"``: what a ``zarr.json`` describes.

    Raises
    ------
    MetadataError
        Bad JSON, a zarr_format other than 3, or another node_type.
    """
    return _check_format(_parse_json_document(data, key), _describe_key(key), None)


def parse_node_v3(data: bytes | str | Mapping, key: str = "zarr.json"
                  ) -> tuple[str, dict[str, Any]]:
    """Parse a ``zarr.json`` once: its ``node_type`` and the parsed document, which
    :func:`decode_array_metadata_v3` takes as it is (so listing a group and opening its
    arrays parses each document once).

    Raises
    ------
    MetadataError
        As :func:`node_type_v3`.
    """
    doc = _parse_json_document(data, key)
    return _check_format(doc, _describe_key(key), None), doc


def _consolidated_order(path: str) -> tuple[int, str]:
    """zarr-python 3 lists consolidated paths by depth, then case-folded name."""
    return path.count("/"), unicodedata.normalize("NFKC", path).casefold()


def _check_consolidated(obj: Any, key: str, nodes_too: bool = True) -> dict[str, Any]:
    field = "consolidated_metadata"
    where = _describe_key(key)
    group_path = key.rpartition("/")[0]
    if not isinstance(obj, Mapping):
        raise _fail(where, field, f"must be an object, got {obj!r}")
    if obj.get("kind", "inline") != "inline":
        raise _fail(where, field, f"has kind {obj.get('kind')!r}; only 'inline' is supported")
    nodes = obj.get("metadata")
    if not isinstance(nodes, Mapping):
        raise _fail(where, field, f"has no 'metadata' object (got {nodes!r})")
    out = {}
    for path, node in nodes.items():
        if isinstance(node, ArrayMetadataV3):
            node = node.to_dict()
        inner = f"{where}: field {field!r}: node {path!r}"
        if not isinstance(path, str) or not isinstance(node, Mapping):
            raise MetadataError(f"{inner}: expected a path and a node document, got {node!r}")
        # a member's path below the group: '' would be the group itself (opening it
        # would recurse), '.', '..', '//' or a backslash would name no member
        if "\\" in path or any(seg in ("", ".", "..") for seg in path.split("/")):
            raise MetadataError(f"{inner}: not a path below the group")
        if not nodes_too:  # only the block's shape and paths: no copy either
            out[path] = node
            continue
        node = copy.deepcopy(dict(node))
        node_key = f"{group_path}/{path}/zarr.json" if group_path else f"{path}/zarr.json"
        try:
            if node_type_v3(node, node_key) == "array":
                decode_array_metadata_v3(node, node_key)
            else:
                decode_group_metadata_v3(node, node_key)
        except MetadataError as e:
            raise MetadataError(f"{inner}: {e}") from None
        out[path] = node
    return {"kind": "inline", "must_understand": False, "metadata": out}


def consolidated_nodes_v3(data: bytes | str | Mapping, key: str = "zarr.json"
                          ) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
    """A node's ``zarr.json`` and the node documents of its inline consolidated
    metadata by path (None when it has none: always for an array), checked only as far
    as opening the hierarchy needs: each node's document is checked in full when that
    node is opened, so opening costs one parse whatever the number of nodes
    (:func:`decode_group_metadata_v3` checks every node at once).

    Raises
    ------
    MetadataError
        Not a node's document, or a consolidated block that is not an inline mapping
        of paths to objects.
    """
    doc = _parse_json_document(data, key)
    where = _describe_key(key)
    if _check_format(doc, where, None) != "group":
        return doc, None
    block = doc.get("consolidated_metadata")
    if block is None:
        return doc, None
    field = "consolidated_metadata"
    if not isinstance(block, Mapping):
        raise _fail(where, field, f"must be an object, got {block!r}")
    if block.get("kind", "inline") != "inline":
        raise _fail(where, field, f"has kind {block.get('kind')!r}; only 'inline' is "
                    "supported")
    nodes = block.get("metadata")
    if not isinstance(nodes, Mapping):
        raise _fail(where, field, f"has no 'metadata' object (got {nodes!r})")
    for path, node in nodes.items():
        if not (type(node) is dict and type(path) is str) and \
                (not isinstance(path, str) or not isinstance(node, Mapping)):
            raise MetadataError(f"{where}: field {field!r}: node {path!r}: expected a path "
                                f"and a node document, got {node!r}")
        # a member's path below the group: '' would be the group itself (opening it
        # would recurse), '.', '..', '//' or a backslash would name no member
        if "\\" in path or any(seg in ("", ".", "..") for seg in path.split("/")):
            raise MetadataError(f"{where}: field {field!r}: node {path!r}: not a path "
                                "below the group")
    return doc, nodes


def decode_group_metadata_v3(data: bytes | str | Mapping, key: str = "zarr.json",
                             nodes_too: bool = True) -> dict[str, Any]:
    """The bytes (or parsed JSON) of a group's ``zarr.json`` -> its content.

    Parameters
    ----------
    data : bytes, str or mapping
    key : str
        The store key, for error messages.
    nodes_too : bool
        Validate each node document of the consolidated metadata too (False: only the
        block's shape and paths; each node is validated when it is opened).

    Returns
    -------
    dict
        ``{"attributes": {...}, "consolidated_metadata": None or {"kind": "inline",
        "must_understand": False, "metadata": {path: node document}}}``; each node
        document (a plain dict, paths relative to this group) has been validated.

    Raises
    ------
    MetadataError
        Bad JSON, a zarr_format other than 3, an array's document, malformed attributes
        or consolidated metadata, or an unknown extension that must be understood.
    """
    where = _describe_key(key)
    doc = _parse_json_document(data, key)
    _check_format(doc, where, "group")
    _check_extensions(doc, _GROUP_FIELDS, where)
    attributes = doc.get("attributes", {})
    if not isinstance(attributes, dict):
        raise _fail(where, "attributes", f"must be an object, got {attributes!r}")
    consolidated = doc.get("consolidated_metadata")
    if consolidated is not None:
        consolidated = _check_consolidated(consolidated, key, nodes_too)
    return {"attributes": attributes, "consolidated_metadata": consolidated}


def encode_group_metadata_v3(attributes: Mapping | None = None,
                             consolidated_metadata: Mapping | None = None) -> bytes:
    """A group's ``zarr.json``, as zarr-python 3.1 writes it.

    Parameters
    ----------
    attributes : mapping, optional
        User attributes (JSON-serialisable; NumPy numbers are converted).
    consolidated_metadata : mapping, optional
        ``{"kind": "inline", "must_understand": False, "metadata": {path: document}}``
        as :func:`decode_group_metadata_v3` returns it; documents may be dicts or
        ``ArrayMetadataV3``. Paths are written in zarr-python 3's order.

    Returns
    -------
    bytes

    Raises
    ------
    MetadataError
        Malformed consolidated metadata (the path named).
    TypeError
        An attribute that cannot be represented in JSON.
    """
    attrs = dict(attributes or {})
    for k in attrs:
        if not isinstance(k, str):
            raise TypeError(f"attribute names must be str, got {type(k).__name__} {k!r}")
    doc: dict[str, Any] = {"attributes": attrs, "zarr_format": ZARR_FORMAT}
    if consolidated_metadata is not None:
        checked = _check_consolidated(consolidated_metadata, "zarr.json")
        nodes = checked["metadata"]
        checked["metadata"] = {p: nodes[p] for p in sorted(nodes, key=_consolidated_order)}
        doc["consolidated_metadata"] = checked
    doc["node_type"] = "group"
    return _encode_json(doc)
