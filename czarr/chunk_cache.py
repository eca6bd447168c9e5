"""The decoded-chunk cache: decoded chunks kept in memory, so repeated small reads of the
same chunks skip the store and the decoder.

It is off by default. ``czarr.config.set(chunk_cache="256MiB")`` (or the
``CZARR_CHUNK_CACHE`` environment variable, read at import) turns on one process-wide
:class:`ChunkCache`; an array's ``cache_chunks=`` overrides it (see :class:`Setting`). A
cache is an LRU of decoded chunks that counts their bytes. An entry's key is the store's
identity, the chunk's key in that store (for an inner chunk of a v3 shard: the shard's
key and the chunk's place in the shard) and the codec pipeline's configuration (data
type, chunk shape, order, filters, compressor), so two arrays that read the same keys
with different codecs never share an entry. A store's identity is its class family and
absolute path for czarr's folder and file stores (every ``DirectoryStore`` object on one
folder shares entries and sees the others' writes), its filesystem object and root for an
``FSStore``, and the store object itself for any other store (forgotten, with its entries,
when the object is garbage collected); a store that cannot be weakly referenced (a plain
``dict``) is never cached. Cached chunks are read-only NumPy arrays; a chunk that is not
stored is cached as absent.

Writes through czarr drop what they make stale: every write path (chunk writes, deletes
of empty chunks, shard rewrites, resize, overwriting or deleting arrays and groups,
``rename``) goes through :mod:`czarr.storage`'s ``setitems``, ``delitems``, ``rmdir`` and
``rename``, which tell this module. Writes by other processes, or made straight into a
store's mapping (``store[key] = ...``), are **not** seen while a chunk is cached, as with
tensorstore's cache pool. Each cache takes one lock for its bookkeeping, never while
decoding. When several threads miss the same chunk at once, one fetches and decodes it
and the others wait for it. A generation number per key (in a fixed table of slots)
keeps a decode that raced a write from being cached.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

import numpy as np

from czarr import config as _config
from czarr.storage import base as _storage
from czarr.util import parse_bytes

if TYPE_CHECKING:
    from czarr.engine import ChunkContext
    from czarr.pipeline import ChunkPipeline

__all__ = ["ChunkCache", "DEFAULT_SIZE", "Setting", "configure", "parse_size",
           "pipeline_config", "shared", "store_token"]

DEFAULT_SIZE = 256 * 2**20  # cache_chunks=True while the process-wide cache is off
ABSENT = None               # the value cached for a chunk that is not stored
MISS: Any = object()        # what peek returns for a chunk that is not cached
_ABSENT_NBYTES = 64         # what an absent chunk counts for, so absences cannot pile up
_GEN_SLOTS = 4096           # generation slots (a power of two)
_SPARES = 4                 # evicted chunk buffers kept to decode the next misses into
_ADMIT_AFTER = 4            # once full, a chunk is cached on its 4th miss, not its first
_GHOSTS = 4096              # chunks whose misses are counted for that, at most


def parse_size(size: Any, what: str = "chunk_cache") -> int:
    """A cache size in bytes from ``'256MiB'``, an int, or 0/None/False (off).

    Raises
    ------
    ValueError
        Not a size, or negative.
    """
    if size is None or size is False:
        return 0
    if size is True:
        return DEFAULT_SIZE
    try:
        if isinstance(size, (int, np.integer)):
            n = int(size)
        elif isinstance(size, str):
            n = parse_bytes(size)
        else:
            raise ValueError
    except ValueError:
        raise ValueError(f"{what} must be a size ('256MiB', a number of bytes) or "
                         f"0/None for off, got {size!r}") from None
    if n < 0:
        raise ValueError(f"{what} must be >= 0 bytes, got {size!r}")
    return n


# ---------------------------------------------------------------------- store identity

_registry: dict[int, tuple[weakref.ref, int]] = {}  # id(object) -> (its weakref, token)
_registry_lock = threading.Lock()
_tokens = itertools.count(1)
# czarr's stores whose contents are a path's: the same path is the same data
_PATH_FAMILIES = {
    "czarr.storage.directory": "folder", "czarr.storage.zip": "zip",
    "czarr.storage.dbm": "dbm", "czarr.storage.lmdb": "lmdb",
    "czarr.storage.sqlite": "sqlite",
}


def _object_token(obj: Any, create: bool) -> int | None:
    """A number naming ``obj`` until it is garbage collected (never reused)."""
    entry = _registry.get(id(obj))
    if entry is not None and entry[0]() is obj:
        return entry[1]
    if not create:
        return None
    with _registry_lock:
        entry = _registry.get(id(obj))
        if entry is not None and entry[0]() is obj:
            return entry[1]
        token = next(_tokens)
        try:
            ref = weakref.ref(obj, functools.partial(_forget, id(obj), token))
        except TypeError:  # not weakly referenceable: a dict, a list...
            return None
        _registry[id(obj)] = (ref, token)
        return token


def _forget(ident: int, token: int, ref: weakref.ref) -> None:
    # a weakref callback: runs in any thread, maybe inside a cache's locked section,
    # so it takes no lock; each cache drops the token's entries on its next insert
    entry = _registry.get(ident)
    if entry is not None and entry[0] is ref:
        _registry.pop(ident, None)
    for cache in list(_caches):
        cache._dead.append(token)


def store_token(store: MutableMapping, create: bool = True) -> Hashable | None:
    """The identity of ``store`` in cache keys; None when it cannot have one (a plain
    dict), or, with ``create=False``, when no cache can hold its chunks yet."""
    module = type(store).__module__
    family = _PATH_FAMILIES.get(module)
    if family is not None:
        path = getattr(store, "path", None)
        if isinstance(path, str) and path != ":memory:":
            return family, path
    elif module == "czarr.storage.fsstore":
        fs = _object_token(store.fs, create)  # type: ignore[attr-defined]
        return None if fs is None else ("fsspec", fs, store.path)  # type: ignore[attr-defined]
    return _object_token(store, create)


# ---------------------------------------------------------------------- generations

# A decode may only be cached when no write touched its key between the moment its bytes
# were asked for and the moment it is inserted: each write sets its keys' slots (and a
# folder's removal the epoch) to a new number from one counter, and an insert compares.
_gens = [0] * _GEN_SLOTS
_epoch = [0]
_counter = itertools.count(1)


def _slot(token: Hashable, skey: str) -> int:
    return hash((token, skey)) & (_GEN_SLOTS - 1)


def _stamp(token: Hashable, skey: str) -> tuple[int, int]:
    return _gens[_slot(token, skey)], _epoch[0]


# ---------------------------------------------------------------------- the cache

class _Flight:
    """One chunk being fetched and decoded by one thread while others may wait."""

    __slots__ = ("done", "value", "ok", "stamp")

    def __init__(self, stamp: tuple[int, int]) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.ok = False
        self.stamp = stamp

    def wait(self) -> tuple[bool, Any]:
        """``(True, value)`` once the leader decoded it; ``(False, None)`` if it failed."""
        self.done.wait()
        return self.ok, self.value


class ChunkCache:
    """An LRU of decoded chunks that counts their bytes.

    Parameters
    ----------
    max_bytes : int
        Most bytes of decoded chunks held at once; a chunk larger than that is never
        cached.

    Notes
    -----
    Keys are ``(store token, stored key, place in a shard or -1, codec configuration)``.
    Writes by other processes are not seen while a chunk is cached.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._sizes: dict[tuple, int] = {}
        # token -> stored key -> full keys: what a write of that key makes stale
        self._index: dict[Hashable, dict[str, set[tuple]]] = {}
        self._flights: dict[tuple, _Flight] = {}
        self._dead: list[Hashable] = []
        # evicted chunks nothing refers to any more: decoding into one of them costs no
        # page faults (a fresh 2 MiB buffer costs 512)
        self._spares: list[np.ndarray] = []
        self._ghosts: OrderedDict[tuple, int] = OrderedDict()  # misses of uncached chunks
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self.bypasses = 0
        self.evictions = 0
        _caches.add(self)
        _watch_writes()

    def __repr__(self) -> str:
        return (f"<ChunkCache {self.nbytes}/{self.max_bytes} bytes, {len(self._entries)} "
                f"chunks, {self.hits} hits, {self.misses} misses>")

    def info(self) -> dict[str, int]:
        """Sizes and counters: ``max_bytes``, ``nbytes``, ``chunks``, ``hits``, ``misses``
        (each one fetch and whole decode into the cache), ``bypasses`` (misses read past
        the full cache, decoding only what they need), ``evictions``."""
        with self._lock:
            return {"max_bytes": self.max_bytes, "nbytes": self.nbytes,
                    "chunks": len(self._entries), "hits": self.hits, "misses": self.misses,
                    "bypasses": self.bypasses, "evictions": self.evictions}

    def values(self) -> list[Any]:
        """The cached chunks (read-only arrays, ``ABSENT`` for chunks not stored), least
        recently used first."""
        with self._lock:
            return list(self._entries.values())

    # -- reading ----------------------------------------------------------------------

    def peek(self, key: tuple) -> Any:
        """The cached value of ``key`` (counted as a hit), or ``MISS``."""
        with self._lock:
            value = self._entries.get(key, MISS)
            if value is not MISS:
                self._entries.move_to_end(key)
                self.hits += 1
            return value

    def begin(self, key: tuple, nbytes: int) -> tuple[Any, _Flight | None, bool]:
        """Look up ``key``, a chunk of ``nbytes`` decoded: ``(value, None, False)`` on a
        hit; ``(None, flight, True)`` when the caller is to fetch and decode it (then
        :meth:`finish` or :meth:`abandon`); ``(None, flight, False)`` when another thread
        is on it; ``(MISS, None, False)`` when it is not to be cached now: the caller
        reads it past the cache, decoding only what it needs.

        A chunk is not cached when it is larger than the cache, nor, while the cache is
        full, on its first misses: it is cached on its 4th (of the last 4,096 chunks
        missed). So random reads over more chunks than the cache holds, which would
        evict a chunk on nearly every read, mostly cost a partial decode, as with no
        cache, instead of a whole one; a chunk read again and again still gets in."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key], None, False
            flight = self._flights.get(key)
            if flight is not None:
                return None, flight, False
            if self.nbytes + nbytes > self.max_bytes:
                n = self._ghosts.pop(key, 0) + 1
                if n < _ADMIT_AFTER or nbytes > self.max_bytes:
                    self._ghosts[key] = n
                    if len(self._ghosts) > _GHOSTS:
                        self._ghosts.popitem(last=False)
                    self.bypasses += 1
                    return MISS, None, False
            flight = self._flights[key] = _Flight(_stamp(key[0], key[1]))
            self.misses += 1
            return None, flight, True

    def spare(self, shape: tuple[int, ...], dtype: np.dtype, order: str
              ) -> np.ndarray | None:
        """An evicted chunk buffer of this layout that nothing else refers to, made
        writable for the next decode; None when there is none."""
        with self._lock:
            spares = self._spares
            for j in range(len(spares)):
                arr = spares[j]
                # referred to by the list, ``arr`` and getrefcount's argument only
                if (arr.shape == shape and arr.dtype == dtype and sys.getrefcount(arr) <= 3
                        and (arr.flags.c_contiguous if order == "C"
                             else arr.flags.f_contiguous)):
                    del spares[j]
                    arr.flags.writeable = True
                    return arr
        return None

    def finish(self, key: tuple, flight: _Flight, value: Any) -> None:
        """Hand a decoded chunk (read-only) or ``ABSENT`` to the waiters and cache it,
        unless a write touched its key since :meth:`begin`."""
        size = _ABSENT_NBYTES if value is ABSENT else value.nbytes
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
            if self._dead:
                self._drop_dead()
            if size <= self.max_bytes and flight.stamp == _stamp(key[0], key[1]):
                self._remove(key)
                self._entries[key] = value
                self._sizes[key] = size
                self._index.setdefault(key[0], {}).setdefault(key[1], set()).add(key)
                self.nbytes += size
                while self.nbytes > self.max_bytes:
                    self._evict()
        flight.value, flight.ok = value, True
        flight.done.set()

    def abandon(self, key: tuple, flight: _Flight) -> None:
        """The leader failed: release the waiters (they fetch the chunk themselves)."""
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        flight.done.set()

    # -- bookkeeping (under the lock) ---------------------------------------------------

    def _evict(self) -> None:
        key = next(iter(self._entries))
        value = self._entries[key]
        self._remove(key)
        self.evictions += 1
        if isinstance(value, np.ndarray):
            self._spares.append(value)
            if len(self._spares) > _SPARES:
                del self._spares[0]

    def _remove(self, key: tuple) -> None:
        if key not in self._entries:
            return
        del self._entries[key]
        self.nbytes -= self._sizes.pop(key)
        by_key = self._index[key[0]]
        members = by_key[key[1]]
        members.discard(key)
        if not members:
            del by_key[key[1]]
            if not by_key:
                del self._index[key[0]]

    def _drop_dead(self) -> None:
        while self._dead:
            self._drop(self._dead.pop(), None, "")

    def _drop(self, token: Hashable, skeys: Iterable[str] | None, prefix: str) -> None:
        """Forget the entries and flights of ``token``'s ``skeys``, or of every stored key
        under ``prefix`` (all of them for ``''``) when ``skeys`` is None."""
        by_key = self._index.get(token, {})
        if skeys is None:
            skeys = [k for k in by_key if k.startswith(prefix)] if prefix else list(by_key)
            flights = [k for k in self._flights if k[0] == token and k[1].startswith(prefix)]
        else:
            skeys = set(skeys)
            flights = [k for k in self._flights if k[0] == token and k[1] in skeys]
        for skey in skeys:
            for key in list(by_key.get(skey, ())):
                self._remove(key)
        for key in flights:
            del self._flights[key]  # later readers fetch anew; the leader's result is not kept

    def invalidate(self, token: Hashable, skeys: Iterable[str] | None = None,
                   prefix: str = "") -> None:
        """Drop ``token``'s entries for ``skeys`` (or every key under ``prefix``)."""
        with self._lock:
            self._drop(token, skeys, prefix)

    def clear(self) -> None:
        """Drop every entry (the counters are kept)."""
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self._index.clear()
            self._flights.clear()
            self._spares.clear()
            self._ghosts.clear()
            self.nbytes = 0

    def resize(self, max_bytes: int) -> None:
        """Change the limit, evicting the least recently used chunks to fit."""
        with self._lock:
            self.max_bytes = int(max_bytes)
            while self.nbytes > self.max_bytes:
                self._evict()
            self._spares.clear()


