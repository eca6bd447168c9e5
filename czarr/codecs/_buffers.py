"""Buffer normalisation shared by the codec classes: what may be encoded, decoded, or
decoded into, and how each is presented (without copying) to ``czarr._core``."""

from __future__ import annotations

from collections.abc import Callable
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


def nbytes_of(out: Any) -> int:
    """The size in bytes of a destination ``out`` (checked as :func:`writable` does)."""
    return writable(out).nbytes


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


def check_decoded_size(data: Any, max_nbytes: int, what: str) -> None:
    """CodecError when decoded ``data`` (bytes-like or ndarray) exceeds ``max_nbytes``."""
    nbytes = data.nbytes if isinstance(data, np.ndarray) else memoryview(data).nbytes
    if nbytes > max_nbytes:
        raise CodecError(f"{what} data decodes to {nbytes} bytes, more than the "
                         f"{max_nbytes} expected")


def decompress_streams(new_decompressor: Callable[[], Any], data: Any, max_nbytes: int,
                       errors: tuple[type[BaseException], ...], what: str) -> bytes:
    """Decompress concatenated streams (as ``bz2.decompress``/``lzma.decompress`` do:
    trailing bytes that start no valid stream are ignored) into at most ``max_nbytes``
    bytes, with the standard library's incremental decompressors: decoding stops at the
    bound, so a decompression bomb costs no more than ``max_nbytes + 1`` bytes.

    Raises
    ------
    czarr.errors.CodecError
        Invalid or truncated data, or more than ``max_nbytes`` bytes of output.
    """
    parts: list[bytes] = []
    total = 0
    rest = bytes(memoryview(data).cast("B"))
    while rest:
        decompressor = new_decompressor()
        try:
            part = decompressor.decompress(rest, max_nbytes - total + 1)
        except errors as exc:
            if parts:
                break  # what follows the last stream is not a stream: ignored
            raise CodecError(f"invalid {what} data: {exc}") from exc
        total += len(part)
        parts.append(part)
        if total > max_nbytes:
            raise CodecError(f"{what} data decompresses to more than the {max_nbytes} "
                             "bytes expected")
        if not decompressor.eof:
            raise CodecError(f"truncated {what} data: the stream ends before its "
                             "end-of-stream marker")
        rest = decompressor.unused_data
    return b"".join(parts)
