"""MemoryStore: a store that keeps every value as ``bytes`` in a Python dict.

Values live in one flat dict keyed by the full key, so reading and writing a chunk is a
single dict operation. Beside it the store keeps a folder index (for each folder, its
children and how many keys each holds), updated only when a key appears or disappears, so
``listdir``, ``rmdir``, ``getsize`` and ``rename`` cost what the folder holds rather than
what the whole store holds. Writes take a lock, so several threads may write at once.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from czarr.storage import base
from czarr.storage.base import (
    Store,
    _check_canonical,
    _check_rename,
    _check_separator,
    _normalize_path,
    _slice_range,
    as_buffer,
)
from czarr.sync import renew_after_fork

__all__ = ["DictStore", "KVStore", "MemoryStore"]


def _flatten(root: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{'a': {'b': v}}`` (zarr-python 2's nested folders) -> ``{'a/b': v}``."""
    out: dict[str, Any] = {}
    for name, value in root.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{name}/"))
        else:
            out[prefix + name] = value
    return out


def _new_lock(store: MemoryStore) -> None:
    store._lock = threading.RLock()


class MemoryStore(Store):
    """A store holding its values as ``bytes`` in memory.

    Parameters
    ----------
    root : Mapping, optional
        Initial contents, copied: flat (``{'a/b': b'...'}``) or nested as zarr-python 2
        keeps them (``{'a': {'b': b'...'}}``, a mapping per folder).
    cls : type
        Accepted for zarr-python 2's signature (its folder class); czarr keeps one flat
        dict whatever it is.
    dimension_separator : {'.', '/'}, optional
        Separator of chunk keys for arrays created in this store without one.

    Notes
    -----
    Keys must be canonical (``normalize_key(key) == key``); others are refused with
    :class:`czarr.errors.BadKeyError`. Values are copied to ``bytes`` on write, so a
    buffer changed afterwards does not change the store. Picklable; two MemoryStores
    are equal when they hold the same keys and values. Safe to use from several threads.
    """

    def __init__(self, root: Mapping[str, Any] | None = None, cls: type = dict,
                 dimension_separator: str | None = None) -> None:
        self._data: dict[str, bytes] = {}
        # folder path ('' for the root) -> {child name: number of keys at or under it}
        self._dirs: dict[str, dict[str, int]] = {}
        self._lock = threading.RLock()
        renew_after_fork(self, _new_lock)
        self._dimension_separator = _check_separator(dimension_separator)
        if root is not None:
            self.setitems(_flatten(root))

    # -- pickling and comparison ------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            return {"data": dict(self._data), "dimension_separator": self._dimension_separator}

    def __setstate__(self, state: dict[str, Any]) -> None:
        MemoryStore.__init__(self, state["data"],
                             dimension_separator=state.get("dimension_separator"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MemoryStore):
            return NotImplemented
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"<czarr.MemoryStore: {len(self._data)} keys>"

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __setitem__(self, key: str, value: Any) -> None:
        buf = as_buffer(value)
        if type(buf) is not bytes:
            buf = bytes(buf)
        with self._lock:
            if key not in self._data:
                _check_canonical(key)
                self._index_add(key)
            self._data[key] = buf

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._data[key]
            self._index_remove(key)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._dirs.clear()

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        data = self._data
        out = {}
        for key in keys:
            value = data.get(key)
            if value is not None:
                out[key] = value
        return out

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        for key, value in mapping.items():
            self[key] = value

    def delitems(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                if key in self._data:
                    del self._data[key]
                    self._index_remove(key)

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        value = self._data[key]
        offset, count = _slice_range(len(value), start, length)
        return value[offset:offset + count]

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        """Byte ranges of one value (all of the same version: values are never changed
        in place, only replaced)."""
        value = self._data[key]
        out = []
        for start, length in ranges:
            offset, count = _slice_range(len(value), start, length)
            out.append(value[offset:offset + count])
        return out

    def listdir(self, path: str = "") -> list[str]:
        path = _normalize_path(path)
        with self._lock:
            return sorted(self._dirs.get(path, ()))

    def rmdir(self, path: str = "") -> None:
        path = _normalize_path(path)
        with self._lock:
            if not path:
                self.clear()
                return
            for key in self._keys_under(path):
                del self._data[key]
                self._index_remove(key)

    def getsize(self, path: str = "") -> int:
        path = _normalize_path(path)
        with self._lock:
            if path in self._data:
                return len(self._data[path])
            if not path:
                return sum(len(v) for v in self._data.values())
            return sum(len(self._data[k]) for k in self._keys_under(path))

    def rename(self, src: str, dst: str) -> None:
        src = _normalize_path(src)
        dst = _normalize_path(dst)
        _check_rename(src, dst)
        with self._lock:
            moves = [src] if src in self._data else []
            moves += self._keys_under(src)
            if not moves:
                raise KeyError(src)
            n = len(src)
            values = [(dst + key[n:], self._data[key]) for key in moves]
            for key in moves:
                del self._data[key]
                self._index_remove(key)
            for key, value in values:
                if key not in self._data:
                    self._index_add(key)
                self._data[key] = value

    # -- the folder index -------------------------------------------------------------

    def _keys_under(self, path: str) -> list[str]:
        """Every key strictly under the folder ``path`` (not ``''``), found via the index."""
        keys = []
        pending = [path]
        dirs = self._dirs
        data = self._data
        while pending:
            folder = pending.pop()
            for name in dirs.get(folder, ()):
                child = folder + "/" + name
                if child in data:
                    keys.append(child)
                if child in dirs:
                    pending.append(child)
        return keys

    def _index_add(self, key: str) -> None:
        dirs = self._dirs
        parent = ""
        start = 0
        while True:
            end = key.find("/", start)
            name = key[start:] if end < 0 else key[start:end]
            children = dirs.get(parent)
            if children is None:
                children = dirs[parent] = {}
            children[name] = children.get(name, 0) + 1
            if end < 0:
                return
            parent = key[:end]
            start = end + 1

    def _index_remove(self, key: str) -> None:
        dirs = self._dirs
        parent = ""
        start = 0
        while True:
            end = key.find("/", start)
            name = key[start:] if end < 0 else key[start:end]
            children = dirs[parent]
            count = children[name] - 1
            if count:
                children[name] = count
            else:
                del children[name]
                if not children and parent:
                    del dirs[parent]
            if end < 0:
                return
            parent = key[:end]
            start = end + 1


class DictStore(MemoryStore):
    """zarr-python 2's former name of :class:`MemoryStore` (it warns the same way)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            "DictStore has been renamed to MemoryStore in 2.4.0 and will be removed in "
            "the future. Please use MemoryStore.", DeprecationWarning, stacklevel=2)
        super().__init__(*args, **kwargs)


class KVStore(Store):
    """Any ``MutableMapping`` presented as a :class:`Store`: every call passes through to
    it, and the bulk operations (``getitems``, ``listdir``, ``rmdir``...) use its own
    methods when it has them, else the generic versions (zarr-python 2's ``KVStore``).

    Parameters
    ----------
    mutablemapping : MutableMapping
        The mapping that holds the data (kept, not copied).
    """

    def __init__(self, mutablemapping: MutableMapping) -> None:
        self._mutable_mapping = mutablemapping

    def __getitem__(self, key: str) -> Any:
        return self._mutable_mapping[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._mutable_mapping[key] = value

    def __delitem__(self, key: str) -> None:
        del self._mutable_mapping[key]

    def __contains__(self, key: object) -> bool:
        return key in self._mutable_mapping

    def __iter__(self) -> Iterator[str]:
        return iter(self._mutable_mapping)

    def __len__(self) -> int:
        return len(self._mutable_mapping)

    def get(self, key: str, default: Any = None) -> Any:
        return self._mutable_mapping.get(key, default)

    def values(self) -> Any:
        return self._mutable_mapping.values()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KVStore):
            return NotImplemented
        return self._mutable_mapping == other._mutable_mapping

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._mutable_mapping!r} at {id(self):#x}>"

    def getitems(self, keys: Iterable[str]) -> dict[str, Any]:
        return base.getitems(self._mutable_mapping, keys)

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        base.setitems(self._mutable_mapping, mapping)

    def delitems(self, keys: Iterable[str]) -> None:
        base.delitems(self._mutable_mapping, keys)

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        return base.get_partial(self._mutable_mapping, key, start, length)

    def listdir(self, path: str = "") -> list[str]:
        return base.listdir(self._mutable_mapping, path)

    def rmdir(self, path: str = "") -> None:
        base.rmdir(self._mutable_mapping, path)

    def getsize(self, path: str = "") -> int:
        return base.getsize(self._mutable_mapping, path)

    def rename(self, src: str, dst: str) -> None:
        base.rename(self._mutable_mapping, src, dst)

    def close(self) -> None:
        base.close(self._mutable_mapping)
