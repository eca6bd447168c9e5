"""DBMStore: a store in a DBM-style database file (the standard library's ``dbm``).

Any of the standard library's flavours works (``dbm.gnu``, ``dbm.ndbm``, ``dbm.dumb``; by
default :func:`dbm.open` picks the best one installed, and reopens an existing file with
the flavour that wrote it), and so does any function with the same signature passed as
``open=``. Keys are stored as their UTF-8 bytes (ASCII for every key Zarr writes) and
values as bytes, as zarr-python 2's DBMStore keeps them, so either library reads the
other's files. DBM objects are not safe to share between threads, for reads made during
a write either, so one lock serialises every access (``write_lock=False`` drops it, for a
single-threaded program). Listing, removing folders and sizes use the generic versions
built on the keys, since DBM has no ordered keys to do better with.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import nullcontext
from typing import Any

from czarr.errors import ReadOnlyError
from czarr.storage.base import Store, _check_canonical, as_buffer

__all__ = ["DBMStore"]


def _encode(key: str) -> bytes:
    return key.encode("utf-8")


class DBMStore(Store):
    """A store in a DBM-style database file.

    Parameters
    ----------
    path : str or os.PathLike
        The database file (some flavours add suffixes: ``dbm.dumb`` writes ``path.dat``,
        ``path.dir`` and ``path.bak``).
    flag : str
        As for :func:`dbm.open`: ``'r'`` reads an existing database (writes raise
        :class:`czarr.errors.ReadOnlyError`), ``'w'`` reads and writes an existing one,
        ``'c'`` (default) also creates it, ``'n'`` always starts empty. Flavour-specific
        modifiers (``'cf'``, ``'cu'`` for ``dbm.gnu``) pass through.
    mode : int
        Permission bits of a file created (``0o666``, less the umask).
    open : callable, optional
        The function opening the database, called as ``open(path, flag, mode,
        **open_kwargs)``: :func:`dbm.open` by default; ``dbm.gnu.open``,
        ``dbm.ndbm.open``, ``dbm.dumb.open`` or a third-party one to pick a flavour.
    write_lock : bool
        Serialise every access with a lock (default), which makes the store safe to use
        from several threads.
    dimension_separator : {'.', '/'}, optional
        The chunk key separator of arrays created in this store, when they do not give one.
    **open_kwargs
        Passed on to ``open``.

    Notes
    -----
    Call :meth:`close` (or use the store as a context manager) after writing: some
    flavours (``dbm.dumb``) write their index only then, or on :meth:`flush`. One
    process should write a database at a time; ``dbm.gnu`` enforces this with a file
    lock, ``dbm.dumb`` does not and two writers lose each other's keys. Picklable (by
    path and options; the database is flushed first, and a store opened with ``'n'``
    reopens with ``'c'`` so unpickling does not empty it); two stores are equal when they
    open the same file the same way.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        flag: str = "c",
        mode: int = 0o666,
        open: Callable[..., Any] | None = None,
        write_lock: bool = True,
        dimension_separator: str | None = None,
        **open_kwargs: Any,
    ) -> None:
        if dimension_separator not in (None, ".", "/"):
            raise ValueError(
                f"dimension_separator must be '.', '/' or None, not {dimension_separator!r}"
            )
        if not isinstance(flag, str) or not flag or flag[0] not in "rwcn":
            raise ValueError(f"invalid DBM flag {flag!r}: expected 'r', 'w', 'c' or 'n'")
        if open is None:
            import dbm

            open = dbm.open
        self.path = os.path.abspath(os.fspath(path))
        self.flag = flag
        self.mode = mode
        self.open = open
        self.write_lock = write_lock
        self.open_kwargs = open_kwargs
        self.read_only = flag[0] == "r"
        self._dimension_separator = dimension_separator
        # reads share the lock: a DBM object reading while another thread writes can see
        # a half-updated index (dbm.dumb) or corrupt its cache (dbm.gnu)
        self._lock: Any = threading.RLock() if write_lock else nullcontext()
        self._closed = False
        self.db = open(self.path, flag, mode, **open_kwargs)

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Write what the database holds in memory and close its files (twice is fine)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self.db.close()

    def flush(self) -> None:
        """Write what the database holds in memory to its files, keeping it open."""
        if self.read_only:
            return
        with self._lock:
            sync = getattr(self.db, "sync", None)
            if sync is not None:
                sync()
                return
            # dbm.ndbm has no sync: closing writes everything, then reopen to go on
            self.db.close()
            self.db = self.open(self.path, self._reopen_flag(), self.mode, **self.open_kwargs)

    def _reopen_flag(self) -> str:
        # reopening must never empty the database it just wrote
        return "c" + self.flag[1:] if self.flag[0] == "n" else self.flag

    def __getstate__(self) -> dict[str, Any]:
        if not self._closed:
            self.flush()
        return {
            "path": self.path, "flag": self._reopen_flag(), "mode": self.mode,
            "open": self.open, "write_lock": self.write_lock,
            "dimension_separator": self._dimension_separator, "open_kwargs": self.open_kwargs,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(
            state["path"], flag=state["flag"], mode=state["mode"], open=state["open"],
            write_lock=state["write_lock"], dimension_separator=state["dimension_separator"],
            **state["open_kwargs"],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DBMStore):
            return NotImplemented
        # the flag and mode may differ: the same database opened another way
        return (
            self.path == other.path
            and self.open == other.open
            and self.open_kwargs == other.open_kwargs
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"DBMStore({self.path!r}, flag={self.flag!r})"

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"DBMStore {self.path!r} was opened read-only (flag='r')")

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise KeyError(key)
        with self._lock:
            try:
                return self.db[_encode(key)]
            except KeyError:
                raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        with self._lock:
            return _encode(key) in self.db

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_writable()
        _check_canonical(key)
        data = bytes(as_buffer(value))  # dbm.dumb refuses memoryviews
        with self._lock:
            self._put(_encode(key), data)

    def _put(self, k: bytes, data: bytes) -> None:
        db = self.db
        db[k] = data
        if not data and k not in db:
            # dbm.ndbm over gdbm's compatibility layer reads an empty value as a missing
            # key: refuse what it would lose rather than let the key vanish
            try:
                del db[k]
            except KeyError:
                pass
            raise ValueError(
                f"this DBM flavour ({type(db).__module__}) cannot store empty values: "
                "it reads them back as missing keys"
            )

    def __delitem__(self, key: str) -> None:
        self._check_writable()
        if not isinstance(key, str):
            raise KeyError(key)
        with self._lock:
            try:
                del self.db[_encode(key)]
            except KeyError:
                raise KeyError(key) from None

    def _keys(self) -> list[str]:
        with self._lock:
            return [k.decode("utf-8") for k in self.db.keys()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        with self._lock:
            return len(self.db)

    def clear(self) -> None:
        self._check_writable()
        with self._lock:
            for k in self.db.keys():
                del self.db[k]

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        out = {}
        with self._lock:
            db = self.db
            for key in keys:
                try:
                    out[key] = db[_encode(key)]
                except KeyError:
                    pass
        return out

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        self._check_writable()
        items = []
        for key, value in mapping.items():
            _check_canonical(key)
            items.append((_encode(key), bytes(as_buffer(value))))
        with self._lock:
            for k, v in items:
                self._put(k, v)

    def delitems(self, keys: Iterable[str]) -> None:
        self._check_writable()
        with self._lock:
            for key in keys:
                k = _encode(key)
                if k in self.db:
                    del self.db[k]

    def rmdir(self, path: str = "") -> None:
        self._check_writable()
        with self._lock:  # one step for other threads (the lock is re-entrant)
            super().rmdir(path)

    def rename(self, src: str, dst: str) -> None:
        self._check_writable()
        with self._lock:
            super().rename(src, dst)
