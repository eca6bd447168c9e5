"""SQLiteStore: a store in one SQLite database file (the standard library's ``sqlite3``).

Values live in the table ``zarr(k TEXT PRIMARY KEY, v BLOB)``, the very table zarr-python
2's SQLiteStore uses, so either library opens the other's files. The database runs in WAL
mode, where readers never wait for the writer nor the writer for readers, so many
processes may read while one writes (SQLite lets one writer in at a time; the others wait
up to the busy ``timeout``). Inside a process one connection writes, behind a lock, and
every write is one transaction, so a value is never seen half-written and a batch lands
whole or not at all; reads take a connection from a small pool, so threads read at once.
Because the key index is ordered, listing a folder, sizing it, removing it and renaming
it are range queries over ``k >= 'a/' AND k < 'a0'`` (every key starting with ``'a/'``:
``'0'`` follows ``'/'``), done inside SQLite.
"""

from __future__ import annotations

import errno
import os
import pickle
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.request import pathname2url

from czarr.errors import ReadOnlyError, StoreWriteError
from czarr.storage.base import (
    Store,
    _check_canonical,
    _check_rename,
    _normalize_path,
    as_buffer,
)

__all__ = ["SQLiteStore"]

_MEMORY = ":memory:"
_CREATE = "CREATE TABLE IF NOT EXISTS zarr(k TEXT PRIMARY KEY, v BLOB)"
_MAX_BATCH = 10_000  # keys per SELECT ... IN (...), below SQLite's variable limit
# SQLite's primary result codes for a full disk and an I/O error, as errnos
_ERRNOS = {13: errno.ENOSPC, 10: errno.EIO}  # SQLITE_FULL, SQLITE_IOERR
_MAX_RANGES = 400  # substr() columns per SELECT (two variables each), below every limit


def _range(path: str) -> tuple[str, str]:
    """``(lo, hi)``: the keys under the folder ``path`` (not the root) are ``lo <= k < hi``."""
    return path + "/", path + "0"


