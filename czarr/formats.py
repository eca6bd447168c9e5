"""What each Zarr format means for the chunk engine: one :class:`ChunkLayout` per array.

``czarr.core.Array`` never asks "v2 or v3?": it loads metadata through
:func:`load_array_metadata` and gets from :func:`chunk_layout` everything the engine
needs: the grid the projections map onto, the stored dtype and memory order, the codec
pipeline's filters and compressor, how chunk keys are spelled, and the store the chunks
are read from. For Zarr v2 that is the ``.zarray`` document as it is. For Zarr v3 the
codec chain is translated (:mod:`czarr.codecs.v3`), keys follow the chunk key encoding,
and a sharded array's grid is its inner chunks, read and written through
:class:`czarr.sharding.ShardedChunks`, a store-like view of the shards.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from czarr.codecs import get_codec
from czarr.codecs.v3 import parse_chain
from czarr.errors import MetadataError
from czarr.layout import ARRAY_META_KEY, V3_META_KEY, normalize_path
from czarr.metadata.v2 import (
    ArrayMetadata,
    _describe_key,
    decode_array_metadata,
    encode_array_metadata,
)
from czarr.storage import listdir
from czarr.storage.base import naming_keys

__all__ = ["ChunkLayout", "chunk_layout", "load_array_metadata", "decode_array_document",
           "store_array_shape", "metadata_key"]


@dataclasses.dataclass(frozen=True)
class ChunkLayout:
    """How one array's chunks are spelled, stored and coded."""

    zarr_format: int
    shape: tuple[int, ...]
    chunks: tuple[int, ...]          # the grid the engine maps selections onto
    dtype: np.dtype                  # stored dtype (its byte order included)
    order: str
    fill_value: Any
    compressor: Any
    filters: list | None
    key_prefix: str                  # chunk key = key_prefix + separator.join(coords)
    separator: str
    zero_key: str                    # the key of a 0-d array's one chunk
    chunk_store: MutableMapping      # where chunk keys are read (a shard view if sharded)
    shards: tuple[int, ...] | None = None
    # for nchunks_initialized: store keys under the array and the pattern of chunk keys
    scan_prefix: str = ""
    scan_pattern: Any = None

    def chunk_key(self, coords: tuple[int, ...]) -> str:
        """The key (in ``chunk_store``) of the chunk at grid ``coords``."""
        return self.key_prefix + self.separator.join(map(str, coords)) if coords \
            else self.zero_key

    def chunk_coords(self, name: str) -> tuple[int, ...]:
        """Grid coordinates of a name :meth:`stored_chunks` gave."""
        if not self.shape:
            return ()
        lead = self.key_prefix[len(self.scan_prefix):]
        return tuple(int(c) for c in name[len(lead):].split(self.separator))

    def stored_chunks(self) -> Iterator[str]:
        """Keys (relative to ``scan_prefix``) of the stored chunks, or inner chunks."""
        from czarr.sharding import ShardedChunks

        if isinstance(self.chunk_store, ShardedChunks):
            yield from self.chunk_store
            return
        store = self.chunk_store
        lead = self.key_prefix[len(self.scan_prefix):]  # 'c/', 'c.' or ''
        if "/" not in lead and (self.separator != "/" or len(self.shape) <= 1):
            # the chunks are files of the array's own folder: list just that folder
            for name in listdir(store, self.scan_prefix.rstrip("/")):
                if self.scan_pattern.fullmatch(name):
                    yield name
            return
        n = len(self.scan_prefix)
        for key in list(store):
            if key.startswith(self.scan_prefix) and self.scan_pattern.fullmatch(key[n:]):
                yield key[n:]


def metadata_key(meta: Any, path: str) -> str:
    """The key of an array's metadata document."""
    name = V3_META_KEY if getattr(meta, "zarr_format", 2) == 3 else ARRAY_META_KEY
    path = normalize_path(path)
    return f"{path}/{name}" if path else name


def load_array_metadata(store: MutableMapping, path: str, default_separator: str = "."
                        ) -> Any:
    """The metadata of the array at ``path``: v2's ``.zarray``, else v3's ``zarr.json``
    (an array node).

    Raises
    ------
    KeyError
        No array metadata there.
    czarr.errors.MetadataError
        The document is malformed, or a ``zarr.json`` describes a group.
    """
    path = normalize_path(path)
    prefix = path + "/" if path else ""
    try:
        data = store[prefix + ARRAY_META_KEY]
    except KeyError:
        pass
    else:
        return decode_array_document(data, path, 2, default_separator)
    data = store[prefix + V3_META_KEY]  # KeyError when there is nothing
    return decode_array_document(data, path, 3)


def decode_array_document(document: Any, path: str, zarr_format: int,
                          default_separator: str = ".") -> Any:
    """The metadata of the array at ``path`` from its document as read (bytes, or parsed
    JSON): ``ArrayMetadata`` from a ``.zarray``, ``ArrayMetadataV3`` from a
    ``zarr.json``.

    Raises
    ------
    czarr.errors.MetadataError
        The document is malformed, or a ``zarr.json`` describes a group.
    """
    prefix = path + "/" if path else ""
    if zarr_format == 2:
        return decode_array_metadata(document, key=prefix + ARRAY_META_KEY,
                                     default_separator=default_separator)
    from czarr.metadata.v3 import decode_array_metadata_v3

    return decode_array_metadata_v3(document, key=prefix + V3_META_KEY)


