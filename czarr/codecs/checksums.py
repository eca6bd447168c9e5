"""Checksum codecs, byte-compatible with numcodecs: CRC32 and Adler32 store zlib's
32-bit checksum of the data as 4 little-endian bytes before it (or after it, with
``location='end'``); Fletcher32 appends HDF5's Fletcher-32 (computed in
:mod:`czarr._core.filters` without the GIL). Decoding checks the checksum and raises
:class:`~czarr.errors.CodecError` naming the stored and computed values when it differs
or when the input is too short to hold one.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from czarr._core import filters as _filters
from czarr.codecs.abc import Codec
from czarr.codecs.filters import deliver, flat_array
from czarr.errors import CodecError

__all__ = ["CRC32", "CRC32C", "Adler32", "Fletcher32"]

_LOCATIONS = ("start", "end")


class _Checksum32(Codec):
    """A 32-bit checksum stored as 4 little-endian bytes at ``location``."""

    location = "start"

    def _checksum(self, data: np.ndarray) -> int:
        raise NotImplementedError

    def encode(self, buf: Any) -> bytes:
        data = memoryview(flat_array(buf, np.uint8, self.codec_id or ""))
        stored = (self._checksum(data) & 0xFFFFFFFF).to_bytes(4, "little")
        return b"".join((stored, data) if self.location == "start" else (data, stored))

    def decode(self, buf: Any, out: Any = None) -> Any:
        encoded = flat_array(buf, np.uint8, self.codec_id or "")
        if encoded.size < 4:
            raise CodecError(f"{self.codec_id}: {encoded.size} bytes cannot hold the "
                             f"4-byte checksum (truncated input)")
        if self.location == "start":
            stored_bytes, payload = encoded[:4], encoded[4:]
        else:
            stored_bytes, payload = encoded[-4:], encoded[:-4]
        stored = int.from_bytes(stored_bytes.tobytes(), "little")
        computed = self._checksum(payload) & 0xFFFFFFFF
        if stored != computed:
            raise CodecError(f"{self.codec_id} checksum mismatch: stored 0x{stored:08x}, "
                             f"computed 0x{computed:08x} over {payload.size} bytes "
                             f"(corrupt data)")
        return payload.tobytes() if out is None else deliver(payload, out, self.codec_id)


class _ZlibChecksum32(_Checksum32):
    """CRC32 and Adler32: ``location`` is configurable and appears in the configuration
    only when it was given, as in numcodecs."""

    def __init__(self, location: str | None = None) -> None:
        if location is not None and location not in _LOCATIONS:
            raise CodecError(f"{type(self).__name__} location must be 'start' or 'end', "
                             f"got {location!r}")
        self._location_given = location is not None
        self.location = location if location is not None else "start"

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"id": self.codec_id}
        if self._location_given:
            config["location"] = self.location
        return config

    def __repr__(self) -> str:
        where = f"location={self.location!r}" if self._location_given else ""
        return f"{type(self).__name__}({where})"


class CRC32(_ZlibChecksum32):
    """zlib's CRC-32 of the data, stored as 4 little-endian bytes; byte-compatible with
    ``numcodecs.CRC32``.

    Parameters
    ----------
    location : {'start', 'end'}, optional
        Where the checksum goes: before the data (default) or after it.
    """

    codec_id = "crc32"

    def _checksum(self, data: Any) -> int:
        return zlib.crc32(data)


class Adler32(_ZlibChecksum32):
    """zlib's Adler-32 of the data, stored as 4 little-endian bytes; byte-compatible with
    ``numcodecs.Adler32``.

    Parameters
    ----------
    location : {'start', 'end'}, optional
        Where the checksum goes: before the data (default) or after it.
    """

    codec_id = "adler32"

    def _checksum(self, data: Any) -> int:
        return zlib.adler32(data)


class CRC32C(_ZlibChecksum32):
    """CRC-32C (Castagnoli) of the data, computed without the GIL, stored as 4
    little-endian bytes after the data by default: ``numcodecs.CRC32C`` and Zarr v3's
    ``crc32c`` codec.

    Parameters
    ----------
    location : {'start', 'end'}, optional
        Where the checksum goes: after the data (default) or before it.
    """

    codec_id = "crc32c"

    def __init__(self, location: str | None = None) -> None:
        super().__init__(location)
        if location is None:
            self.location = "end"

    def _checksum(self, data: Any) -> int:
        return _filters.crc32c_checksum(data)


class Fletcher32(_Checksum32):
    """HDF5's Fletcher-32 (16-bit big-endian words, sums folded as HDF5 and netCDF fold
    them), appended as 4 little-endian bytes; byte-compatible with
    ``numcodecs.Fletcher32``."""

    codec_id = "fletcher32"
    location = "end"

    def _checksum(self, data: Any) -> int:
        return _filters.fletcher32(data)
