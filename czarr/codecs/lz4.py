"""LZ4 codec (numcodecs' framing): a thin shell over :mod:`czarr._core.lz4`."""

from __future__ import annotations

from typing import Any

from czarr._core import lz4 as _lz4
from czarr.codecs._buffers import contiguous, writable
from czarr.codecs.abc import Codec
from czarr.errors import CodecError


class LZ4(Codec):
    """LZ4, byte-compatible with ``numcodecs.LZ4``: a 4-byte little-endian size, then
    one LZ4 block.

    Parameters
    ----------
    acceleration : int
        Larger is faster and compresses less; values below 1 mean 1.
    """

    codec_id = "lz4"
    max_buffer_size = _lz4.MAX_INPUT_SIZE

    def __init__(self, acceleration: int = 1) -> None:
        if isinstance(acceleration, bool) or not isinstance(acceleration, int) or not (
                -(2**31) <= acceleration < 2**31):
            raise CodecError(f"LZ4 acceleration must be an integer, got {acceleration!r}")
        self.acceleration = acceleration

    def encode(self, buf: Any) -> bytes:
        return _lz4.compress(contiguous(buf), self.acceleration)

    def decode(self, buf: Any, out: Any = None) -> Any:
        src = contiguous(buf)
        if out is None:
            return _lz4.decompress(src)
        _lz4.decompress(src, writable(out))
        return out

    def decode_bounded(self, buf: Any, max_nbytes: int) -> bytes:
        return _lz4.decompress(contiguous(buf), None, max_nbytes)
