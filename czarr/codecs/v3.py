"""Zarr v3 codec chains in terms of czarr's codecs and chunk pipeline.

A v3 array names its codecs as one chain: array->array codecs (``transpose``), one
array->bytes codec (``bytes`` with an endianness, ``vlen-utf8``/``vlen-bytes`` for
object arrays, or ``sharding_indexed``), then bytes->bytes codecs (``blosc``, ``zstd``,
``gzip``, ``crc32c``). The same chunk engine runs it: ``transpose`` is the chunk's memory
order (C, or F for the reversed axes), ``bytes`` the byte order of the chunk's dtype, and
the bytes->bytes codecs are czarr's own (the last one the pipeline's compressor, the
others its filters), so Blosc chunks still decode in the compiled loop. Configurations
are read and written exactly as zarr-python 3 writes them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from czarr.codecs.blosc import Blosc
from czarr.codecs.checksums import CRC32C
from czarr.codecs.vlen import VLenBytes, VLenUTF8
from czarr.codecs.zlib import GZip
from czarr.codecs.zstd import Zstd
from czarr.errors import MetadataError

__all__ = ["ChainSpec", "ShardingSpec", "parse_chain", "build_chain"]

_SHUFFLES = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}
_SHUFFLE_NAMES = {v: k for k, v in _SHUFFLES.items()}


@dataclasses.dataclass(frozen=True)
class ShardingSpec:
    """A ``sharding_indexed`` codec: the inner chunk shape, the inner chain, and how the
    index is stored (its place, and whether a CRC-32C follows it)."""

    chunk_shape: tuple[int, ...]
    inner: ChainSpec
    index_location: str = "end"
    index_crc32c: bool = True


@dataclasses.dataclass(frozen=True)
class ChainSpec:
    """One chunk's codec chain: memory order, stored dtype (with its byte order), the
    filters and compressor of a :class:`czarr.pipeline.ChunkPipeline`, or a sharding
    codec whose inner chain does that work."""

    order: str
    dtype: np.dtype
    filters: tuple = ()
    compressor: Any = None
    sharding: ShardingSpec | None = None


class Transpose:
    """Zarr v3's ``transpose`` for any axis order, as a pipeline filter: the chunk's
    axes permuted by ``order`` are what the next codec sees (in C order), and decoding
    permutes them back. (The identity and the reversed axes need no filter: they are
    chunk memory orders C and F.)"""

    codec_id = "transpose"

    def __init__(self, order: tuple[int, ...], chunk_shape: tuple[int, ...],
                 dtype: np.dtype) -> None:
        self.order = tuple(order)
        self.inverse = tuple(int(i) for i in np.argsort(self.order))
        self.chunk_shape = tuple(chunk_shape)
        self.dtype = np.dtype(dtype)

    def encode(self, buf: Any) -> np.ndarray:
        arr = np.asarray(buf).reshape(self.chunk_shape)
        return np.ascontiguousarray(arr.transpose(self.order))

    def decode(self, buf: Any, out: Any = None) -> np.ndarray:
        shape = tuple(self.chunk_shape[i] for i in self.order)
        arr = np.frombuffer(memoryview(buf).cast("B"), dtype=self.dtype).reshape(shape)
        return np.ascontiguousarray(arr.transpose(self.inverse))

    def get_config(self) -> dict:
        return {"id": "transpose", "order": list(self.order)}


# inner chunks per shard, at most: 2**24 makes a 256 MiB shard index
_MAX_INNER_CHUNKS = 2**24

def _numcodecs_codec(name: str, config: dict, where: str) -> Any:
    """zarr-python 3's ``numcodecs.<id>`` codecs (numcodecs' codecs under Zarr v3)."""
    from czarr.codecs import get_codec

    try:
        return get_codec({"id": name[len("numcodecs."):], **config})
    except Exception as e:  # noqa: BLE001 - any codec library's refusal, named
        raise MetadataError(f"{where}: codec {name!r} cannot be made ({e})") from None


def _has_byte_order(dtype: np.dtype) -> bool:
    """Whether the bytes codec must say an endianness: multi-byte numbers, UTF-32."""
    return (dtype.kind in "iufcmM" and dtype.itemsize > 1) or dtype.kind == "U"


def _name_config(codec: Any, where: str) -> tuple[str, dict]:
    if not isinstance(codec, dict) or not isinstance(codec.get("name"), str):
        raise MetadataError(f"{where}: a codec must be an object with a 'name', got {codec!r}")
    config = codec.get("configuration") or {}
    if not isinstance(config, dict):
        raise MetadataError(f"{where}: codec {codec['name']!r} has a configuration that is "
                            f"not an object: {config!r}")
    return codec["name"], config


def _bytes_codec(name: str, config: dict, where: str) -> Any:
    try:
        if name == "blosc":
            shuffle = config.get("shuffle", "noshuffle")
            if shuffle not in _SHUFFLES:
                raise ValueError(f"unknown shuffle {shuffle!r}")
            return Blosc(cname=config.get("cname", "zstd"), clevel=config.get("clevel", 5),
                         shuffle=_SHUFFLES[shuffle], blocksize=config.get("blocksize", 0))
        if name == "zstd":
            return Zstd(level=config.get("level", 0), checksum=config.get("checksum", False))
        if name == "gzip":
            return GZip(level=config.get("level", 5))
        if name == "crc32c":
            return CRC32C()
    except (TypeError, ValueError) as e:
        raise MetadataError(f"{where}: bad {name!r} codec configuration {config!r} ({e})"
                            ) from None
    raise MetadataError(f"{where}: unsupported codec {name!r} (czarr reads transpose, "
                        "bytes, vlen-utf8, vlen-bytes, sharding_indexed, blosc, zstd, gzip "
                        "and crc32c)")


def parse_chain(codecs: Any, dtype: np.dtype, ndim: int, where: str = "zarr.json",
                chunk_shape: tuple[int, ...] | None = None) -> ChainSpec:
    """Turn a v3 ``codecs`` list into a :class:`ChainSpec`.

    Parameters
    ----------
    codecs : list of dict
        The ``codecs`` field (or a sharding codec's inner ``codecs``).
    dtype : numpy.dtype
        The array's data type (native byte order).
    ndim : int
        The array's number of dimensions (for ``transpose``).
    where : str
        The key the chain comes from, for error messages.

    Raises
    ------
    MetadataError
        For unknown codecs, a chain without an array->bytes codec, or a transpose other
        than the identity or the full reversal, naming ``where``.
    """
    if not isinstance(codecs, list | tuple) or not codecs:
        raise MetadataError(f"{where}: 'codecs' must be a non-empty list, got {codecs!r}")
    order = "C"
    stored = dtype
    filters: list[Any] = []
    bytes_codecs: list[Any] = []
    sharding = None
    seen_bytes = False
    for codec in codecs:
        name, config = _name_config(codec, where)
        if name == "transpose":
            if seen_bytes:
                raise MetadataError(f"{where}: transpose after the array->bytes codec")
            perm = list(config.get("order", []))
            if sorted(perm) != list(range(ndim)):
                raise MetadataError(f"{where}: transpose order {perm} is not a permutation "
                                    f"of {ndim} axes")
            if perm == list(range(ndim)):
                continue
            if perm == list(range(ndim))[::-1] and not filters:
                order = "F" if order == "C" else "C"
                continue
            if chunk_shape is None or order != "C":
                raise MetadataError(f"{where}: transpose order {perm} is not supported here")
            filters.append(Transpose(tuple(perm), chunk_shape, dtype))
            continue
        if name.startswith("numcodecs."):
            codec = _numcodecs_codec(name, config, where)
            (bytes_codecs if seen_bytes else filters).append(codec)
            continue
        if not seen_bytes:
            seen_bytes = True
            if name == "bytes":
                endian = config.get("endian")
                if _has_byte_order(dtype):
                    if endian not in ("little", "big"):
                        raise MetadataError(f"{where}: the bytes codec needs endian 'little' "
                                            f"or 'big' for {dtype}, got {endian!r}")
                    stored = dtype.newbyteorder("<" if endian == "little" else ">")
            elif name == "vlen-utf8":
                filters.append(VLenUTF8())
            elif name == "vlen-bytes":
                filters.append(VLenBytes())
            elif name == "sharding_indexed":
                sharding = _parse_sharding(config, dtype, ndim, where, chunk_shape)
            else:
                raise MetadataError(f"{where}: {name!r} cannot come first among the "
                                    "array->bytes codecs (bytes, vlen-utf8, vlen-bytes, "
                                    "sharding_indexed)")
            continue
        bytes_codecs.append(_bytes_codec(name, config, where))
    if not seen_bytes:
        raise MetadataError(f"{where}: the codec chain has no array->bytes codec")
    for f in filters:
        if isinstance(f, Transpose):
            f.dtype = stored  # the bytes codec's byte order
    if sharding is not None:
        if order != "C" or bytes_codecs:
            raise MetadataError(f"{where}: codecs around sharding_indexed are not supported")
        return ChainSpec(order="C", dtype=dtype, sharding=sharding)
    compressor = bytes_codecs.pop() if bytes_codecs else None
    return ChainSpec(order=order, dtype=stored, filters=tuple(filters + bytes_codecs),
                     compressor=compressor)


def _parse_sharding(config: dict, dtype: np.dtype, ndim: int, where: str,
                    shard_shape: tuple[int, ...] | None = None) -> ShardingSpec:
    chunk_shape = config.get("chunk_shape")
    if (not isinstance(chunk_shape, list) or len(chunk_shape) != ndim
            or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0
                       for c in chunk_shape)):
        raise MetadataError(f"{where}: sharding_indexed chunk_shape must be {ndim} positive "
                            f"integers, got {chunk_shape!r}")
    if shard_shape is not None and any(s % c for s, c in zip(shard_shape, chunk_shape)):
        raise MetadataError(f"{where}: the shard shape {list(shard_shape)} is not a "
                            f"multiple of the sharding_indexed chunk_shape {chunk_shape}")
    if shard_shape is not None and \
            math.prod(s // c for s, c in zip(shard_shape, chunk_shape)) > _MAX_INNER_CHUNKS:
        raise MetadataError(f"{where}: the shard shape {list(shard_shape)} holds more than "
                            f"{_MAX_INNER_CHUNKS} inner chunks of {chunk_shape} (its index "
                            "alone would take 16 bytes per inner chunk)")
    inner = parse_chain(config.get("codecs"), dtype, ndim, where, tuple(chunk_shape))
    if inner.sharding is not None:
        raise MetadataError(f"{where}: nested sharding is not supported")
    location = config.get("index_location", "end")
    if location not in ("start", "end"):
        raise MetadataError(f"{where}: index_location must be 'start' or 'end', got "
                            f"{location!r}")
    index_codecs = config.get("index_codecs", [])
    if not isinstance(index_codecs, list):
        raise MetadataError(f"{where}: sharding_indexed index_codecs must be a list, got "
                            f"{index_codecs!r}")
    names = [_name_config(c, where)[0] for c in index_codecs]
    first = index_codecs[0] if names else {}
    endian = (first.get("configuration") or {}).get("endian", "little")
    if names not in (["bytes"], ["bytes", "crc32c"]) or endian != "little":
        raise MetadataError(f"{where}: index_codecs {config.get('index_codecs')!r} are not "
                            "supported (bytes little-endian, optionally crc32c)")
    return ShardingSpec(tuple(chunk_shape), inner, location, names[-1] == "crc32c")


def _bytes_codec_config(codec: Any, typesize: int) -> dict:
    config = codec.get_config()
    cid = config.pop("id")
    if cid == "blosc":
        return {"name": "blosc", "configuration": {
            "typesize": typesize, "cname": config["cname"], "clevel": config["clevel"],
            "shuffle": _SHUFFLE_NAMES.get(config["shuffle"], "shuffle"),
            "blocksize": config.get("blocksize", 0)}}
    if cid == "zstd":
        return {"name": "zstd", "configuration": {"level": config.get("level", 0),
                                                  "checksum": config.get("checksum", False)}}
    if cid == "gzip":
        return {"name": "gzip", "configuration": {"level": config.get("level", 1)}}
    if cid == "crc32c":
        return {"name": "crc32c"}
    # any other numcodecs codec: zarr-python 3's numcodecs.<id> form
    return {"name": f"numcodecs.{cid}", "configuration": config}


def build_chain(dtype: np.dtype, compressors: Any = (), order: str = "C",
                object_codec: str | None = None, ndim: int = 1,
                shard_chunks: tuple[int, ...] | None = None,
                filters: Any = ()) -> list[dict]:
    """The v3 ``codecs`` list for an array (as zarr-python 3 writes it).

    Parameters
    ----------
    dtype : numpy.dtype
        The data type; its byte order picks the bytes codec's endianness.
    compressors : sequence of codecs
        bytes->bytes codecs (czarr's or numcodecs' Blosc, Zstd, GZip, CRC32C).
    order : {'C', 'F'}
        ``'F'`` adds a transpose that reverses the axes.
    object_codec : {'vlen-utf8', 'vlen-bytes'}, optional
        For object arrays, in place of the bytes codec.
    ndim : int
    shard_chunks : tuple of int, optional
        Inner chunk shape: the chain above goes inside a ``sharding_indexed`` codec.
    """
    chain: list[dict] = []
    for f in filters or ():  # numcodecs' array filters, as zarr-python 3 names them
        config = f.get_config()
        cid = config.pop("id")
        chain.append({"name": f"numcodecs.{cid}", "configuration": config})
    if order == "F" and ndim > 1:
        chain.append({"name": "transpose",
                      "configuration": {"order": list(range(ndim))[::-1]}})
    if object_codec is not None:
        chain.append({"name": object_codec, "configuration": {}})
    elif _has_byte_order(dtype):
        endian = "big" if dtype.byteorder == ">" else "little"
        chain.append({"name": "bytes", "configuration": {"endian": endian}})
    else:
        chain.append({"name": "bytes"})
    # Blosc's typesize is the item size of what it compresses: the dtype's for the bytes
    # codec, 1 after vlen-utf8/vlen-bytes (a byte stream), as zarr-python 3 writes it
    typesize = 1 if object_codec is not None else dtype.itemsize
    chain += [_bytes_codec_config(c, typesize) for c in compressors]
    if shard_chunks is None:
        return chain
    return [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(shard_chunks), "codecs": chain,
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                         {"name": "crc32c"}],
        "index_location": "end"}}]