_caches: weakref.WeakSet[ChunkCache] = weakref.WeakSet()
_shared: ChunkCache | None = None   # the process-wide cache; None while it is off
_shared_lock = threading.Lock()


def shared() -> ChunkCache | None:
    """The process-wide cache (``czarr.config.set(chunk_cache=...)``), None when off."""
    return _shared


def configure(max_bytes: int) -> None:
    """Size the process-wide cache (0 turns it off and frees what it holds); called by
    ``czarr.config.set``."""
    global _shared
    with _shared_lock:
        if max_bytes <= 0:
            if _shared is not None:
                _shared.clear()
            _shared = None
        elif _shared is None:
            _shared = ChunkCache(max_bytes)
        else:
            _shared.resize(max_bytes)


# ---------------------------------------------------------------------- writes

def _changed(store: MutableMapping, keys: Iterable[str] | None, prefix: str | None) -> None:
    """Told by czarr.storage of a write: ``keys`` set or deleted, or every key under
    ``prefix`` (``''``: all) removed or moved."""
    token = store_token(store, create=False)
    if token is None:
        return
    caches = list(_caches)
    if keys is not None:
        keys = list(keys)
        for key in keys:
            _gens[_slot(token, key)] = next(_counter)
        for cache in caches:
            cache.invalidate(token, keys)
    if prefix is not None:
        _epoch[0] = next(_counter)
        if prefix:
            prefix += "/"
        for cache in caches:
            cache.invalidate(token, None, prefix)


