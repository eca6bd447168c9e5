"""What a user passes to a creation function -> the canonical values a ``.zarray`` holds.

The rules are zarr-python 2's: an int shape is a 1-d shape, ``chunks=True`` asks for
its automatic guess (reproduced exactly, in integer maths), ``-1``/None chunk entries
mean the full extent, ``'str'`` means an object array, a fill value of 0 means all zero
bytes whatever the dtype. These functions raise ``ValueError``/``TypeError`` for what
cannot be normalised; :mod:`czarr.metadata.v2` re-exports them.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from czarr.util import ceildiv

__all__ = [
    "CHUNK_BASE",
    "CHUNK_MIN",
    "CHUNK_MAX",
    "guess_chunks",
    "normalize_chunks",
    "normalize_shape",
    "normalize_order",
    "normalize_dimension_separator",
    "normalize_dtype",
    "normalize_fill_value",
]

# Names zarr-python 2 accepts as a dtype to mean "object array of this kind"; the object
# codec itself (vlen-utf8, vlen-bytes, vlen-array) is chosen by the creation code.
_OBJECT_DTYPE_NAMES = ("str", "bytes", "array")

def _is_int(x: Any) -> bool:
    if type(x) is int:  # the common case, without the ABC check (metadata of every node)
        return True
    return isinstance(x, numbers.Integral) and not isinstance(x, bool | np.bool_)


def normalize_shape(shape: Any) -> tuple[int, ...]:
    """An int or a sequence of ints -> a tuple of non-negative ints.

    Parameters
    ----------
    shape : int or sequence of int

    Returns
    -------
    tuple of int

    Raises
    ------
    TypeError
        If ``shape`` is None or holds something other than integers.
    ValueError
        If an extent is negative.
    """
    if shape is None:
        raise TypeError("shape is None")
    if _is_int(shape):
        shape = (shape,)
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be an int or a sequence of ints, got {shape!r}") from None
    if not all(_is_int(s) for s in items):
        if not all(isinstance(s, numbers.Real) and not isinstance(s, bool) for s in items):
            raise TypeError(f"shape must hold integers, got {shape!r}")
        # zarr-python 2 warns and truncates (10.0 -> 10)
        warnings.warn("shape contains non-integer value(s)", UserWarning, stacklevel=3)
    out = tuple(int(s) for s in items)
    if any(s < 0 for s in out):
        raise ValueError(f"shape must not be negative, got {out!r}")
    return out


# Bounds of the automatic chunk guess, as zarr-python 2 (taken from h5py): the target
# size grows with the array by CHUNK_BASE per decade, between CHUNK_MIN and CHUNK_MAX.
CHUNK_BASE = 256 * 1024
CHUNK_MIN = 128 * 1024
CHUNK_MAX = 64 * 1024 * 1024


def guess_chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """zarr-python 2's automatic chunk shape.

    Starting from the whole array, halve the dimensions in turn (first, second, ...,
    wrapping around) until a chunk is below a target size (or within 50% of it) and below
    64 MiB. The target grows with the array: 256 KiB times 2 to the power log10 of the
    array's size in MiB, clamped to [128 KiB, 64 MiB]. Extents are kept as integers (zarr
    halves floats, which only differs past 2**53).

    Parameters
    ----------
    shape : tuple of int
        Array shape (zero extents count as 1).
    itemsize : int
        Bytes per element.

    Returns
    -------
    tuple of int
        Chunk shape, every entry >= 1.
    """
    chunks = [max(int(s), 1) for s in shape]
    if itemsize <= 0:
        return tuple(chunks)
    ndim = len(chunks)
    dset_size = math.prod(chunks) * itemsize
    target = CHUNK_BASE * (2 ** math.log10(dset_size / (1024.0 * 1024)))
    target = min(max(target, CHUNK_MIN), CHUNK_MAX)
    idx = 0
    while True:
        n = math.prod(chunks)
        chunk_bytes = n * itemsize
        small_enough = chunk_bytes < target or abs(chunk_bytes - target) / target < 0.5
        if small_enough and chunk_bytes < CHUNK_MAX:
            break
        if n == 1:
            break  # a single element is larger than CHUNK_MAX
        chunks[idx % ndim] = ceildiv(chunks[idx % ndim], 2)
        idx += 1
    return tuple(chunks)


def normalize_chunks(chunks: Any, shape: tuple[int, ...], typesize: int) -> tuple[int, ...]:
    """The ``chunks`` argument of a creation function -> a chunk shape, as zarr-python 2.

    Parameters
    ----------
    chunks : True, None, False, int or sequence of (int or None)
        ``True``/``None``: guess (:func:`guess_chunks`); ``False``: one chunk for the whole
        array; an int: that size along every dimension; a sequence: per dimension, where
        ``-1`` or ``None`` means the full extent and missing trailing entries likewise.
    shape : tuple of int
        The (normalised) array shape.
    typesize : int
        Bytes per element, for the guess (zarr-python 2's name).

    Returns
    -------
    tuple of int
        One positive int per dimension. A full extent of 0 becomes 1 (zarr-python 2 would
        store a chunk size of 0, which no reader can divide by).

    Raises
    ------
    ValueError
        Too many dimensions, or a chunk size below 1.
    """
    shape = tuple(shape)
    if chunks is None or chunks is True:
        return guess_chunks(shape, typesize)
    if chunks is False:
        return tuple(max(s, 1) for s in shape)
    if _is_int(chunks):
        chunks = (int(chunks),) * len(shape)
    try:
        chunks = tuple(chunks)
    except TypeError:
        raise TypeError(f"chunks must be True, an int or a sequence, got {chunks!r}") from None
    if len(chunks) > len(shape):
        raise ValueError(f"too many dimensions in chunks {chunks!r} for shape {shape!r}")
    chunks = chunks + (None,) * (len(shape) - len(chunks))
    out = []
    for c, s in zip(chunks, shape):
        if c is None or (_is_int(c) and c == -1):
            out.append(max(s, 1))
        elif _is_int(c) and c >= 1:
            out.append(int(c))
        else:
            raise ValueError(f"chunk sizes must be positive ints, -1 or None, got {c!r}")
    return tuple(out)


def normalize_order(order: str) -> str:
    """``'c'``/``'C'``/``'f'``/``'F'`` -> ``'C'`` or ``'F'``; anything else is a ValueError."""
    out = str(order).upper()
    if out not in ("C", "F"):
        raise ValueError(f"order must be either 'C' or 'F', found: {order!r}")
    return out


def normalize_dimension_separator(sep: str | None) -> str | None:
    """``'.'``, ``'/'`` or None (meaning "the store's default") pass; anything else raises."""
    if sep in (".", "/", None):
        return sep
    raise ValueError(f"dimension_separator must be either '.' or '/', found: {sep!r}")


def normalize_dtype(dtype: Any) -> np.dtype:
    """What a user passes as ``dtype`` -> a NumPy dtype, as zarr-python 2.

    Parameters
    ----------
    dtype : str, type, numpy.dtype or None
        Anything ``numpy.dtype`` accepts (None means float64); the Python types ``str``
        and ``bytes`` and the names ``'str'``, ``'bytes'``, ``'array'`` (optionally with
        ``':args'``) mean an object array whose codec the caller supplies.

    Returns
    -------
    numpy.dtype

    Raises
    ------
    ValueError
        For datetime64/timedelta64 without units, or anything NumPy rejects.
    """
    if isinstance(dtype, type) and dtype.__name__ in _OBJECT_DTYPE_NAMES:
        return np.dtype(object)
    if isinstance(dtype, str) and dtype.split(":")[0] in _OBJECT_DTYPE_NAMES:
        return np.dtype(object)
    try:
        out = np.dtype(dtype)
    except TypeError as e:
        raise ValueError(f"not a dtype: {dtype!r} ({e})") from None
    if out.kind in "mM" and np.datetime_data(out)[0] == "generic":
        raise ValueError(
            "datetime64 and timedelta64 dtypes with generic units are not supported, "
            'please specify units (e.g., "M8[ns]")'
        )
    return out


def normalize_fill_value(fill_value: Any, dtype: np.dtype) -> Any:
    """What a user passes as ``fill_value`` -> the canonical fill value, as zarr-python 2.

    Parameters
    ----------
    fill_value : Any
        None (no fill value: unwritten chunks are undefined), a number, bool, bytes, str,
        datetime64...; ``0`` means "all zero bytes" for every dtype, structured included.
    dtype : numpy.dtype

    Returns
    -------
    Any
        None, a NumPy scalar of ``dtype``, or a ``str`` for ``U`` dtypes; object arrays'
        fill values are returned unchanged.

    Raises
    ------
    ValueError
        If the value cannot be held by ``dtype``.
    """
    dtype = np.dtype(dtype)
    if fill_value is None or dtype.hasobject:
        return fill_value
    is_number = isinstance(fill_value, int | float | np.integer | np.floating | np.bool_)
    if is_number and fill_value == 0 and dtype.kind not in "biufc":
        # 0 means all zero bytes, for any dtype (structured, bytes, str, datetime...)
        return np.zeros((), dtype=dtype)[()]
    if dtype.kind == "U":
        # kept as str: going through NumPy could alter it on some platforms
        if not isinstance(fill_value, str):
            raise ValueError(
                f"fill_value {fill_value!r} is not valid for dtype {dtype}; "
                "must be a unicode string"
            )
        return str(fill_value)
    try:
        if dtype.kind == "V":
            if isinstance(fill_value, np.void):
                raw = fill_value.tobytes()
            elif isinstance(fill_value, bytes | bytearray | memoryview):
                raw = bytes(fill_value)
            else:
                return np.array(fill_value, dtype=dtype)[()]
            if len(raw) != dtype.itemsize:
                raise ValueError(f"{len(raw)} bytes given, the dtype has {dtype.itemsize}")
            return np.frombuffer(raw, dtype=dtype)[0]
        if dtype.kind in "iu" and isinstance(fill_value, float) and not fill_value.is_integer():
            raise ValueError("not an integer")
        return np.array(fill_value, dtype=dtype)[()]
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(
            f"fill_value {fill_value!r} is not valid for dtype {dtype}; nested exception: {e}"
        ) from None
