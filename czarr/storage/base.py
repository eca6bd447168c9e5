"""The store contract, and the functions the rest of czarr calls on any store.

A store is any ``MutableMapping[str, bytes]``: keys are '/'-separated strings such as
``'foo/bar/.zarray'`` or ``'foo/bar/0.0'``, values are bytes. A store knows bytes, never
the Zarr format. Stores may offer faster versions of a few bulk operations (read many
keys at once, list a folder, remove a subtree...); the module-level functions here call
a store's own method when it has one and otherwise fall back to a generic version built
on the mapping interface, so every function works on a plain ``dict`` too. :class:`Store`
is an optional base class that documents those methods and provides the generic versions,
so a new store (a cloud bucket, an embedded database, Redis) only overrides what its
backend does better. :func:`normalize_store_arg` turns what a user passes as ``store=``
into a store.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from czarr.errors import BadKeyError, MissingDependencyError, StoreWriteError

__all__ = [
    "Store",
    "as_buffer",
    "close",
    "delitems",
    "get_partial",
    "get_ranges",
    "getitems",
    "getsize",
    "import_optional",
    "listdir",
    "naming_keys",
    "normalize_key",
    "normalize_store_arg",
    "rename",
    "rmdir",
    "setitems",
]

_BAD_SEGMENTS = frozenset(("", ".", ".."))

# Told of every write made through setitems, delitems, rmdir and rename below, as
# (store, keys, prefix): czarr.chunk_cache sets it once a cache exists, to drop the
# decoded chunks a write made stale. While None it costs one test per call.
_on_change: Callable[[MutableMapping, Iterable[str] | None, str | None], None] | None = None


# ---------------------------------------------------------------------------------------
# optional dependencies
# ---------------------------------------------------------------------------------------


def import_optional(module: str, extra: str, feature: str) -> Any:
    """Import ``module`` for an optional feature, or explain which extra provides it.

    Parameters
    ----------
    module : str
        The module to import (``'lmdb'``, ``'redis'``, ``'s3fs'``...).
    extra : str
        The czarr extra that installs it (``pip install 'czarr[extra]'``).
    feature : str
        What needs it, for the message (``'LMDBStore'``).

    Returns
    -------
    module

    Raises
    ------
    MissingDependencyError
        An ``ImportError`` naming the package, the feature and the extra.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(
            f"{feature} needs the {module.split('.')[0]!r} package, which is not installed: "
            f"pip install 'czarr[{extra}]' ({e})"
        ) from e


# ---------------------------------------------------------------------------------------
# write errors that name their keys
# ---------------------------------------------------------------------------------------


@contextmanager
def naming_keys(keys: Iterable[str] | str, store: Any, action: str = "write"
                ) -> Iterator[None]:
    """Re-raise a plain ``OSError`` (disk full, I/O error: the kinds without a more
    precise Python type) from the block as a :class:`czarr.errors.StoreWriteError` that
    names ``keys`` (read only when an error happens) and keeps the errno. Other errors,
    ``PermissionError``, ``FileNotFoundError`` and czarr's own among them, pass through."""
    try:
        yield
    except OSError as exc:
        if type(exc) is not OSError:
            raise
        raise StoreWriteError.from_cause(keys, store, exc, action=action) from exc


# ---------------------------------------------------------------------------------------
# keys, paths and values
# ---------------------------------------------------------------------------------------


def normalize_key(key: str) -> str:
    """The canonical form of a store key.

    Backslashes become slashes, leading and trailing slashes are stripped and repeated
    ones collapsed. A key must name something: empty keys, ``'.'``/``'..'`` segments and
    NUL characters (which no filesystem accepts in a name) are refused.

    Parameters
    ----------
    key : str

    Returns
    -------
    str
        ``key`` itself when it is already canonical (the common case, checked cheaply).

    Raises
    ------
    BadKeyError
        The key is empty (or only slashes), has a ``'.'`` or ``'..'`` segment or a NUL.
    TypeError
        The key is not a ``str``.
    """
    if not isinstance(key, str):
        raise TypeError(f"store keys are str, not {type(key).__name__}")
    if _is_canonical(key):
        return key
    return _normalize(key, allow_empty=False)


def _is_canonical(key: str) -> bool:
    """Whether ``normalize_key(key) == key``, cheaply (no split, no allocation per segment)."""
    if "/" not in key:
        return key not in _BAD_SEGMENTS and "\\" not in key and "\0" not in key
    framed = "/" + key + "/"
    return not ("//" in framed or "/./" in framed or "/../" in framed or "\\" in key
                or "\0" in key)


