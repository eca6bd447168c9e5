"""Growing and shrinking arrays: ``Array.resize`` and ``Array.append``.

A resize either happens or does not, whatever fails (a full disk, an I/O error, a
killed process): the new shape becomes true in one store write, the ``.zarray`` (or
``zarr.json``) document, and every other step is done where no reader looks. Before that
write, growing scrubs what the old shape hid and the new one would show: chunks wholly
outside the old shape (left there by a shrink whose deletions failed or were cut short)
are deleted, and the hidden tail of the old edge chunks is reset to the fill value; an
append also writes its data there, still hidden. After that write, shrinking deletes
the chunks wholly outside the new shape; if that fails they stay, hidden, and a later
growth deletes them before they could show, so values cut off by a shrink never
reappear (in zarr-python 2 they can). The in-memory metadata changes only once the
document is written.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from czarr.formats import store_array_shape
from czarr.indexing import basic_projection
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
    if new_shape != old_shape:
        _change_shape(arr, new_shape)


def _change_shape(arr: Array, new_shape: tuple[int, ...], data: Any = None,
                  region: tuple[slice, ...] | None = None) -> None:
    """Give ``arr`` ``new_shape``; with ``data``, write it into ``region`` (a part of
    the new shape that the old one hides, covering every old edge chunk's hidden tail)
    before the new shape is written."""
    old_shape = arr._shape
    chunks = arr._chunks
    layout = arr._layout

    def outside(coords: tuple[int, ...], shape: tuple[int, ...]) -> bool:
        return any(c * k >= n for c, k, n in zip(coords, chunks, shape))

    stored = [layout.chunk_coords(name) for name in arr._initialized_chunk_keys()]
    # 1. hidden work: drop what the old shape hides, write what the new one shows
    stale = [layout.chunk_key(c) for c in stored if outside(c, old_shape)]
    if stale:
        delitems(layout.chunk_store, stale)
    if data is not None:
        arr._write(basic_projection(region, new_shape, chunks), data)
    else:
        _reset_hidden_tails(arr, old_shape, new_shape)
    # 2. the one write that makes the new shape true
    arr._set_metadata(store_array_shape(arr._store, arr._path, arr._meta, new_shape))
    # 3. chunks the new shape hides; a failure leaves them hidden, for step 1 to drop
    gone = [layout.chunk_key(c) for c in stored
            if outside(c, new_shape) and not outside(c, old_shape)]
    if gone:
        try:
            delitems(layout.chunk_store, gone)
        except OSError as exc:
            warnings.warn(
                f"array {arr.name!r} was resized to {new_shape}, but {len(gone)} chunks "
                f"outside it could not all be deleted ({exc}); they are never read, and "
                "the next resize that grows the array deletes them",
                RuntimeWarning, stacklevel=4)


def _reset_hidden_tails(arr: Array, old_shape: tuple[int, ...],
                        new_shape: tuple[int, ...]) -> None:
    """Set to the fill value the part of the old edge chunks that growing to
    ``new_shape`` shows: it may hold values an earlier shrink cut off."""
    chunks = arr._chunks
    fill = arr._fill_value if arr._fill_value is not None else 0
    # (within the old chunk grid: chunks past it were deleted or never written)
    grid_end = [min(n, -(-o // k) * k) for o, n, k in zip(old_shape, new_shape, chunks)]
    for d, (old, new) in enumerate(zip(old_shape, new_shape)):
        if new > old and grid_end[d] > old:
            region = tuple(slice(old, grid_end[d]) if e == d else slice(0, grid_end[e])
                           for e in range(len(new_shape)))
            if all(s.stop > s.start for s in region):
                arr._write(basic_projection(region, new_shape, chunks), fill)


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
    if new_shape != shape:
        # the data lands before the new shape is written: a failed append changes nothing
        region = tuple(slice(shape[axis], new_shape[axis]) if i == axis else slice(None)
                       for i in range(ndim))
        _change_shape(arr, new_shape, data=data, region=region)
    return new_shape
