"""Synchronizers: locks that let several threads or processes write one array safely.

A write of part of a chunk reads the chunk, changes it and stores it again; two writers
doing that at once to the same chunk lose one another's change even when the regions
they write are disjoint. An array given ``synchronizer=`` holds the chunk's lock from
that read to that store (whole-chunk writes read nothing and take no lock), and attribute
updates hold the attributes' lock. :class:`ThreadSynchronizer` serves the threads of one
process; :class:`ProcessSynchronizer` serves processes that share a filesystem, with one
lock file per key under its folder (the ``fasteners`` package: ``fcntl``/``lockf`` on
POSIX, ``msvcrt`` on Windows, maintained, and the choice of zarr-python 2), plus a thread
lock per key, because POSIX record locks do not exclude threads of the same process.
The names and signatures are zarr-python 2's. :func:`renew_after_fork` gives objects
whose locks the engine's threads take (these synchronizers, shards, in-memory stores,
caches) new locks in a forked child.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import Any

__all__ = ["Synchronizer", "ThreadSynchronizer", "ProcessSynchronizer", "renew_after_fork"]

# id(obj) -> (weak reference to obj, what renews its locks)
_RENEW_AFTER_FORK: dict[int, tuple[weakref.ref, Callable[[Any], None]]] = {}


def renew_after_fork(obj: Any, renew: Callable[[Any], None]) -> None:
    """Call ``renew(obj)`` in each child process forked while ``obj`` is alive.

    A lock that one of the parent's threads (a chunk engine thread, say) held at the
    moment of the fork stays held in the child, where that thread does not exist, so the
    child's first use of it would wait forever. ``renew`` replaces such locks (and
    forgets state that only the parent's threads could finish).

    Parameters
    ----------
    obj : object
        Any object that can be weakly referenced; forgotten when it is collected.
    renew : callable
        Called with ``obj`` in the child, before any other code of the child runs.
    """
    key = id(obj)
    ref = weakref.ref(obj, lambda _, key=key: _RENEW_AFTER_FORK.pop(key, None))
    _RENEW_AFTER_FORK[key] = (ref, renew)


def _renew_all() -> None:
    for ref, renew in list(_RENEW_AFTER_FORK.values()):
        obj = ref()
        if obj is not None:
            renew(obj)


os.register_at_fork(after_in_child=_renew_all)


class Synchronizer:
    """The protocol: ``synchronizer[key]`` is a context manager (a lock) for that key."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """(zarr-python 2's protocol class takes any arguments.)"""

    def __getitem__(self, item: str) -> Any:  # pragma: no cover - the protocol
        raise NotImplementedError


class ThreadSynchronizer(Synchronizer):
    """One ``threading.Lock`` per key, for threads of one process. Pickles (as an empty,
    new synchronizer), like zarr-python 2's."""

    def __init__(self) -> None:
        self._new_locks()
        renew_after_fork(self, ThreadSynchronizer._new_locks)

    def _new_locks(self) -> None:
        self.mutex = threading.Lock()
        self.locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def __getitem__(self, item: str) -> threading.Lock:
        with self.mutex:
            return self.locks[item]

    def __getstate__(self) -> bool:
        return True

    def __setstate__(self, *args: Any) -> None:
        self.__init__()


class _KeyLock:
    """The thread lock, then the file lock, of one key."""

    def __init__(self, thread_lock: threading.Lock, file_lock: Any) -> None:
        self._thread_lock = thread_lock
        self._file_lock = file_lock

    def __enter__(self) -> _KeyLock:
        self._thread_lock.acquire()
        try:
            self._file_lock.acquire()
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._file_lock.release()
        finally:
            self._thread_lock.release()

    acquire = __enter__

    def release(self) -> None:
        self.__exit__()


class ProcessSynchronizer(Synchronizer):
    """One lock file per key under ``path`` (a folder on a filesystem every process
    sees; not inside the array's store), for processes and threads alike.

    Parameters
    ----------
    path : str
        The folder of the lock files (created on first use).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        from czarr.storage.base import import_optional

        self._fasteners = import_optional("fasteners", "dask", "ProcessSynchronizer")
        self.path = os.fspath(path)
        self._threads = ThreadSynchronizer()

    def __getitem__(self, item: str) -> _KeyLock:
        lock_path = os.path.join(self.path, *item.split("/"))
        return _KeyLock(self._threads[item], self._fasteners.InterProcessLock(lock_path))

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])

    def __repr__(self) -> str:
        return f"ProcessSynchronizer({self.path!r})"
