"""LMDBStore: a store in an LMDB database (the ``lmdb`` package, ``pip install 'czarr[lmdb]'``).

LMDB keeps its keys sorted in a memory-mapped B+tree, with one writer and any number of
readers at once, across threads and processes, each reader seeing a consistent snapshot.
Keys are stored as their UTF-8 bytes and values as bytes in the main database, as
zarr-python 2's LMDBStore keeps them, so either library reads the other's databases.
Every write is one transaction (a batch lands whole or not at all); reads of many keys
share one read transaction. The sorted keys make listing, sizing, removing and renaming a
folder a cursor walk over just that folder's keys. When the memory map is full, the store
doubles it and writes again. LMDB allows one open environment per file and process, so
every store over the same path in a process shares one, closed when the last store closes.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from czarr.errors import BadKeyError, ReadOnlyError, StoreWriteError
from czarr.storage.base import (
    Store,
    _check_canonical,
    _check_rename,
    _normalize_path,
    _prefix,
    _slice_range,
    as_buffer,
    import_optional,
)

__all__ = ["LMDBStore"]


def _import_lmdb() -> Any:
    return import_optional("lmdb", "lmdb", "LMDBStore")


class _Env:
    """One LMDB environment open in this process, shared by the stores over its path.

    Besides the environment it holds a gate that transactions pass through. Some steps
    need the readers of this process out of the way: LMDB may resize the map only while
    no transaction of this process runs, and py-lmdb aborts a transaction under a lock
    that busy reader threads can keep from it indefinitely. For those steps (rare: a full
    map, a failed write) the gate closes, new transactions wait, and the step runs once
    the running ones are done. Such steps run under the write lock, one at a time.
    """

    def __init__(self, lmdb: Any, path: str, kwargs: dict[str, Any]) -> None:
        self.lmdb = lmdb
        self.env = lmdb.open(path, **kwargs)
        self.path = path
        self.pid = os.getpid()
        self.readonly = bool(kwargs.get("readonly", False))
        self.users = 0
        self.write_lock = threading.RLock()
        self._cond = threading.Condition()
        self._active = 0
        self._gate_closed = False

    def _enter(self) -> None:
        with self._cond:
            while self._gate_closed:
                self._cond.wait()
            self._active += 1

    def _leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    def _alone(self, step: Callable[[], Any], own: int) -> Any:
        """Run ``step()`` once no transaction of this process runs but the caller's
        ``own`` (0 or 1); the caller holds the write lock."""
        with self._cond:
            self._gate_closed = True
            try:
                while self._active > own:
                    self._cond.wait()
                return step()
            finally:
                self._gate_closed = False
                self._cond.notify_all()

    def resize(self, size: int) -> None:
        """Set the map size (0: adopt the size another process grew it to)."""
        with self.write_lock:
            self._alone(lambda: self.env.set_mapsize(size), own=0)

    @contextmanager
    def txn(self, write: bool = False, buffers: bool = False) -> Iterator[Any]:
        """A transaction, committed on leaving, aborted on an exception. Write
        transactions are only begun under the write lock."""
        while True:
            self._enter()
            try:
                txn = self.env.begin(write=write, buffers=buffers)
            except self.lmdb.MapResizedError:
                self._leave()
                self.resize(0)
                continue
            except BaseException:
                self._leave()
                raise
            break
        try:
            try:
                yield txn
            except BaseException:
                if write:
                    self._alone(txn.abort, own=1)
                else:
                    txn.abort()
                raise
            txn.commit()
        finally:
            self._leave()

    def write(self, work: Callable[[Any], Any]) -> Any:
        """``work(txn)`` in one write transaction; when the map is full, the map doubles
        and ``work`` runs again in a new transaction (the failed one left nothing)."""
        with self.write_lock:
            while True:
                try:
                    with self.txn(write=True) as txn:
                        return work(txn)
                except self.lmdb.MapFullError:
                    self.resize(self.env.info()["map_size"] * 2)


_OPEN: dict[tuple[int, str], _Env] = {}
_OPEN_LOCK = threading.Lock()


def _acquire(lmdb: Any, path: str, kwargs: dict[str, Any]) -> _Env:
    key = (os.getpid(), path)
    with _OPEN_LOCK:
        shared = _OPEN.get(key)
        if shared is None:
            shared = _OPEN[key] = _Env(lmdb, path, kwargs)
        elif shared.readonly and not kwargs.get("readonly", False):
            raise ValueError(
                f"the LMDB database {path!r} is open read-only in this process; close "
                "those stores before opening it for writing (LMDB opens a file once per "
                "process)"
            )
        shared.users += 1
        return shared


def _drop_inherited(shared: _Env) -> None:
    """In a forked child: let go of the environment the parent opened.

    py-lmdb refuses to open a file whose environment is open in the process, and a child
    inherits the parent's. Closing the child's copy is what LMDB allows: it clears only
    this process's reader slots, and the parent's file locks are not inherited. (It
    would also release the slots of the parent's cached read transactions, were there
    any: hence ``max_spare_txns=0``. A parent thread reading at the moment of the fork
    is the case this cannot cover.)
    """
    with _OPEN_LOCK:
        if _OPEN.get((shared.pid, shared.path)) is shared:
            del _OPEN[(shared.pid, shared.path)]
            shared.env.close()


def _disk_full(path: str) -> bool:
    """Whether the filesystem holding ``path`` has no free block left."""
    try:
        return os.statvfs(path).f_bavail == 0
    except (AttributeError, OSError):  # no statvfs (Windows), or the path is gone
        return False


def _release(shared: _Env) -> None:
    with _OPEN_LOCK:
        shared.users -= 1
        if shared.users == 0:
            _OPEN.pop((shared.pid, shared.path), None)
            shared.env.close()


class LMDBStore(Store):
    """A store in an LMDB database.

    Parameters
    ----------
    path : str or os.PathLike
        The database folder (``data.mdb`` and ``lock.mdb`` inside; a file with
        ``subdir=False``).
    buffers : bool
        Read values through LMDB's buffers (default): sizes, membership tests and byte
        ranges are then taken straight from the memory map, and whole values copied from
        it once. With False, LMDB copies every value it reads. Either way values come
        back as ``bytes``: see the notes.
    dimension_separator : {'.', '/'}, optional
        The chunk key separator of arrays created in this store, when they do not give one.
    **kwargs
        Passed on to :func:`lmdb.open`, with zarr-python 2's defaults but two:
        ``map_size`` 1 TiB (256 MiB on 32-bit systems; it grows when full),
        ``meminit=False``, ``metasync=False``, ``sync=False``, ``map_async=False``;
        and ``writemap=False`` where zarr-python 2 sets it on Linux: with ``writemap``
        LMDB writes through a shared memory map, so a full disk kills the process with
        ``SIGBUS`` instead of raising an error, and with ``sync=False`` a system crash
        may corrupt the database (the file format is the same either way);
        ``max_spare_txns=0`` (py-lmdb's own default) where zarr-python 2 caches one
        read transaction per CPU: a cached transaction keeps its reader slot in the
        shared lock table, and a forked child that opens the database releases the
        parent's cached slots (``MDB_BAD_RSLOT`` on the parent's next read).
        ``readonly=True`` opens read-only: writes raise
        :class:`czarr.errors.ReadOnlyError`.

    Notes
    -----
    Values are returned as ``bytes``, copied inside the read transaction. LMDB's buffers
    point into the memory map and are only valid until their transaction ends (after
    that, the pages can be reused by a later write, or unmapped when the map grows), so
    handing one out, as zarr-python 2 does, would let a caller read freed memory. Since
    a chunk is decoded after the read returns, there is no safe zero-copy path; the one
    copy made is the same one LMDB makes for ``buffers=False``.

    With ``sync=False`` (the default) writes reach the disk when :meth:`flush` or
    :meth:`close` is called, or when the operating system writes the pages. Keys are at
    most 511 bytes (LMDB's limit); longer ones raise :class:`czarr.errors.BadKeyError`.
    Picklable (path and options, flushed first); a store carried into a forked child
    drops the inherited environment and opens its own there. Equal when the paths are.

    Guarantees
    ----------
    - Every write call (one key, a ``setitems`` batch, ``delitems``, ``rmdir``,
      ``rename``, ``clear``) is one LMDB write transaction: it lands whole or not at
      all, and a reader sees the state before it or after it (LMDB never overwrites a
      live page; a commit switches to the new tree in one meta-page write).
    - After a crash of the writing process (even ``SIGKILL``) every committed write is
      there and an interrupted transaction is not; the dead writer's lock and reader
      slots are recovered by the next process. A power cut may lose the last commits
      (``sync=False``) but, with ``writemap=False``, not the database.
    - A write that fails on a full disk raises :class:`czarr.errors.StoreWriteError`
      naming the keys (``errno`` ``ENOSPC``, also when LMDB says ``EIO`` for the short
      write a full disk makes; ``EIO`` for an I/O error); the transaction is aborted,
      so every key keeps its old value. A full memory map is not an error:
      it doubles and the write runs again.
    - Threads and processes may read and write at once: one writer at a time, readers
      never wait.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        buffers: bool = True,
        dimension_separator: str | None = None,
        **kwargs: Any,
    ) -> None:
        lmdb = _import_lmdb()
        if dimension_separator not in (None, ".", "/"):
            raise ValueError(
                f"dimension_separator must be '.', '/' or None, not {dimension_separator!r}"
            )
        kwargs.setdefault("map_size", 2**40 if sys.maxsize >= 2**32 else 2**28)
        kwargs.setdefault("meminit", False)
        # not zarr-python 2's writemap: it turns a full disk into SIGBUS (see above)
        kwargs.setdefault("writemap", False)
        kwargs.setdefault("metasync", False)
        kwargs.setdefault("sync", False)
        kwargs.setdefault("map_async", False)
        # not zarr-python 2's cpu_count(): cached reader slots do not survive a fork
        kwargs.setdefault("max_spare_txns", 0)
        self.path = os.path.abspath(os.fspath(path))
        self.buffers = bool(buffers)
        self.kwargs = kwargs
        self.read_only = bool(kwargs.get("readonly", False))
        self._dimension_separator = dimension_separator
        self._lmdb = lmdb
        self._shared: _Env | None = _acquire(lmdb, self.path, kwargs)
        self._max_key = self._shared.env.max_key_size()

    # -- the environment --------------------------------------------------------------

    @property
    def _env(self) -> _Env:
        shared = self._shared
        if shared is None:
            raise ValueError(f"LMDBStore {self.path!r} is closed")
        if shared.pid != os.getpid():
            # forked: the parent's environment must not be used here
            _drop_inherited(shared)
            shared = self._shared = _acquire(self._lmdb, self.path, self.kwargs)
        return shared

    @property
    def db(self) -> Any:
        """The ``lmdb.Environment`` (as zarr-python 2's ``LMDBStore.db``)."""
        return self._env.env

    def _key(self, key: str) -> bytes:
        _check_canonical(key)
        k = key.encode("utf-8")
        if len(k) > self._max_key:
            raise BadKeyError(
                f"invalid store key {key!r}: {len(k)} bytes, LMDB keys are at most "
                f"{self._max_key} bytes"
            )
        return k

    def _write(self, work: Callable[[Any], Any], keys: Any = (), action: str = "write") -> Any:
        """``work(txn)`` in one write transaction; a full disk or an I/O error is raised
        as a StoreWriteError naming ``keys``."""
        if self.read_only:
            raise ReadOnlyError(f"LMDBStore {self.path!r} was opened read-only")
        lmdb = self._lmdb
        try:
            return self._env.write(work)
        except lmdb.Error as exc:
            if isinstance(exc, lmdb.DiskError):  # LMDB's name for ENOSPC
                code = errno.ENOSPC
            elif os.strerror(errno.EIO) in str(exc):
                # LMDB reports a short write as EIO, and a full disk makes short writes
                code = errno.ENOSPC if _disk_full(self.path) else errno.EIO
            else:
                raise
            raise StoreWriteError.from_cause(keys, self, exc, errno=code, action=action) from exc

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Write everything to disk and close the environment, once no other store of
        this process uses it (twice is fine)."""
        shared, self._shared = self._shared, None
        if shared is None:
            return
        if shared.pid != os.getpid():
            _drop_inherited(shared)  # the parent's, inherited by fork
            return
        if not self.read_only:
            shared.env.sync(True)
        _release(shared)

    def flush(self) -> None:
        """Write everything so far to disk (``sync=False`` leaves that to the system)."""
        if not self.read_only:
            self._env.env.sync(True)

    def __getstate__(self) -> dict[str, Any]:
        if self._shared is not None:
            self.flush()
        return {
            "path": self.path, "buffers": self.buffers,
            "dimension_separator": self._dimension_separator, "kwargs": self.kwargs,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(
            state["path"], buffers=state["buffers"],
            dimension_separator=state["dimension_separator"], **state["kwargs"],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LMDBStore):
            return NotImplemented
        return self.path == other.path

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"LMDBStore({self.path!r}{', readonly=True' if self.read_only else ''})"

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise KeyError(key)
        with self._env.txn(buffers=self.buffers) as txn:
            value = txn.get(key.encode("utf-8"))
            # a buffer is only valid inside its transaction: copy it out now
            value = None if value is None else bytes(value)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        with self._env.txn(buffers=True) as txn:
            return txn.get(key.encode("utf-8")) is not None

    def __setitem__(self, key: str, value: Any) -> None:
        k = self._key(key)
        buf = as_buffer(value)
        self._write(lambda txn: txn.put(k, buf), (key,))

    def __delitem__(self, key: str) -> None:
        if not isinstance(key, str):
            raise KeyError(key)
        k = key.encode("utf-8")

        # errors are raised once the transaction is over: nothing to undo
        if not self._write(lambda txn: txn.delete(k), (key,), action="delete"):
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        with self._env.txn() as txn, txn.cursor() as cursor:
            keys = [k.decode("utf-8") for k in cursor.iternext(keys=True, values=False)]
        return iter(keys)

    def __len__(self) -> int:
        with self._env.txn() as txn:
            return txn.stat(self._env.env.open_db(txn=txn))["entries"]

    def clear(self) -> None:
        self._write(lambda txn: txn.drop(self._env.env.open_db(txn=txn), delete=False),
                    action="delete")

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        out = {}
        with self._env.txn(buffers=self.buffers) as txn:
            get = txn.get
            for key in keys:
                if isinstance(key, str):
                    value = get(key.encode("utf-8"))
                    if value is not None:
                        out[key] = bytes(value)
        return out

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        if self.read_only:
            raise ReadOnlyError(f"LMDBStore {self.path!r} was opened read-only")
        items = [(self._key(key), as_buffer(value)) for key, value in mapping.items()]
        if not items:
            return

        def work(txn: Any) -> None:
            put = txn.put
            for k, v in items:
                put(k, v)

        self._write(work, list(mapping))

    def delitems(self, keys: Iterable[str]) -> None:
        ks = [key.encode("utf-8") for key in keys if isinstance(key, str)]

        def work(txn: Any) -> None:
            for k in ks:
                txn.delete(k)

        self._write(work, [k.decode("utf-8") for k in ks], action="delete")

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0 or None, not {length}")
        with self._env.txn(buffers=self.buffers) as txn:
            value = txn.get(key.encode("utf-8")) if isinstance(key, str) else None
            if value is not None:
                offset, count = _slice_range(len(value), start, length)
                # with buffers, only the bytes asked for are copied out of the map
                value = bytes(memoryview(value)[offset:offset + count])
        if value is None:
            raise KeyError(key)
        return value

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        """Byte ranges of one value, all read in one transaction (the same version)."""
        with self._env.txn(buffers=self.buffers) as txn:
            value = txn.get(key.encode("utf-8")) if isinstance(key, str) else None
            if value is None:
                raise KeyError(key)
            view = memoryview(value)
            out = []
            for start, length in ranges:
                offset, count = _slice_range(len(view), start, length)
                out.append(bytes(view[offset:offset + count]))
        return out

    def listdir(self, path: str = "") -> list[str]:
        prefix = _prefix(_normalize_path(path)).encode("utf-8")
        n = len(prefix)
        names = set()
        with self._env.txn() as txn, txn.cursor() as cursor:
            found = cursor.set_range(prefix)
            while found:
                k = cursor.key()
                if not k.startswith(prefix):
                    break
                slash = k.find(b"/", n)
                if slash < 0:
                    names.add(k[n:])
                    found = cursor.next()
                else:
                    # a folder: skip every key under it ('0' sorts right after '/')
                    names.add(k[n:slash])
                    found = cursor.set_range(k[:slash] + b"0")
        return sorted(name.decode("utf-8") for name in names)

    def getsize(self, path: str = "") -> int:
        path = _normalize_path(path)
        prefix = _prefix(path).encode("utf-8")
        with self._env.txn(buffers=True) as txn:
            if path:
                value = txn.get(path.encode("utf-8"))
                if value is not None:
                    return len(value)
            size = 0
            with txn.cursor() as cursor:
                found = cursor.set_range(prefix)
                while found:
                    if not bytes(cursor.key()).startswith(prefix):
                        break
                    size += len(cursor.value())
                    found = cursor.next()
            return size

    def rmdir(self, path: str = "") -> None:
        path = _normalize_path(path)
        if not path:
            self.clear()
            return
        prefix = _prefix(path).encode("utf-8")

        def work(txn: Any) -> None:
            with txn.cursor() as cursor:
                found = cursor.set_range(prefix)
                while found and cursor.key().startswith(prefix):
                    found = cursor.delete()

        self._write(work, (path,), action="delete")

    def rename(self, src: str, dst: str) -> None:
        src = _normalize_path(src)
        dst = _normalize_path(dst)
        _check_rename(src, dst)
        source = src.encode("utf-8")
        prefix = source + b"/"
        target = self._key(dst)

        def work(txn: Any) -> bool:
            moves = []
            value = txn.get(source)
            if value is not None:
                moves.append((source, value))
            with txn.cursor() as cursor:
                found = cursor.set_range(prefix)
                while found:
                    k = cursor.key()
                    if not k.startswith(prefix):
                        break
                    moves.append((k, cursor.value()))
                    found = cursor.next()
            if not moves:
                return False
            for k, _ in moves:
                txn.delete(k)
            for k, v in moves:
                new = target + k[len(source):]
                if len(new) > self._max_key:
                    raise BadKeyError(
                        f"cannot rename {src!r} to {dst!r}: {new.decode('utf-8')!r} is longer "
                        f"than LMDB's {self._max_key}-byte key limit"
                    )
                txn.put(new, v)
            return True

        if not self._write(work, (src, dst), action="rename"):
            raise KeyError(src)
