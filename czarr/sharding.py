"""Sharding (Zarr v3's ``sharding_indexed``): many inner chunks in one stored value.

A shard holds the encoded inner chunks of a block of the chunk grid, one after the other
(in zarr-python 3's Morton order, so shards are byte for byte zarr-python's), and an
index: per inner chunk (in C order), its byte offset and length as two little-endian
uint64 (both 2**64 - 1 for a chunk that is not there), followed by the index's CRC-32C,
at the end of the shard (or at its start). :class:`ShardedChunks` shows the inner chunks
of a sharded array as a store of their own, keyed ``'i.j.k'`` by their coordinates in
the inner chunk grid, so the chunk engine, the projections and every selection kind run
unchanged over inner chunks. Reads fetch each touched shard's index and then only the
inner chunks asked for (byte ranges through the store's ``get_ranges``), or the whole
shard when most of it is wanted. Writes rebuild each touched shard once per batch,
keeping the inner chunks not written, and store it with one call; a shard left empty is
deleted. A lock per shard keeps two threads of one array from rewriting the same shard at
once, or one from reading a shard while another rewrites it. Writers the lock cannot see
(other processes, other Array objects) replace a shard whole, as the store writes values;
a reader reads the index again with the chunk ranges and starts over when it changed, so
it never pairs one version's index with another version's bytes.
"""

from __future__ import annotations

import math
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

import numpy as np

from czarr._core.filters import crc32c_checksum
from czarr.errors import ChunkDecodeError
from czarr.storage import base
from czarr.storage.base import Store, as_buffer
from czarr.sync import renew_after_fork

__all__ = ["ShardedChunks", "check_index", "decode_index", "encode_shard", "morton_order"]

_MISSING = 0xFFFFFFFFFFFFFFFF
_INT64_MAX = 2**63 - 1


def decode_index(raw: bytes, n: int, crc: bool, key: str, first: int = 0) -> np.ndarray:
    """The ``(n, 2)`` uint64 offsets and lengths of a shard index; ChunkDecodeError
    naming ``key`` for a short index, a wrong CRC-32C, or entries no writer makes (see
    :func:`check_index`; ``first`` is the first byte a chunk may start at: the index's
    size when it is at the start of the shard)."""
    size = 16 * n + (4 if crc else 0)
    if len(raw) != size:
        raise ChunkDecodeError(f"shard {key!r} is truncated: its index needs {size} bytes, "
                               f"{len(raw)} are there", key=key)
    if crc:
        stored = int.from_bytes(raw[-4:], "little")
        computed = crc32c_checksum(raw[:-4])
        if stored != computed:
            raise ChunkDecodeError(f"shard {key!r}: the index checksum does not match "
                                   f"(stored 0x{stored:08x}, computed 0x{computed:08x})",
                                   key=key)
    index = np.frombuffer(raw, dtype="<u8", count=2 * n).reshape(n, 2)
    check_index(index, key, first)
    return index


def check_index(index: np.ndarray, key: str, first: int = 0, end: int = _INT64_MAX) -> None:
    """Refuse (ChunkDecodeError naming the shard ``key``) an index whose present entries
    do not lie in bytes ``first..end`` of the shard or overlap one another (an entry
    repeated exactly, two chunks sharing their bytes, is allowed), or that has an entry
    with only one of its two fields marking a missing chunk. ``end`` is the end of the
    chunk bytes when the shard's size is known, else the int64 limit, so no range a
    store is asked for can overflow."""
    end = max(int(end), 0)
    offsets, lengths = index[:, 0], index[:, 1]
    half = (offsets == _MISSING) != (lengths == _MISSING)
    if half.any():
        i = int(np.flatnonzero(half)[0])
        raise ChunkDecodeError(f"shard {key!r}: index entry {i} marks a chunk both missing "
                               f"and present (offset {int(offsets[i])}, nbytes "
                               f"{int(lengths[i])})", key=key)
    present = lengths != _MISSING
    if not present.any():
        return
    pairs = np.unique(index[present], axis=0)   # sorted by offset; exact repeats merged
    starts, sizes = pairs[:, 0], pairs[:, 1]
    # start + size <= end, written so that nothing overflows uint64
    outside = (starts < first) | (sizes > end) | (starts > end - np.minimum(sizes, end))
    if outside.any():
        o, nb = (int(v) for v in pairs[np.flatnonzero(outside)[0]])
        raise ChunkDecodeError(f"shard {key!r}: the index points outside the shard (a chunk "
                               f"at bytes {o}..{o + nb}; chunks lie in bytes {first}.."
                               f"{end})", key=key)
    stops = starts + sizes
    nonempty = sizes > 0
    starts, stops = starts[nonempty], stops[nonempty]
    overlap = starts[1:] < np.maximum.accumulate(stops)[:-1]
    if overlap.any():
        i = int(np.flatnonzero(overlap)[0]) + 1
        raise ChunkDecodeError(f"shard {key!r}: the index has overlapping chunks (bytes "
                               f"{int(starts[i])}..{int(stops[i])} overlap an earlier chunk "
                               f"ending at {int(np.max(stops[:i]))})", key=key)