def _check_canonical(key: str) -> None:
    """Raise unless ``key`` is canonical: TypeError for non-str, BadKeyError otherwise."""
    if type(key) is str and _is_canonical(key):
        return
    canonical = normalize_key(key)  # raises for keys without a canonical form
    raise BadKeyError(f"invalid store key {key!r}: use its canonical form {canonical!r}")


def _normalize_path(path: str | None) -> str:
    """Like :func:`normalize_key`, but ``''`` and None are the store's root."""
    if path is None:
        return ""
    if not isinstance(path, str):
        raise TypeError(f"store paths are str, not {type(path).__name__}")
    if not path:
        return ""
    return _normalize(path, allow_empty=True)


def _normalize(key: str, allow_empty: bool) -> str:
    if "\0" in key:
        raise BadKeyError(f"invalid store key {key!r}: NUL characters are not allowed")
    segments = [s for s in key.replace("\\", "/").split("/") if s]
    if not segments and not allow_empty:
        raise BadKeyError(f"invalid store key {key!r}: a key must name something")
    for segment in segments:
        if segment == "." or segment == "..":
            raise BadKeyError(
                f"invalid store key {key!r}: '.' and '..' segments are not allowed"
            )
    return "/".join(segments)


def _check_separator(separator: Any) -> str | None:
    """A store's ``dimension_separator`` argument: None, ``'.'`` or ``'/'``."""
    if separator not in (None, ".", "/"):
        raise ValueError(f"dimension_separator must be '.', '/' or None, got {separator!r}")
    return separator


def _prefix(path: str) -> str:
    """The key prefix of everything under a (normalized) path: ``''`` or ``'path/'``."""
    return path + "/" if path else ""


def as_buffer(value: Any) -> bytes | memoryview:
    """A store value as flat bytes, without copying when it can be avoided.

    Parameters
    ----------
    value : bytes-like
        ``bytes`` (returned as is), or any object exporting a contiguous buffer
        (``bytearray``, ``memoryview``, ``numpy.ndarray``...). A C-contiguous buffer is
        returned as a flat unsigned-byte ``memoryview`` over the same memory; a
        Fortran-contiguous one is copied to bytes in its memory order (as numcodecs'
        ``ensure_contiguous_ndarray`` reads it).

    Returns
    -------
    bytes or memoryview

    Raises
    ------
    TypeError
        ``value`` is not bytes-like (``str``, ``int``, object arrays...).
    ValueError
        ``value`` is a buffer but not contiguous.
    """
    if type(value) is bytes:
        return value
    try:
        view = memoryview(value)
    except (TypeError, ValueError):
        return _ndarray_buffer(value)
    if view.format == "O":
        raise TypeError("store values must be bytes-like; got an array of Python objects")
    if view.c_contiguous:
        if view.ndim == 1 and view.format == "B":
            return view
        return view.cast("B")
    if view.f_contiguous:
        return view.tobytes(order="F")
    raise ValueError(
        "store values must be contiguous buffers; got a non-contiguous "
        f"{type(value).__name__} (make a contiguous copy first)"
    )


def _ndarray_buffer(value: Any) -> memoryview:
    # numpy refuses to export some dtypes (datetime64, timedelta64) through the buffer
    # protocol; their bytes are still plain bytes, so view them as uint8.
    import numpy as np

    if isinstance(value, np.ndarray) and value.dtype != object:
        if value.flags.c_contiguous or value.flags.f_contiguous:
            return memoryview(value.ravel(order="K").view(np.uint8))
        raise ValueError(
            "store values must be contiguous buffers; got a non-contiguous ndarray "
            "(make a contiguous copy first)"
        )
    raise TypeError(
        "store values must be bytes-like (bytes, bytearray, memoryview, contiguous "
        f"ndarray), not {type(value).__name__}"
    )


def _nbytes(value: Any) -> int:
    """Size in bytes of a stored value; -1 when it is not a buffer."""
    if type(value) is bytes:
        return len(value)
    try:
        return memoryview(value).nbytes
    except (TypeError, ValueError):
        # e.g. datetime64 arrays, which numpy does not export as buffers
        nbytes = getattr(value, "nbytes", -1)
        return nbytes if isinstance(nbytes, int) else -1


