"""Creating and opening arrays: ``create``, ``zeros``, ``ones``, ``empty``, ``full``,
``array``, ``open_array``, ``open`` and the ``*_like`` functions, as in zarr-python 2.

Everything here writes metadata through ``czarr.layout.init_array`` and returns a
``czarr.core.Array``; a plain path or ``None`` as ``store`` goes through
``czarr.storage.normalize_store_arg``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import numpy as np

from czarr.core import Array
from czarr.errors import (
    ArrayNotFoundError,
    ContainsArrayError,
    ContainsGroupError,
    PathNotFoundError,
)
from czarr.layout import contains_array, contains_group, init_array, normalize_path
from czarr.storage import normalize_store_arg

__all__ = [
    "create", "empty", "zeros", "ones", "full", "array", "open_array", "open",
    "empty_like", "zeros_like", "ones_like", "full_like", "open_like",
]


def create(
    shape: int | tuple[int, ...],
    chunks: Any = True,
    dtype: Any = None,
    compressor: Any = "default",
    fill_value: Any = 0,
    order: str = "C",
    store: Any = None,
    synchronizer: Any = None,
    overwrite: bool = False,
    path: str | None = None,
    chunk_store: MutableMapping | None = None,
    filters: Any = None,
    cache_metadata: bool = True,
    cache_attrs: bool = True,
    read_only: bool = False,
    object_codec: Any = None,
    dimension_separator: str | None = None,
    write_empty_chunks: bool = False,
) -> Array:
    """Create an array.

    Parameters
    ----------
    shape : int or tuple of int
        Array shape.
    chunks : int, tuple of int, True or None
        Chunk shape; ``True`` (default) guesses one as zarr-python does.
    dtype : str or numpy.dtype, optional
        Data type (default float64).
    compressor : codec, None or 'default'
        ``'default'`` is ``Blosc(cname='lz4', clevel=5, shuffle=SHUFFLE)``.
    fill_value : scalar or None
        Value of every element never written.
    order : {'C', 'F'}
        Memory layout of each chunk.
    store : MutableMapping or str, optional
        Where to store it (a new ``MemoryStore`` when None; a path gives a
        ``DirectoryStore``, a path ending ``.zip`` a ``ZipStore``).
    overwrite : bool
        Remove whatever is at ``path`` first.
    path : str, optional
        Path inside the store.
    filters : list of codecs, optional
    dimension_separator : {'.', '/'}, optional
        Separator in chunk keys (default ``'.'``).
    write_empty_chunks : bool
        Store chunks that hold only the fill value.

    Returns
    -------
    czarr.Array
    """
    store = normalize_store_arg(store, mode="a")
    init_array(
        store, shape=shape, chunks=chunks, dtype=dtype, compressor=compressor,
        fill_value=fill_value, order=order, overwrite=overwrite, path=path,
        chunk_store=chunk_store, filters=filters, object_codec=object_codec,
        dimension_separator=dimension_separator,
    )
    return Array(
        store, path=path, read_only=read_only, chunk_store=chunk_store,
        synchronizer=synchronizer, cache_metadata=cache_metadata, cache_attrs=cache_attrs,
        write_empty_chunks=write_empty_chunks,
    )


def empty(shape: int | tuple[int, ...], **kwargs: Any) -> Array:
    """Create an array with no fill value (unwritten regions read as zeros)."""
    return create(shape=shape, fill_value=None, **kwargs)


def zeros(shape: int | tuple[int, ...], **kwargs: Any) -> Array:
    """Create an array whose unwritten elements read as 0."""
    return create(shape=shape, fill_value=0, **kwargs)


def ones(shape: int | tuple[int, ...], **kwargs: Any) -> Array:
    """Create an array whose unwritten elements read as 1."""
    return create(shape=shape, fill_value=1, **kwargs)


def full(shape: int | tuple[int, ...], fill_value: Any, **kwargs: Any) -> Array:
    """Create an array whose unwritten elements read as ``fill_value``."""
    return create(shape=shape, fill_value=fill_value, **kwargs)


def _like_args(a: Any, kwargs: dict) -> None:
    """Fill ``kwargs`` with the properties of ``a`` the caller did not give."""
    kwargs.setdefault("shape", np.shape(a) if not hasattr(a, "shape") else tuple(a.shape))
    if hasattr(a, "chunks") and isinstance(a.chunks, tuple):
        kwargs.setdefault("chunks", a.chunks)
    dtype = getattr(a, "dtype", None)
    kwargs.setdefault("dtype", dtype if dtype is not None else np.asarray(a).dtype)
    if isinstance(a, Array):
        kwargs.setdefault("compressor", a.compressor)
        kwargs.setdefault("order", a.order)
        kwargs.setdefault("filters", a.filters)
        kwargs.setdefault("fill_value", a.fill_value)
    elif hasattr(a, "flags") and getattr(a.flags, "f_contiguous", False) and a.ndim > 1:
        kwargs.setdefault("order", "F")


def array(data: Any, **kwargs: Any) -> Array:
    """Create an array filled with ``data`` (anything NumPy turns into an array)."""
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        data = np.asanyarray(data)
    kwargs.setdefault("shape", tuple(data.shape))
    kwargs.setdefault("dtype", data.dtype)
    if isinstance(data, Array):
        kwargs.setdefault("chunks", data.chunks)
    z = create(**kwargs)
    z[...] = data[...] if isinstance(data, Array) else data
    return z


def open_array(
    store: Any = None,
    mode: str = "a",
    shape: Any = None,
    chunks: Any = True,
    dtype: Any = None,
    compressor: Any = "default",
    fill_value: Any = 0,
    order: str = "C",
    synchronizer: Any = None,
    filters: Any = None,
    cache_metadata: bool = True,
    cache_attrs: bool = True,
    path: str | None = None,
    object_codec: Any = None,
    chunk_store: MutableMapping | None = None,
    storage_options: dict[str, Any] | None = None,
    write_empty_chunks: bool = False,
    dimension_separator: str | None = None,
) -> Array:
    """Open an array with a file-like ``mode``: ``'r'`` read-only, must exist; ``'r+'``
    must exist; ``'a'`` open or create (default); ``'w'`` create, removing what was
    there; ``'w-'``/``'x'`` create, fail if something exists. The creation arguments
    are used when the array is created. ``storage_options`` go to the fsspec
    filesystem when ``store`` (or ``chunk_store``) is a URL."""
    store = normalize_store_arg(store, mode=mode, storage_options=storage_options)
    if chunk_store is not None:
        chunk_store = normalize_store_arg(chunk_store, mode=mode,
                                          storage_options=storage_options)
    path = normalize_path(path)
    create_kwargs = dict(
        shape=shape, chunks=chunks, dtype=dtype, compressor=compressor,
        fill_value=fill_value, order=order, path=path, chunk_store=chunk_store,
        filters=filters, object_codec=object_codec, dimension_separator=dimension_separator,
    )
    if mode in ("r", "r+"):
        if not contains_array(store, path):
            if contains_group(store, path):
                raise ContainsGroupError(f"a group exists at path {path!r}, not an array")
            raise ArrayNotFoundError(f"no array at path {path!r}")
    elif mode == "w":
        _need_shape(shape)
        init_array(store, overwrite=True, **create_kwargs)
    elif mode == "a":
        if not contains_array(store, path):
            if contains_group(store, path):
                raise ContainsGroupError(f"a group exists at path {path!r}, not an array")
            _need_shape(shape)
            init_array(store, **create_kwargs)
    elif mode in ("w-", "x"):
        if contains_group(store, path):
            raise ContainsGroupError(f"a group exists at path {path!r}")
        if contains_array(store, path):
            raise ContainsArrayError(f"an array exists at path {path!r}")
        _need_shape(shape)
        init_array(store, **create_kwargs)
    else:
        raise ValueError(f"invalid mode {mode!r}: expected one of r, r+, a, w, w-, x")
    return Array(
        store, path=path, read_only=(mode == "r"), chunk_store=chunk_store,
        synchronizer=synchronizer, cache_metadata=cache_metadata, cache_attrs=cache_attrs,
        write_empty_chunks=write_empty_chunks,
    )


def _need_shape(shape: Any) -> None:
    if shape is None:
        raise TypeError("creating an array needs shape=")


def open(
    store: Any = None,
    mode: str = "a",
    *,
    path: str | None = None,
    storage_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Open an array or a group, whichever is at ``path`` (a new group in modes ``'a'``,
    ``'w'``, ``'w-'`` unless ``shape=`` asks for an array). ``storage_options`` go to
    the fsspec filesystem when ``store`` is a URL.

    Returns
    -------
    czarr.Array or czarr.Group
    """
    from czarr.hierarchy import open_group

    store = normalize_store_arg(store, mode=mode, storage_options=storage_options)
    path = normalize_path(path)
    if mode in ("w", "w-", "x"):
        if "shape" in kwargs:
            return open_array(store, mode=mode, path=path, **kwargs)
        return open_group(store, mode=mode, path=path, **_group_kwargs(kwargs))
    if contains_array(store, path):
        return open_array(store, mode=mode, path=path, **kwargs)
    if contains_group(store, path):
        return open_group(store, mode=mode, path=path, **_group_kwargs(kwargs))
    if mode == "a":
        if "shape" in kwargs:
            return open_array(store, mode=mode, path=path, **kwargs)
        return open_group(store, mode=mode, path=path, **_group_kwargs(kwargs))
    raise PathNotFoundError(f"nothing (no array, no group) at path {path!r}")


