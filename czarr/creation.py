"""Creating and opening arrays: ``create``, ``zeros``, ``ones``, ``empty``, ``full``,
``array``, ``open_array``, ``open`` and the ``*_like`` functions, as in zarr-python 2.

Everything here writes metadata through ``czarr.layout.init_array`` and returns a
``czarr.core.Array``; a plain path or ``None`` as ``store`` goes through
``czarr.storage.normalize_store_arg``.
"""

from __future__ import annotations

import warnings
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
from czarr.layout import (
    check_format,
    check_v2_only,
    contains_array,
    contains_group,
    init_array,
    normalize_path,
    resolve_format,
)
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
    write_empty_chunks: bool = True,
    *,
    zarr_version: Any = None,
    meta_array: Any = None,
    storage_transformers: Any = (),
    zarr_format: int | None = None,
    shards: Any = None,
    dimension_names: Any = None,
    attributes: Any = None,
    chunk_key_encoding: str | None = None,
    cache_chunks: bool | int | str | None = None,
    **kwargs: Any,
) -> Array:
    """Create an array (zarr-python 2.18's ``create``, argument for argument, plus
    zarr-python 3's ``zarr_format``, ``shards``, ``dimension_names`` and ``attributes``).

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
        Separator in chunk keys (default: the store's, else ``'.'``).
    write_empty_chunks : bool
        Store chunks that hold only the fill value (default True, as zarr-python 2.18).
    zarr_version, meta_array, storage_transformers
        zarr-python 2.18's experimental v3 arguments (``zarr_version=3`` means
        ``zarr_format=3``; a NumPy array; ``()``).
    zarr_format : {2, 3}, optional
        The format (default 2).
    shards : tuple of int, optional
        Zarr v3: store ``chunks`` (the inner chunks) in shards of this shape.
    dimension_names : sequence of str, optional
        Zarr v3: a name per dimension.
    attributes : dict, optional
        Attributes to store with the array.
    chunk_key_encoding : {'default', 'v2'}, optional
        Zarr v3: how chunk keys are spelled (``c/0/1`` or ``0.1``; the separator is
        ``dimension_separator``).
    cache_chunks : bool, int, str or None
        The decoded-chunk cache for this array (see :class:`czarr.Array`); None follows
        ``czarr.config``.
    **kwargs
        h5py's spellings, as zarr-python 2 takes them: ``compression`` and
        ``compression_opts`` (a codec id and its arguments), ``fillvalue``; any other
        keyword is ignored with a ``UserWarning``.

    Returns
    -------
    czarr.Array
    """
    check_v2_only(zarr_version=zarr_version, storage_transformers=storage_transformers,
                  meta_array=meta_array)
    store = normalize_store_arg(store, mode="a")
    compressor, fill_value = _kwargs_compat(compressor, fill_value, kwargs)
    store_separator = getattr(store, "_dimension_separator", None)
    if dimension_separator is not None and store_separator not in (None, dimension_separator):
        raise ValueError(f"dimension_separator {dimension_separator!r} conflicts with the "
                         f"store's separator {store_separator!r}")
    fmt = resolve_format(zarr_format, zarr_version) or 2
    init_array(
        store, shape=shape, chunks=chunks, dtype=dtype, compressor=compressor,
        fill_value=fill_value, order=order, overwrite=overwrite, path=path,
        chunk_store=chunk_store, filters=filters, object_codec=object_codec,
        dimension_separator=dimension_separator, zarr_format=fmt, shards=shards,
        dimension_names=dimension_names, attributes=attributes if fmt == 3 else None,
        chunk_key_encoding=chunk_key_encoding,
    )
    arr = Array(
        store, path=path, read_only=read_only, chunk_store=chunk_store,
        synchronizer=synchronizer, cache_metadata=cache_metadata, cache_attrs=cache_attrs,
        write_empty_chunks=write_empty_chunks, cache_chunks=cache_chunks,
    )
    if attributes and fmt == 2:
        arr.attrs.put(dict(attributes))
    return arr


