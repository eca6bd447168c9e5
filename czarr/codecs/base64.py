"""Base64 codec: bytes as base64 text, byte-compatible with ``numcodecs.Base64``."""

from __future__ import annotations

import base64 as _b64
import binascii
from typing import Any

from czarr.codecs._buffers import contiguous, writable
from czarr.codecs.abc import Codec
from czarr.errors import CodecError


class Base64(Codec):
    """Encode bytes as standard base64 (``numcodecs.Base64``'s format)."""

    codec_id = "base64"

    def encode(self, buf: Any) -> bytes:
        return _b64.standard_b64encode(bytes(memoryview(contiguous(buf)).cast("B")))

    def decode(self, buf: Any, out: Any = None) -> Any:
        try:  # what standard_b64decode runs, without first copying the input to bytes
            data = binascii.a2b_base64(memoryview(contiguous(buf)).cast("B"))
        except ValueError as e:
            raise CodecError(f"invalid base64 data ({e})") from None
        if out is None:
            return data
        dest = writable(out)
        view = memoryview(dest).cast("B")
        if view.nbytes != len(data):
            raise CodecError(f"destination holds {view.nbytes} bytes, the data {len(data)}")
        view[:] = data
        return out
