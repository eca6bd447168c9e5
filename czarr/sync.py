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
The names and signatures are zarr-python 2's.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Any

__all__ = ["Synchronizer", "ThreadSynchronizer", "ProcessSynchronizer"]


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