def morton_order(per_shard: tuple[int, ...]) -> np.ndarray:
    """The index positions (C order) of a shard's inner chunks in the order zarr-python 3
    lays them out: compressed Morton (Z) order, the bits of the coordinates interleaved
    from the first dimension, a dimension dropping out once its bits are used."""
    n = math.prod(per_shard)
    if not per_shard:
        return np.zeros(n, dtype=np.intp)
    coords = np.indices(per_shard, dtype=np.uint64).reshape(len(per_shard), -1)
    bits = [(p - 1).bit_length() for p in per_shard]
    code = np.zeros(n, dtype=np.uint64)
    out_bit = 0
    for bit in range(max(bits)):
        for dim, nbits in enumerate(bits):
            if bit < nbits:
                code |= ((coords[dim] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(out_bit)
                out_bit += 1
    return np.argsort(code, kind="stable")


def encode_shard(chunks: list[Any], crc: bool, index_at_start: bool,
                 order: Iterable[int] | None = None) -> bytes:
    """A shard from its inner chunks' encoded bytes (None for a missing chunk), laid out
    in ``order`` (index positions; C order when None)."""
    n = len(chunks)
    index = np.full((n, 2), _MISSING, dtype="<u8")
    offset = 16 * n + (4 if crc else 0) if index_at_start else 0
    parts = []
    for i in range(n) if order is None else order:
        data = chunks[i]
        if data is None:
            continue
        view = memoryview(as_buffer(data)).cast("B")
        index[i] = (offset, view.nbytes)
        parts.append(view)
        offset += view.nbytes
    raw = index.tobytes()
    if crc:
        raw += struct.pack("<I", crc32c_checksum(raw))
    return b"".join([raw, *parts] if index_at_start else [*parts, raw])


def _wanted(index: np.ndarray, members: list[tuple[str, int]]) -> list[tuple[str, int, int]]:
    """``(key, offset, nbytes)`` of the members stored in a shard with this index."""
    return [(key, int(index[i, 0]), int(index[i, 1])) for key, i in members
            if index[i, 0] != _MISSING or index[i, 1] != _MISSING]


class ShardedChunks(Store):
    """The inner chunks of a sharded array as a store keyed ``'i.j.k'``.

    Parameters
    ----------
    store : MutableMapping
        Where the shards are.
    shard_key : callable
        Shard grid coordinates -> the shard's key in ``store``.
    shard_shape, chunk_shape : tuple of int
        Elements per shard and per inner chunk (the first a multiple of the second).
    index_location : {'end', 'start'}
    index_crc32c : bool
        Whether a CRC-32C follows the index.
    """

    # a batch of writes rewrites each shard it touches once: the engine does not split a
    # write into small batches here (see engine._run)
    rewrites_groups = True

    def __init__(self, store: MutableMapping, shard_key: Callable[[tuple[int, ...]], str],
                 shard_shape: tuple[int, ...], chunk_shape: tuple[int, ...],
                 index_location: str = "end", index_crc32c: bool = True,
                 shard_keys: Callable[[], Iterable[str]] | None = None) -> None:
        if any(s % c for s, c in zip(shard_shape, chunk_shape)):
            raise ValueError(f"shard shape {shard_shape} is not a multiple of the chunk "
                             f"shape {chunk_shape}")
        self.store = store
        self._shard_key = shard_key
        self._shard_keys = shard_keys
        self.per_shard = tuple(s // c for s, c in zip(shard_shape, chunk_shape))
        self.n = math.prod(self.per_shard)
        self._layout = morton_order(self.per_shard).tolist()  # zarr-python's chunk order
        self.index_at_start = index_location == "start"
        self.crc = index_crc32c
        self.index_size = 16 * self.n + (4 if index_crc32c else 0)
        self._first = self.index_size if self.index_at_start else 0  # first chunk byte
        self.read_only = bool(getattr(store, "read_only", False))
        self.synchronizer: Any = None  # set by the array: cross-process shard locks
        self._new_locks()
        renew_after_fork(self, ShardedChunks._new_locks)
        self.fetches_concurrently = getattr(store, "fetches_concurrently", False)

    # -- keys -----------------------------------------------------------------------------

    def locate(self, key: str) -> tuple[str, int]:
        """Inner chunk key -> (shard key, position of the chunk in the shard index)."""
        return self.locate_coords(
            tuple(int(c) for c in key.split(".")) if self.per_shard else ())

    def locate_coords(self, coords: tuple[int, ...]) -> tuple[str, int]:
        """Inner chunk grid coordinates -> (shard key, position in the shard index)."""
        shard = tuple(c // p for c, p in zip(coords, self.per_shard))
        inner = 0
        for c, p in zip(coords, self.per_shard):
            inner = inner * p + c % p
        return self._shard_key(shard), inner

    def _inner_key(self, shard_key_coords: tuple[int, ...], inner: int) -> str:
        coords = []
        for p in reversed(self.per_shard):
            coords.append(inner % p)
            inner //= p
        coords.reverse()
        return ".".join(str(s * p + c) for s, p, c in
                        zip(shard_key_coords, self.per_shard, coords)) or "0"

    def _group(self, keys: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
        groups: dict[str, list[tuple[str, int]]] = {}
        for key in keys:
            shard, inner = self.locate(key)
            groups.setdefault(shard, []).append((key, inner))
        return groups

    def _new_locks(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _lock(self, shard: str) -> threading.Lock:
        with self._locks_lock:
            lock = self._locks.get(shard)
            if lock is None:
                lock = self._locks[shard] = threading.Lock()
            return lock

    # -- reading --------------------------------------------------------------------------

    def _index_bytes(self, shard: str) -> bytes | None:
        """The shard's encoded index, or None when the shard is not stored."""
        try:
            if self.index_at_start:
                raw = base.get_partial(self.store, shard, 0, self.index_size)
            else:
                raw = base.get_partial(self.store, shard, -self.index_size, None)
        except KeyError:
            return None
        return bytes(raw)

    def _index(self, shard: str) -> np.ndarray | None:
        """The shard's index, or None when the shard is not stored."""
        raw = self._index_bytes(shard)
        return None if raw is None else decode_index(raw, self.n, self.crc, shard,
                                                      self._first)

    def _index_of(self, value: bytes, shard: str) -> np.ndarray:
        """The index of a whole shard's bytes, checked against the shard's size."""
        raw = (value[:self.index_size] if self.index_at_start
               else value[len(value) - self.index_size:])
        index = decode_index(raw, self.n, self.crc, shard, self._first)
        check_index(index, shard, self._first, self._chunks_end(len(value)))
        return index

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for shard, members in self._group(keys).items():
            # the index and the chunk bytes are read under the shard's lock, so a thread
            # rewriting the shard meanwhile cannot pair an old index with new bytes
            with self._lock(shard):
                self._read_shard(shard, members, out)
        return out

    def _read_shard(self, shard: str, members: list[tuple[str, int]],
                    out: dict[str, bytes]) -> None:
        """Put the stored inner chunks among ``members`` of one shard into ``out``.

        Another process (or another Array over the same store) may replace the shard
        between the read of its index and the reads of its chunks; the index is then
        read again with the chunks, and a changed index means the ranges are read
        once more, then the whole shard (one read, index and chunks from the same bytes).
        """
        for _ in range(2):
            raw = self._index_bytes(shard)
            if raw is None:
                return
            index = decode_index(raw, self.n, self.crc, shard, self._first)
            wanted = _wanted(index, members)
            if not wanted:
                return
            if len(wanted) * 2 > int(np.count_nonzero(index[:, 1] != _MISSING)):
                break  # most of the shard: one read of all of it
            datas = self._ranges_if_unchanged(shard, wanted, index, raw)
            if datas is not None:
                self._take(shard, wanted, datas, out)
                return
        try:
            value = bytes(memoryview(self.store[shard]).cast("B"))
        except KeyError:
            return
        wanted = _wanted(self._index_of(value, shard), members)
        self._take(shard, wanted, [value[o:o + n] for _, o, n in wanted], out)

    def _ranges_if_unchanged(self, shard: str, wanted: list[tuple[str, int, int]],
                             index: np.ndarray, raw: bytes) -> list[Any] | None:
        """The chunk bytes of ``wanted``, or None when the shard's index is no longer
        ``raw`` (the shard was rewritten since). A store's own ``get_ranges`` reads the
        index again in the same call: the same version of the shard for a folder (one
        open file), SQLite and LMDB (one transaction) and memory; an object store sends
        the ranges as separate requests, and a store that reads single ranges only
        reads the index after the chunks: there a shard rewritten twice during the read,
        the second time with the same index, could still pair two versions."""
        if self.index_at_start:
            at = 0
        else:  # the index follows the last chunk (as czarr and zarr-python write shards)
            present = index[:, 1] != _MISSING
            at = int((index[present, 0] + index[present, 1]).max())
        ranges = [(o, n) for _, o, n in wanted] + [(at, self.index_size)]
        try:
            if hasattr(self.store, "get_ranges") or not hasattr(self.store, "get_partial"):
                datas = base.get_ranges(self.store, shard, ranges)  # (one read: a dict's)
            else:  # (base.get_ranges would read the whole shard for two ranges)
                datas = [base.get_partial(self.store, shard, s, n) for s, n in ranges]
        except KeyError:  # removed meanwhile
            return None
        return datas[:-1] if bytes(datas[-1]) == raw else None

    def _take(self, shard: str, wanted: list[tuple[str, int, int]], datas: list[Any],
              out: dict[str, bytes]) -> None:
        for (key, offset, nbytes), data in zip(wanted, datas):
            if len(data) != nbytes:
                raise ChunkDecodeError(
                    f"shard {shard!r}: the index points outside the shard (inner chunk "
                    f"{key!r} at bytes {offset}..{offset + nbytes}, {len(data)} there)",
                    key=shard)
            out[key] = bytes(data)

    def _chunks_end(self, shard_nbytes: int) -> int:
        """Where the chunk bytes of a shard of ``shard_nbytes`` bytes end."""
        return shard_nbytes - (0 if self.index_at_start else self.index_size)

    def describe_key(self, key: str) -> str:
        """Where the inner chunk ``key`` is stored, for error messages."""
        return f"inner chunk of shard {self.locate(key)[0]!r}"

    def __getitem__(self, key: str) -> bytes:
        found = self.getitems([key])
        if key not in found:
            raise KeyError(key)
        return found[key]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        shard, inner = self.locate(key)
        index = self._index(shard)
        return index is not None and index[inner, 1] != _MISSING

    # -- writing --------------------------------------------------------------------------

    def _rewrite(self, changes: Mapping[str, Any], deletes: Iterable[str]) -> None:
        if self.read_only:
            from czarr.errors import ReadOnlyError

            raise ReadOnlyError("the store is read-only")
        groups: dict[str, dict[int, Any]] = {}
        for key, value in changes.items():
            shard, inner = self.locate(key)
            groups.setdefault(shard, {})[inner] = as_buffer(value)
        for key in deletes:
            shard, inner = self.locate(key)
            groups.setdefault(shard, {})[inner] = None
        to_set: dict[str, bytes] = {}
        to_delete: list[str] = []
        locks: list[Any] = [self._lock(s) for s in sorted(groups)]
        if self.synchronizer is not None:
            locks += [self.synchronizer[s] for s in sorted(groups)]
        held = []
        for lock in locks:
            lock.__enter__()
            held.append(lock)
        try:
            for shard, new in groups.items():
                chunks: list[Any] = [None] * self.n
                if len(new) < self.n:  # keep what is not rewritten
                    try:
                        old = bytes(memoryview(self.store[shard]).cast("B"))
                    except KeyError:
                        old = None
                    if old is not None:
                        index = self._index_of(old, shard)
                        for i, (offset, nbytes) in enumerate(index.tolist()):
                            if nbytes != _MISSING:
                                chunks[i] = old[offset:offset + nbytes]
                for i, value in new.items():
                    chunks[i] = value
                if all(c is None for c in chunks):
                    to_delete.append(shard)
                else:
                    to_set[shard] = encode_shard(chunks, self.crc, self.index_at_start,
                                                 self._layout)
            if to_set:
                base.setitems(self.store, to_set)
            if to_delete:
                base.delitems(self.store, to_delete)
        finally:
            for lock in reversed(held):
                lock.__exit__(None, None, None)

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        self._rewrite(mapping, ())

    def __setitem__(self, key: str, value: Any) -> None:
        self._rewrite({key: value}, ())

    def delitems(self, keys: Iterable[str]) -> None:
        self._rewrite({}, list(keys))

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._rewrite({}, [key])

    # -- listing --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[str]:
        if self._shard_keys is None:
            return iter(())
        return self._iter()

    def _iter(self) -> Iterator[str]:
        assert self._shard_keys is not None
        for shard_coords, shard in self._shard_keys():  # type: ignore[misc]
            index = self._index(shard)
            if index is None:
                continue
            for i in np.flatnonzero(index[:, 1] != _MISSING).tolist():
                yield self._inner_key(shard_coords, i)

    def __len__(self) -> int:
        return sum(1 for _ in self)
