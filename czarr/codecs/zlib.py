"""zlib and gzip codecs. Zlib is a thin shell over :mod:`czarr._core.zlib`; GZip wraps
the standard library exactly as numcodecs does (its header holds the current time, as
numcodecs' does)."""

from __future__ import annotations

import gzip as _gzip
import io
import zlib as _pyzlib
from typing import Any

import numpy as np

from czarr._core import zlib as _zlib
from czarr.codecs._buffers import contiguous, writable
from czarr.codecs.abc import Codec
from czarr.errors import CodecError


def _check_level(name: str, level: Any) -> None:
    if isinstance(level, bool) or not isinstance(level, int) or not -1 <= level <= 9:
        raise CodecError(f"{name} level must be an integer from -1 to 9, got {level!r}")


class Zlib(Codec):
    """zlib format (RFC 1950), byte-compatible with ``numcodecs.Zlib``.

    Parameters
    ----------
    level : int
        Compression level, -1 (zlib's default, 6) or 0 to 9.
    """

    codec_id = "zlib"

    def __init__(self, level: int = 1) -> None:
        _check_level("Zlib", level)
        self.level = level

    def encode(self, buf: Any) -> bytes:
        return _zlib.compress(contiguous(buf), self.level)

    def decode(self, buf: Any, out: Any = None) -> Any:
        src = contiguous(buf)
        if out is None:
            return _zlib.decompress(src)
        _zlib.decompress(src, writable(out))
        return out

    def decode_bounded(self, buf: Any, max_nbytes: int) -> bytes:
        return _zlib.decompress(contiguous(buf), None, max_nbytes)


class GZip(Codec):
    """gzip format (RFC 1952) through the standard library, byte-compatible with
    ``numcodecs.GZip`` (the header's modification time is the time of encoding).

    Parameters
    ----------
    level : int
        Compression level, 0 to 9.
    """

    codec_id = "gzip"

    def __init__(self, level: int = 1) -> None:
        _check_level("GZip", level)
        self.level = level

    def encode(self, buf: Any) -> bytes:
        data = contiguous(buf)
        compressed = io.BytesIO()
        with _gzip.GzipFile(fileobj=compressed, mode="wb", compresslevel=self.level) as f:
            f.write(data)
        return compressed.getvalue()

    def decode(self, buf: Any, out: Any = None) -> Any:
        return self._decode(buf, out, -1)

    def decode_bounded(self, buf: Any, max_nbytes: int) -> bytes:
        return self._decode(buf, None, max_nbytes)

    def _decode(self, buf: Any, out: Any, max_nbytes: int) -> Any:
        src = io.BytesIO(contiguous(buf))
        try:
            with _gzip.GzipFile(fileobj=src, mode="rb") as f:
                if out is None:
                    # reading stops one byte past the bound: a bomb is not inflated
                    data = f.read(max_nbytes + 1 if max_nbytes >= 0 else -1)
                    if 0 <= max_nbytes < len(data):
                        raise CodecError(f"gzip data decompresses to more than the "
                                         f"{max_nbytes} bytes expected")
                    return data
                target = np.asarray(writable(out)).reshape(-1, order="A").view(np.uint8)
                filled = f.readinto(target)
                if filled != target.nbytes or f.read(1) != b"":
                    raise CodecError(f"gzip data does not decompress to exactly "
                                     f"{target.nbytes} bytes")
                return out
        except (OSError, EOFError, _pyzlib.error) as exc:
            raise CodecError(f"invalid or truncated gzip data: {exc}") from exc