def _check_rename(src: str, dst: str) -> None:
    if not src or not dst:
        raise ValueError(f"cannot rename the store root (src={src!r}, dst={dst!r})")
    if dst == src or dst.startswith(src + "/") or src.startswith(dst + "/"):
        raise ValueError(f"cannot rename {src!r} to {dst!r}: one contains the other")


def _slice_range(size: int, start: int, length: int | None) -> tuple[int, int]:
    """``(offset, count)`` of the bytes ``get_partial`` returns from a value of ``size``."""
    if length is not None and length < 0:
        raise ValueError(f"length must be >= 0 or None, not {length}")
    if start < 0:
        start = max(size + start, 0)
    start = min(start, size)
    stop = size if length is None else min(start + length, size)
    return start, stop - start


# ---------------------------------------------------------------------------------------
# generic versions, on the MutableMapping interface alone
# ---------------------------------------------------------------------------------------


def _generic_getitems(store: Any, keys: Iterable[str]) -> dict[str, Any]:
    out = {}
    for key in keys:
        try:
            out[key] = store[key]
        except KeyError:
            pass
    return out


def _generic_setitems(store: Any, mapping: Mapping[str, Any]) -> None:
    for key, value in mapping.items():
        try:
            store[key] = value
        except OSError as exc:  # name the very key that failed, not the whole batch
            if type(exc) is not OSError:
                raise
            raise StoreWriteError.from_cause(key, store, exc) from exc


def _generic_delitems(store: Any, keys: Iterable[str]) -> None:
    for key in keys:
        try:
            del store[key]
        except KeyError:
            pass
        except OSError as exc:
            if type(exc) is not OSError:
                raise
            raise StoreWriteError.from_cause(key, store, exc, action="delete") from exc


def _keys_under(store: Any, path: str) -> list[str]:
    prefix = _prefix(path)
    return [k for k in list(store.keys()) if k.startswith(prefix)]


def _generic_listdir(store: Any, path: str) -> list[str]:
    prefix = _prefix(path)
    n = len(prefix)
    children = set()
    for key in list(store.keys()):
        if key.startswith(prefix) and len(key) > n:
            children.add(key[n:].split("/", 1)[0])
    return sorted(children)


def _generic_rmdir(store: Any, path: str) -> None:
    if not path:
        for key in list(store.keys()):
            del store[key]
        return
    for key in _keys_under(store, path):
        del store[key]


def _generic_getsize(store: Any, path: str) -> int:
    if path:
        try:
            return _nbytes(store[path])
        except KeyError:
            pass
    size = 0
    for key in _keys_under(store, path):
        try:
            n = _nbytes(store[key])
        except KeyError:  # removed meanwhile
            continue
        if n < 0:
            return -1
        size += n
    return size


def _generic_rename(store: Any, src: str, dst: str) -> None:
    _check_rename(src, dst)
    moves = {}
    if src in store:
        moves[src] = dst
    n = len(src)
    for key in _keys_under(store, src):
        moves[key] = dst + key[n:]
    if not moves:
        raise KeyError(src)
    for old, new in moves.items():
        store[new] = store[old]
        del store[old]


def _generic_get_partial(store: Any, key: str, start: int, length: int | None) -> bytes:
    value = store[key]
    view = memoryview(as_buffer(value))
    offset, count = _slice_range(len(view), start, length)
    return bytes(view[offset:offset + count])


# ---------------------------------------------------------------------------------------
# the base class
# ---------------------------------------------------------------------------------------


