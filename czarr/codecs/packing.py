"""Layout filters that move bits and bytes without changing values, byte-compatible with
numcodecs: PackBits (eight booleans to a byte, after one byte counting the padding bits;
NumPy's packbits gives exactly numcodecs' bytes) and Shuffle (numcodecs' byte shuffle,
a thin shell over :mod:`czarr._core.filters`, which runs without the GIL).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from czarr._core import filters as _filters
from czarr.codecs._buffers import contiguous, copy_into, writable
from czarr.codecs.abc import Codec
from czarr.codecs.filters import flat_array, out_array
from czarr.errors import CodecError

__all__ = ["PackBits", "Shuffle"]

_BLOCK_BITS = 1 << 19  # booleans unpacked at a time into a destination


class PackBits(Codec):
    """Pack a boolean array eight values to a byte (most significant bit first), after
    a leading byte holding the number of padding bits (0 to 7) in the last byte;
    byte-compatible with ``numcodecs.PackBits``."""

    codec_id = "packbits"

    def encode(self, buf: Any) -> np.ndarray:
        values = flat_array(buf, np.bool_, "PackBits")
        encoded = np.empty((values.size + 7) // 8 + 1, dtype=np.uint8)
        encoded[0] = -values.size % 8
        encoded[1:] = np.packbits(values)
        return encoded

    def decode(self, buf: Any, out: Any = None) -> Any:
        encoded = flat_array(buf, np.uint8, "PackBits")
        if encoded.size == 0:
            raise CodecError("PackBits: empty input (the padding-count byte is missing)")
        padding = int(encoded[0])
        if padding > 7 or (padding and encoded.size == 1):
            raise CodecError(f"PackBits: invalid padding count {padding} for "
                             f"{encoded.size - 1} packed bytes")
        count = (encoded.size - 1) * 8 - padding
        if out is None:
            return np.unpackbits(encoded[1:], count=count).view(np.bool_)
        # the size is checked before anything is unpacked, then unpacked a block at a time
        target = out_array(out, np.uint8, count, "PackBits")
        for i in range(0, count, _BLOCK_BITS):
            bits = min(_BLOCK_BITS, count - i)
            target[i:i + bits] = np.unpackbits(encoded[1 + i // 8:1 + (i + bits + 7) // 8],
                                               count=bits)
        return out


class Shuffle(Codec):
    """numcodecs' byte shuffle: the first byte of every element, then the second byte
    of every element, and so on (one pass over the whole buffer, unlike Blosc's
    blocked shuffle); byte-compatible with ``numcodecs.Shuffle``.

    Parameters
    ----------
    elementsize : int
        Size in bytes of an element; 0 or 1 leaves the data as it is. The data must be
        a whole number of elements.
    """

    codec_id = "shuffle"

    def __init__(self, elementsize: int = 4) -> None:
        if isinstance(elementsize, bool) or not isinstance(elementsize, numbers.Integral) \
                or elementsize < 0:
            raise CodecError(f"Shuffle elementsize must be an integer >= 0, got "
                             f"{elementsize!r}")
        self.elementsize = int(elementsize)

    def encode(self, buf: Any) -> bytes:
        src = contiguous(buf)
        if self.elementsize <= 1:
            return src.tobytes()
        return _filters.shuffle(src, self.elementsize)

    def decode(self, buf: Any, out: Any = None) -> Any:
        src = contiguous(buf)
        if self.elementsize <= 1:
            data = src.tobytes()
            return copy_into(data, out) if out is not None else data
        if out is None:
            return _filters.unshuffle(src, self.elementsize)
        _filters.unshuffle(src, self.elementsize, writable(out))
        return out
