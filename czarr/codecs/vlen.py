"""Variable-length object codecs: VLenUTF8 (str), VLenBytes (bytes) and VLenArray (1-d
arrays of one dtype), byte-compatible with numcodecs' codecs of the same ids. Each is a
thin shell over :mod:`czarr._core.vlen`, which packs a 4-byte little-endian item count
and then, per item, a 4-byte little-endian length and the item's bytes. The items of an
array of any shape are taken in memory order (an F-contiguous array in Fortran order,
anything else in C order), as numcodecs takes them; decoding gives a 1-d object array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from czarr._core import vlen as _vlen
from czarr.codecs.abc import Codec
from czarr.errors import CodecError

__all__ = ["VLenUTF8", "VLenBytes", "VLenArray"]


def _flat_objects(buf: Any) -> np.ndarray:
    """``buf`` as a 1-d C-contiguous object array, items in memory order."""
    values = np.asarray(buf, dtype=object).reshape(-1, order="A")
    return np.ascontiguousarray(values)


def _source(buf: Any) -> Any:
    """A contiguous buffer to decode from."""
    if isinstance(buf, np.ndarray):
        if buf.dtype.hasobject:
            raise CodecError("cannot decode from an object array: a buffer is required")
        return np.ascontiguousarray(buf).reshape(-1).view(np.uint8)
    try:
        view = memoryview(buf)
    except TypeError as exc:
        raise CodecError(f"cannot decode a {type(buf).__name__}: a buffer is "
                         "required") from exc
    return view if view.contiguous else view.tobytes()


def check_count(src: Any, out: Any) -> None:
    """Refuse data whose item count (its first 4 bytes) is not ``out``'s size, before
    anything is decoded: a frame of 4 bytes per item must not make millions of objects
    for a chunk of a few (``out`` None: nothing to check)."""
    if not isinstance(out, np.ndarray) or out.dtype != object:
        return
    head = np.frombuffer(src, dtype=np.uint8)[:4].tobytes()
    if len(head) == 4 and int.from_bytes(head, "little") != out.size:
        raise CodecError(f"out holds {out.size} items but the data decodes to "
                         f"{int.from_bytes(head, 'little')}")


def fill_objects(items: np.ndarray, out: Any) -> Any:
    """Return ``items`` (a 1-d object array), or copy them into ``out`` and return it.

    ``out`` must be a writable object ndarray holding exactly ``items.size`` elements,
    filled in memory order (Fortran order when it is F-contiguous only, else C order).

    Raises
    ------
    czarr.errors.CodecError
        If ``out`` is not such an array.
    """
    if out is None:
        return items
    if not isinstance(out, np.ndarray) or out.dtype != object:
        raise CodecError(f"out must be an object ndarray, got {type(out).__name__}"
                         f"{' of ' + str(out.dtype) if isinstance(out, np.ndarray) else ''}")
    if not out.flags.writeable:
        raise CodecError("cannot decode into a read-only array")
    if out.size != items.size:
        raise CodecError(f"out holds {out.size} items but the data decodes to "
                         f"{items.size}")
    order = "F" if out.flags.f_contiguous and not out.flags.c_contiguous else "C"
    out[...] = items.reshape(out.shape, order=order)
    return out


class VLenUTF8(Codec):
    """Variable-length unicode strings as UTF-8, byte-compatible with
    ``numcodecs.VLenUTF8``.

    ``encode`` takes an array-like of ``str`` of any shape (None and values equal to 0
    are stored as empty strings, as numcodecs does); ``decode`` returns a 1-d object
    array of ``str`` (or fills ``out``, an object array of the same size).
    """

    codec_id = "vlen-utf8"

    def __init__(self) -> None:
        pass

    def encode(self, buf: Any) -> bytes:
        return _vlen.encode_utf8(_flat_objects(buf))

    def decode(self, buf: Any, out: Any = None) -> Any:
        src = _source(buf)
        check_count(src, out)
        return fill_objects(_vlen.decode_utf8(src), out)


class VLenBytes(Codec):
    """Variable-length byte strings, byte-compatible with ``numcodecs.VLenBytes``.

    ``encode`` takes an array-like of ``bytes`` of any shape (None and values equal to 0
    are stored as empty byte strings); ``decode`` returns a 1-d object array of
    ``bytes`` (or fills ``out``).
    """

    codec_id = "vlen-bytes"

    def __init__(self) -> None:
        pass

    def encode(self, buf: Any) -> bytes:
        return _vlen.encode_bytes(_flat_objects(buf))

    def decode(self, buf: Any, out: Any = None) -> Any:
        src = _source(buf)
        check_count(src, out)
        return fill_objects(_vlen.decode_bytes(src), out)


class VLenArray(Codec):
    """Variable-length 1-d arrays of one dtype, byte-compatible with
    ``numcodecs.VLenArray``.

    Parameters
    ----------
    dtype : dtype-like
        The dtype of every item (stored in the configuration as its ``str``, e.g.
        ``'<i2'``). Items are cast to it when encoded (None is an empty array, a scalar a
        1-element array); decoded items are new writable arrays of it.
    """

    codec_id = "vlen-array"

    def __init__(self, dtype: Any) -> None:
        try:
            self.dtype = np.dtype(dtype)
        except TypeError as exc:
            raise CodecError(f"VLenArray: invalid dtype {dtype!r}: {exc}") from exc
        if self.dtype.hasobject or self.dtype.itemsize == 0:
            raise CodecError(f"VLenArray cannot hold items of dtype {self.dtype}")

    def get_config(self) -> dict[str, Any]:
        return {"id": self.codec_id, "dtype": self.dtype.str}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dtype={self.dtype.str!r})"

    def encode(self, buf: Any) -> bytes:
        values = _flat_objects(buf)
        packed = np.empty(values.shape[0], dtype=object)
        dtype = self.dtype
        # datetimes and structured dtypes export no buffer: pack those as raw bytes
        as_bytes = dtype.kind in "MmV"
        for i, value in enumerate(values):
            if (type(value) is np.ndarray and value.dtype == dtype and value.ndim == 1
                    and value.flags.c_contiguous):
                item = value
            elif value is None:
                item = np.empty(0, dtype=dtype)
            else:
                item = np.ascontiguousarray(value, dtype=dtype)
                if item.ndim != 1:
                    raise CodecError(f"VLenArray: only 1-d items can be encoded, item "
                                     f"{i} has shape {item.shape}")
            packed[i] = item.view(np.uint8) if as_bytes else item
        return _vlen.encode_buffers(packed)

    def decode(self, buf: Any, out: Any = None) -> Any:
        src = _source(buf)
        check_count(src, out)
        return fill_objects(_vlen.decode_arrays(src, self.dtype), out)
