"""Views of an array and digests of what it stores (zarr-python 2's ``Array.view``,
``astype``, ``digest`` and ``hexdigest``).

A view is another :class:`czarr.Array` over the same store and path whose metadata is
changed in memory only (shape, chunks, dtype, fill value, filters): nothing is written,
and the stored array is unchanged. ``astype`` is a read-only view that decodes through an
``AsType`` filter. A digest hashes every chunk (in grid order, missing ones as empty),
then ``.zarray`` and ``.zattrs``, as zarr-python 2 does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from czarr.layout import array_meta_key, attrs_key
from czarr.metadata.v2 import normalize_chunks, normalize_shape
from czarr.storage import getitems

if TYPE_CHECKING:
    from czarr.core import Array

__all__ = ["astype", "digest", "view"]


def view(arr: Array, shape: Any = None, chunks: Any = None, dtype: Any = None,
         fill_value: Any = None, filters: Any = None, read_only: bool | None = None,
         synchronizer: Any = None) -> Array:
    """A view of ``arr`` with some metadata changed in memory (see
    :meth:`czarr.Array.view`)."""
    meta = arr._meta
    changes: dict[str, Any] = {}
    if shape is not None:
        changes["shape"] = normalize_shape(shape)
    if chunks is not None:
        changes["chunks"] = normalize_chunks(chunks, changes.get("shape", meta.shape),
                                             meta.dtype.itemsize)
    if filters is not None:
        changes["filters"] = [f.get_config() if hasattr(f, "get_config") else f
                              for f in filters] or None
    if dtype is not None:
        dtype = np.dtype(dtype)
        changes["dtype"] = dtype
        if fill_value is None and meta.fill_value is not None:
            old = np.array(meta.fill_value, dtype=meta.dtype)
            same_bytes = dtype.itemsize == meta.dtype.itemsize and filters is None
            fill_value = old.view(dtype)[()] if same_bytes else old.astype(dtype)[()]
        if filters is None and dtype.itemsize != meta.dtype.itemsize:
            raise ValueError(f"a view as {dtype} of {meta.dtype} items needs filters that "
                             "convert them (see astype)")
    if fill_value is not None:
        changes["fill_value"] = fill_value
    new_meta = dataclasses.replace(meta, **changes)
    out = arr.__class__.__new__(arr.__class__)
    out.__dict__.update(arr.__dict__)
    out._is_view = True
    out._cache_metadata = True  # a view never reloads the stored metadata
    if read_only is not None:
        out._read_only = bool(read_only)
    if synchronizer is not None:
        out._synchronizer = synchronizer
    out._set_metadata(new_meta)
    return out


def astype(arr: Array, dtype: Any) -> Array:
    """A read-only view of ``arr`` whose values are cast to ``dtype`` as they are read."""
    from czarr.codecs import AsType

    dtype = np.dtype(dtype)
    filters = [AsType(encode_dtype=arr.dtype, decode_dtype=dtype)] + list(arr.filters or [])
    return view(arr, filters=filters, dtype=dtype, read_only=True)


def digest(arr: Array, hashname: str = "sha1") -> bytes:
    """The hash (``hashlib`` name) of every chunk in grid order, then ``.zarray`` and
    ``.zattrs``; two arrays storing the same bytes have the same digest."""
    h = hashlib.new(hashname)
    chunk_store = arr.chunk_store
    prefix = arr._key_prefix
    sep = arr._dimension_separator
    coords = itertools.product(*[range(n) for n in arr.cdata_shape])
    while True:
        batch = list(itertools.islice(coords, 4096))
        if not batch:
            break
        keys = [prefix + (sep.join(map(str, c)) if c else "0") for c in batch]
        found = getitems(chunk_store, keys)
        for key in keys:
            value = found.get(key)
            if value is not None:
                h.update(value)
    for key in (array_meta_key(arr.path), attrs_key(arr.path)):
        try:
            h.update(arr.store[key])
        except KeyError:
            pass
    return h.digest()
