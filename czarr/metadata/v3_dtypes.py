"""Zarr v3 data types and fill values: the ``data_type`` and ``fill_value`` fields of an
array's ``zarr.json``, as zarr-python 3.1 writes and reads them.

NumPy dtypes are held in native byte order (the ``bytes`` codec says how items are
stored). Besides the core numeric types, the extensions zarr-python 3 writes are understood:
``string`` and ``variable_length_bytes`` (both NumPy ``object``: the fill value, a ``str``
or ``bytes``, says which), ``fixed_length_utf32``, ``null_terminated_bytes``,
``raw_bytes`` (and the spec's ``r<N>``), ``numpy.datetime64`` and ``numpy.timedelta64``.
Floats follow the spec: numbers, ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` or the raw
big-endian bytes in hex (``"0x7fc00000"``); a NaN with a payload is written as hex so its
bits survive. Pure functions; :mod:`czarr.metadata.v3` re-exports the public ones.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

from czarr.errors import MetadataError
from czarr.metadata.normalize import _is_int

__all__ = [
    "encode_data_type",
    "decode_data_type",
    "encode_fill_value_v3",
    "decode_fill_value_v3",
]

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
    except (TypeError, ValueError) as e:  # TypeError: NumPy refusing a size
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
        said = dtype is str or getattr(dtype, "kind", None) == "T" or (
            isinstance(dtype, str) and dtype in ("string", "variable_length_bytes"))
        if not said:
            kind = object_kind  # a NumPy object dtype: the caller says what it holds
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
    number = float(value)  # "1.5", as zarr-python 3 reads it
    if not math.isfinite(number):
        raise ValueError("NaN and the infinities are spelt 'NaN', 'Infinity', '-Infinity'")
    return dtype.type(number)


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
        raise MetadataError(f"bad fill value null: Zarr v3 requires one (data type {dt})")
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
