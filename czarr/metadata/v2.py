"""Zarr v2 metadata documents (``.zarray``, ``.zgroup``, ``.zattrs``) as plain data.

Everything here is a pure function of its arguments: bytes (or already-parsed JSON) go
in, an :class:`ArrayMetadata` or a ``dict`` comes out, and back again. Nothing here
touches a store or knows where documents live (that is :mod:`czarr.layout`). The JSON
written is byte for byte what zarr-python 2 writes: ``indent=4``, sorted keys, ASCII
only, ``(',', ': ')`` separators. The encodings of dtypes and fill values follow the
Zarr v2 specification as zarr-python 2 implements it (NaN and the infinities as strings,
complex as ``[re, im]``, bytes, void and structured values as base64, datetimes as int64).
The ``normalize_*`` helpers and ``guess_chunks`` live in :mod:`czarr.metadata.normalize`
and are re-exported here.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from czarr._core.indexing import check_array_grid
from czarr.errors import MetadataError
from czarr.metadata.normalize import (
    _is_int,
    guess_chunks,
    normalize_chunks,
    normalize_dimension_separator,
    normalize_dtype,
    normalize_fill_value,
    normalize_order,
    normalize_shape,
)
from czarr.util import ceildiv

__all__ = [
    "ZARR_FORMAT",
    "ArrayMetadata",
    "decode_array_metadata",
    "encode_array_metadata",
    "array_metadata_to_dict",
    "decode_group_metadata",
    "encode_group_metadata",
    "decode_attrs",
    "encode_attrs",
    "encode_json",
    "parse_json",
    "encode_dtype",
    "decode_dtype",
    "encode_fill_value",
    "decode_fill_value",
    "guess_chunks",
    "normalize_chunks",
    "normalize_shape",
    "normalize_order",
    "normalize_dimension_separator",
    "normalize_dtype",
    "normalize_fill_value",
]

ZARR_FORMAT = 2

# The fields every .zarray document must hold (the v2 spec makes all of them required;
# "compressor", "fill_value" and "filters" may be null). "dimension_separator" is optional.
_REQUIRED_ARRAY_FIELDS = (
    "zarr_format",
    "shape",
    "chunks",
    "dtype",
    "compressor",
    "fill_value",
    "order",
    "filters",
)

# ---------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------


class _NumpyJSONEncoder(json.JSONEncoder):
    """Turns NumPy scalars and arrays into the Python values they stand for.

    zarr-python 2 converts ``numbers.Integral``/``numbers.Real`` (which covers NumPy's
    integer and float scalars); NumPy booleans, strings and arrays are converted as well
    so attributes such as ``{"scale": np.float32(2), "mask": np.array([1, 2])}`` just work.
    Anything else is refused with the type named (by ``json.JSONEncoder.default``).
    """

    def default(self, o: Any) -> Any:
        if isinstance(o, np.bool_):
            return bool(o)
        if isinstance(o, numbers.Integral):
            return int(o)
        if isinstance(o, numbers.Real):
            return float(o)
        if isinstance(o, np.ndarray) and o.dtype.kind in "biufU":
            return o.tolist()
        return super().default(o)


def encode_json(obj: Any) -> bytes:
    """Encode ``obj`` as zarr-python 2 writes every metadata document.

    Parameters
    ----------
    obj : Any
        A JSON-serialisable value; NumPy numbers, booleans and numeric/str arrays are
        converted to their Python equivalents.

    Returns
    -------
    bytes
        ASCII JSON, ``indent=4``, keys sorted, ``(',', ': ')`` separators.

    Raises
    ------
    TypeError
        If a value cannot be represented in JSON (the message names its type).
    """
    text = json.dumps(
        obj,
        indent=4,
        sort_keys=True,
        ensure_ascii=True,
        separators=(",", ": "),
        cls=_NumpyJSONEncoder,
    )
    return text.encode("ascii")


def _describe_key(key: str) -> str:
    """``'foo/bar/.zarray'`` -> ``".zarray at 'foo/bar'"``, ``'.zarray'`` -> ``'.zarray'``."""
    head, _, name = str(key).rpartition("/")
    return f"{name} at {head!r}" if head else name


# a message quoting a hostile value (a million-entry shape) is cut to this length
_MAX_MESSAGE = 500


def _fail(where: str, field: str, message: str) -> MetadataError:
    if len(message) > _MAX_MESSAGE:
        message = f"{message[:_MAX_MESSAGE]}... ({len(message)} characters)"
    return MetadataError(f"{where}: field {field!r} {message}")


# Metadata nests a few levels (OME-Zarr's multiscales about eight); a document nested
# deeper is refused, so that no later step (copying, re-encoding, walking it) can hit
# Python's recursion limit on hostile input
MAX_JSON_DEPTH = 128


def parse_json(data: Any, key: str) -> Any:
    """Bytes or str of a metadata document (any JSON value) -> the parsed value.

    Raises
    ------
    MetadataError
        Not UTF-8, not JSON (numbers of more than 4300 digits included), or nested
        deeper than ``MAX_JSON_DEPTH``; the message names ``key``.
    """
    where = _describe_key(key)
    if isinstance(data, str):
        text = data
    else:
        try:
            raw = bytes(memoryview(data))
        except TypeError:
            raise MetadataError(
                f"{where}: expected bytes, str or a mapping, got {type(data).__name__}"
            ) from None
        try:
            # zarr-python writes ASCII; UTF-8 is its superset and costs nothing to accept
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MetadataError(f"{where}: not valid UTF-8/ASCII text ({e})") from None
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise MetadataError(f"{where}: not valid JSON ({e})") from None
    except RecursionError:
        raise MetadataError(f"{where}: JSON nested too deeply (more than "
                            f"{MAX_JSON_DEPTH} levels)") from None
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        _check_depth(obj, where)
    return obj


def _check_depth(obj: Any, where: str) -> None:
    """MetadataError when ``obj`` nests lists and objects deeper than MAX_JSON_DEPTH
    (walked without recursion)."""
    stack = [(obj, 1)] if isinstance(obj, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise MetadataError(f"{where}: JSON nested too deeply (more than "
                                f"{MAX_JSON_DEPTH} levels)")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


def _parse_json_document(data: Any, key: str) -> dict[str, Any]:
    """Bytes, str or an already-parsed mapping -> a ``dict`` (a JSON object)."""
    if isinstance(data, Mapping):
        # consolidated metadata hands over documents that are already parsed
        return dict(data)
    obj = parse_json(data, key)
    if not isinstance(obj, dict):
        raise MetadataError(f"{_describe_key(key)}: expected a JSON object, got "
                            f"{type(obj).__name__}")
    return obj


# ---------------------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------------------


def encode_dtype(dtype: np.dtype) -> str | list:
    """The JSON form of a dtype: its typestr, or for structured dtypes its descr as lists.

    Parameters
    ----------
    dtype : numpy.dtype
        Any dtype except a top-level subarray dtype (fold that shape into the array's).

    Returns
    -------
    str or list
        ``'<f8'``, ``'|S10'``, ``'<M8[ns]'``... or ``[["a", "<i4"], ["b", "<f8", [2]]]``.
    """
    dtype = np.dtype(dtype)
    if dtype.fields is None:
        return dtype.str
    return _descr_to_json(dtype.descr)


def _descr_to_json(descr: Any) -> Any:
    if isinstance(descr, str):
        return descr
    out = []
    for entry in descr:
        name, sub = entry[0], entry[1]
        item = [name, _descr_to_json(sub)]
        if len(entry) > 2:
            item.append(list(entry[2]))
        out.append(item)
    return out


def _descr_from_json(obj: Any) -> Any:
    if isinstance(obj, str):
        return obj
    if not isinstance(obj, list) or not obj:
        raise ValueError(f"expected a typestr or a non-empty list of fields, got {obj!r}")
    fields = []
    for entry in obj:
        if not isinstance(entry, list | tuple) or len(entry) not in (2, 3):
            raise ValueError(f"expected a field [name, dtype] or [name, dtype, shape], "
                             f"got {entry!r}")
        name = entry[0]
        if not isinstance(name, str):
            raise ValueError(f"field name must be a string, got {name!r}")
        field = (name, _descr_from_json(entry[1]))
        if len(entry) == 3:
            shape = entry[2]
            if isinstance(shape, int) and not isinstance(shape, bool):
                shape = [shape]
            if not isinstance(shape, list | tuple) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
            ):
                raise ValueError(f"field {name!r}: bad subarray shape {entry[2]!r}")
            field += (tuple(shape),)
        fields.append(field)
    return fields


def decode_dtype(obj: Any) -> np.dtype:
    """The dtype a ``.zarray`` ``dtype`` field describes.

    Parameters
    ----------
    obj : str or list
        A NumPy typestr (``'<i4'``, ``'>f8'``, ``'|S3'``, ``'<M8[s]'``, ``'|O'``...) or a
        structured dtype as a list of ``[name, dtype]`` / ``[name, dtype, shape]`` lists
        (nested to any depth).

    Returns
    -------
    numpy.dtype

    Raises
    ------
    MetadataError
        If ``obj`` does not describe a dtype.
    """
    try:
        descr = _descr_from_json(obj)
        return _sized_dtype(np.dtype(descr))
    # NumPy parses a typestr such as '(2,3)f8' with ast.literal_eval, which raises the
    # rest on a hostile one ('(1+)f8', ten thousand parentheses)
    except (TypeError, ValueError, SyntaxError, RecursionError, MemoryError,
            OverflowError) as e:
        raise MetadataError(f"unknown or malformed dtype {obj!r} ({e})") from None


def _sized_dtype(dtype: np.dtype) -> np.dtype:
    """``|S0`` and ``<U0`` as NumPy (and so zarr-python 2) store them: one character per
    item (``np.empty(n, 'S0')`` is ``|S1``), so the chunks zarr-python 2 wrote for such
    arrays read back whole. A zero-size void dtype cannot hold data and is refused."""
    if dtype.itemsize or dtype.kind not in "SUV" or dtype.fields:
        return dtype
    if dtype.kind == "V":
        raise ValueError(f"dtype {dtype.str} has zero-size items, which NumPy cannot store")
    return np.dtype(dtype.str[:2] + "1")


# ---------------------------------------------------------------------------------------
# fill values
# ---------------------------------------------------------------------------------------


def _encode_float(v: Any) -> float | str:
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if v == math.inf:
        return "Infinity"
    if v == -math.inf:
        return "-Infinity"
    return v


def _decode_float(v: Any, dtype: np.dtype) -> Any:
    if isinstance(v, str):
        special = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}
        if v not in special:
            raise ValueError(f"expected a number, 'NaN', 'Infinity' or '-Infinity', got {v!r}")
        v = special[v]
    elif not isinstance(v, int | float) or isinstance(v, bool):
        raise ValueError(f"expected a number, got {v!r}")
    return np.array(v, dtype=dtype)[()]


def encode_fill_value(value: Any, dtype: np.dtype) -> Any:
    """The JSON form of a fill value, as zarr-python 2 writes it.

    Parameters
    ----------
    value : Any
        The fill value (normalised or not), or None.
    dtype : numpy.dtype
        The array's dtype.

    Returns
    -------
    Any
        None; an int; a float or ``'NaN'``/``'Infinity'``/``'-Infinity'``; a bool;
        ``[re, im]`` for complex; base64 text of the raw bytes for ``S``, ``V`` and
        structured dtypes; the string itself for ``U``; int64 ticks for datetimes and
        timedeltas (NaT is ``-2**63``); object fill values pass through unchanged.
    """
    if value is None:
        return None
    dtype = np.dtype(dtype)
    kind = dtype.kind
    if kind == "O":
        # object fill values (a later issue) are stored through the object codec
        return value
    value = normalize_fill_value(value, dtype)
    if kind == "f":
        return _encode_float(value)
    if kind in "ui":
        return int(value)
    if kind == "b":
        return bool(value)
    if kind == "c":
        return [_encode_float(value.real), _encode_float(value.imag)]
    if kind in "SV":
        raw = value if isinstance(value, bytes) else value.tobytes()
        return base64.standard_b64encode(raw).decode("ascii")
    if kind == "U":
        return str(value)
    if kind in "mM":
        # the scalar is native-endian whatever the dtype's byte order
        return int(value.view("i8"))
    raise MetadataError(f"cannot encode a fill value for dtype {dtype}")


def decode_fill_value(value: Any, dtype: np.dtype) -> Any:
    """The fill value a ``.zarray`` ``fill_value`` field describes.

    Parameters
    ----------
    value : Any
        The JSON value (see :func:`encode_fill_value`).
    dtype : numpy.dtype
        The array's dtype.

    Returns
    -------
    Any
        None, or a NumPy scalar of ``dtype`` (``np.void`` for structured dtypes), or a
        ``str`` for ``U`` dtypes.

    Raises
    ------
    MetadataError
        If ``value`` is not a valid fill value for ``dtype``.
    """
    if value is None:
        return None
    dtype = np.dtype(dtype)
    try:
        return _decode_fill_value(value, dtype)
    except (TypeError, ValueError, OverflowError) as e:
        try:
            return _decode_legacy_fill_value(value, dtype)
        except (TypeError, ValueError, OverflowError):
            pass
        raise MetadataError(f"bad fill value {value!r} for dtype {dtype} ({e})") from None


def _decode_legacy_fill_value(value: Any, dtype: np.dtype) -> Any:
    """Spellings zarr-python 2 wrote over the years and 2.18 still reads, read as it
    reads them (``np.array(value, dtype)``): an int 0 for a string array (which reads as
    ``'0'``), numbers as strings (``"1.5"``, ``"nan"``, ``"7"``), a float or bool for an
    int array (truncated), dates and ``"NaT"`` as strings. Only reading is lenient; what
    czarr writes is always the canonical form."""
    kind = dtype.kind
    if isinstance(value, list | dict) or value is None:
        raise ValueError("no legacy spelling")
    if kind in "fiubmM":
        return np.array(value, dtype=dtype)[()]
    if kind == "U" and isinstance(value, int | float):
        return str(np.array(value, dtype=dtype)[()])
    raise ValueError("no legacy spelling")


def _decode_fill_value(value: Any, dtype: np.dtype) -> Any:
    kind = dtype.kind
    if kind == "f":
        return _decode_float(value, dtype)
    if kind == "c":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError("expected [real, imag]")
        part = dtype.type(0).real.dtype
        re, im = _decode_float(value[0], part), _decode_float(value[1], part)
        out = np.zeros((), dtype=dtype)
        out.real, out.imag = re, im
        return out[()]
    if kind == "S":
        if isinstance(value, str):
            try:
                value = base64.standard_b64decode(value.encode("ascii"))
            except (binascii.Error, UnicodeEncodeError):
                # as zarr-python 2: leave values written before base64 was adopted as-is
                pass
        return np.array(value, dtype=dtype)[()]
    if kind == "V":
        if not isinstance(value, str):
            raise ValueError("expected base64 text")
        raw = base64.standard_b64decode(value.encode("ascii"))
        if len(raw) != dtype.itemsize:
            raise ValueError(f"decodes to {len(raw)} bytes, the dtype has {dtype.itemsize}")
        return np.frombuffer(raw, dtype=dtype)[0]
    if kind == "U":
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value
    if kind == "O":
        return value
    if kind in "iu":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("expected an integer")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("expected an integer")
        return np.array(int(value), dtype=dtype)[()]
    if kind == "b":
        if not isinstance(value, bool | int):
            raise ValueError("expected a boolean")
        return np.array(value, dtype=dtype)[()]
    if kind in "mM":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected an int64")
        return np.array(value, dtype="i8").view(dtype.newbyteorder("="))[()]
    raise ValueError(f"unsupported dtype kind {kind!r}")


# ---------------------------------------------------------------------------------------
# .zarray
# ---------------------------------------------------------------------------------------


def _codec_config(codec: Any, where: str, field: str) -> dict[str, Any]:
    """A codec object or config dict -> a private copy of its config dict."""
    if hasattr(codec, "get_config") and not isinstance(codec, Mapping):
        codec = codec.get_config()
    if not isinstance(codec, Mapping):
        raise _fail(where, field, f"must hold codec configs (objects with an 'id'), got {codec!r}")
    if not isinstance(codec.get("id"), str):
        raise _fail(where, field, f"codec config without a string 'id': {dict(codec)!r}")
    return copy.deepcopy(dict(codec))


# Codecs that work on numbers or raw bytes: an object array's first filter (the one that
# turns its objects into bytes) cannot be one of these. Other ids (vlen-*, json2, pickle,
# msgpack2, categorize, and codecs czarr does not know) are taken as object codecs.
_BYTE_CODEC_IDS = frozenset({
    "adler32", "astype", "bitround", "blosc", "bz2", "crc32", "delta", "fixedscaleoffset",
    "fletcher32", "gzip", "lz4", "lzma", "packbits", "quantize", "shuffle", "zlib", "zstd",
})


def _check_object_codec(filters: Any, where: str) -> None:
    """An object dtype needs an object codec as its first filter; without one, the
    chunks would hold the objects' memory addresses. zarr-python 2 refuses to create
    such an array; czarr refuses to create or open one."""
    first = filters[0].get("id") if filters else None
    if first is None or first in _BYTE_CODEC_IDS:
        found = f"its first filter is {first!r}" if first else "it has no filters"
        raise _fail(
            where, "filters",
            f"must start with an object codec (vlen-utf8, vlen-bytes, vlen-array, json2, "
            f"pickle...) for dtype |O, but {found}: without one the chunks would hold "
            "memory addresses, not the objects")


def _check_extents(value: Any, where: str, field: str, minimum: int) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise _fail(where, field, f"must be a list of integers, got {value!r}")
    # JSON gives plain ints: checked at C speed, so a million-entry list costs little
    if not all(type(v) is int or _is_int(v) for v in value):
        raise _fail(where, field, f"must hold integers only, got {list(value)!r}")
    if any(v < minimum for v in value):
        what = "positive" if minimum else "non-negative"
        raise _fail(where, field, f"must hold {what} integers, got {list(value)!r}")
    return tuple(int(v) for v in value)


@dataclasses.dataclass(frozen=True, eq=False)
class ArrayMetadata:
    """The content of a ``.zarray`` document, decoded.

    Construction validates and canonicalises: ``dtype`` becomes a ``numpy.dtype``,
    ``compressor`` and ``filters`` may be given as codec objects (their ``get_config()``
    is kept), an empty ``filters`` becomes None, and ``fill_value`` is normalised for the
    dtype. Two instances are equal when they encode to the same document (so a NaN fill
    value equals itself). Use ``dataclasses.replace(meta, shape=...)`` to derive one.
    """

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    compressor: dict[str, Any] | None = None
    fill_value: Any = None
    order: str = "C"
    filters: tuple[dict[str, Any], ...] | None = None
    dimension_separator: str = "."
    zarr_format: int = ZARR_FORMAT

    def __post_init__(self) -> None:
        self._validate("ArrayMetadata")

    def _validate(self, where: str) -> None:
        set_ = object.__setattr__
        if not _is_int(self.zarr_format) or self.zarr_format != ZARR_FORMAT:
            raise _fail(where, "zarr_format", f"must be 2, got {self.zarr_format!r}")
        shape = _check_extents(self.shape, where, "shape", 0)
        chunks = _check_extents(self.chunks, where, "chunks", 1)
        if len(shape) != len(chunks):
            raise _fail(
                where, "chunks", f"has {len(chunks)} dimensions but shape has {len(shape)} "
                f"(chunks {list(chunks)}, shape {list(shape)})"
            )
        set_(self, "shape", shape)
        set_(self, "chunks", chunks)
        try:
            dtype = np.dtype(self.dtype) if self.dtype is not None else None
        except TypeError as e:
            raise _fail(where, "dtype", f"is not a dtype: {self.dtype!r} ({e})") from None
        if dtype is None:
            raise _fail(where, "dtype", "is missing (None)")
        if dtype.subdtype is not None:
            raise _fail(
                where, "dtype",
                f"is a subarray dtype {dtype}; fold its shape into the array's shape",
            )
        try:
            dtype = _sized_dtype(dtype)
        except ValueError as e:
            raise _fail(where, "dtype", str(e)) from None
        set_(self, "dtype", dtype)
        try:
            # the one limit on geometry (shared with the kernels): products fit in int64
            check_array_grid(shape, chunks, dtype.itemsize)
        except ValueError as e:
            raise _fail(where, "shape", f"is beyond czarr's limits: {e}") from None
        if self.compressor is not None:
            set_(self, "compressor", _codec_config(self.compressor, where, "compressor"))
        if self.filters is not None:
            if isinstance(self.filters, str | bytes | Mapping) or not isinstance(
                self.filters, Sequence
            ):
                raise _fail(where, "filters", f"must be a list or null, got {self.filters!r}")
            filters = tuple(_codec_config(f, where, "filters") for f in self.filters)
            set_(self, "filters", filters or None)
        if dtype.hasobject:
            _check_object_codec(self.filters, where)
        if self.order not in ("C", "F"):
            raise _fail(where, "order", f"must be 'C' or 'F', got {self.order!r}")
        if self.dimension_separator not in (".", "/"):
            raise _fail(
                where, "dimension_separator",
                f"must be '.' or '/', got {self.dimension_separator!r}",
            )
        try:
            set_(self, "fill_value", normalize_fill_value(self.fill_value, dtype))
        except ValueError as e:
            raise _fail(where, "fill_value", str(e)) from None

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def cdata_shape(self) -> tuple[int, ...]:
        """Number of chunks along each dimension (integer ceil division)."""
        return tuple(ceildiv(s, c) for s, c in zip(self.shape, self.chunks))

    @property
    def nchunks(self) -> int:
        """Total number of chunks in the grid."""
        return math.prod(self.cdata_shape)

    def _comparable(self) -> tuple:
        fill = encode_fill_value(self.fill_value, self.dtype)
        return (
            self.shape,
            self.chunks,
            self.dtype,
            self.compressor,
            json.dumps(fill, sort_keys=True, default=repr),  # NaN == NaN here
            self.order,
            self.filters,
            self.dimension_separator,
            self.zarr_format,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArrayMetadata):
            return NotImplemented
        return self._comparable() == other._comparable()

    def __hash__(self) -> int:
        return hash(encode_array_metadata(self))


def array_metadata_to_dict(meta: ArrayMetadata) -> dict[str, Any]:
    """The JSON object of a ``.zarray`` document (plain Python values).

    ``dimension_separator`` is always written. zarr-python 2 omits it when an array is
    created without one, but writes it (``"."``) whenever an array rewrites its metadata,
    and zarr-python 3 always writes it; every reader since zarr-python 2.8 understands it
    and older ones ignore it.
    """
    return {
        "chunks": list(meta.chunks),
        "compressor": copy.deepcopy(meta.compressor),
        "dimension_separator": meta.dimension_separator,
        "dtype": encode_dtype(meta.dtype),
        "fill_value": encode_fill_value(meta.fill_value, meta.dtype),
        "filters": None if meta.filters is None else [copy.deepcopy(f) for f in meta.filters],
        "order": meta.order,
        "shape": list(meta.shape),
        "zarr_format": meta.zarr_format,
    }


def encode_array_metadata(meta: ArrayMetadata) -> bytes:
    """``ArrayMetadata`` -> the bytes of a ``.zarray`` document, as zarr-python 2 writes it.

    Parameters
    ----------
    meta : ArrayMetadata

    Returns
    -------
    bytes
        ASCII JSON (see :func:`encode_json`).
    """
    return encode_json(array_metadata_to_dict(meta))


def decode_array_metadata(data: bytes | str | Mapping, key: str = ".zarray",
                          default_separator: str = ".") -> ArrayMetadata:
    """The bytes (or parsed JSON) of a ``.zarray`` document -> ``ArrayMetadata``.

    Parameters
    ----------
    data : bytes, str or mapping
        The document as stored (any bytes-like object), as text, or already parsed.
    key : str
        The store key it came from, used in error messages only
        (``'foo/bar/.zarray'`` reports as ``".zarray at 'foo/bar'"``).
    default_separator : {'.', '/'}
        The chunk key separator of a document without ``dimension_separator`` (written
        before zarr-python 2.8): the store's, as zarr-python 2 decides it.

    Returns
    -------
    ArrayMetadata

    Raises
    ------
    MetadataError
        Bad JSON, a missing field, a malformed or unsupported value, or a zarr_format
        other than 2; the message names the key and the field. Unknown extra fields are
        ignored, as the v2 specification asks of readers.
    """
    where = _describe_key(key)
    doc = _parse_json_document(data, key)
    if "zarr_format" not in doc:
        raise _fail(where, "zarr_format", "is missing")
    zarr_format = doc["zarr_format"]
    if not _is_int(zarr_format) or zarr_format != ZARR_FORMAT:
        raise _fail(where, "zarr_format", f"must be 2, got {zarr_format!r} (unsupported format)")
    for field in _REQUIRED_ARRAY_FIELDS:
        if field not in doc:
            raise _fail(where, field, "is missing")
    try:
        dtype = decode_dtype(doc["dtype"])
    except MetadataError as e:
        raise _fail(where, "dtype", str(e)) from None
    if dtype.subdtype is not None:
        raise _fail(where, "dtype", f"is a subarray dtype {doc['dtype']!r}")
    try:
        fill_value = decode_fill_value(doc["fill_value"], dtype)
    except MetadataError as e:
        raise _fail(where, "fill_value", str(e)) from None
    separator = doc.get("dimension_separator")
    filters = doc["filters"]
    if filters is not None and not isinstance(filters, list):
        raise _fail(where, "filters", f"must be a list or null, got {filters!r}")
    compressor = doc["compressor"]
    if compressor is not None and not isinstance(compressor, dict):
        raise _fail(where, "compressor", f"must be a codec config or null, got {compressor!r}")
    meta = ArrayMetadata.__new__(ArrayMetadata)
    for name, value in (
        ("shape", doc["shape"]),
        ("chunks", doc["chunks"]),
        ("dtype", dtype),
        ("compressor", compressor),
        ("fill_value", fill_value),
        ("order", doc["order"]),
        ("filters", filters),
        ("dimension_separator", default_separator if separator is None else separator),
        ("zarr_format", zarr_format),
    ):
        object.__setattr__(meta, name, value)
    meta._validate(where)
    return meta


# ---------------------------------------------------------------------------------------
# .zgroup and .zattrs
# ---------------------------------------------------------------------------------------


def encode_group_metadata(meta: Mapping | None = None) -> bytes:
    """The bytes of a ``.zgroup`` document: ``{"zarr_format": 2}`` as zarr-python 2 writes it
    (``meta``, zarr-python 2's argument, may only say that)."""
    if meta is not None and dict(meta) not in ({}, {"zarr_format": ZARR_FORMAT}):
        raise MetadataError(f"a v2 .zgroup holds only zarr_format 2, got {dict(meta)!r}")
    return encode_json({"zarr_format": ZARR_FORMAT})


def decode_group_metadata(data: bytes | str | Mapping, key: str = ".zgroup") -> dict[str, Any]:
    """The bytes (or parsed JSON) of a ``.zgroup`` document -> ``{"zarr_format": 2}``.

    Parameters
    ----------
    data : bytes, str or mapping
    key : str
        The store key, for error messages.

    Returns
    -------
    dict

    Raises
    ------
    MetadataError
        Bad JSON, or a zarr_format other than 2.
    """
    where = _describe_key(key)
    doc = _parse_json_document(data, key)
    if "zarr_format" not in doc:
        raise _fail(where, "zarr_format", "is missing")
    fmt = doc["zarr_format"]
    if not _is_int(fmt) or fmt != ZARR_FORMAT:
        raise _fail(where, "zarr_format", f"must be 2, got {fmt!r} (unsupported format)")
    return {"zarr_format": ZARR_FORMAT}


def encode_attrs(attrs: Mapping[str, Any]) -> bytes:
    """User attributes -> the bytes of a ``.zattrs`` document, as zarr-python 2 writes it.

    Parameters
    ----------
    attrs : mapping of str to JSON-serialisable values
        NumPy scalars and numeric/str arrays are converted; NaN and infinities are written
        as the bare tokens ``NaN``/``Infinity`` as Python's json (and zarr-python) does.

    Returns
    -------
    bytes

    Raises
    ------
    TypeError
        If a key is not a str or a value cannot be represented in JSON (its type named).
    """
    for k in attrs:
        if not isinstance(k, str):
            raise TypeError(f"attribute names must be str, got {type(k).__name__} {k!r}")
    return encode_json(dict(attrs))


def decode_attrs(data: bytes | str | Mapping, key: str = ".zattrs") -> dict[str, Any]:
    """The bytes (or parsed JSON) of a ``.zattrs`` document -> a ``dict``.

    Parameters
    ----------
    data : bytes, str or mapping
    key : str
        The store key, for error messages.

    Returns
    -------
    dict

    Raises
    ------
    MetadataError
        If the document is not valid JSON or not a JSON object.
    """
    return _parse_json_document(data, key)
