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
from czarr.codecs._buffers import DECODE_BLOCK, contiguous, writable
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
        if out is None:  # no size to hold it to: the standard library's reader
            try:
                with _gzip.GzipFile(fileobj=io.BytesIO(contiguous(buf)), mode="rb") as f:
                    return f.read()
            except (OSError, EOFError, _pyzlib.error) as exc:
                raise CodecError(f"invalid or truncated gzip data: {exc}") from exc
        target = np.asarray(writable(out)).reshape(-1, order="A").view(np.uint8)
        filled = _gunzip_into(contiguous(buf), target)
        if filled != target.nbytes:
            raise CodecError(f"gzip data does not decompress to exactly {target.nbytes} "
                             f"bytes ({filled})")
        return out

    def decode_bounded(self, buf: Any, max_nbytes: int) -> Any:
        target = np.empty(max_nbytes, dtype=np.uint8)
        return target[:_gunzip_into(contiguous(buf), target)]


def _gunzip_into(src: Any, target: np.ndarray) -> int:
    """Inflate the gzip members of ``src`` into ``target`` (uint8) as ``GzipFile`` reads
    them (one after another, zero bytes between them skipped, anything else an error), a
    block at a time; returns the bytes written. Nothing is allocated beyond a block, and
    a stream longer than ``target`` is refused one byte past its end."""
    filled, rest = 0, src
    try:
        while len(rest):
            member = _pyzlib.decompressobj(_pyzlib.MAX_WBITS | 16)
            while True:
                piece = member.decompress(rest, min(DECODE_BLOCK, target.nbytes - filled + 1))
                if filled + len(piece) > target.nbytes:
                    raise CodecError(f"gzip data decompresses to more than the "
                                     f"{target.nbytes} bytes expected")
                target[filled:filled + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
                filled += len(piece)
                rest = member.unconsumed_tail
                if member.eof or not (piece or rest):
                    break
            if not member.eof:
                raise CodecError("invalid or truncated gzip data: the stream ends before "
                                 "its end-of-stream marker")
            rest = member.unused_data.lstrip(b"\0")
    except _pyzlib.error as exc:
        raise CodecError(f"invalid or truncated gzip data: {exc}") from exc
    return filled