@functools.lru_cache(maxsize=64)
def _grid_pattern(ndim: int, sep: str, lead: str = "") -> Any:
    sep = re.escape(sep)
    body = r"\d+" + (sep + r"\d+") * (ndim - 1) if ndim else ""
    return re.compile(re.escape(lead) + body if ndim else re.escape(lead or "0"))


def chunk_layout(meta: Any, path: str, store: MutableMapping,
                 chunk_store: MutableMapping | None) -> ChunkLayout:
    """The :class:`ChunkLayout` of an array with metadata ``meta`` at ``path``."""
    path = normalize_path(path)
    prefix = path + "/" if path else ""
    chunks_in = chunk_store if chunk_store is not None else store
    if isinstance(meta, ArrayMetadata):
        sep = meta.dimension_separator
        ndim = len(meta.shape)
        where = prefix + ARRAY_META_KEY
        return ChunkLayout(
            zarr_format=2, shape=tuple(meta.shape), chunks=tuple(meta.chunks),
            dtype=np.dtype(meta.dtype), order=meta.order, fill_value=meta.fill_value,
            compressor=_codec(meta.compressor, where, "compressor") if meta.compressor
            else None,
            filters=[_codec(f, where, "filters") for f in meta.filters] if meta.filters
            else None,
            key_prefix=prefix, separator=sep, zero_key=prefix + "0",
            chunk_store=chunks_in, scan_prefix=prefix, scan_pattern=_grid_pattern(ndim, sep))
    return _v3_layout(meta, prefix, chunks_in)


def _codec(config: dict, where: str, field: str) -> Any:
    """The codec a ``.zarray`` field configures; MetadataError naming the key when no
    codec can be made from it (an unknown id, parameters its class refuses)."""
    try:
        return get_codec(config)
    except Exception as e:  # noqa: BLE001 - any codec library's refusal, named
        raise MetadataError(f"{_describe_key(where)}: field {field!r}: no codec can be made "
                            f"from {config!r} ({type(e).__name__}: {e})") from e


def _v3_layout(meta: Any, prefix: str, store: MutableMapping) -> ChunkLayout:
    from czarr.sharding import ShardedChunks

    ndim = len(meta.shape)
    where = prefix + V3_META_KEY
    chain = parse_chain(list(meta.codecs), np.dtype(meta.data_type), ndim, where,
                        tuple(meta.chunk_shape))
    encoding, sep = meta.chunk_key_encoding
    if encoding == "default":
        key_prefix = prefix + "c" + sep
        zero_key = prefix + "c"
        pattern = re.compile("c" if not ndim else "c" + re.escape(sep) + _grid_pattern(
            ndim, sep).pattern)
    else:
        key_prefix, zero_key = prefix, prefix + "0"
        pattern = _grid_pattern(ndim, sep)
    fill = meta.fill_value
    if chain.sharding is None:
        return ChunkLayout(
            zarr_format=3, shape=tuple(meta.shape), chunks=tuple(meta.chunk_shape),
            dtype=chain.dtype, order=chain.order, fill_value=fill,
            compressor=chain.compressor, filters=list(chain.filters) or None,
            key_prefix=key_prefix, separator=sep, zero_key=zero_key, chunk_store=store,
            scan_prefix=prefix, scan_pattern=pattern)
    spec = chain.sharding
    inner = spec.inner

    def shard_key(coords: tuple[int, ...]) -> str:
        return key_prefix + sep.join(map(str, coords)) if coords else zero_key

    def shard_keys() -> Iterator[tuple[tuple[int, ...], str]]:
        n = len(prefix)
        for key in list(store):
            if key.startswith(prefix) and pattern.fullmatch(key[n:]):
                rest = key[len(key_prefix):] if ndim else ""
                coords = tuple(int(c) for c in rest.split(sep)) if ndim else ()
                yield coords, key

    view = ShardedChunks(store, shard_key, tuple(meta.chunk_shape), spec.chunk_shape,
                         spec.index_location, spec.index_crc32c, shard_keys)
    return ChunkLayout(
        zarr_format=3, shape=tuple(meta.shape), chunks=spec.chunk_shape, dtype=inner.dtype,
        order=inner.order, fill_value=fill, compressor=inner.compressor,
        filters=list(inner.filters) or None, key_prefix="", separator=".", zero_key="0",
        chunk_store=view, shards=tuple(meta.chunk_shape))


def store_array_shape(store: MutableMapping, path: str, meta: Any,
                      shape: tuple[int, ...]) -> Any:
    """Write ``meta`` with a new ``shape`` (resize/append) and return it. A v3 document
    is updated in place, so attributes written meanwhile are kept."""
    new = dataclasses.replace(meta, shape=tuple(shape))
    key = metadata_key(meta, path)
    if getattr(meta, "zarr_format", 2) == 3:
        doc = json.loads(bytes(memoryview(store[key])))
        doc["shape"] = list(shape)
        from czarr.metadata.v3 import decode_array_metadata_v3, encode_array_metadata_v3

        new = decode_array_metadata_v3(doc, key=key)
        with naming_keys(key, store):
            store[key] = encode_array_metadata_v3(new)
        return new
    with naming_keys(key, store):
        store[key] = encode_array_metadata(new)
    return new
