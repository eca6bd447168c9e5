"""Run-time settings: how many threads the chunk engine uses, and the decoded-chunk cache.

``threads`` defaults to the number of cores (``os.cpu_count()``), or to the
``CZARR_NUM_THREADS`` environment variable when it is set. ``czarr.config.set(threads=N)``
changes it for the process, or for a ``with`` block when used as a context manager.
``threads=1`` runs every chunk inline in the calling thread, with no pool at all.

``chunk_cache`` sizes the process-wide decoded-chunk cache (:mod:`czarr.chunk_cache`):
``czarr.config.set(chunk_cache="256MiB")`` (or a number of bytes) turns it on, 0 or None
turns it off, which is the default unless the ``CZARR_CHUNK_CACHE`` environment variable
(read at import) gives a size. Reads of a small part of a chunk (points, small regions)
then keep the decoded chunk, so the next read of it skips the store and the decoder.
Writes through czarr drop the chunks they change; **writes by other processes (or
straight into a store's mapping) are not seen while a chunk is cached**, as with
tensorstore's cache pool.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["get", "set", "get_threads", "get_chunk_cache", "executor"]

_settings: dict[str, Any] = {}
_UNSET: Any = object()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


_CPUS = os.cpu_count() or 1  # read once: the call reads sysfs (~15 µs), on every read else


def _default_threads() -> int:
    env = os.environ.get("CZARR_NUM_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"CZARR_NUM_THREADS must be a positive integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"CZARR_NUM_THREADS must be a positive integer, got {env!r}")
        return n
    return _CPUS


def get_threads() -> int:
    """Number of threads the chunk engine spreads chunks over."""
    n = _settings.get("threads")
    return _default_threads() if n is None else n


def _default_chunk_cache() -> int:
    from czarr.chunk_cache import parse_size

    return parse_size(os.environ.get("CZARR_CHUNK_CACHE") or 0, "CZARR_CHUNK_CACHE")


def get_chunk_cache() -> int:
    """Bytes of the process-wide decoded-chunk cache (0: off)."""
    n = _settings.get("chunk_cache")
    return _default_chunk_cache() if n is None else n


def get() -> dict[str, Any]:
    """The current settings: ``threads`` and ``chunk_cache`` (bytes, 0 when off)."""
    return {"threads": get_threads(), "chunk_cache": get_chunk_cache()}


class set:  # noqa: N801 - mirrors dask.config.set
    """Change settings for the process, or for a ``with`` block.

    Parameters
    ----------
    threads : int, optional
        Threads for reading and writing chunks (``None`` restores the default).
    chunk_cache : str, int or None, optional
        Size of the process-wide decoded-chunk cache: ``'256MiB'``, a number of bytes,
        or 0/None for off. Writes by other processes are not seen while a chunk is
        cached (see :mod:`czarr.chunk_cache`).

    Settings not given are left as they are.
    """

    def __init__(self, threads: int | None = _UNSET, chunk_cache: Any = _UNSET) -> None:
        from czarr.chunk_cache import parse_size

        new: dict[str, Any] = {}
        if threads is not _UNSET:
            if threads is not None and (not isinstance(threads, int) or threads < 1):
                raise ValueError(
                    f"threads must be a positive integer or None, got {threads!r}")
            new["threads"] = threads
        if chunk_cache is not _UNSET:
            new["chunk_cache"] = parse_size(chunk_cache)
        self._old = dict(_settings)
        _settings.update(new)
        if "chunk_cache" in new:
            _apply_chunk_cache()

    def __enter__(self) -> set:
        return self

    def __exit__(self, *exc: Any) -> None:
        changed = _settings.get("chunk_cache") != self._old.get("chunk_cache")
        _settings.clear()
        _settings.update(self._old)
        if changed:
            _apply_chunk_cache()


def _apply_chunk_cache() -> None:
    from czarr import chunk_cache

    chunk_cache.configure(get_chunk_cache())


def _forget_pool() -> None:
    # a forked child inherits the pool object but not its threads
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def executor(n: int) -> ThreadPoolExecutor:
    """A process-wide pool of at least ``n`` threads (made on first use)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n:
            old = _pool
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="czarr")
            _pool_size = n
            if old is not None:
                old.shutdown(wait=False)
        return _pool
