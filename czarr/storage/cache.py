"""LRUStoreCache: a store wrapper that keeps recently read values in memory.

Put in front of a slow store (a cloud bucket, a network database), it answers repeated
reads of the same keys from memory: values up to ``max_size`` bytes in all, least
recently used first out, plus the store's key list, folder listings and membership
tests. Every write through the wrapper updates or drops what it cached, so reads through
it always see its own writes; writes made to the underlying store by others are seen
once :meth:`LRUStoreCache.invalidate` is called. One lock guards the cache, so several
threads may share a wrapper; misses of a batch are fetched from the store in one
``getitems`` call, outside the lock. Because store calls run outside the lock, each one
registers itself per key before it starts: a write, delete or invalidation that overlaps
a fetch (or another write) of the same key unregisters it, and what that call brought
back is then not cached, so a slow read can never put an older value over a newer one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from czarr.storage import base
from czarr.storage.base import Store, _nbytes
from czarr.sync import renew_after_fork

__all__ = ["LRUStoreCache"]


class LRUStoreCache(Store):
    """Cache the values, keys and listings of another store (zarr-python 2's class).

    Parameters
    ----------
    store : MutableMapping
        The store to wrap.
    max_size : int or None
        Most bytes of values held at once; None for no limit. A value larger than
        ``max_size`` is never cached.

    Attributes
    ----------
    hits, misses : int
        Reads of values answered from the cache, and reads that went to the store.
    """

    def __init__(self, store: MutableMapping, max_size: int | None) -> None:
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size must be >= 0 or None, got {max_size}")
        self._store = store
        self._max_size = max_size
        self._current_size = 0
        self._keys_cache: list[str] | None = None
        self._contains_cache: dict[str, bool] = {}
        self._listdir_cache: dict[str, list[str]] = {}
        self._values_cache: OrderedDict[str, Any] = OrderedDict()
        # key -> tokens of the store calls on it running now (outside the lock); a call
        # whose token is gone when it returns overlapped a change and caches nothing
        self._inflight: dict[str, set[object]] = {}
        # bumped by every change: a listing made across a change is not cached
        self._listing_gen = 0
        self._mutex = threading.Lock()
        renew_after_fork(self, _new_lock)
        self.hits = 0
        self.misses = 0

    # -- pickling ---------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {"store": self._store, "max_size": self._max_size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["store"], state["max_size"])

    def __repr__(self) -> str:
        return (f"LRUStoreCache({self._store!r}, max_size={self._max_size}; "
                f"{self._current_size} bytes cached, {self.hits} hits, {self.misses} misses)")

    @property
    def read_only(self) -> bool:  # type: ignore[override]
        return bool(getattr(self._store, "read_only", False))

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        with self._mutex:
            if key in self._values_cache:
                self._values_cache.move_to_end(key)
                self.hits += 1
                return self._values_cache[key]
            self.misses += 1
            token = self._begin(key)
        try:
            value = self._store[key]  # outside the lock: a slow read blocks no one
        except BaseException:
            with self._mutex:
                self._end(key, token)
            raise
        with self._mutex:
            if self._end(key, token):
                self._cache_value(key, value)
        return value

    def getitems(self, keys: Iterable[str]) -> dict[str, Any]:
        keys = list(keys)
        out: dict[str, Any] = {}
        missing = []
        with self._mutex:
            for key in keys:
                if key in self._values_cache:
                    self._values_cache.move_to_end(key)
                    out[key] = self._values_cache[key]
                    self.hits += 1
                else:
                    missing.append(key)
            self.misses += len(missing)
            tokens = [self._begin(key) for key in missing]
        if missing:
            try:
                fetched = base.getitems(self._store, missing)
            except BaseException:
                with self._mutex:
                    for key, token in zip(missing, tokens):
                        self._end(key, token)
                raise
            with self._mutex:
                for key, token in zip(missing, tokens):
                    if self._end(key, token) and key in fetched:
                        self._cache_value(key, fetched[key])
            out.update(fetched)
        return out

    def __contains__(self, key: object) -> bool:
        with self._mutex:
            if key in self._values_cache:
                return True
            known = self._contains_cache.get(key)  # type: ignore[arg-type]
            if known is not None:
                return known
            token = self._begin(key)  # type: ignore[arg-type]
        try:
            found = key in self._store
        except BaseException:
            with self._mutex:
                self._end(key, token)  # type: ignore[arg-type]
            raise
        with self._mutex:
            if self._end(key, token):  # type: ignore[arg-type]
                self._contains_cache[key] = found  # type: ignore[index]
        return found

    def __setitem__(self, key: str, value: Any) -> None:
        def write() -> None:
            self._store[key] = value
        self._change({key: value}, write)

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        self._change(mapping, lambda: base.setitems(self._store, mapping))

    def __delitem__(self, key: str) -> None:
        def delete() -> None:
            del self._store[key]
        self._change({key: None}, delete)

    def delitems(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        self._change(dict.fromkeys(keys), lambda: base.delitems(self._store, keys))

    def _change(self, values: Mapping[str, Any], call: Any) -> None:
        """Run ``call`` (which writes ``values`` to the store, None meaning deleted), then
        cache each new value, unless another call on its key overlapped this one."""
        with self._mutex:
            self._listing_gen += 1
            tokens = {}
            for key in values:
                self._forget_key(key)
                self._contains_cache.pop(key, None)
                overlapped = self._inflight.pop(key, None)
                # with another call on this key running, which lands last is unknown
                tokens[key] = None if overlapped else self._begin(key)
        done = False
        try:
            call()
            done = True
        finally:
            with self._mutex:
                self._listing_gen += 1
                self._invalidate_listings()
                for key, token in tokens.items():
                    running = self._inflight.pop(key, ())  # calls that overlapped: stale
                    mine = token is not None and token in running
                    self._forget_key(key)
                    if mine and done:
                        value = values[key]
                        self._contains_cache[key] = value is not None
                        if value is not None:
                            self._cache_value(key, value)
                    else:
                        self._contains_cache.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:  # type: ignore[override]
        with self._mutex:
            if self._keys_cache is not None:
                return list(self._keys_cache)
            gen = self._listing_gen
        keys = list(self._store.keys())
        with self._mutex:
            if gen == self._listing_gen:
                self._keys_cache = keys
        return list(keys)

    def __len__(self) -> int:
        return len(self.keys())

    # -- fast paths -------------------------------------------------------------------

    def listdir(self, path: str = "") -> list[str]:
        path = base._normalize_path(path)
        with self._mutex:
            if path in self._listdir_cache:
                return list(self._listdir_cache[path])
            gen = self._listing_gen
        names = base.listdir(self._store, path)
        with self._mutex:
            if gen == self._listing_gen:
                self._listdir_cache[path] = names
        return list(names)

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        with self._mutex:
            cached = self._values_cache.get(key)
            if cached is not None:
                self.hits += 1
        if cached is not None:
            return base.get_partial({key: cached}, key, start, length)
        return base.get_partial(self._store, key, start, length)

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        """The bytes of each ``(start, length)`` range of one version of ``key``'s value:
        from the cached value when there is one, else from the wrapped store."""
        with self._mutex:
            cached = self._values_cache.get(key)
            if cached is not None:
                self.hits += 1
        if cached is not None:
            return base.get_ranges({key: cached}, key, ranges)
        return base.get_ranges(self._store, key, ranges)

    def getsize(self, path: str = "") -> int:
        return base.getsize(self._store, path)

    def rmdir(self, path: str = "") -> None:
        base.rmdir(self._store, path)
        self.invalidate()

    def rename(self, src: str, dst: str) -> None:
        base.rename(self._store, src, dst)
        self.invalidate()

    def clear(self) -> None:
        base.rmdir(self._store, "")
        self.invalidate()

    def close(self) -> None:
        base.close(self._store)

    # -- the cache ----------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget everything cached: values, keys and listings."""
        with self._mutex:
            self._values_cache.clear()
            self._current_size = 0
            self._invalidate_keys()

    def invalidate_values(self) -> None:
        """Forget the cached values."""
        with self._mutex:
            self._values_cache.clear()
            self._current_size = 0
            self._inflight.clear()  # what fetches running now bring back is not kept

    def invalidate_keys(self) -> None:
        """Forget the cached key list, listings and membership tests."""
        with self._mutex:
            self._invalidate_keys()

    def _invalidate_keys(self) -> None:
        self._contains_cache.clear()
        self._inflight.clear()
        self._listing_gen += 1
        self._invalidate_listings()

    def _invalidate_listings(self) -> None:
        self._keys_cache = None
        self._listdir_cache.clear()

    def _begin(self, key: str) -> object:
        """Register a store call on ``key`` about to run outside the lock (lock held)."""
        token = object()
        self._inflight.setdefault(key, set()).add(token)
        return token

    def _end(self, key: str, token: object) -> bool:
        """Unregister it (lock held): True when no change to ``key`` overlapped it."""
        tokens = self._inflight.get(key)
        if tokens is None or token not in tokens:
            return False
        tokens.discard(token)
        if not tokens:
            del self._inflight[key]
        return True

    def _forget_key(self, key: str) -> None:
        # a write may add a key: the key list and listings can no longer be trusted
        self._invalidate_listings()
        if key in self._values_cache:
            self._current_size -= _size(self._values_cache.pop(key))

    def _cache_value(self, key: str, value: Any) -> None:
        size = _size(value)
        if self._max_size is not None and size > self._max_size:
            return
        if key in self._values_cache:
            self._current_size -= _size(self._values_cache.pop(key))
        if self._max_size is not None:
            while self._current_size + size > self._max_size and self._values_cache:
                _, old = self._values_cache.popitem(last=False)
                self._current_size -= _size(old)
        if not isinstance(value, bytes):
            value = bytes(base.as_buffer(value))  # never keep a caller's mutable buffer
        self._values_cache[key] = value
        self._current_size += size


def _new_lock(cache: LRUStoreCache) -> None:
    cache._mutex = threading.Lock()
    cache._inflight.clear()  # the parent's calls do not return here


def _size(value: Any) -> int:
    n = _nbytes(value)
    return n if n >= 0 else 0
