"""LZMA/XZ codec, wrapping the standard library as numcodecs does."""

from __future__ import annotations

import lzma as _lzma
from typing import Any

from czarr.codecs._buffers import contiguous, copy_into, decompress_streams, nbytes_of
from czarr.codecs.abc import Codec
from czarr.errors import CodecError

_MEMLIMIT = 128 << 20  # bytes a bounded decoding lets liblzma use, at least


class LZMA(Codec):
    """LZMA, byte-compatible with ``numcodecs.LZMA``.

    Parameters
    ----------
    format : int
        ``lzma.FORMAT_XZ`` (1), ``FORMAT_ALONE`` (2) or ``FORMAT_RAW`` (3; needs
        ``filters``); ``FORMAT_AUTO`` (0) only decodes.
    check : int
        Integrity check (``lzma.CHECK_*``); -1 is the format's default.
    preset : int or None
        Compression preset 0-9, optionally ``| lzma.PRESET_EXTREME``.
    filters : list of dict or None
        A custom filter chain (then ``preset`` must be None).
    """

    codec_id = "lzma"

    def __init__(self, format: int = 1, check: int = -1, preset: int | None = None,
                 filters: list[dict[str, Any]] | None = None) -> None:
        if format not in (0, 1, 2, 3):
            raise CodecError(f"LZMA format must be 0, 1, 2 or 3, got {format!r}")
        if check not in (-1, 0, 1, 4, 10):
            raise CodecError(f"LZMA check must be -1, 0, 1, 4 or 10, got {check!r}")
        if preset is not None and (isinstance(preset, bool) or not isinstance(preset, int)
                                   or not 0 <= (preset & ~_lzma.PRESET_EXTREME) <= 9):
            raise CodecError(f"LZMA preset must be None or 0-9, got {preset!r}")
        if filters is not None and preset is not None:
            raise CodecError("LZMA takes a preset or filters, not both")
        if format == 3 and filters is None:
            raise CodecError("LZMA FORMAT_RAW needs filters")
        self.format = format
        self.check = check
        self.preset = preset
        self.filters = filters

    def encode(self, buf: Any) -> bytes:
        try:
            return _lzma.compress(contiguous(buf), format=self.format, check=self.check,
                                  preset=self.preset, filters=self.filters)
        except (_lzma.LZMAError, ValueError) as exc:
            raise CodecError(f"LZMA cannot encode with {self!r}: {exc}") from exc

    def decode(self, buf: Any, out: Any = None) -> Any:
        if out is not None:  # never inflated past the destination's size
            return copy_into(self.decode_bounded(buf, nbytes_of(out)), out)
        try:
            return _lzma.decompress(contiguous(buf), format=self.format,
                                    filters=self.filters)
        except (_lzma.LZMAError, ValueError, EOFError) as exc:
            raise CodecError(f"invalid or truncated LZMA data: {exc}") from exc

    def decode_bounded(self, buf: Any, max_nbytes: int) -> bytes:
        src = contiguous(buf)
        if not len(src):
            raise CodecError("invalid or truncated LZMA data: empty input")
        # a stream's header sets the decoder's dictionary (up to 4 GiB from 13 bytes);
        # more than a preset-9 stream (64 MiB) or twice the output is refused
        limit = {} if self.format == 3 else {"memlimit": max(_MEMLIMIT, 2 * max_nbytes)}
        return decompress_streams(
            lambda: _lzma.LZMADecompressor(format=self.format, filters=self.filters,
                                           **limit),
            src, max_nbytes, (_lzma.LZMAError, ValueError, EOFError), "LZMA")