def _watch_writes() -> None:
    _storage._on_change = _changed


def _after_fork() -> None:
    # a lock held by another thread at fork time would never be released in the child
    global _registry_lock, _shared_lock
    _registry_lock, _shared_lock = threading.Lock(), threading.Lock()
    for cache in list(_caches):
        cache._lock = threading.Lock()
        cache.clear()


os.register_at_fork(after_in_child=_after_fork)
configure(_config.get_chunk_cache())  # CZARR_CHUNK_CACHE, read at import


# ---------------------------------------------------------------------- per array

def _codec_config(codec: Any) -> str:
    get_config = getattr(codec, "get_config", None)
    if get_config is None:
        return repr(codec)
    return json.dumps(get_config(), sort_keys=True, default=repr)


def pipeline_config(pipeline: ChunkPipeline) -> tuple:
    """What decoding depends on, as a hashable: two arrays share cached chunks only when
    their stored keys and this are equal."""
    return (pipeline.dtype, pipeline.chunks, pipeline.order,
            None if pipeline.compressor is None else _codec_config(pipeline.compressor),
            tuple(_codec_config(f) for f in pipeline.filters))


class _Keys:
    """One array's cache keys: the full key in a cache of a chunk, from its key in the
    chunk store or from its grid coordinates."""

    __slots__ = ("token", "config", "shards", "prefix", "separator")

    def __init__(self, token: Hashable, config: tuple, shards: Any, prefix: str,
                 separator: str) -> None:
        self.token, self.config, self.shards = token, config, shards
        self.prefix, self.separator = prefix, separator

    def key(self, chunk_key: str) -> tuple:
        if self.shards is None:
            return self.token, chunk_key, -1, self.config
        shard, inner = self.shards.locate(chunk_key)
        return self.token, shard, inner, self.config

    def key_at(self, coords: tuple[int, ...]) -> tuple:
        if self.shards is None:
            return (self.token, self.prefix + self.separator.join(map(str, coords)), -1,
                    self.config)
        shard, inner = self.shards.locate_coords(coords)
        return self.token, shard, inner, self.config


