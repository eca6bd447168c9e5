"""bzip2 codec, wrapping the standard library as numcodecs does."""

from __future__ import annotations

import bz2 as _bz2
from typing import Any

from czarr.codecs._buffers import contiguous, copy_into, decompress_streams, nbytes_of
from czarr.codecs.abc import Codec
from czarr.errors import CodecError


class BZ2(Codec):
    """bzip2, byte-compatible with ``numcodecs.BZ2``.

    Parameters
    ----------
    level : int
        Compression level, 1 to 9.
    """

    codec_id = "bz2"

    def __init__(self, level: int = 1) -> None:
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 9:
            raise CodecError(f"BZ2 level must be an integer from 1 to 9, got {level!r}")
        self.level = level

    def encode(self, buf: Any) -> bytes:
        return _bz2.compress(contiguous(buf), self.level)

    def decode(self, buf: Any, out: Any = None) -> Any:
        if out is not None:  # never inflated past the destination's size
            return copy_into(self.decode_bounded(buf, nbytes_of(out)), out)
        try:
            return _bz2.decompress(memoryview(contiguous(buf)))
        except (OSError, ValueError, EOFError) as exc:
            raise CodecError(f"invalid or truncated bzip2 data: {exc}") from exc

    def decode_bounded(self, buf: Any, max_nbytes: int) -> bytes:
        return decompress_streams(_bz2.BZ2Decompressor, contiguous(buf), max_nbytes,
                                  (OSError, ValueError, EOFError), "bzip2")
