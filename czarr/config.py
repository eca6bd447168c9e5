"""Run-time settings: how many threads the chunk engine uses.

``threads`` defaults to the number of cores (``os.cpu_count()``), or to the
``CZARR_NUM_THREADS`` environment variable when it is set. ``czarr.config.set(threads=N)``
changes it for the process, or for a ``with`` block when used as a context manager.
``threads=1`` runs every chunk inline in the calling thread, with no pool at all.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["get", "set", "get_threads", "executor"]

_settings: dict[str, Any] = {}
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


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
    return os.cpu_count() or 1


def get_threads() -> int:
    """Number of threads the chunk engine spreads chunks over."""
    n = _settings.get("threads")
    return _default_threads() if n is None else n


def get() -> dict[str, Any]:
    """The current settings."""
    return {"threads": get_threads()}


class set:  # noqa: N801 - mirrors dask.config.set
    """Change settings for the process, or for a ``with`` block.

    Parameters
    ----------
    threads : int, optional
        Threads for reading and writing chunks (``None`` restores the default).
    """

    def __init__(self, threads: int | None = None) -> None:
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
        self._old = dict(_settings)
        _settings["threads"] = threads

    def __enter__(self) -> set:
        return self

    def __exit__(self, *exc: Any) -> None:
        _settings.clear()
        _settings.update(self._old)


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