def _group_kwargs(kwargs: dict) -> dict:
    allowed = {"cache_attrs", "synchronizer", "chunk_store"}
    bad = set(kwargs) - allowed
    if bad:
        raise TypeError(f"unexpected arguments for a group: {sorted(bad)}")
    return kwargs


def empty_like(a: Any, **kwargs: Any) -> Array:
    """An empty array shaped like ``a``."""
    _like_args(a, kwargs)
    kwargs.pop("fill_value", None)
    return empty(**kwargs)


def zeros_like(a: Any, **kwargs: Any) -> Array:
    """A zeros array shaped like ``a``."""
    _like_args(a, kwargs)
    kwargs.pop("fill_value", None)
    return zeros(**kwargs)


def ones_like(a: Any, **kwargs: Any) -> Array:
    """A ones array shaped like ``a``."""
    _like_args(a, kwargs)
    kwargs.pop("fill_value", None)
    return ones(**kwargs)


def full_like(a: Any, **kwargs: Any) -> Array:
    """A full array shaped like ``a`` (``fill_value`` from ``a`` unless given)."""
    _like_args(a, kwargs)
    if "fill_value" not in kwargs:
        raise TypeError("full_like needs fill_value= when `a` has none")
    return full(**kwargs)


def open_like(a: Any, path: Any, **kwargs: Any) -> Array:
    """Open (or create) an array at ``path`` shaped like ``a``."""
    _like_args(a, kwargs)
    if isinstance(a, Array):
        kwargs.setdefault("fill_value", a.fill_value)
    return open_array(path, **kwargs)
