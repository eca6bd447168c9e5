"""Copying hierarchies, with zarr-python 2's semantics: :func:`copy_store` copies raw
keys between stores (no decoding, so configurations and bytes are kept exactly);
:func:`copy` and :func:`copy_all` copy arrays and groups between any two stores through
the public Array/Group API, re-chunking and re-encoding when ``chunks``, ``compressor``,
``dimension_separator`` or other creation arguments are given. Every function can log
what it does (to a callable, a file path or a file-like object), can pretend
(``dry_run``), decides what to do with what is already there (``if_exists``) and
returns ``(n_copied, n_skipped, n_bytes_copied)``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import IO, Any

from czarr.errors import CopyError
from czarr.layout import normalize_path
from czarr.storage import getitems, setitems

__all__ = ["CopyError", "copy_store", "copy", "copy_all"]

# keys read and written at once by copy_store
_KEY_BATCH = 256
# at most this many bytes of an array are held in memory at once by copy()
_BLOCK_BYTES = 64 << 20


class _LogWriter:
    """Calls a log callable, or prints to a file-like object or a file opened by path."""

    def __init__(self, log: Callable[[str], Any] | str | IO[str] | None) -> None:
        self._func: Callable[[str], Any] | None = None
        self._file: IO[str] | None = None
        self._owned = False
        if log is None:
            pass
        elif callable(log):
            self._func = log
        elif isinstance(log, str):
            self._file = open(log, mode="w")  # noqa: SIM115 - closed in __exit__
            self._owned = True
        elif hasattr(log, "write"):
            self._file = log
        else:
            raise TypeError(f"log must be a callable, a file path or a file-like object, "
                            f"got {type(log).__name__} {log!r}")

    def __enter__(self) -> _LogWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._owned and self._file is not None:
            self._file.close()

    def __call__(self, message: str) -> None:
        if self._file is not None:
            print(message, file=self._file)
            flush = getattr(self._file, "flush", None)
            if flush is not None:
                flush()
        elif self._func is not None:
            self._func(message)


def _log_summary(log: _LogWriter, dry_run: bool, n_copied: int, n_skipped: int,
                 n_bytes_copied: int) -> None:
    message = "dry run: " if dry_run else "all done: "
    message += f"{n_copied:,} copied, {n_skipped:,} skipped"
    if not dry_run:
        message += f", {n_bytes_copied:,} bytes copied"
    log(message)


def _check_if_exists(if_exists: str, valid: tuple[str, ...]) -> None:
    if if_exists not in valid:
        raise ValueError(f"if_exists must be one of {list(valid)!r}; found {if_exists!r}")


def _compile(patterns: str | list[str] | None, flags: int) -> list[re.Pattern]:
    if patterns is None:
        return []
    if isinstance(patterns, str):
        patterns = [patterns]
    return [re.compile(p, flags) for p in patterns]


def _nbytes(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return memoryview(value).nbytes


# ---------------------------------------------------------------------------------------
# copy_store
# ---------------------------------------------------------------------------------------


def copy_store(
    source: Mapping,
    dest: MutableMapping,
    source_path: str = "",
    dest_path: str = "",
    excludes: str | list[str] | None = None,
    includes: str | list[str] | None = None,
    flags: int = 0,
    if_exists: str = "raise",
    dry_run: bool = False,
    log: Callable[[str], Any] | str | IO[str] | None = None,
) -> tuple[int, int, int]:
    """Copy keys from one store to another without decoding them.

    The most efficient copy of a group or array, keeping every configuration and
    attribute: the stored (compressed) bytes of each key are copied as they are.
    Keys are visited in sorted order; they are read and written in batches through the
    stores' ``getitems``/``setitems`` when they have them.

    Parameters
    ----------
    source : Mapping
        Store to copy from.
    dest : MutableMapping
        Store to copy into.
    source_path : str, optional
        Copy only the keys under this path.
    dest_path : str, optional
        Put the copies under this path (``source_path`` is replaced by it).
    excludes : str or list of str, optional
        Regular expressions searched in each source key; a key matching any of them is
        not copied...
    includes : str or list of str, optional
        ...unless it also matches one of these.
    flags : int, optional
        ``re`` flags for ``excludes`` and ``includes``.
    if_exists : {'raise', 'replace', 'skip'}
        What to do with a key that already exists in ``dest``: raise
        :class:`CopyError` (before anything more is written), overwrite it, or leave it.
    dry_run : bool
        Only log (and count) what would be done; nothing is read or written.
    log : callable, file path or file-like object, optional
        Receives one line per key (``copy a/b/0``, ``skip a/.zarray``,
        ``copy x/0 -> y/0``) and a summary line.

    Returns
    -------
    n_copied : int
        Keys copied (or that would be, on a dry run).
    n_skipped : int
        Keys skipped because they existed (``if_exists='skip'``).
    n_bytes_copied : int
        Bytes copied (0 on a dry run).

    Raises
    ------
    CopyError
        A key exists in ``dest`` and ``if_exists='raise'``.
    ValueError
        ``if_exists`` is not one of the values above.
    """
    _check_if_exists(if_exists, ("raise", "replace", "skip"))
    source_prefix = normalize_path(source_path)
    dest_prefix = normalize_path(dest_path)
    source_prefix += "/" if source_prefix else ""
    dest_prefix += "/" if dest_prefix else ""
    exclude_res, include_res = _compile(excludes, flags), _compile(includes, flags)

    def wanted(key: str) -> bool:
        if not key.startswith(source_prefix):
            return False
        if any(p.search(key) for p in exclude_res):
            return any(p.search(key) for p in include_res)
        return True

    n_copied = n_skipped = n_bytes_copied = 0
    with _LogWriter(log) as logger:
        batch: dict[str, str] = {}   # source key -> destination key

        def flush() -> int:
            if dry_run or not batch:
                batch.clear()
                return 0
            values = getitems(source, list(batch))
            missing = [k for k in batch if k not in values]
            if missing:
                raise KeyError(f"key {missing[0]!r} vanished from the source store")
            setitems(dest, {batch[k]: v for k, v in values.items()})
            batch.clear()
            return sum(_nbytes(v) for v in values.values())

        for source_key in sorted(k for k in source.keys() if wanted(k)):
            dest_key = dest_prefix + source_key[len(source_prefix):]
            descr = source_key if dest_key == source_key else f"{source_key} -> {dest_key}"
            if if_exists != "replace" and dest_key in dest:
                if if_exists == "raise":
                    n_bytes_copied += flush()
                    raise CopyError(f"key {dest_key!r} exists in destination")
                logger(f"skip {descr}")
                n_skipped += 1
                continue
            logger(f"copy {descr}")
            n_copied += 1
            batch[source_key] = dest_key
            if len(batch) >= _KEY_BATCH:
                n_bytes_copied += flush()
        n_bytes_copied += flush()
        _log_summary(logger, dry_run, n_copied, n_skipped, n_bytes_copied)
    return n_copied, n_skipped, n_bytes_copied


# ---------------------------------------------------------------------------------------
# copy, copy_all
# ---------------------------------------------------------------------------------------


def _is_array(node: Any) -> bool:
    return hasattr(node, "shape")


def _attrs_of(node: Any) -> dict[str, Any]:
    attrs = node.attrs
    return attrs.asdict() if hasattr(attrs, "asdict") else dict(attrs)


def _check_dest_is_group(dest: Any) -> None:
    if not hasattr(dest, "create_dataset"):
        raise ValueError(f"dest must be a group, got {dest!r}")


def _blocks(shape: tuple[int, ...], chunks: tuple[int, ...],
            itemsize: int) -> Iterator[tuple[slice, ...]]:
    """Selections covering ``shape`` made of whole chunks: one chunk-row (one chunk
    along the first dimension, everything along the others) at a time, split further
    along the leading dimensions when a row would exceed ``_BLOCK_BYTES``."""
    ndim = len(shape)
    if ndim == 0:
        yield ()
        return
    budget = max(_BLOCK_BYTES // max(itemsize, 1), 1)
    block = list(chunks)
    # widen the trailing dimensions first (contiguous in C order), one at a time
    for d in reversed(range(1, ndim)):
        others = math.prod(block) // block[d]
        n_chunks = max(-(-shape[d] // chunks[d]), 1)
        fit = max(budget // max(others * chunks[d], 1), 1)
        block[d] = chunks[d] * min(n_chunks, fit)
        if fit < n_chunks:
            break
    offsets = [range(0, s, b) for s, b in zip(shape, block)]
    for offset in itertools.product(*offsets):
        yield tuple(slice(o, min(s, o + b)) for o, s, b in zip(offset, shape, block))


def _copy_array(log: _LogWriter, source: Any, dest: Any, name: str, without_attrs: bool,
                if_exists: str, dry_run: bool, create_kws: dict[str, Any]
                ) -> tuple[int, int, int]:
    exists = dest is not None and name in dest
    do_copy = True
    if exists:
        if if_exists == "raise":
            raise CopyError(f"an object {name!r} already exists in destination "
                            f"{dest.name!r}")
        if if_exists == "skip":
            do_copy = False
        elif if_exists == "skip_initialized":
            existing = dest[name]
            if _is_array(existing) and existing.nchunks_initialized == existing.nchunks:
                do_copy = False
    if not do_copy:
        log(f"skip {source.name} {source.shape} {source.dtype}")
        return 0, 1, 0
    log(f"copy {source.name} {source.shape} {source.dtype}")
    if dry_run:
        return 1, 0, 0
    if exists:
        del dest[name]
    kws = dict(create_kws)
    kws.setdefault("chunks", source.chunks)
    # zarr -> zarr keeps the configuration unless told otherwise
    for attr in ("compressor", "filters", "order", "fill_value"):
        if hasattr(source, attr):
            kws.setdefault(attr, getattr(source, attr))
    dtype = getattr(source, "dtype", None)
    if (dtype is not None and dtype.hasobject and kws.get("filters")
            and "object_codec" not in kws):
        # an object array's first filter is its object codec: say so (no FutureWarning)
        kws["object_codec"], kws["filters"] = kws["filters"][0], kws["filters"][1:]
    if "dimension_separator" not in kws and hasattr(source, "dimension_separator"):
        # a store that fixes its separator (DirectoryStore(dimension_separator=...)) wins
        store_separator = getattr(getattr(dest, "store", None), "_dimension_separator", None)
        kws["dimension_separator"] = store_separator or source.dimension_separator
    ds = dest.create_dataset(name, shape=source.shape, dtype=source.dtype, **kws)
    for selection in _blocks(ds.shape, ds.chunks, ds.dtype.itemsize):
        ds[selection] = source[selection]
    if not without_attrs:
        ds.attrs.update(_attrs_of(source))
    return 1, 0, ds.size * ds.dtype.itemsize


def _copy(log: _LogWriter, source: Any, dest: Any, name: str | None, root: bool,
          shallow: bool, without_attrs: bool, if_exists: str, dry_run: bool,
          create_kws: dict[str, Any]) -> tuple[int, int, int]:
    # on a dry run, dest may be None (a group that would have been created)
    _check_if_exists(if_exists, ("raise", "replace", "skip", "skip_initialized"))
    if name is None:
        name = source.name.split("/")[-1]
        if not name:
            raise TypeError("source has no name, please provide the `name` parameter "
                            "to indicate a name to copy to")
    if _is_array(source):
        return _copy_array(log, source, dest, name, without_attrs, if_exists, dry_run,
                           create_kws)
    if not (root or not shallow):
        return 0, 0, 0

    existing = dest[name] if dest is not None and name in dest else None
    exists_array = existing is not None and _is_array(existing)
    if exists_array:
        if if_exists == "raise":
            raise CopyError(f"an array {name!r} already exists in destination "
                            f"{dest.name!r}")
        if if_exists == "skip":
            log(f"skip {source.name}")
            return 0, 1, 0
    log(f"copy {source.name}")
    if not dry_run:
        if exists_array:
            del dest[name]
        group = dest.require_group(name)
        if not without_attrs:
            group.attrs.update(_attrs_of(source))
    else:
        # nothing is created on a dry run: recurse into what exists, if anything
        group = None if exists_array else existing

    n_copied, n_skipped, n_bytes_copied = 1, 0, 0
    for key in sorted(source.keys()):
        c, s, b = _copy(log, source[key], group, name=key, root=False, shallow=shallow,
                        without_attrs=without_attrs, if_exists=if_exists, dry_run=dry_run,
                        create_kws=create_kws)
        n_copied += c
        n_skipped += s
        n_bytes_copied += b
    return n_copied, n_skipped, n_bytes_copied


def copy(
    source: Any,
    dest: Any,
    name: str | None = None,
    shallow: bool = False,
    without_attrs: bool = False,
    log: Callable[[str], Any] | str | IO[str] | None = None,
    if_exists: str = "raise",
    dry_run: bool = False,
    **create_kws: Any,
) -> tuple[int, int, int]:
    """Copy the ``source`` array or group into the ``dest`` group.

    Arrays are read and written through the Array API, one chunk-row of the new array
    at a time (so memory stays bounded), which re-chunks and re-encodes whenever
    ``create_kws`` asks for it. Unless given, an array keeps its source's ``chunks``,
    ``compressor``, ``filters``, ``order``, ``fill_value`` and ``dimension_separator``
    (unless the destination store fixes its own separator).

    Parameters
    ----------
    source : czarr.Array or czarr.Group
        What to copy (anything with the same interface works, e.g. h5py objects).
    dest : czarr.Group
        Group to copy into.
    name : str, optional
        Name of the copy in ``dest``; the source's own name by default (required when
        the source is a root).
    shallow : bool
        Copy only the immediate children of a source group.
    without_attrs : bool
        Do not copy user attributes.
    log : callable, file path or file-like object, optional
        Receives a line per array (``copy /foo/bar (100,) int64``) or group
        (``copy /foo``), ``skip ...`` lines, and a summary line.
    if_exists : {'raise', 'replace', 'skip', 'skip_initialized'}
        What to do with an array already in the destination: raise :class:`CopyError`,
        replace it, leave it, or leave it only if all its chunks are initialized.
        Existing groups are merged into.
    dry_run : bool
        Only log (and count) what would be done; nothing is written.
    **create_kws
        Passed to ``dest.create_dataset`` for every array (``chunks``, ``compressor``,
        ``dimension_separator``, ``filters``, ``fill_value``...).

    Returns
    -------
    n_copied : int
        Arrays and groups copied (or that would be).
    n_skipped : int
        Arrays (and groups in the way of an array) skipped.
    n_bytes_copied : int
        Uncompressed bytes of the arrays copied (``size * itemsize``; 0 on a dry run).

    Raises
    ------
    CopyError
        Something is in the way and ``if_exists='raise'``.
    TypeError
        ``source`` is a root and no ``name`` is given.
    ValueError
        ``dest`` is not a group, or ``if_exists`` is invalid.
    """
    _check_dest_is_group(dest)
    with _LogWriter(log) as logger:
        counts = _copy(logger, source, dest, name=name, root=True, shallow=shallow,
                       without_attrs=without_attrs, if_exists=if_exists, dry_run=dry_run,
                       create_kws=create_kws)
        _log_summary(logger, dry_run, *counts)
    return counts


def copy_all(
    source: Any,
    dest: Any,
    shallow: bool = False,
    without_attrs: bool = False,
    log: Callable[[str], Any] | str | IO[str] | None = None,
    if_exists: str = "raise",
    dry_run: bool = False,
    **create_kws: Any,
) -> tuple[int, int, int]:
    """Copy every child of the ``source`` group into the ``dest`` group.

    The children are copied as :func:`copy` copies them; the attributes of ``source``
    itself are copied onto ``dest`` too, as later zarr-python 2 releases do (here only
    when not ``without_attrs`` and not a dry run).

    Parameters
    ----------
    source : czarr.Group
    dest : czarr.Group
    shallow, without_attrs, log, if_exists, dry_run, **create_kws
        As :func:`copy`.

    Returns
    -------
    n_copied, n_skipped, n_bytes_copied : int
        As :func:`copy` (``source`` itself is not counted).

    Raises
    ------
    CopyError, ValueError
        As :func:`copy`.
    """
    _check_dest_is_group(dest)
    _check_if_exists(if_exists, ("raise", "replace", "skip", "skip_initialized"))
    n_copied = n_skipped = n_bytes_copied = 0
    with _LogWriter(log) as logger:
        for key in sorted(source.keys()):
            c, s, b = _copy(logger, source[key], dest, name=key, root=False,
                            shallow=shallow, without_attrs=without_attrs,
                            if_exists=if_exists, dry_run=dry_run, create_kws=create_kws)
            n_copied += c
            n_skipped += s
            n_bytes_copied += b
        if not without_attrs and not dry_run:
            dest.attrs.update(_attrs_of(source))
        _log_summary(logger, dry_run, n_copied, n_skipped, n_bytes_copied)
    return n_copied, n_skipped, n_bytes_copied


# ---------------------------------------------------------------------------------------
# save and load NumPy arrays (zarr-python 2's numpy-style helpers)
# ---------------------------------------------------------------------------------------


def save_array(store: Any, arr: Any, *, zarr_version: Any = None, path: str | None = None,
               **kwargs: Any) -> None:
    """Save one NumPy array to ``store`` (a path, URL or store), replacing what is at
    ``path``; ``kwargs`` go to :func:`czarr.create` (``chunks``, ``compressor``...)."""
    from czarr.creation import array
    from czarr.layout import check_v2_only
    from czarr.storage import close, normalize_store_arg

    check_v2_only(zarr_version=zarr_version)
    opened = not isinstance(store, MutableMapping)
    store = normalize_store_arg(store, mode="w")
    try:
        array(arr, store=store, overwrite=True, path=path, **kwargs)
    finally:
        if opened:
            close(store)  # a zip file is only complete once closed


def save_group(store: Any, *args: Any, zarr_version: Any = None, path: str | None = None,
               **kwargs: Any) -> None:
    """Save NumPy arrays as a group: positional ones as ``arr_0``, ``arr_1``..., keyword
    ones under their names, replacing what is at ``path``."""
    from czarr.hierarchy import group
    from czarr.layout import check_v2_only
    from czarr.storage import close, normalize_store_arg

    check_v2_only(zarr_version=zarr_version)
    if not args and not kwargs:
        raise ValueError("at least one array must be provided")
    opened = not isinstance(store, MutableMapping)
    store = normalize_store_arg(store, mode="w")
    try:
        grp = group(store, overwrite=True, path=path)
        for i, arr in enumerate(args):
            grp.create_dataset(f"arr_{i}", data=arr, overwrite=True)
        for name, arr in kwargs.items():
            grp.create_dataset(name, data=arr, overwrite=True)
    finally:
        if opened:
            close(store)


def save(store: Any, *args: Any, zarr_version: Any = None, path: str | None = None,
         **kwargs: Any) -> None:
    """:func:`save_array` for one positional array, else :func:`save_group`."""
    if not args and not kwargs:
        raise ValueError("at least one array must be provided")
    if len(args) == 1 and not kwargs:
        save_array(store, args[0], zarr_version=zarr_version, path=path)
    else:
        save_group(store, *args, zarr_version=zarr_version, path=path, **kwargs)


class LazyLoader(Mapping):
    """The arrays of a group, each read into NumPy when first asked for (what
    :func:`load` returns for a group)."""

    def __init__(self, grp: Any) -> None:
        self.grp = grp
        self.cache: dict[str, Any] = {}

    def __getitem__(self, item: str) -> Any:
        try:
            return self.cache[item]
        except KeyError:
            arr = self.grp[item][...]
            self.cache[item] = arr
            return arr

    def __len__(self) -> int:
        return len(self.grp)

    def __iter__(self) -> Iterator[str]:
        return iter(self.grp)

    def __contains__(self, item: object) -> bool:
        return item in self.grp

    def __repr__(self) -> str:
        return f"<LazyLoader: {', '.join(sorted(self.grp.array_keys()))}>"


def load(store: Any, zarr_version: Any = None, path: str | None = None) -> Any:
    """What is at ``path``: an array as a NumPy array, a group as a :class:`LazyLoader`
    (None when there is nothing)."""
    from czarr.core import Array
    from czarr.hierarchy import Group
    from czarr.layout import check_v2_only, contains_array, contains_group, normalize_path
    from czarr.storage import normalize_store_arg

    check_v2_only(zarr_version=zarr_version)
    store = normalize_store_arg(store, mode="r")
    path = normalize_path(path)
    if contains_array(store, path):
        return Array(store, path=path, read_only=True)[...]
    if contains_group(store, path):
        return LazyLoader(Group(store, path=path, read_only=True))
    return None


def tree(grp: Any, expand: bool = False, level: int | None = None) -> Any:
    """The text tree of ``grp`` (as ``grp.tree()``)."""
    return grp.tree(expand=expand, level=level)


# zarr-python 2.18 names that live in other czarr modules (see czarr.compat)
__getattr__ = __import__("czarr.compat", fromlist=["lazy_names"]).lazy_names(__name__)