class Setting:
    """An array's ``cache_chunks=``: None follows ``czarr.config`` (the process-wide
    cache, off by default); False never caches; True uses the process-wide cache, or one
    of the array's own of 256 MiB while that is off; a size (``'64MiB'``, bytes) gives the
    array a cache of its own of that size (0: never caches)."""

    __slots__ = ("mode", "size", "_own")

    def __init__(self, cache_chunks: Any = None) -> None:
        self.size = 0
        self._own: ChunkCache | None = None
        if cache_chunks is None or isinstance(cache_chunks, bool):
            self.mode = cache_chunks
        else:
            self.size = parse_size(cache_chunks, "cache_chunks")
            self.mode = self.size > 0
            if self.size:
                self._own = ChunkCache(self.size)

    @property
    def value(self) -> Any:
        """What was given (for pickling): None, a bool or a size in bytes."""
        return self.size if self.size else self.mode

    def cache(self) -> ChunkCache | None:
        """The cache this array reads through now, None when off."""
        if self.mode is None:
            return _shared
        if not self.mode or self.size:
            return self._own
        pool = _shared
        if pool is not None:
            return pool
        if self._own is None:
            self._own = ChunkCache(DEFAULT_SIZE)
        return self._own


class Binding:
    """One chunk context's use of its array's :class:`Setting`: the cache keys, made on
    first use (a context is remade when the metadata changes)."""

    __slots__ = ("setting", "_keys")

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        self._keys: _Keys | bool | None = None

    def active(self, ctx: ChunkContext) -> tuple[ChunkCache, _Keys] | None:
        """``(cache, keys)`` when reads of ``ctx`` go through a cache now, else None."""
        cache = self.setting.cache()
        if cache is None:
            return None
        keys = self._keys
        if keys is None:
            keys = self._keys = _make_keys(ctx) or False
        return (cache, keys) if keys else None


def _make_keys(ctx: ChunkContext) -> _Keys | None:
    from czarr.sharding import ShardedChunks

    if ctx.pipeline.dtype.hasobject:
        return None  # decoded objects are references: a cached one could be mutated
    store, shards = ctx.store, None
    if isinstance(store, ShardedChunks):
        store, shards = store.store, store
    token = store_token(store)
    if token is None:
        return None
    return _Keys(token, pipeline_config(ctx.pipeline), shards, ctx.key_prefix, ctx.separator)
