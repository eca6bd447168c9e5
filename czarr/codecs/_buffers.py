"""Buffer normalisation shared by the codec classes: what may be encoded, decoded, or
decoded into, and how each is presented (without copying) to ``czarr._core``."""

from __future__ import annotations

from typing import Any

import numpy as np

from czarr.errors import CodecError


def contiguous(buf: Any) -> Any:
    """A C-contiguous 1-d view of ``buf`` (bytes-like or ndarray) to read from.

    C- or F-contiguous arrays are viewed in memory order (as numcodecs does); other
    arrays are copied into C order, never misread. Datetimes are viewed as int64.
    """
    if isinstance(buf, np.ndarray):
        if buf.dtype.hasobject:
            raise CodecError("object arrays cannot be encoded")
        if buf.dtype.kind in "Mm":
            buf = buf.view(np.int64)
        if not (buf.flags.c_contiguous or buf.flags.f_contiguous):
            buf = np.ascontiguousarray(buf)
        return buf.reshape(-1, order="A")
    try:
        view = memoryview(buf)
    except TypeError as exc:
        raise CodecError(f"cannot encode or decode a {type(buf).__name__}: "
                         "a buffer is required") from exc
    if not view.contiguous:
        return np.ascontiguousarray(np.asarray(view)).reshape(-1)
    return view


def writable(out: Any) -> Any:
    """A view of ``out`` that ``_core`` can decode into: a writable contiguous buffer."""
    if isinstance(out, np.ndarray):
        if out.dtype.hasobject:
            raise CodecError("cannot decode into an object array")
        if not out.flags.writeable:
            raise CodecError("cannot decode into a read-only array")
        if not (out.flags.c_contiguous or out.flags.f_contiguous):
            raise CodecError("cannot decode into a non-contiguous array")
        if out.dtype.kind in "Mm":
            return out.view(np.int64)
        return out
    try:
        view = memoryview(out)
    except TypeError as exc:
        raise CodecError(f"cannot decode into a {type(out).__name__}: "
                         "a writable buffer is required") from exc
    if view.readonly:
        raise CodecError("cannot decode into a read-only buffer")
    if not view.contiguous:
        raise CodecError("cannot decode into a non-contiguous buffer")
    return view


def copy_into(data: bytes, out: Any) -> Any:
    """Copy decoded ``data`` into ``out`` (exactly its size) and return ``out``."""
    if out is None:
        return data
    target = np.asarray(writable(out)).reshape(-1, order="A").view(np.uint8)
    if target.nbytes != len(data):
        raise CodecError(f"destination holds {target.nbytes} bytes but the data decodes "
                         f"to {len(data)}")
    target[:] = np.frombuffer(data, dtype=np.uint8)
    return out
