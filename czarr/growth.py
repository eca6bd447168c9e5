"""Growing and shrinking arrays: ``Array.resize`` and ``Array.append``.

The new shape is written as one ``.zarray`` document (one store write, atomic in a
DirectoryStore). Shrinking deletes every chunk wholly outside the new shape, so no orphan
keys stay behind. Growing resets the part of the old edge chunks that becomes visible to
the fill value, so values cut off by an earlier shrink never reappear.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from czarr.formats import store_array_shape
from czarr.metadata.normalize import normalize_shape
from czarr.storage import delitems

if TYPE_CHECKING:
    from czarr.core import Array

__all__ = ["resize", "append"]


def resize(arr: Array, *args: Any) -> None:
    """Change ``arr``'s shape (same number of dimensions); see :meth:`Array.resize`."""
    arr._check_writable()
    arr._refresh_metadata()
    new_shape = normalize_shape(args[0] if len(args) == 1 else args)
    old_shape = arr._shape
    if len(new_shape) != len(old_shape):
        raise ValueError(
            f"resize keeps the number of dimensions: array is {len(old_shape)}-d, "
            f"new shape {new_shape} is {len(new_shape)}-d")
    if new_shape == old_shape:
        return
    meta = store_array_shape(arr._store, arr._path, arr._meta, new_shape)
    arr._set_metadata(meta)
    chunks = arr._chunks
    layout = arr._layout
    # chunks wholly outside the new shape go
    gone = []
    for name in arr._initialized_chunk_keys():
        coords = layout.chunk_coords(name)
        if any(c * k >= n for c, k, n in zip(coords, chunks, new_shape)):
            gone.append(layout.chunk_key(coords))
    if gone:
        delitems(layout.chunk_store, gone)
    # what grew out of a kept edge chunk reads as the fill value
    fill = arr._fill_value if arr._fill_value is not None else 0
    # (within the old chunk grid: chunks past it were deleted or never written)
    grid_end = [min(n, -(-o // k) * k) for o, n, k in zip(old_shape, new_shape, chunks)]
    for d, (old, new) in enumerate(zip(old_shape, new_shape)):
        if new > old and grid_end[d] > old:
            region = tuple(slice(old, grid_end[d]) if e == d else slice(0, grid_end[e])
                           for e in range(len(new_shape)))
            if all(s.stop > s.start for s in region):
                arr.set_basic_selection(region, fill)


def append(arr: Array, data: Any, axis: int = 0) -> tuple[int, ...]:
    """Append ``data`` along ``axis``; see :meth:`Array.append`. Returns the new shape."""
    arr._check_writable()
    arr._refresh_metadata()
    data = np.asanyarray(data)
    shape = arr._shape
    ndim = len(shape)
    if not -ndim <= axis < ndim or ndim == 0:
        raise ValueError(f"axis {axis} is out of range for a {ndim}-d array")
    axis %= ndim
    if data.ndim != ndim or any(
            s != t for i, (s, t) in enumerate(zip(data.shape, shape)) if i != axis):
        raise ValueError(
            f"shape of data to append {data.shape} is not compatible with the array's "
            f"shape {shape} along axis {axis}: every other dimension must match")
    new_shape = tuple(s + data.shape[axis] if i == axis else s for i, s in enumerate(shape))
    resize(arr, new_shape)
    region = tuple(slice(shape[axis], new_shape[axis]) if i == axis else slice(None)
                   for i in range(ndim))
    if math.prod(data.shape):
        arr.set_basic_selection(region, data)
    return new_shape