def _kwargs_compat(compressor: Any, fill_value: Any, kwargs: dict) -> tuple[Any, Any]:
    """h5py's ``compression``/``compression_opts``/``fillvalue`` as zarr-python 2 reads
    them (with its warnings); other unknown keywords warn and are ignored."""
    from czarr.codecs import codec_registry, get_codec

    if compressor != "default":
        for name in ("compression", "compression_opts"):
            if name in kwargs:
                warnings.warn(f"{name!r} keyword argument overridden by 'compressor'",
                              stacklevel=4)
                del kwargs[name]
    elif "compression" in kwargs:
        compression = kwargs.pop("compression")
        opts = kwargs.pop("compression_opts", None)
        if compression is None or compression == "none":
            compressor = None
        elif compression == "default":
            compressor = "default"
        elif isinstance(compression, str):
            if compression not in codec_registry:
                compressor = get_codec({"id": compression, **(opts or {})}) \
                    if isinstance(opts, dict) or opts is None else None
                if compressor is None:
                    raise ValueError(f"bad value for compression_opts: {opts!r}")
            else:
                cls = codec_registry[compression]
                if isinstance(opts, dict):
                    compressor = cls(**opts)
                elif isinstance(opts, list | tuple):
                    compressor = cls(*opts)
                elif opts is None:
                    compressor = cls()
                else:
                    compressor = cls(opts)
        elif hasattr(compression, "get_config"):
            compressor = compression
        else:
            raise ValueError(f"bad value for compression: {compression!r}")
    if "fillvalue" in kwargs:
        fill_value = kwargs.pop("fillvalue")
    for k in kwargs:
        warnings.warn(f"ignoring keyword argument {k!r}", UserWarning, stacklevel=3)
    return compressor, fill_value


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
    storage_options: dict | None = None,
    partial_decompress: Any = None,
    write_empty_chunks: bool = True,
    *,
    zarr_version: Any = None,
    dimension_separator: str | None = None,
    meta_array: Any = None,
    zarr_format: int | None = None,
    shards: Any = None,
    dimension_names: Any = None,
    cache_chunks: bool | int | str | None = None,
    **kwargs: Any,
) -> Array:
    """Open an array with a file-like ``mode``: ``'r'`` read-only, must exist; ``'r+'``
    must exist; ``'a'`` open or create (default); ``'w'`` create, removing what was
    there; ``'w-'``/``'x'`` create, fail if something exists. The creation arguments
    are used when the array is created (zarr-python 2.18's ``open_array``, argument for
    argument; ``storage_options`` go to the store a URL makes). ``cache_chunks`` sets the
    array's decoded-chunk cache (see :class:`czarr.Array`)."""
    check_v2_only(zarr_version=zarr_version, meta_array=meta_array)
    store = normalize_store_arg(store, storage_options=storage_options, mode=mode)
    compressor, fill_value = _kwargs_compat(compressor, fill_value, kwargs)
    if chunk_store is not None:
        chunk_store = normalize_store_arg(chunk_store, storage_options=storage_options,
                                          mode=mode)
    path = normalize_path(path)
    create_kwargs = dict(
        shape=shape, chunks=chunks, dtype=dtype, compressor=compressor,
        fill_value=fill_value, order=order, path=path, chunk_store=chunk_store,
        filters=filters, object_codec=object_codec, dimension_separator=dimension_separator,
        zarr_format=resolve_format(zarr_format, zarr_version) or 2, shards=shards,
        dimension_names=dimension_names,
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
            check_format(store, path, create_kwargs["zarr_format"])
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
        partial_decompress=partial_decompress, write_empty_chunks=write_empty_chunks,
        cache_chunks=cache_chunks,
    )


def _need_shape(shape: Any) -> None:
    if shape is None:
        raise TypeError("creating an array needs shape=")


def open(store: Any = None, mode: str = "a", *, zarr_version: Any = None,
         path: str | None = None, **kwargs: Any) -> Any:
    """Open an array or a group, whichever is at ``path`` (a new group in modes ``'a'``,
    ``'w'``, ``'w-'`` unless ``shape=`` asks for an array). ``storage_options`` go to
    the fsspec filesystem when ``store`` is a URL.

    Returns
    -------
    czarr.Array or czarr.Group
    """
    from czarr.hierarchy import open_group

    check_v2_only(zarr_version=zarr_version)
    use_consolidated = kwargs.pop("use_consolidated", None)
    store = normalize_store_arg(store, storage_options=kwargs.pop("storage_options", None),
                                mode=mode)
    path = normalize_path(path)
    meta_store = _consolidated_store(store, path, mode, use_consolidated, kwargs)
    if meta_store is not None:
        from czarr.consolidated import open_over

        return open_over(meta_store, store, mode, path, **kwargs)
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


def _consolidated_store(store: MutableMapping, path: str, mode: str,
                        use_consolidated: bool | None, kwargs: dict) -> Any:
    """The consolidated metadata to open ``path`` through, read once (see
    :func:`czarr.consolidated.read_consolidated`), or None: when asked
    (``use_consolidated=True``; KeyError if there is none), or by default (None) when
    reading (mode ``'r'``) a group that has it."""
    from czarr.consolidated import read_consolidated

    if use_consolidated is False or kwargs.get("chunk_store") is not None:
        return None
    if not use_consolidated and mode != "r":
        return None
    if use_consolidated and mode not in ("r", "r+"):
        raise ValueError(f"invalid mode {mode!r}: consolidated metadata opens with 'r' or "
                         "'r+'")
    meta_store = read_consolidated(store, path, zarr_format=kwargs.get("zarr_format"))
    if meta_store is None and use_consolidated:
        raise KeyError(f"the group at {path or '/'!r} has no consolidated metadata")
    return meta_store


def _group_kwargs(kwargs: dict) -> dict:
    allowed = {"cache_attrs", "synchronizer", "chunk_store", "meta_array", "zarr_format"}
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


# zarr-python 2.18 names that live in other czarr modules (see czarr.compat)
__getattr__ = __import__("czarr.compat", fromlist=["lazy_names"]).lazy_names(__name__)
