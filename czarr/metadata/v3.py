"""Zarr v3 metadata documents (one ``zarr.json`` per array or group) as plain data.

Everything here is a pure function of its arguments: bytes (or already-parsed JSON) go
in, an :class:`ArrayMetadataV3` or a ``dict`` comes out, and back again. Nothing here
touches a store, builds a codec or knows where documents live. The JSON written is byte
for byte what zarr-python 3.1 writes: its key order, ``indent=2``, ASCII only. Data types
and fill values follow the Zarr v3 specification and the extensions zarr-python 3 writes
(``string``, ``variable_length_bytes``, ``fixed_length_utf32``, ``null_terminated_bytes``,
``raw_bytes``, ``numpy.datetime64``/``numpy.timedelta64``); ``data_type`` holds the NumPy
dtype in native byte order (the ``bytes`` codec says how items are stored). Reading is as
lenient as zarr-python 3 where it is lenient (intish fill values, hex floats of any
width); unknown extension fields are refused unless marked ``must_understand: false``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import json
import math
import re
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from czarr._core.indexing import check_array_grid
from czarr.errors import MetadataError
from czarr.metadata.normalize import _is_int
from czarr.metadata.v2 import _describe_key, _fail, _NumpyJSONEncoder, _parse_json_document
from czarr.util import ceildiv

__all__ = [
    "ZARR_FORMAT",
    "ArrayMetadataV3",
    "decode_array_metadata_v3",
    "encode_array_metadata_v3",
    "decode_group_metadata_v3",
    "encode_group_metadata_v3",
    "node_type_v3",
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
# data types
# ---------------------------------------------------------------------------------------

_NUMERIC_NAMES = {
    "bool": "b1", "int8": "i1", "int16": "i2", "int32": "i4", "int64": "i8",
    "uint8": "u1", "uint16": "u2", "uint32": "u4", "uint64": "u8",
    "float16": "f2", "float32": "f4", "float64": "f8",
    "complex64": "c8", "complex128": "c16",
}
_NAME_OF_NUMERIC = {np.dtype(v).str[1:]: k for k, v in _NUMERIC_NAMES.items()}
_TIME_NAMES = {"numpy.datetime64": "M8", "numpy.timedelta64": "m8"}
_TIME_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs", "ns", "ps", "fs", "as",
               "generic")
_OBJECT_KINDS = ("string", "bytes")
_RAW_BITS = re.compile(r"r([1-9][0-9]*)\Z")


def _native(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("=") if dtype.byteorder in "<>" else dtype


def _length_bytes(name: str, config: Mapping, multiple: int = 1) -> int:
    n = config.get("length_bytes")
    if set(config) != {"length_bytes"} or not _is_int(n) or n < 1 or n % multiple:
        what = f"a positive multiple of {multiple}" if multiple > 1 else "a positive integer"
        raise ValueError(f"{name} needs a configuration {{'length_bytes': n}} with n "
                         f"{what}, got {dict(config)!r}")
    return int(n)


def _decode_data_type(obj: Any) -> tuple[np.dtype, str | None]:
    """A v3 ``data_type`` -> (native NumPy dtype, object kind 'string'/'bytes' or None)."""
    if isinstance(obj, str):
        if obj in _NUMERIC_NAMES:
            return np.dtype(_NUMERIC_NAMES[obj]), None
        if obj == "string":
            return np.dtype("O"), "string"
        if obj in ("variable_length_bytes", "bytes"):
            return np.dtype("O"), "bytes"
        m = _RAW_BITS.match(obj)
        if m and int(m.group(1)) % 8 == 0:
            return np.dtype(f"V{int(m.group(1)) // 8}"), None
        raise ValueError(f"unknown data type {obj!r}")
    if not isinstance(obj, Mapping) or not isinstance(obj.get("name"), str):
        raise ValueError(f"expected a data type name or {{'name': ..., 'configuration': ...}}, "
                         f"got {obj!r}")
    name, config = obj["name"], obj.get("configuration", {})
    if not isinstance(config, Mapping):
        raise ValueError(f"the configuration of {name} is not an object: {config!r}")
    if name == "fixed_length_utf32":
        return np.dtype(f"U{_length_bytes(name, config, 4) // 4}"), None
    if name == "null_terminated_bytes":
        return np.dtype(f"S{_length_bytes(name, config)}"), None
    if name == "raw_bytes":
        return np.dtype(f"V{_length_bytes(name, config)}"), None
    if name in _TIME_NAMES:
        unit, scale = config.get("unit"), config.get("scale_factor", 1)
        if unit not in _TIME_UNITS or not _is_int(scale) or not 0 < scale < 2**31 or (
                set(config) - {"unit", "scale_factor"}):
            raise ValueError(f"{name} needs a configuration {{'unit': one of {_TIME_UNITS}, "
                             f"'scale_factor': a positive int}}, got {dict(config)!r}")
        unit = "us" if unit == "μs" else unit
        if unit == "generic":
            return np.dtype(_TIME_NAMES[name]), None
        return np.dtype(f"{_TIME_NAMES[name]}[{int(scale)}{unit}]"), None
    if not config and (name in _NUMERIC_NAMES or name in (
            "string", "variable_length_bytes", "bytes")):
        return _decode_data_type(name)  # a plain name spelt as a named configuration
    raise ValueError(f"unknown or unsupported data type {name!r} (structured data types and "
                     "extensions czarr does not know are not supported)")


def decode_data_type(obj: Any) -> np.dtype:
    """A v3 ``data_type`` (a name or a named configuration) -> a native NumPy dtype.

    Parameters
    ----------
    obj : str or mapping
        ``"int32"``, ``"string"``, ``{"name": "fixed_length_utf32", "configuration":
        {"length_bytes": 20}}``, ``{"name": "numpy.datetime64", "configuration": {"unit":
        "ns", "scale_factor": 1}}``, ``"r16"``...

    Returns
    -------
    numpy.dtype
        Native byte order; ``object`` for both ``string`` and ``variable_length_bytes``.

    Raises
    ------
    MetadataError
        An unknown or malformed data type (named in the message).
    """
    try:
        return _decode_data_type(obj)[0]
    except ValueError as e:
        raise MetadataError(str(e)) from None


def _dtype_and_kind(dtype: Any, value: Any = None) -> tuple[np.dtype, str | None]:
    """A NumPy dtype-like or a v3 JSON data type -> (native dtype, object kind)."""
    if isinstance(dtype, Mapping) or (isinstance(dtype, str) and (
            dtype in _NUMERIC_NAMES or dtype in ("string", "variable_length_bytes")
            or _RAW_BITS.match(dtype))):
        return _decode_data_type(dtype)
    if dtype is str:  # as zarr-python 3: variable-length strings, not <U0
        return np.dtype("O"), "string"
    dt = np.dtype(dtype)
    if dt.kind == "T":  # NumPy 2's StringDType: czarr holds variable strings as objects
        return np.dtype("O"), "string"
    if dt.hasobject:
        return dt, ("bytes" if isinstance(value, bytes | np.bytes_) else "string")
    return _native(dt), None


def encode_data_type(dtype: Any, *, object_kind: str = "string") -> str | dict:
    """A NumPy dtype -> its v3 ``data_type``, as zarr-python 3 writes it.

    Parameters
    ----------
    dtype : numpy.dtype or dtype-like
        Any byte order (the ``bytes`` codec carries it). ``StringDType`` and ``object``
        are variable-length.
    object_kind : {'string', 'bytes'}
        What an ``object`` dtype holds: ``"string"`` or ``"variable_length_bytes"``.

    Returns
    -------
    str or dict

    Raises
    ------
    MetadataError
        A dtype v3 cannot describe (structured, subarray, zero-size).
    """
    try:
        dt, kind = _dtype_and_kind(dtype)
    except TypeError as e:
        raise MetadataError(f"not a dtype: {dtype!r} ({e})") from None
    if dt.hasobject and dt.fields is None:
        if object_kind not in _OBJECT_KINDS:
            raise MetadataError(f"object_kind must be 'string' or 'bytes', got {object_kind!r}")
        kind = kind if dt.kind == "T" or kind == "bytes" else object_kind
        return "string" if kind == "string" else "variable_length_bytes"
    if dt.fields is None and dt.subdtype is None:
        code = dt.str[1:]
        if code in _NAME_OF_NUMERIC:
            return _NAME_OF_NUMERIC[code]
        if dt.itemsize:
            if dt.kind == "U":
                return _config("fixed_length_utf32", length_bytes=dt.itemsize)
            if dt.kind == "S":
                return _config("null_terminated_bytes", length_bytes=dt.itemsize)
            if dt.kind == "V":
                return _config("raw_bytes", length_bytes=dt.itemsize)
        if dt.kind in "mM":
            unit, scale = np.datetime_data(dt)
            name = "numpy.datetime64" if dt.kind == "M" else "numpy.timedelta64"
            return _config(name, unit=unit, scale_factor=scale)
    raise MetadataError(f"dtype {dt} has no Zarr v3 data type (structured, subarray and "
                        "zero-size dtypes are not supported)")


def _config(name: str, **configuration: Any) -> dict:
    return {"name": name, "configuration": configuration}


# ---------------------------------------------------------------------------------------
# fill values
# ---------------------------------------------------------------------------------------

_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_HEX_FORMATS = {4: ">e", 8: ">f", 16: ">d"}


def _decode_float(value: Any, dtype: np.dtype) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    if isinstance(value, int | float):
        return dtype.type(value)
    if not isinstance(value, str):
        raise ValueError("expected a number, 'NaN', 'Infinity', '-Infinity' or '0x' + hex")
    if value in _SPECIAL_FLOATS:
        return dtype.type(_SPECIAL_FLOATS[value])
    if value.startswith("0x"):
        digits = value[2:]
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            raise ValueError("is not valid hex") from None
        if len(digits) == 2 * dtype.itemsize:
            # the spec's form: the raw big-endian bytes, NaN payloads kept
            return np.frombuffer(raw, dtype=dtype.newbyteorder(">"))[0].astype(dtype)
        if len(digits) in _HEX_FORMATS:  # another width, as zarr-python 3 reads it
            return dtype.type(struct.unpack(_HEX_FORMATS[len(digits)], raw)[0])
        raise ValueError(f"hex fill value needs {2 * dtype.itemsize} hex digits for {dtype}")
    return dtype.type(float(value))  # "1.5", as zarr-python 3 reads it


def _encode_float(value: Any, dtype: np.dtype) -> float | str:
    v = dtype.type(value)
    if np.isnan(v):
        # "NaN" is the quiet NaN with no payload; any other NaN keeps its bits as hex
        raw = np.array(v, dtype=dtype.newbyteorder(">")).tobytes()
        canonical = np.array(np.nan, dtype=dtype.newbyteorder(">")).tobytes()
        if raw[0] & 0x7F == canonical[0] and raw[1:] == canonical[1:]:
            return "NaN"
        return "0x" + raw.hex()
    if np.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return float(v)


def _decode_base64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected base64 text")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("is not valid base64") from None


def _decode_int(value: Any, dtype: np.dtype) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected an integer, not a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value):
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("expected an integer")
    return np.array(value, dtype=dtype)[()]


def _decode_fill(value: Any, dtype: np.dtype, kind: str | None) -> Any:
    k = dtype.kind
    if k == "b":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return np.bool_(value)
    if k in "iu":
        return _decode_int(value, dtype)
    if k == "f":
        return _decode_float(value, dtype)
    if k == "c":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError("expected [real, imag]")
        part = np.dtype(dtype.char.lower())
        out = np.zeros((), dtype=dtype)
        out.real, out.imag = _decode_float(value[0], part), _decode_float(value[1], part)
        return out[()]
    if k in "mM":
        if value == "NaT":
            return np.array("NaT", dtype=dtype)[()]
        return np.array(_decode_int(value, np.dtype("i8")), dtype="i8").view(dtype)[()]
    if k == "U":
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return _fixed_str(value, dtype)
    if k == "S":
        return _fixed_bytes(_decode_base64(value), dtype)
    if k == "V":
        if isinstance(value, list):  # r<N>: the spec's array of byte values
            if not all(_is_int(b) and 0 <= b < 256 for b in value):
                raise ValueError("expected a list of byte values 0-255")
            raw = bytes(value)
        else:
            raw = _decode_base64(value)
        return _fixed_void(raw, dtype)
    if k == "O":
        if kind == "bytes":
            return _decode_base64(value)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("expected a string")
        return str(value)
    raise ValueError(f"unsupported dtype {dtype}")


def _fixed_str(value: str, dtype: np.dtype) -> np.str_:
    if len(value) > dtype.itemsize // 4:
        raise ValueError(f"{len(value)} characters do not fit in {dtype}")
    return np.str_(value)


def _fixed_bytes(raw: bytes, dtype: np.dtype) -> np.bytes_:
    if len(raw) > dtype.itemsize:
        raise ValueError(f"{len(raw)} bytes do not fit in {dtype}")
    return np.bytes_(raw)


def _fixed_void(raw: bytes, dtype: np.dtype) -> np.void:
    if len(raw) != dtype.itemsize:
        raise ValueError(f"{len(raw)} bytes given, {dtype} holds {dtype.itemsize}")
    return np.frombuffer(raw, dtype=dtype)[0]


def decode_fill_value_v3(value: Any, dtype: Any) -> Any:
    """A v3 ``fill_value`` -> the fill value it describes.

    Parameters
    ----------
    value : Any
        The JSON value: a number, ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, ``"0x..."``
        (the raw big-endian bytes of a float), ``[re, im]``, a bool, a string, base64
        text for byte types, an int for datetimes.
    dtype : numpy.dtype or a v3 data type
        A v3 data type (``"variable_length_bytes"``...) says what an object array holds;
        a NumPy ``object`` dtype means ``string``.

    Returns
    -------
    Any
        A NumPy scalar of the dtype (NaN payloads kept), ``str`` for ``string``,
        ``bytes`` for ``variable_length_bytes``.

    Raises
    ------
    MetadataError
        A value the data type cannot hold (the value and dtype named).
    """
    try:
        dt, kind = _dtype_and_kind(dtype)
    except (TypeError, ValueError) as e:
        raise MetadataError(f"not a data type: {dtype!r} ({e})") from None
    if value is None:
        raise MetadataError(f"fill_value is null; Zarr v3 requires one for dtype {dt}")
    try:
        return _decode_fill(value, dt, kind)
    except (TypeError, ValueError, OverflowError) as e:
        raise MetadataError(f"bad fill value {value!r} for data type {dt} ({e})") from None


def encode_fill_value_v3(value: Any, dtype: Any) -> Any:
    """A fill value -> its v3 JSON form, as zarr-python 3 writes it.

    Parameters
    ----------
    value : Any
        A NumPy scalar or Python value the dtype can hold.
    dtype : numpy.dtype or a v3 data type

    Returns
    -------
    Any
        A JSON value (see :func:`decode_fill_value_v3`). A NaN is ``"NaN"`` unless it
        carries a payload, which is kept as hex.

    Raises
    ------
    MetadataError
        A value the dtype cannot hold.
    """
    try:
        dt, kind = _dtype_and_kind(dtype, value)
        return _encode_fill(_normalize_fill(value, dt, kind), dt)
    except (TypeError, ValueError, OverflowError) as e:
        raise MetadataError(f"bad fill value {value!r} for data type {dtype} ({e})") from None


def _encode_fill(value: Any, dtype: np.dtype) -> Any:
    k = dtype.kind
    if k == "b":
        return bool(value)
    if k in "iu":
        return int(value)
    if k == "f":
        return _encode_float(value, dtype)
    if k == "c":
        part = np.dtype(dtype.char.lower())
        return [_encode_float(value.real, part), _encode_float(value.imag, part)]
    if k in "mM":
        return int(np.array(value, dtype=dtype).view("i8"))
    if k == "U":
        return str(value)
    if k == "S":
        return base64.b64encode(bytes(value)).decode("ascii")
    if k == "V":
        return base64.b64encode(value.tobytes()).decode("ascii")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _default_fill(dtype: np.dtype, kind: str | None) -> Any:
    """What zarr-python 3 fills with when given no fill value: zero, False, empty
    strings, zero bytes, and NaT for datetimes."""
    if dtype.kind in "mM":
        return np.array("NaT", dtype=dtype)[()]
    if dtype.kind == "O":
        return b"" if kind == "bytes" else ""
    if dtype.kind == "U":
        return np.str_("")
    if dtype.kind == "S":
        return np.bytes_(b"")
    return np.zeros((), dtype=dtype)[()]


def _normalize_fill(value: Any, dtype: np.dtype, kind: str | None) -> Any:
    """A Python fill value (or its JSON spelling) -> the canonical scalar for ``dtype``."""
    k = dtype.kind
    if value is None:
        return _default_fill(dtype, kind)
    if k == "O":
        want = bytes if kind == "bytes" else str
        if isinstance(value, np.bytes_ | np.str_):
            value = want(value) if isinstance(value, want) else value
        if not isinstance(value, want):
            raise ValueError(f"a {'variable_length_bytes' if want is bytes else 'string'} "
                             f"array's fill value must be {want.__name__}")
        return want(value)
    if isinstance(value, np.generic) and value.dtype == dtype:
        return value  # kept as is: NaN payloads and unstripped bytes survive
    if k in "fc" and isinstance(value, str | list):
        return _decode_fill(value, dtype, kind)
    if isinstance(value, str) and k in "mM" and value != "NaT":
        return np.array(np.datetime64(value) if k == "M" else value, dtype=dtype)[()]
    if k == "b" and not isinstance(value, bool | np.bool_ | int | np.integer):
        raise ValueError("expected a boolean")
    if k in "iu":
        if isinstance(value, bool | np.bool_) or not isinstance(
                value, int | np.integer | float | np.floating):
            raise ValueError("expected an integer")
        if not float(value).is_integer():
            raise ValueError("expected an integer")
        return np.array(int(value), dtype=dtype)[()]
    if k == "U":
        if not isinstance(value, str):
            raise ValueError("expected a str")
        return _fixed_str(value, dtype)
    if k == "S":
        if not isinstance(value, bytes | bytearray):
            raise ValueError("expected bytes")
        return _fixed_bytes(bytes(value), dtype)
    if k == "V":
        raw = value.tobytes() if isinstance(value, np.void) else value
        if not isinstance(raw, bytes | bytearray):
            raise ValueError("expected bytes")
        return _fixed_void(bytes(raw), dtype)
    if k in "mM" and _is_int(value):
        return np.array(int(value), dtype="i8").view(dtype)[()]
    return np.array(value, dtype=dtype)[()]


# ---------------------------------------------------------------------------------------
# array metadata
# ---------------------------------------------------------------------------------------


def _check_extents(value: Any, where: str, field: str, minimum: int) -> tuple[int, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise _fail(where, field, f"must be a list of integers, got {value!r}")
    if not all(_is_int(v) for v in value):
        raise _fail(where, field, f"must hold integers only, got {list(value)!r}")
    if any(v < minimum for v in value):
        what = "positive" if minimum else "non-negative"
        raise _fail(where, field, f"must hold {what} integers, got {list(value)!r}")
    return tuple(int(v) for v in value)


def _codec_list(codecs: Any, where: str) -> tuple[dict, ...]:
    if isinstance(codecs, str | bytes | Mapping) or not isinstance(codecs, Sequence):
        raise _fail(where, "codecs", f"must be a list of codec configurations, got {codecs!r}")
    out = []
    for c in codecs:
        if hasattr(c, "to_dict") and not isinstance(c, Mapping):
            c = c.to_dict()  # a zarr-python 3 codec object
        name, _ = _named(c, where, "codecs")
        out.append({"name": name} if isinstance(c, str) else copy.deepcopy(dict(c)))
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
    except ValueError as e:
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
    if not isinstance(doc["codecs"], list):
        raise _fail(where, "codecs", f"must be a list, got {doc['codecs']!r}")
    meta = ArrayMetadataV3.__new__(ArrayMetadataV3)
    for name, value in (
        ("shape", doc["shape"]),
        ("data_type", dtype),
        ("chunk_shape", _decode_chunk_grid(doc["chunk_grid"], where)),
        ("chunk_key_encoding", _decode_chunk_key_encoding(doc["chunk_key_encoding"], where)),
        ("fill_value", fill),
        ("codecs", doc["codecs"]),
        ("attributes", attributes),
        ("dimension_names", doc.get("dimension_names")),
        ("storage_transformers", ()),
        ("zarr_format", doc["zarr_format"]),
        ("node_type", doc["node_type"]),
    ):
        object.__setattr__(meta, name, value)
    meta._validate(where)
    if dtype.kind == "O" and _object_codec_kind(meta.codecs) not in (None, kind):
        raise _fail(where, "codecs", f"hold {_object_codec_kind(meta.codecs)!r} codecs for "
                    f"data type {doc['data_type']!r}")
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


def _consolidated_order(path: str) -> tuple[int, str]:
    """zarr-python 3 lists consolidated paths by depth, then case-folded name."""
    return path.count("/"), unicodedata.normalize("NFKC", path).casefold()


def _check_consolidated(obj: Any, where: str) -> dict[str, Any]:
    field = "consolidated_metadata"
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
        inner = f"{where}: {field}[{path!r}]"
        if not isinstance(path, str) or not isinstance(node, Mapping):
            raise MetadataError(f"{inner}: expected a path and a node document, got {node!r}")
        node = copy.deepcopy(dict(node))
        if node_type_v3(node, inner) == "array":
            decode_array_metadata_v3(node, inner)
        else:
            decode_group_metadata_v3(node, inner)
        out[path] = node
    return {"kind": "inline", "must_understand": False, "metadata": out}


def decode_group_metadata_v3(data: bytes | str | Mapping,
                             key: str = "zarr.json") -> dict[str, Any]:
    """The bytes (or parsed JSON) of a group's ``zarr.json`` -> its content.

    Parameters
    ----------
    data : bytes, str or mapping
    key : str
        The store key, for error messages.

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
        consolidated = _check_consolidated(consolidated, where)
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
        checked = _check_consolidated(consolidated_metadata, "group zarr.json")
        nodes = checked["metadata"]
        checked["metadata"] = {p: nodes[p] for p in sorted(nodes, key=_consolidated_order)}
        doc["consolidated_metadata"] = checked
    doc["node_type"] = "group"
    return _encode_json(doc)