class Store(MutableMapping):
    """Optional base class of czarr's stores: a ``MutableMapping[str, bytes]`` plus fast paths.

    Subclasses implement the five mapping methods (``__getitem__``, ``__setitem__``,
    ``__delitem__``, ``__iter__``, ``__len__``; ``__contains__`` when a membership test
    is cheaper than a read) and override whichever of the methods below their backend
    does better than the generic versions, which are built on the mapping methods:

    - ``getitems(keys) -> dict``: the values of the keys that exist (missing keys are
      left out, never an error). Cloud stores fetch them concurrently.
    - ``setitems(mapping)``: store many values at once.
    - ``delitems(keys)``: remove many keys; missing keys are ignored.
    - ``get_partial(key, start=0, length=None) -> bytes``: a byte range of one value
      (``start < 0`` counts from the end), for stores that read ranges natively.
    - ``get_ranges(key, ranges) -> list[bytes]``: several ``(start, length)`` ranges of
      one value in one call, all from the same version of it where the backend can
      (one open file, one transaction): a sharded read checks the shard's index with it.
    - ``listdir(path='') -> list[str]``: sorted names of the children directly under a
      path (keys and sub-folders), ``[]`` when there is nothing there.
    - ``rmdir(path='')``: remove every key under ``path + '/'`` (everything for ``''``).
    - ``getsize(path='') -> int``: bytes stored for the key ``path``, or the total for
      all keys under it (recursively); 0 when there is nothing, -1 when unknown.
    - ``rename(src, dst)``: move the key ``src`` and every key under it to ``dst``.
    - ``close()``: release files or connections; the store also works as a context
      manager that closes on exit.

    Paths given to these methods have been normalized (``'a/b'``, ``''`` for the root)
    when they come through the module-level functions of :mod:`czarr.storage`.

    Stores that are read-only set ``read_only = True`` and raise
    :class:`czarr.errors.ReadOnlyError` on writes.
    """

    read_only: bool = False

    # the abstract mapping methods are left to subclasses (MutableMapping declares them)

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        """Values of the given keys that exist in the store (missing keys left out)."""
        return _generic_getitems(self, keys)

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        """Store every ``key: value`` of ``mapping``."""
        _generic_setitems(self, mapping)

    def delitems(self, keys: Iterable[str]) -> None:
        """Remove the given keys; keys that are not there are ignored."""
        _generic_delitems(self, keys)

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        """``length`` bytes (all to the end when None) of the value at ``key`` from ``start``."""
        return _generic_get_partial(self, key, start, length)

    def listdir(self, path: str = "") -> list[str]:
        """Sorted names of the children directly under ``path``."""
        return _generic_listdir(self, _normalize_path(path))

    def rmdir(self, path: str = "") -> None:
        """Remove every key under ``path`` (every key, for the root)."""
        _generic_rmdir(self, _normalize_path(path))

    def getsize(self, path: str = "") -> int:
        """Bytes stored at ``path`` (a key) or under it (recursively)."""
        return _generic_getsize(self, _normalize_path(path))

    def rename(self, src: str, dst: str) -> None:
        """Move the key ``src`` and every key under it to ``dst``."""
        _generic_rename(self, _normalize_path(src), _normalize_path(dst))

    def close(self) -> None:
        """Release what the store holds open (nothing, by default)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---------------------------------------------------------------------------------------
# the functions czarr calls on any store
# ---------------------------------------------------------------------------------------


def getitems(store: MutableMapping, keys: Iterable[str]) -> dict[str, bytes]:
    """The values of the keys present in ``store``, in one call.

    Parameters
    ----------
    store : MutableMapping
    keys : iterable of str

    Returns
    -------
    dict
        ``{key: value}`` for the keys that exist; missing keys are left out.
    """
    method = getattr(store, "getitems", None)
    if method is None:
        return _generic_getitems(store, keys)
    if isinstance(store, Store):
        return method(keys)
    # a foreign mapping's getitems may raise on a missing key (fsspec's default)
    keys = list(keys)
    try:
        return dict(method(keys))
    except KeyError:
        return _generic_getitems(store, keys)


def setitems(store: MutableMapping, mapping: Mapping[str, Any]) -> None:
    """Store every ``key: value`` of ``mapping`` in ``store``.

    Parameters
    ----------
    store : MutableMapping
    mapping : Mapping[str, bytes-like]

    Raises
    ------
    StoreWriteError
        The store failed with a plain ``OSError`` (disk full, I/O error): the error
        names the keys of ``mapping`` and keeps the errno.
    """
    method = getattr(store, "setitems", None)
    try:
        with naming_keys(mapping, store):
            if method is None:
                _generic_setitems(store, mapping)
            else:
                method(mapping)
    finally:
        if _on_change is not None:
            _on_change(store, mapping, None)


def delitems(store: MutableMapping, keys: Iterable[str]) -> None:
    """Remove ``keys`` from ``store``; keys that are not there are ignored.

    Parameters
    ----------
    store : MutableMapping
    keys : iterable of str

    Raises
    ------
    StoreWriteError
        The store failed with a plain ``OSError``: the error names ``keys``.
    """
    method = getattr(store, "delitems", None)
    if not isinstance(keys, (list, tuple)):
        keys = list(keys)  # named in an error, and told to _on_change
    try:
        with naming_keys(keys, store, action="delete"):
            if method is None:
                _generic_delitems(store, keys)
            else:
                method(keys)
    finally:
        if _on_change is not None:
            _on_change(store, keys, None)


def get_partial(
    store: MutableMapping, key: str, start: int = 0, length: int | None = None
) -> bytes:
    """A byte range of the value at ``key``.

    Parameters
    ----------
    store : MutableMapping
    key : str
    start : int
        Offset of the first byte; negative counts from the end (``-n``: the last n bytes).
    length : int or None
        Number of bytes; None reads to the end. The range is clipped to the value.

    Returns
    -------
    bytes

    Raises
    ------
    KeyError
        ``key`` is not in the store.
    """
    method = getattr(store, "get_partial", None)
    if method is None:
        return _generic_get_partial(store, key, start, length)
    return method(key, start, length)


def get_ranges(store: MutableMapping, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
    """Several byte ranges of the value at ``key``, in one call where the store can.

    Parameters
    ----------
    store : MutableMapping
    key : str
    ranges : list of (start, length)
        Non-negative offsets and lengths; each range is clipped to the value.

    Returns
    -------
    list of bytes
        One per range, in order. A store's own ``get_ranges`` serves them together
        (concurrent requests for an object store, one compiled loop of ``pread`` for a
        folder); otherwise ``get_partial`` serves each, or one read of the whole value
        serves all when the store cannot read ranges.

    Raises
    ------
    KeyError
        ``key`` is not in the store.
    """
    method = getattr(store, "get_ranges", None)
    if method is not None:
        return list(method(key, ranges))
    partial = getattr(store, "get_partial", None)
    if partial is not None and len(ranges) == 1:
        return [partial(key, ranges[0][0], ranges[0][1])]
    view = memoryview(store[key]).cast("B")
    return [bytes(view[s:s + n]) for s, n in ranges]


def listdir(store: MutableMapping, path: str | None = None) -> list[str]:
    """Sorted names of the children directly under ``path`` (keys and sub-folders).

    Parameters
    ----------
    store : MutableMapping
    path : str
        ``''`` (the default) for the root.

    Returns
    -------
    list of str
        ``[]`` when nothing is under ``path``.
    """
    path = _normalize_path(path)
    method = getattr(store, "listdir", None)
    if method is None:
        return _generic_listdir(store, path)
    if isinstance(store, Store):
        return method(path)
    return sorted(method(path))


def rmdir(store: MutableMapping, path: str | None = None) -> None:
    """Remove every key under ``path`` (every key in the store when ``path`` is ``''``).

    A key named exactly ``path`` is not a folder and is left alone.

    Parameters
    ----------
    store : MutableMapping
    path : str
    """
    path = _normalize_path(path)
    method = getattr(store, "rmdir", None)
    try:
        if method is None:
            _generic_rmdir(store, path)
        else:
            method(path)
    finally:
        if _on_change is not None:
            _on_change(store, None, path)


def getsize(store: MutableMapping, path: str | None = None) -> int:
    """Bytes stored for the key ``path``, or for all keys under it (recursively).

    Without a ``getsize`` method this reads the values, which is cheap for in-memory
    mappings only.

    Parameters
    ----------
    store : MutableMapping
    path : str

    Returns
    -------
    int
        0 when nothing is there; -1 when the size cannot be known (a value that is not a
        buffer).
    """
    path = _normalize_path(path)
    method = getattr(store, "getsize", None)
    if method is None:
        return _generic_getsize(store, path)
    return method(path)


def rename(store: MutableMapping, src_path: str, dst_path: str) -> None:
    """Move the key ``src`` and every key under ``src/`` to the same places under ``dst``.

    Keys already at the destination places are replaced.

    Parameters
    ----------
    store : MutableMapping
    src_path, dst_path : str
        Neither may be the root, nor contain the other.

    Raises
    ------
    KeyError
        Nothing is at ``src``.
    ValueError
        ``src`` or ``dst`` is the root, or one contains the other.
    """
    src, dst = src_path, dst_path
    src = _normalize_path(src)
    dst = _normalize_path(dst)
    _check_rename(src, dst)
    method = getattr(store, "rename", None)
    try:
        if method is None:
            _generic_rename(store, src, dst)
        else:
            method(src, dst)
    finally:
        if _on_change is not None:
            for path in (src, dst):
                _on_change(store, [path], path)


def close(store: MutableMapping) -> None:
    """Close ``store`` when it has a ``close`` method (files, connections); else nothing."""
    method = getattr(store, "close", None)
    if method is not None:
        method()


# ---------------------------------------------------------------------------------------
# what users pass as store=
# ---------------------------------------------------------------------------------------

_ZIP_MODES = {"r": "r", "r+": "a", "a": "a", "w": "w", "w-": "x", "x": "x"}


def normalize_store_arg(store: Any, storage_options: dict | None = None, mode: str = "r",
                        *, zarr_version: Any = None) -> MutableMapping:
    """Turn what a user passes as ``store=`` into a store (zarr-python 2.18's signature).

    Parameters
    ----------
    store : None, str, os.PathLike or MutableMapping
        None gives a new :class:`~czarr.storage.MemoryStore`; a URL (``s3://...``,
        ``gs://``, ``https://``, ``memory://``, ``file://``, ``a::b`` chains) an
        :class:`~czarr.storage.FSStore`; a path ending in ``.zip`` a
        :class:`~czarr.storage.ZipStore`, any other path a
        :class:`~czarr.storage.DirectoryStore`; an ``fsspec.FSMap`` an ``FSStore`` over
        the same filesystem and root; another mapping is returned as is.
    storage_options : dict, optional
        Options for the fsspec filesystem of a URL (credentials, ``client_kwargs``...);
        refused for local paths.
    mode : {'r', 'r+', 'a', 'w', 'w-', 'x'}
        The file mode of the array or group being opened. An ``FSStore`` gets it as is
        (``'r'`` makes it read-only); a ``ZipStore`` is opened with ``'r'``; ``'a'`` for
        ``'r+'`` and ``'a'``; ``'w'``; ``'x'`` for ``'w-'`` and ``'x'``.
    zarr_version : {None, 2, 3}
        zarr-python 2.18's experimental v3 switch; stores serve either format.

    Returns
    -------
    MutableMapping

    Raises
    ------
    MissingDependencyError
        ``store`` is a URL and fsspec (or s3fs, for S3) is not installed.
    ValueError
        ``storage_options`` with a local path, or an unknown ``mode``.
    TypeError
        ``store`` is none of the above.
    FileNotFoundError
        ``mode='r'`` or ``'r+'`` with a ``.zip`` path that does not exist.
    """
    if zarr_version not in (None, 2, 3):  # the store is the same for both formats
        raise ValueError(f"zarr_version must be 2 or 3, got {zarr_version!r}")
    if store is None:
        from czarr.storage.memory import MemoryStore

        return MemoryStore()
    if isinstance(store, MutableMapping):
        fsspec = sys.modules.get("fsspec")  # an FSMap means fsspec is imported already
        if fsspec is not None and isinstance(store, fsspec.FSMap):
            from czarr.storage.fsstore import FSStore

            return FSStore(
                store.root, fs=store.fs, mode=mode, check=store.check, create=store.create,
                missing_exceptions=store.missing_exceptions, **(storage_options or {}),
            )
        return store
    if isinstance(store, os.PathLike):
        store = os.fspath(store)
    if isinstance(store, str):
        if mode not in _ZIP_MODES:
            raise ValueError(f"invalid mode {mode!r}: expected one of r, r+, a, w, w-, x")
        if "://" in store or "::" in store:
            return _url_store(store, mode, storage_options)
        if storage_options:
            raise ValueError(
                f"storage_options are for URLs (s3://, gs://...), not the local path {store!r}")
        if store.endswith(".zip"):
            from czarr.storage.zip import ZipStore

            if mode in ("r", "r+") and not os.path.exists(store):
                raise FileNotFoundError(f"no such zip file: {store!r} (mode={mode!r})")
            return ZipStore(store, mode=_ZIP_MODES[mode])
        from czarr.storage.directory import DirectoryStore

        return DirectoryStore(store)
    raise TypeError(
        "store must be None, a path (str or os.PathLike) or a MutableMapping, "
        f"not {type(store).__name__}"
    )


def _url_store(url: str, mode: str, storage_options: dict[str, Any] | None) -> MutableMapping:
    """An FSStore for ``url``, as zarr-python 2.18 makes one for every URL, ``file://``
    included; without fsspec a plain ``file://`` URL still opens, as a DirectoryStore
    over the same folder (the files are the same either way)."""
    import importlib.util

    if (url.startswith("file://") and "::" not in url and not storage_options
            and importlib.util.find_spec("fsspec") is None):
        from czarr.storage.directory import DirectoryStore

        return DirectoryStore(url[len("file://"):])
    from czarr.storage.fsstore import FSStore

    return FSStore(url, mode=mode, **(storage_options or {}))
