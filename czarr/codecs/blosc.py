"""Blosc codec: a thin shell over :mod:`czarr._core.blosc` (c-blosc 1.x contexts, so
it runs in many threads at once)."""

from __future__ import annotations

from typing import Any

from czarr._core import blosc as _blosc
from czarr.codecs._buffers import contiguous, writable
from czarr.codecs.abc import Codec
from czarr.errors import CodecError

NOSHUFFLE = 0
SHUFFLE = 1
BITSHUFFLE = 2
AUTOSHUFFLE = -1
CNAMES = ("blosclz", "lz4", "lz4hc", "zlib", "zstd")
_SHUFFLE_NAMES = {NOSHUFFLE: "NOSHUFFLE", SHUFFLE: "SHUFFLE", BITSHUFFLE: "BITSHUFFLE",
                  AUTOSHUFFLE: "AUTOSHUFFLE"}


class Blosc(Codec):
    """Blosc meta-compressor, byte-compatible with ``numcodecs.Blosc``.

    Parameters
    ----------
    cname : str
        Internal compressor: 'blosclz', 'lz4', 'lz4hc', 'zlib' or 'zstd'.
    clevel : int
        Compression level, 0 (a plain copy) to 9.
    shuffle : int
        NOSHUFFLE (0), SHUFFLE (1), BITSHUFFLE (2) or AUTOSHUFFLE (-1: bit-shuffle for
        1-byte items, byte-shuffle otherwise). The item size is the input array's.
    blocksize : int
        Requested block size in bytes; 0 lets Blosc choose.
    """

    codec_id = "blosc"
    NOSHUFFLE = NOSHUFFLE
    SHUFFLE = SHUFFLE
    BITSHUFFLE = BITSHUFFLE
    AUTOSHUFFLE = AUTOSHUFFLE
    max_buffer_size = _blosc.MAX_BUFFERSIZE

    def __init__(self, cname: str = "lz4", clevel: int = 5, shuffle: int = SHUFFLE,
                 blocksize: int = 0) -> None:
        if cname not in CNAMES:
            raise CodecError(f"unknown Blosc compressor {cname!r}; expected one of "
                             f"{', '.join(CNAMES)}")
        if not isinstance(clevel, int) or not 0 <= clevel <= 9:
            raise CodecError(f"Blosc clevel must be an integer from 0 to 9, got {clevel!r}")
        if shuffle not in _SHUFFLE_NAMES:
            raise CodecError(f"Blosc shuffle must be -1, 0, 1 or 2, got {shuffle!r}")
        if not isinstance(blocksize, int) or blocksize < 0:
            raise CodecError(f"Blosc blocksize must be an integer >= 0, got {blocksize!r}")
        self.cname = cname
        self.clevel = clevel
        self.shuffle = shuffle
        self.blocksize = blocksize

    def encode(self, buf: Any) -> bytes:
        src = contiguous(buf)
        return _blosc.compress(src, self.cname, self.clevel, self.shuffle, src.itemsize,
                               self.blocksize)

    def decode(self, buf: Any, out: Any = None) -> Any:
        src = contiguous(buf)
        if out is None:
            return _blosc.decompress(src)
        _blosc.decompress(src, writable(out))
        return out

    def decode_bounded(self, buf: Any, max_nbytes: int) -> bytes:
        src = contiguous(buf)
        nbytes = _blosc.cbuffer_sizes(src)[0]   # a validated header, nothing allocated
        if nbytes > max_nbytes:
            raise CodecError(f"the Blosc header claims {nbytes} bytes, more than the "
                             f"{max_nbytes} expected")
        return _blosc.decompress(src)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(cname={self.cname!r}, clevel={self.clevel!r}, "
                f"shuffle={_SHUFFLE_NAMES[self.shuffle]}, blocksize={self.blocksize})")
