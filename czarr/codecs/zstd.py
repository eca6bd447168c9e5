"""Zstandard codec: a thin shell over :mod:`czarr._core.zstd`."""

from __future__ import annotations

from typing import Any

from czarr._core import zstd as _zstd
from czarr.codecs._buffers import contiguous, writable
from czarr.codecs.abc import Codec
from czarr.errors import CodecError


class Zstd(Codec):
    """Zstandard, byte-compatible with ``numcodecs.Zstd`` (for the same libzstd).

    Parameters
    ----------
    level : int
        Compression level (default 0, as numcodecs): negative levels are fast modes, 0 is
        libzstd's default (3), up to 22; levels out of range are clamped by libzstd, as
        in numcodecs.
    checksum : bool
        Store a checksum of the content, verified when decoding.
    """

    codec_id = "zstd"

    def __init__(self, level: int = 0, checksum: bool = False) -> None:
        if isinstance(level, bool) or not isinstance(level, int):
            raise CodecError(f"Zstd level must be an integer, got {level!r}")
        if not -(2**31) <= level < 2**31:
            raise CodecError(f"Zstd level out of range: {level}")
        if not isinstance(checksum, bool):
            raise CodecError(f"Zstd checksum must be a bool, got {checksum!r}")
        self.level = level
        self.checksum = checksum

    def encode(self, buf: Any) -> bytes:
        return _zstd.compress(contiguous(buf), self.level, self.checksum)

    def decode(self, buf: Any, out: Any = None) -> Any:
        src = contiguous(buf)
        if out is None:
            return _zstd.decompress(src)
        _zstd.decompress(src, writable(out))
        return out

    def decode_bounded(self, buf: Any, max_nbytes: int) -> bytes:
        return _zstd.decompress(contiguous(buf), None, max_nbytes)
