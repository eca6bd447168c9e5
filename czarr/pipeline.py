"""The codec pipeline: how one chunk's array becomes stored bytes and back.

Encoding runs the filters in order, then the compressor; decoding runs the compressor,
then the filters in reverse. When there are no filters the compressor decodes straight
into the caller's chunk buffer (``decode(cdata, out=...)``), so the hot path makes no
intermediate copy. With filters, every stage decodes into a bounded size (see
:meth:`ChunkPipeline.stage_limit`), so a small hostile frame (a decompression bomb)
is refused instead of inflated. Any numcodecs-compatible codec object works here. A
chunk that cannot be decoded raises :class:`~czarr.errors.ChunkDecodeError` naming its
key.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from czarr._core import blosc as _blosc
from czarr._core import blosc_blocks as _blosc_blocks
from czarr._core.indexing import CODEC_BLOSC, CODEC_RAW, READ_DEST_SIZE
from czarr.codecs._buffers import check_decoded_size
from czarr.codecs.abc import Codec
from czarr.codecs.blosc import Blosc
from czarr.errors import ChunkDecodeError

__all__ = ["ChunkPipeline"]

# what a filter stage may produce beyond the largest size the chain's encoding shows for
# a chunk: a compressor used as a filter adds at most about 1/8 (its worst case on
# incompressible data) plus a constant
_STAGE_SLACK = 65536
# when the filters cannot encode a chunk of zeros to show their sizes, the bound is this
# many times a chunk (more than any dtype change a filter makes: 1-byte items to 16)
_UNPROBED_GROWTH = 32
# an object array's chunk declares no size in bytes: the stages before its object codec
# may produce at most what the largest Blosc chunk holds (numcodecs' limit), so a bomb
# stops there instead of running away
_OBJECT_STAGE_LIMIT = 2**31 - 1


def _flat_bytes(arr: np.ndarray) -> np.ndarray:
    """A 1-D uint8 view of a contiguous (C or F) array."""
    return arr.reshape(-1, order="A").view(np.uint8)


class ChunkPipeline:
    """Encode and decode whole chunks of one array.

    Parameters
    ----------
    dtype : numpy.dtype
        The array's data type.
    chunks : tuple of int
        The chunk shape (every stored chunk has this shape, edge chunks included).
    order : {'C', 'F'}
        Memory layout of a chunk.
    compressor : codec or None
    filters : sequence of codecs or None
    """

    __slots__ = ("dtype", "chunks", "order", "compressor", "filters", "chunk_nbytes",
                 "_stage_limit")

    def __init__(
        self,
        dtype: np.dtype,
        chunks: tuple[int, ...],
        order: str,
        compressor: Any | None,
        filters: Sequence[Any] | None,
    ) -> None:
        self.dtype = np.dtype(dtype)
        self.chunks = tuple(chunks)
        self.order = order
        self.compressor = compressor
        self.filters = tuple(filters) if filters else ()
        self.chunk_nbytes = math.prod(self.chunks) * self.dtype.itemsize
        self._stage_limit: int | None = None

    def empty_chunk(self) -> np.ndarray:
        """A new, uninitialised chunk buffer."""
        return np.empty(self.chunks, dtype=self.dtype, order=self.order)

    def decode_into(self, cdata: Any, out: np.ndarray, key: str) -> np.ndarray:
        """Decode stored bytes ``cdata`` into the chunk buffer ``out`` (or a contiguous
        run of the output array viewed as one chunk) and return it."""
        try:
            if not self.filters:
                if self.compressor is None:
                    raw = np.frombuffer(cdata, dtype=np.uint8)
                    dest = _flat_bytes(out)
                    if raw.nbytes != dest.nbytes:
                        raise ValueError(f"{raw.nbytes} bytes stored, expected {dest.nbytes}")
                    dest[...] = raw
                else:
                    self.compressor.decode(cdata, out=_flat_bytes(out))
                return out
            limit = self.stage_limit()
            buf = cdata
            if self.compressor is not None:
                buf = _decode_bounded(self.compressor, buf, limit)
            for f in reversed(self.filters):
                buf = _decode_bounded(f, buf, limit)
            arr = np.asarray(buf) if isinstance(buf, np.ndarray) else np.frombuffer(buf, np.uint8)
            raw = arr.reshape(-1, order="A").view(np.uint8)
            dest = _flat_bytes(out)
            if raw.nbytes != dest.nbytes:
                raise ValueError(f"filters produced {raw.nbytes} bytes, expected {dest.nbytes}")
            dest[...] = raw
            return out
        except ChunkDecodeError:
            raise
        except Exception as e:  # codec errors of any library, named with the key
            raise ChunkDecodeError(f"chunk {key!r} could not be decoded: {e}",
                                   key=key) from e

    def stage_limit(self) -> int:
        """The most bytes any stage of a filtered chain may decode to.

        Encoding a chunk of zeros through the filters (once per pipeline) shows the size
        of each intermediate form for filters whose output size does not depend on the
        data (delta, scale-offset, astype, shuffle, packbits, checksums, transpose). A
        compressor used as a filter (a codec with its own ``decode_bounded``) is not
        run: its worst case is its input's size plus ``_STAGE_SLACK``. No real chunk
        needs more, so a frame decoding to more is refused before it is inflated.
        """
        if self._stage_limit is None:
            sizes = [self.chunk_nbytes]
            try:
                buf: Any = np.zeros(self.chunks, dtype=self.dtype, order=self.order)
                for f in self.filters:
                    if getattr(type(f), "decode_bounded", Codec.decode_bounded) \
                            is not Codec.decode_bounded:
                        continue  # a compressor: sized as its input, plus the slack
                    buf = f.encode(buf)
                    sizes.append(buf.nbytes if isinstance(buf, np.ndarray)
                                 else memoryview(buf).nbytes)
            except Exception:  # noqa: BLE001 - a filter that cannot encode zeros
                sizes.append(self.chunk_nbytes * _UNPROBED_GROWTH)
            top = max(sizes)
            self._stage_limit = top + top // 8 + _STAGE_SLACK
        return self._stage_limit

    def decode_objects(self, cdata: Any, key: str) -> np.ndarray:
        """Decode a chunk of an object array (the object codec is the first filter, so
        it runs last) into a new chunk-shaped object array."""
        try:
            buf = cdata
            if self.compressor is not None:
                buf = _decode_bounded(self.compressor, buf, _OBJECT_STAGE_LIMIT)
            for f in reversed(self.filters[1:]):
                buf = _decode_bounded(f, buf, _OBJECT_STAGE_LIMIT)
            if self.filters:
                buf = self.filters[0].decode(buf)
            arr = np.asarray(buf, dtype=object)
            if arr.size != int(np.prod(self.chunks)):
                raise ValueError(f"{arr.size} objects decoded, expected "
                                 f"{int(np.prod(self.chunks))}")
            return arr.reshape(self.chunks, order=self.order)
        except Exception as e:
            raise ChunkDecodeError(f"chunk {key!r} could not be decoded: {e}",
                                   key=key) from e

    @property
    def fast_codec(self) -> int | None:
        """The codec kind the compiled read loop decodes by itself
        (``czarr._core.indexing.CODEC_RAW`` / ``CODEC_BLOSC``), or None."""
        if self.filters or self.dtype.hasobject or self.dtype.itemsize == 0:
            return None
        if self.compressor is None:
            return CODEC_RAW
        if type(self.compressor) is Blosc:
            return CODEC_BLOSC
        return None

    def supports_partial_decode(self) -> bool:
        """True when a run of a chunk's items can be decoded alone (czarr's Blosc, no
        filters): see :meth:`decode_partial`."""
        return not self.filters and isinstance(self.compressor, Blosc)

    def decode_partial(self, cdata: Any, chunk: np.ndarray, start: int, stop: int,
                       key: str) -> bool:
        """Decode only items ``start:stop`` (memory order) of a stored chunk into the
        same places of ``chunk``; the rest of ``chunk`` is left as it was. Returns False
        when the frame cannot be cut there (then decode the whole chunk)."""
        itemsize = self.dtype.itemsize
        try:
            typesize, _ = _blosc.cbuffer_metainfo(cdata)
            nbytes = _blosc.cbuffer_sizes(cdata)[0]
            if nbytes != self.chunk_nbytes:
                raise ValueError(f"{nbytes} bytes in the frame, expected {self.chunk_nbytes}")
            b0, b1 = start * itemsize, stop * itemsize
            if b0 % typesize or b1 % typesize:
                return False
            dest = _flat_bytes(chunk)[b0:b1]
            _blosc.getitem(cdata, b0 // typesize, (b1 - b0) // typesize, dest)
            return True
        except Exception as e:
            raise ChunkDecodeError(f"chunk {key!r} could not be decoded: {e}",
                                   key=key) from e

    def raise_read_error(self, key: str, code: int) -> None:
        """Raise the ChunkDecodeError for a failure ``code`` of the compiled read loop."""
        reasons = {
            -1: "too short for a Blosc header",
            -2: "unknown Blosc format version",
            -3: "inconsistent Blosc header",
            -4: "truncated (the Blosc header claims more bytes than are stored)",
            -5: "the Blosc frame does not decode to one chunk's size",
            -6: "corrupt compressed data",
            -7: "item range outside the Blosc frame",
            READ_DEST_SIZE: f"stored size differs from the chunk's {self.chunk_nbytes} bytes",
        }
        raise ChunkDecodeError(
            f"chunk {key!r} could not be decoded: {reasons.get(code, f'error {code}')}",
            key=key)

    def encode_view(self, view: np.ndarray) -> bytes | None:
        """Encode a chunk given as a chunk-shaped view of any strides (its part of the
        array being written) without copying it into a chunk buffer first: czarr's Blosc
        with no filters (lz4, byte shuffle or none) gathers and compresses it a block at a
        time, into the bytes :meth:`encode` makes of its copy. ``None`` when this pipeline
        cannot: then copy the view into a chunk buffer and :meth:`encode` that."""
        c = self.compressor
        if (self.filters or type(c) is not Blosc or view.dtype.hasobject
                or view.dtype.itemsize == 0):
            return None
        raw = view.view(np.dtype((np.void, view.dtype.itemsize)))
        return _blosc_blocks.compress_strided(raw, c.cname, c.clevel, c.shuffle,
                                              c.blocksize, self.order)

    def encode(self, chunk: np.ndarray) -> Any:
        """Encode a contiguous chunk array into the bytes to store."""
        buf: Any = np.asarray(chunk) if isinstance(chunk, np.generic) else chunk
        for f in self.filters:
            buf = f.encode(buf)
        if self.compressor is not None:
            return self.compressor.encode(buf)
        if isinstance(buf, np.ndarray):
            return buf.tobytes(order="A")  # a chunk buffer is C- or F-contiguous: its own order
        return bytes(buf)


def _decode_bounded(codec: Any, buf: Any, limit: int) -> Any:
    """One stage of a filtered chain: czarr's codecs stop at ``limit`` bytes (before
    allocating them, for the compressors); another library's codec is checked after."""
    bounded = getattr(codec, "decode_bounded", None)
    if bounded is not None:
        return bounded(buf, limit)
    data = codec.decode(buf)
    check_decoded_size(data, limit, type(codec).__name__)
    return data
