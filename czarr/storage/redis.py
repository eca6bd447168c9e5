"""RedisStore: a store whose values are Redis strings, as zarr-python 2's RedisStore keeps them.

Each store key ``k`` is the Redis key ``prefix + ':' + k`` holding the value as a Redis
string, exactly the layout of zarr-python 2.18's ``RedisStore``, so either library reads
what the other wrote. The bulk operations are one round trip each: ``getitems`` is one
pipeline of ``MGET``s, ``setitems`` one ``MULTI``/``EXEC`` transaction of ``MSET``s (all
values appear at once or none does), ``delitems`` one ``DEL`` of many keys. Listing walks
the keyspace with ``SCAN`` and a ``MATCH`` pattern (never the blocking ``KEYS``), with the
glob characters of the prefix and path escaped. ``redis-py`` is imported lazily
(``pip install 'czarr[redis]'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from czarr.errors import ReadOnlyError
from czarr.metadata.normalize import normalize_dimension_separator
from czarr.storage.base import (
    Store,
    _check_canonical,
    _check_rename,
    _normalize_path,
    _slice_range,
    as_buffer,
    import_optional,
)

__all__ = ["RedisStore"]

# keys per command when a batch is split (a pipeline sends all the commands at once)
_BATCH = 1000
_GLOB_CHARS = frozenset("\\*?[]")


def _escape_glob(text: str) -> str:
    """``text`` as a literal in a Redis ``MATCH`` pattern (``\\`` before ``* ? [ ] \\``)."""
    if not _GLOB_CHARS.intersection(text):
        return text
    return "".join("\\" + c if c in _GLOB_CHARS else c for c in text)


def _batches(items: list, size: int = _BATCH) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class RedisStore(Store):
    """A store keeping each value as a Redis string under ``prefix + ':' + key``.

    Parameters
    ----------
    prefix : str
        Namespace of this store's Redis keys; ``'zarr'`` (zarr-python 2's default) gives
        keys such as ``'zarr:.zgroup'`` and ``'zarr:foo/0.0'``.
    dimension_separator : {'.', '/'}, optional
        Chunk key separator that arrays created in this store use unless told otherwise
        (as zarr-python 2's stores take it).
    read_only : bool
        Refuse every write with :class:`czarr.errors.ReadOnlyError` (keyword only).
    **kwargs
        Passed to ``redis.Redis`` (``host``, ``port``, ``db``, ``password``,
        ``unix_socket_path``...). ``decode_responses=True`` is refused: values are bytes.

    Raises
    ------
    MissingDependencyError
        The ``redis`` package is not installed.

    Notes
    -----
    Stores with the same prefix on the same database share their keys; a prefix ``'a'``
    also sees the keys of a prefix ``'a:b'`` (as key ``'b:...'``), as in zarr-python 2.
    The store pickles by its connection parameters, never by its data. ``close()``
    releases the connections; a closed store reconnects if it is used again.
    """

    def __init__(
        self,
        prefix: str = "zarr",
        dimension_separator: str | None = None,
        *,
        read_only: bool = False,
        **kwargs: Any,
    ) -> None:
        redis = import_optional("redis", "redis", "RedisStore")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
        if kwargs.get("decode_responses"):
            raise ValueError("RedisStore keeps bytes: decode_responses=True is not supported")
        self._prefix = prefix
        self._dimension_separator = normalize_dimension_separator(dimension_separator)
        self.read_only = bool(read_only)
        self._kwargs = kwargs
        self.client = redis.Redis(**kwargs)
        self._watch_error = redis.WatchError
        self._head = prefix + ":"

    @property
    def prefix(self) -> str:
        """The namespace of this store's Redis keys."""
        return self._prefix

    # -- pickling and comparison ------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {
            "prefix": self._prefix,
            "dimension_separator": self._dimension_separator,
            "read_only": self.read_only,
            "kwargs": self._kwargs,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(
            state["prefix"], state["dimension_separator"], read_only=state["read_only"],
            **state["kwargs"],
        )

    def _location(self) -> tuple:
        """Where the data lives: server address, database number and prefix."""
        kw = self.client.connection_pool.connection_kwargs
        return (kw.get("host"), kw.get("port"), kw.get("path"), kw.get("db"), self._prefix)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RedisStore):
            return NotImplemented
        return self._location() == other._location()

    def __hash__(self) -> int:
        return hash((RedisStore, self._location()))

    def __repr__(self) -> str:
        host, port, path, db, prefix = self._location()
        where = path if path else f"{host}:{port}"
        return f"<czarr.RedisStore {where} db={db} prefix={prefix!r}>"

    # -- helpers ----------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return self._head + key

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"RedisStore prefix={self._prefix!r} was opened read-only")

    def _scan(self, path: str) -> set[str]:
        """Store keys under the folder ``path`` (every key for ``''``), by SCAN."""
        pattern = _escape_glob(self._head + (path + "/" if path else "")) + "*"
        n = len(self._head)
        # SCAN may return a key more than once: a set removes repeats
        return {k.decode("utf-8")[n:] for k in self.client.scan_iter(match=pattern, count=1000)}

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if type(key) is not str:
            raise KeyError(key)
        value = self.client.get(self._key(key))
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return type(key) is str and bool(self.client.exists(self._key(key)))

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_writable()
        _check_canonical(key)
        self.client.set(self._key(key), as_buffer(value))

    def __delitem__(self, key: str) -> None:
        self._check_writable()
        if type(key) is not str or not self.client.delete(self._key(key)):
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._scan("")))

    def __len__(self) -> int:
        return len(self._scan(""))

    def clear(self) -> None:
        """Remove every key of this store (the keys of other prefixes stay)."""
        self.rmdir("")

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        keys = [k for k in dict.fromkeys(keys) if type(k) is str]
        if not keys:
            return {}
        pipe = self.client.pipeline(transaction=False)
        for batch in _batches(keys):
            pipe.mget([self._key(k) for k in batch])
        values = [v for batch in pipe.execute() for v in batch]
        return {k: v for k, v in zip(keys, values) if v is not None}

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        self._check_writable()
        items = {}
        for key, value in mapping.items():  # refuse bad keys and values before any write
            _check_canonical(key)
            items[self._key(key)] = as_buffer(value)
        if not items:
            return
        # MULTI/EXEC: every value appears at once, or none does
        pipe = self.client.pipeline(transaction=True)
        for batch in _batches(list(items)):
            pipe.mset({k: items[k] for k in batch})
        pipe.execute()

    def delitems(self, keys: Iterable[str]) -> None:
        self._check_writable()
        self._delete([self._key(k) for k in dict.fromkeys(keys) if type(k) is str])

    def _delete(self, redis_keys: list[str]) -> None:
        if not redis_keys:
            return
        if len(redis_keys) <= _BATCH:
            self.client.delete(*redis_keys)
            return
        pipe = self.client.pipeline(transaction=False)
        for batch in _batches(redis_keys):
            pipe.delete(*batch)
        pipe.execute()

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0 or None, not {length}")
        if type(key) is not str:
            raise KeyError(key)
        rkey = self._key(key)
        if start >= 0:
            # Redis clips a range at the end the same way: one atomic round trip
            pipe = self.client.pipeline(transaction=True)
            pipe.exists(rkey)
            if length != 0:
                pipe.getrange(rkey, start, -1 if length is None else start + length - 1)
            found, *data = pipe.execute()
            if not found:
                raise KeyError(key)
            return data[0] if data else b""
        # a range from the end needs the size first: WATCH so both reads see one value
        with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(rkey)
                    if not pipe.exists(rkey):
                        raise KeyError(key)
                    offset, count = _slice_range(pipe.strlen(rkey), start, length)
                    pipe.multi()
                    pipe.getrange(rkey, offset, offset + count - 1)
                    (data,) = pipe.execute()
                    return data if count else b""
                except self._watch_error:
                    continue

    def listdir(self, path: str = "") -> list[str]:
        path = _normalize_path(path)
        n = len(path) + 1 if path else 0
        return sorted({k[n:].split("/", 1)[0] for k in self._scan(path)})

    def rmdir(self, path: str = "") -> None:
        self._check_writable()
        path = _normalize_path(path)
        self._delete([self._key(k) for k in self._scan(path)])

    def getsize(self, path: str = "") -> int:
        path = _normalize_path(path)
        if path:
            pipe = self.client.pipeline(transaction=True)
            pipe.exists(self._key(path))
            pipe.strlen(self._key(path))
            found, size = pipe.execute()
            if found:
                return size
        keys = list(self._scan(path))
        if not keys:
            return 0
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.strlen(self._key(key))
        return sum(pipe.execute())

    def rename(self, src: str, dst: str) -> None:
        self._check_writable()
        src = _normalize_path(src)
        dst = _normalize_path(dst)
        _check_rename(src, dst)
        moves = [src] if self.client.exists(self._key(src)) else []
        moves += self._scan(src)
        if not moves:
            raise KeyError(src)
        n = len(src)
        pipe = self.client.pipeline(transaction=True)
        for key in moves:
            pipe.rename(self._key(key), self._key(dst + key[n:]))
        for result in pipe.execute(raise_on_error=False):
            # a key deleted since it was listed is simply not moved
            if isinstance(result, Exception) and "no such key" not in str(result).lower():
                raise result

    def close(self) -> None:
        """Close the client's connection pool (a pool passed in as ``connection_pool=``
        belongs to the caller and is left open)."""
        self.client.close()