class SQLiteStore(Store):
    """A store in an SQLite database file.

    Parameters
    ----------
    path : str or os.PathLike
        The database file, created when missing (unless ``read_only``); ``':memory:'``
        for a database that lives as long as the store object.
    dimension_separator : {'.', '/'}, optional
        The chunk key separator of arrays created in this store, when they do not give one.
    read_only : bool
        Open the file read-only (an SQLite ``mode=ro`` connection): the file must exist,
        and writes raise :class:`czarr.errors.ReadOnlyError`.
    **kwargs
        Passed on to :func:`sqlite3.connect` for every connection the store opens:
        ``timeout`` (seconds a write waits for another process's write to finish; 30 by
        default here), ``cached_statements``... The store runs its connections in
        autocommit mode, shared between threads, so ``isolation_level`` and
        ``check_same_thread`` are its own.

    Notes
    -----
    The database is switched to WAL journal mode (a ``-wal`` and a ``-shm`` file sit
    beside it while it is open) with ``synchronous=NORMAL``. A store object carried into
    a forked child opens its own connections there. Picklable (path and options), except
    in memory; two stores are equal when they open the same file. Call :meth:`close` when
    done, or use the store as a context manager.

    Guarantees
    ----------
    - Every write call (one key, a ``setitems`` batch, ``delitems``, ``rmdir``,
      ``rename``, ``clear``) is one SQLite transaction: it lands whole or not at all,
      and a reader sees the state before it or after it.
    - After a crash of the writing process (even ``SIGKILL``) every committed write is
      there and an interrupted transaction is not (SQLite rolls it back when the
      database is next opened). A power cut may lose the last committed writes
      (``synchronous=NORMAL``) but never corrupts the file.
    - A write that fails on a full disk (``SQLITE_FULL``) or an I/O error
      (``SQLITE_IOERR``) raises :class:`czarr.errors.StoreWriteError` naming the keys,
      with ``errno`` ``ENOSPC`` or ``EIO``; the transaction is rolled back, so every key
      keeps its old value.
    - Threads and processes may read and write at once: one writer at a time (the
      others wait up to ``timeout``), readers never wait.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        dimension_separator: str | None = None,
        *,
        read_only: bool = False,
        **kwargs: Any,
    ) -> None:
        if dimension_separator not in (None, ".", "/"):
            raise ValueError(
                f"dimension_separator must be '.', '/' or None, not {dimension_separator!r}"
            )
        path = os.fspath(path)
        self._memory = path == _MEMORY
        if self._memory and read_only:
            raise ValueError("an in-memory SQLite database cannot be opened read-only")
        self.path = path if self._memory else os.path.abspath(path)
        self.kwargs = kwargs
        self.read_only = bool(read_only)
        self._dimension_separator = dimension_separator
        self._closed = False
        self._start_connections()
        if self.read_only:
            with self._reader() as conn:
                found = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'zarr'"
                ).fetchall()
            if not found:
                self.close()
                raise ValueError(f"{self.path!r} holds no zarr table: not a SQLiteStore")
        else:
            with self._write_lock:
                conn = self._writer_connection()
                # WAL: readers and the writer do not block each other, across processes
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_CREATE)

    # -- connections ------------------------------------------------------------------

    def _start_connections(self) -> None:
        self._pid = os.getpid()
        self._write_lock = threading.RLock()
        self._pool_lock = threading.Lock()
        self._pool: list[sqlite3.Connection] = []
        self._writer: sqlite3.Connection | None = None

    def _connect(self, read_only: bool) -> sqlite3.Connection:
        options: dict[str, Any] = {"timeout": 30.0, **self.kwargs}
        options.update(isolation_level=None, check_same_thread=False, detect_types=0)
        if read_only and not self._memory:
            options["uri"] = True
            conn = sqlite3.connect("file:" + pathname2url(self.path) + "?mode=ro", **options)
        else:
            options.pop("uri", None)
            conn = sqlite3.connect(self.path, **options)
        conn.text_factory = str
        if read_only:
            conn.execute("PRAGMA query_only=ON")
        else:
            conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _check_process(self) -> None:
        if self._closed:
            raise ValueError(f"SQLiteStore {self.path!r} is closed")
        if self._pid != os.getpid() and not self._memory:
            # forked: the parent's connections (and maybe its held locks) must not be
            # used nor closed here; leave them and open new ones on demand
            self._start_connections()

    def _writer_connection(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer = self._connect(read_only=False)
        return self._writer

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading, to be used by this thread alone until released."""
        self._check_process()
        if self._memory:  # one connection holds the whole database
            with self._write_lock:
                yield self._writer_connection()
            return
        with self._pool_lock:
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            conn = self._connect(read_only=True)
        try:
            yield conn
        finally:
            with self._pool_lock:
                if self._closed or self._pid != os.getpid():
                    conn.close()
                else:
                    self._pool.append(conn)

    def _write(self, work: Callable[[sqlite3.Connection], Any], keys: Any = (),
               action: str = "write") -> Any:
        """Run ``work(connection)`` in one write transaction: all of it lands, or none.
        A full disk or an I/O error is raised as a StoreWriteError naming ``keys``."""
        if self.read_only:
            raise ReadOnlyError(f"SQLiteStore {self.path!r} was opened read-only")
        self._check_process()
        with self._write_lock:
            conn = self._writer_connection()
            try:
                # IMMEDIATE takes the write lock now (waiting up to the timeout), so the
                # transaction never has to upgrade from reading, which SQLite could refuse
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                code = _ERRNOS.get(getattr(exc, "sqlite_errorcode", 0) & 0xFF)
                if code is None:
                    raise
                raise StoreWriteError.from_cause(keys, self, exc, errno=code,
                                                 action=action) from exc
            return result

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection (twice is fine)."""
        if self._closed:
            return
        forked = self._pid != os.getpid()
        with self._write_lock, self._pool_lock:
            self._closed = True
            conns = [*self._pool, *([self._writer] if self._writer is not None else [])]
            self._pool = []
            self._writer = None
        if not forked:
            for conn in conns:
                conn.close()

    def flush(self) -> None:
        """Nothing to do: every write is committed when it returns."""

    def __getstate__(self) -> dict[str, Any]:
        if self._memory:
            raise pickle.PicklingError("an in-memory SQLiteStore cannot be pickled")
        return {
            "path": self.path, "dimension_separator": self._dimension_separator,
            "read_only": self.read_only, "kwargs": self.kwargs,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(
            state["path"], dimension_separator=state["dimension_separator"],
            read_only=state["read_only"], **state["kwargs"],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SQLiteStore):
            return NotImplemented
        if self._memory or other._memory:
            return self is other
        return self.path == other.path

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r}{', read_only=True' if self.read_only else ''})"

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise KeyError(key)
        with self._reader() as conn:
            rows = conn.execute("SELECT v FROM zarr WHERE k = ?", (key,)).fetchall()
        if not rows:
            raise KeyError(key)
        return rows[0][0]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        with self._reader() as conn:
            return bool(conn.execute("SELECT 1 FROM zarr WHERE k = ?", (key,)).fetchall())

    def __setitem__(self, key: str, value: Any) -> None:
        _check_canonical(key)
        buf = as_buffer(value)
        self._write(
            lambda conn: conn.execute("INSERT OR REPLACE INTO zarr(k, v) VALUES (?, ?)",
                                      (key, buf)),
            (key,),
        )

    def __delitem__(self, key: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM zarr WHERE k = ?", (key,)).rowcount < 1:
                raise KeyError(key)

        self._write(work, (key,), action="delete")

    def __iter__(self) -> Iterator[str]:
        with self._reader() as conn:
            keys = [k for (k,) in conn.execute("SELECT k FROM zarr ORDER BY k").fetchall()]
        return iter(keys)

    def __len__(self) -> int:
        with self._reader() as conn:
            return conn.execute("SELECT COUNT(*) FROM zarr").fetchone()[0]

    def clear(self) -> None:
        self._write(lambda conn: conn.execute("DELETE FROM zarr"), action="delete")

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        wanted = [k for k in dict.fromkeys(keys) if isinstance(k, str)]
        out: dict[str, bytes] = {}
        if not wanted:
            return out
        with self._reader() as conn:
            for i in range(0, len(wanted), _MAX_BATCH):
                batch = wanted[i:i + _MAX_BATCH]
                marks = ",".join("?" * len(batch))
                out.update(conn.execute(
                    f"SELECT k, v FROM zarr WHERE k IN ({marks})", batch).fetchall())
        return out

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        rows = []
        for key, value in mapping.items():
            _check_canonical(key)
            rows.append((key, as_buffer(value)))
        if not rows and not self.read_only:
            return
        self._write(
            lambda conn: conn.executemany("INSERT OR REPLACE INTO zarr(k, v) VALUES (?, ?)",
                                          rows),
            [k for k, _ in rows],
        )

    def delitems(self, keys: Iterable[str]) -> None:
        rows = [(k,) for k in keys]
        self._write(lambda conn: conn.executemany("DELETE FROM zarr WHERE k = ?", rows),
                    [k for (k,) in rows], action="delete")

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0 or None, not {length}")
        # SQLite counts from 1, and clips a negative start differently from Python: give
        # it the first byte wanted, clipped to the value
        first = "? + 1" if start >= 0 else "MAX(length(v) + ?, 0) + 1"
        if length is None:
            sql, args = f"SELECT substr(v, {first}) FROM zarr WHERE k = ?", (start, key)
        else:
            sql = f"SELECT substr(v, {first}, ?) FROM zarr WHERE k = ?"
            args = (start, length, key)
        with self._reader() as conn:
            rows = conn.execute(sql, args).fetchall()
        if not rows:
            raise KeyError(key)
        value = rows[0][0]
        return b"" if value is None else value  # substr of an empty blob is NULL

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        """Byte ranges of one value, all read in one transaction (the same version)."""
        ranges = list(ranges)
        out: list[bytes] = []
        with self._reader() as conn:
            conn.execute("BEGIN")  # one snapshot for every SELECT below
            try:
                for i in range(0, max(len(ranges), 1), _MAX_RANGES):
                    part = ranges[i:i + _MAX_RANGES]
                    columns = ", ".join(["substr(v, ? + 1, ?)"] * len(part)) or "1"
                    args = [x for start, length in part for x in (start, length)]
                    rows = conn.execute(f"SELECT {columns} FROM zarr WHERE k = ?",
                                        (*args, key)).fetchall()
                    if not rows:
                        raise KeyError(key)
                    if part:  # substr of an empty blob is NULL
                        out.extend(b"" if v is None else v for v in rows[0])
            finally:
                conn.execute("COMMIT")
        return out

    def listdir(self, path: str = "") -> list[str]:
        path = _normalize_path(path)
        n = len(path) + 1 if path else 0
        # the first segment of each key after the prefix, counted in characters as
        # SQLite's substr and instr count them for TEXT
        name = f"substr(k, {n + 1}, instr(substr(k, {n + 1}) || '/', '/') - 1)"
        with self._reader() as conn:
            if path:
                rows = conn.execute(
                    f"SELECT DISTINCT {name} FROM zarr WHERE k >= ? AND k < ?", _range(path)
                ).fetchall()
            else:
                rows = conn.execute(f"SELECT DISTINCT {name} FROM zarr").fetchall()
        return sorted(r for (r,) in rows)

    def getsize(self, path: str = "") -> int:
        path = _normalize_path(path)
        with self._reader() as conn:
            if not path:
                return conn.execute("SELECT COALESCE(SUM(length(v)), 0) FROM zarr").fetchone()[0]
            rows = conn.execute("SELECT length(v) FROM zarr WHERE k = ?", (path,)).fetchall()
            if rows:
                return rows[0][0] or 0
            return conn.execute(
                "SELECT COALESCE(SUM(length(v)), 0) FROM zarr WHERE k >= ? AND k < ?",
                _range(path),
            ).fetchone()[0]

    def rmdir(self, path: str = "") -> None:
        path = _normalize_path(path)
        if not path:
            self.clear()
            return
        self._write(lambda conn: conn.execute(
            "DELETE FROM zarr WHERE k >= ? AND k < ?", _range(path)), (path,),
            action="delete")

    def rename(self, src: str, dst: str) -> None:
        src = _normalize_path(src)
        dst = _normalize_path(dst)
        _check_rename(src, dst)
        # the key src and the keys under it, each renamed to dst + what follows src
        where = "(k = ? OR (k >= ? AND k < ?))"
        args = (src, *_range(src))
        start = len(src) + 1

        def work(conn: sqlite3.Connection) -> None:
            if not conn.execute(f"SELECT 1 FROM zarr WHERE {where} LIMIT 1", args).fetchall():
                raise KeyError(src)
            # keys already where the moved ones go are replaced: remove them first
            conn.execute(
                f"DELETE FROM zarr WHERE k IN (SELECT ? || substr(k, ?) FROM zarr WHERE {where})",
                (dst, start, *args),
            )
            conn.execute(f"UPDATE zarr SET k = ? || substr(k, ?) WHERE {where}",
                         (dst, start, *args))

        self._write(work, (src, dst), action="rename")
