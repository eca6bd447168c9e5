"""What a user's selection means: parsing and validation before the Cython projection.

Each selection kind has a ``normalize_*`` function that turns what the user passed into
the plain form its projection takes, raising ``IndexError``/``TypeError`` with a message
that says what was given and what is allowed:

- basic: ints, slices with any step and ``Ellipsis`` (``czarr._core.indexing``);
- orthogonal (``arr.oindex``): per dimension an int, a slice, an integer array or a
  boolean mask of that dimension's length (``czarr._core.fancy``);
- coordinate (``arr.vindex``): integer arrays broadcast together, one per dimension;
- mask: one boolean array of the array's shape, turned into coordinates;
- block (``arr.blocks``): ints and step-1 slices over chunk indices, turned into a basic
  selection.

``selection_kind`` decides which of these ``arr[...]`` means, as zarr-python 2 does, and
``pop_fields``/``check_fields``/``select_fields`` handle structured-dtype field names.
The ``OIndex``/``VIndex``/``BlockIndex`` accessors forward to the ``Array`` methods.
The chunk mapping itself lives in ``czarr._core``.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from czarr._core.fancy import CoordinateProjection, OrthogonalProjection
from czarr._core.indexing import BasicProjection
from czarr.errors import BoundsCheckError

if TYPE_CHECKING:
    from czarr.core import Array

__all__ = [
    "BasicProjection",
    "OrthogonalProjection",
    "CoordinateProjection",
    "normalize_basic_selection",
    "is_basic_selection",
    "normalize_orthogonal_selection",
    "normalize_coordinate_selection",
    "normalize_mask_selection",
    "block_to_basic_selection",
    "basic_projection",
    "orthogonal_projection",
    "coordinate_projection",
    "mask_projection",
    "block_projection",
    "selection_kind",
    "pop_fields",
    "check_fields",
    "select_fields",
    "assign_fields",
    "OIndex",
    "VIndex",
    "BlockIndex",
]

_ALLOWED = ("integers, slices (`:`), Ellipsis (`...`), integer arrays and boolean arrays "
            "are valid indices")


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _as_index_array(x: Any) -> np.ndarray | None:
    """``x`` as an ndarray when it is an array or a list (an index array), else None."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, list):
        a = np.asarray(x)
        if a.size == 0 and a.dtype.kind == "f":
            a = a.astype(np.int64)  # [] is an empty integer index, as in NumPy
        return a
    return None


def _check_index_dtype(a: np.ndarray, what: str) -> None:
    if a.dtype.kind not in "uib":
        raise TypeError(f"{what}: arrays used as indices must be of integer or boolean "
                        f"type, got an array of dtype {a.dtype}")


def _refuse_newaxis(items: tuple) -> None:
    if any(s is None for s in items):
        raise IndexError("newaxis (None) is not supported in czarr selections: index with "
                         "integers, slices, Ellipsis, integer arrays or boolean arrays, "
                         "then add axes to the result with numpy")


def _expand_ellipsis(selection: Any, ndim: int) -> tuple:
    """One item per dimension: ``Ellipsis`` (at most one) and missing trailing items
    become ``slice(None)``."""
    items = selection if isinstance(selection, tuple) else (selection,)
    _refuse_newaxis(items)
    n_ellipsis = sum(1 for s in items if s is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError(f"an index can only have a single Ellipsis ('...'), got {selection!r}")
    n_real = len(items) - n_ellipsis
    if n_real > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, "
            f"but {n_real} were indexed"
        )
    if n_ellipsis:
        at = next(i for i, s in enumerate(items) if s is Ellipsis)
        fill = (slice(None),) * (ndim - n_real)
        return items[:at] + fill + items[at + 1:]
    return items + (slice(None),) * (ndim - n_real)


def _normalize_int(sel: Any, axis: int, size: int) -> int:
    i = operator.index(sel)
    if i < 0:
        i += size
    if not 0 <= i < size:
        raise BoundsCheckError(
            f"index {operator.index(sel)} is out of bounds for axis {axis} with size {size}"
        )
    return i


def _check_slice(sel: slice, axis: int) -> slice:
    for part in (sel.start, sel.stop, sel.step):
        if part is not None and not _is_int(part):
            raise TypeError(
                f"slice {sel!r} on axis {axis}: start, stop and step must be "
                "integers or None"
            )
    if sel.step is not None and operator.index(sel.step) == 0:
        raise ValueError(f"slice step cannot be zero (axis {axis})")
    return sel


def _normalize_int_array(a: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Integer indices made non-negative, checked against ``size``, as int64."""
    if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
        raise BoundsCheckError(f"index {a.max()} is out of bounds for axis {axis} with size {size}")
    a = a.astype(np.int64, copy=False)
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < -size or hi >= size:
            bad = lo if lo < -size else hi
            raise BoundsCheckError(f"index {bad} is out of bounds for axis {axis} with size {size}")
        if lo < 0:
            a = np.where(a < 0, a + size, a)
    return a


def is_basic_selection(selection: Any) -> bool:
    """True when ``selection`` only holds ints, slices and ``Ellipsis``."""
    items = selection if isinstance(selection, tuple) else (selection,)
    return all(_is_int(s) or isinstance(s, slice) or s is Ellipsis for s in items)


def normalize_basic_selection(selection: Any, shape: tuple[int, ...]) -> tuple:
    """One ``int`` (non-negative, in bounds) or ``slice`` per dimension.

    Parameters
    ----------
    selection : int, slice, Ellipsis or tuple of those
        What was passed to ``arr[...]``.
    shape : tuple of int
        The array's shape.

    Returns
    -------
    tuple
        ``len(shape)`` items.

    Raises
    ------
    IndexError
        Too many indices, more than one ``Ellipsis``, an integer out of bounds, newaxis.
    TypeError
        An item that is not an int, a slice or ``Ellipsis``.
    ValueError
        A slice step of zero.
    """
    items = _expand_ellipsis(selection, len(shape))
    out = []
    for axis, (sel, size) in enumerate(zip(items, shape)):
        if _is_int(sel):
            out.append(_normalize_int(sel, axis, size))
        elif isinstance(sel, slice):
            out.append(_check_slice(sel, axis))
        else:
            raise TypeError(
                f"unsupported selection item {sel!r} of type {type(sel).__name__} on axis "
                f"{axis}: basic selections take integers, slices and Ellipsis "
                "(use arr.oindex or arr.vindex for arrays)"
            )
    return tuple(out)


# ------------------------------------------------------------------------- orthogonal

def normalize_orthogonal_selection(selection: Any, shape: tuple[int, ...]) -> tuple:
    """One item per dimension: an ``int`` (non-negative, in bounds), a ``slice``, or a
    1-D ``int64`` array of non-negative in-bounds indices (a boolean mask becomes the
    indices of its ``True`` elements).

    Raises
    ------
    IndexError
        Out-of-bounds indices, a mask of the wrong length, a multi-dimensional index
        array, too many indices, newaxis.
    TypeError
        Float indices or another unsupported item.
    """
    items = _expand_ellipsis(selection, len(shape))
    out: list[Any] = []
    for axis, (sel, size) in enumerate(zip(items, shape)):
        if _is_int(sel):
            out.append(_normalize_int(sel, axis, size))
            continue
        if isinstance(sel, slice):
            out.append(_check_slice(sel, axis))
            continue
        a = _as_index_array(sel)
        if a is None:
            raise TypeError(
                f"unsupported selection item {sel!r} of type {type(sel).__name__} on axis "
                f"{axis}: orthogonal selections take integers, slices, 1-D integer arrays "
                "and 1-D boolean arrays"
            )
        _check_index_dtype(a, f"axis {axis}")
        if a.dtype == bool:
            if a.ndim != 1 or a.shape[0] != size:
                raise IndexError(
                    f"boolean index did not match indexed array along axis {axis}; size of "
                    f"axis is {size} but boolean index has shape {a.shape}"
                )
            out.append(np.flatnonzero(a).astype(np.int64, copy=False))
        elif a.ndim == 0:
            out.append(_normalize_int(a[()], axis, size))
        elif a.ndim != 1:
            raise IndexError(
                f"orthogonal selections take 1-D index arrays, got a {a.ndim}-D array of "
                f"shape {a.shape} on axis {axis} (use arr.vindex for point selections)"
            )
        else:
            out.append(_normalize_int_array(a, axis, size))
    return tuple(out)


def basic_projection(selection: Any, shape: tuple[int, ...],
                     chunks: tuple[int, ...]) -> BasicProjection:
    """The projection of a basic selection."""
    return BasicProjection(normalize_basic_selection(selection, shape), shape, chunks)


def orthogonal_projection(selection: Any, shape: tuple[int, ...],
                          chunks: tuple[int, ...]) -> Any:
    """The projection of an orthogonal selection (a ``BasicProjection`` when it has no
    index arrays)."""
    sel = normalize_orthogonal_selection(selection, shape)
    if any(isinstance(s, np.ndarray) for s in sel):
        return OrthogonalProjection(sel, shape, chunks)
    return BasicProjection(sel, shape, chunks)


# ------------------------------------------------------------------------- coordinate

def normalize_coordinate_selection(
    selection: Any, shape: tuple[int, ...]
) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """Integer coordinates, one array (or int) per dimension, broadcast together.

    Returns
    -------
    coords : tuple of numpy.ndarray
        One flat C-contiguous ``int64`` array per dimension (non-negative, in bounds).
    out_shape : tuple of int
        The broadcast shape: the shape of the result.
    """
    ndim = len(shape)
    items = selection if isinstance(selection, tuple) else (selection,)
    _refuse_newaxis(items)
    if len(items) != ndim:
        raise IndexError(
            f"a coordinate selection needs one integer array per dimension: the array is "
            f"{ndim}-dimensional, but {len(items)} were given"
        )
    arrays = []
    for axis, sel in enumerate(items):
        a = np.asarray(sel) if _is_int(sel) else _as_index_array(sel)
        if a is None:
            raise IndexError(
                f"unsupported selection item {sel!r} of type {type(sel).__name__} on axis "
                f"{axis}: coordinate selections (vindex) take integers and integer arrays, "
                "or one boolean array of the array's shape"
            )
        _check_index_dtype(a, f"axis {axis}")
        if a.dtype == bool:
            raise IndexError(
                f"boolean array on axis {axis} in a coordinate selection: give one boolean "
                "array of the array's shape (a mask selection), or use arr.oindex for "
                "per-dimension masks"
            )
        arrays.append(a)
    try:
        b = np.broadcast(*arrays) if arrays else None
    except ValueError:
        shapes = " ".join(str(a.shape) for a in arrays)
        raise IndexError(
            f"shape mismatch: indexing arrays could not be broadcast together with shapes "
            f"{shapes}"
        ) from None
    out_shape = tuple(b.shape) if b is not None else ()
    coords = tuple(
        np.ascontiguousarray(
            _normalize_int_array(np.broadcast_to(a, out_shape), axis, size).reshape(-1)
        )
        for axis, (a, size) in enumerate(zip(arrays, shape))
    )
    return coords, out_shape


def normalize_mask_selection(
    selection: Any, shape: tuple[int, ...]
) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """A boolean array of the array's shape, as the coordinates of its ``True`` elements
    (in C order) and the result's shape ``(count,)``."""
    items = selection if isinstance(selection, tuple) else (selection,)
    if len(items) != 1:
        raise IndexError(f"a mask selection is one boolean array, got {len(items)} items")
    mask = _as_index_array(items[0])
    if mask is None or mask.dtype != bool:
        what = type(items[0]).__name__ if mask is None else f"array of dtype {mask.dtype}"
        raise IndexError(f"a mask selection takes a boolean array, got {what}")
    if mask.shape != tuple(shape):
        raise IndexError(
            f"boolean index did not match indexed array: the array has shape {tuple(shape)} "
            f"but the mask has shape {mask.shape}"
        )
    if not shape:
        raise IndexError("a mask selection needs an array with at least one dimension")
    coords = tuple(np.ascontiguousarray(c, dtype=np.int64) for c in np.nonzero(mask))
    return coords, (int(coords[0].shape[0]),)


def coordinate_projection(selection: Any, shape: tuple[int, ...],
                          chunks: tuple[int, ...]) -> Any:
    """The projection of a coordinate selection (``()`` on a 0-d array is basic)."""
    if not shape and (selection is Ellipsis or selection == ()):
        return BasicProjection((), shape, chunks)
    if not shape:
        raise IndexError("a coordinate selection needs an array with at least one dimension")
    coords, out_shape = normalize_coordinate_selection(selection, shape)
    return CoordinateProjection(coords, shape, chunks, out_shape)


def mask_projection(selection: Any, shape: tuple[int, ...],
                    chunks: tuple[int, ...]) -> CoordinateProjection:
    """The projection of a mask selection."""
    coords, out_shape = normalize_mask_selection(selection, shape)
    return CoordinateProjection(coords, shape, chunks, out_shape)


# ------------------------------------------------------------------------- blocks

def block_to_basic_selection(selection: Any, shape: tuple[int, ...],
                             chunks: tuple[int, ...]) -> tuple:
    """A block selection (ints and step-1 slices over chunk indices) as the basic
    selection of the elements those chunks hold (edge blocks are partial). An integer
    block index keeps its dimension, as in zarr-python."""
    items = _expand_ellipsis(selection, len(shape))
    out = []
    for axis, (sel, size, c) in enumerate(zip(items, shape, chunks)):
        nblocks = -(-size // c)
        if _is_int(sel):
            b = operator.index(sel)
            if b < 0:
                b += nblocks
            if not 0 <= b < nblocks:
                raise BoundsCheckError(
                    f"block index {operator.index(sel)} is out of bounds for axis {axis} "
                    f"with {nblocks} blocks"
                )
            out.append(slice(b * c, min((b + 1) * c, size)))
        elif isinstance(sel, slice):
            _check_slice(sel, axis)
            if sel.step is not None and operator.index(sel.step) != 1:
                raise IndexError(
                    f"block selections take slices with step 1, got {sel!r} on axis {axis}"
                )
            start, stop, _ = sel.indices(nblocks)
            stop = max(start, stop)
            out.append(slice(start * c, min(stop * c, size)))
        else:
            raise TypeError(
                f"unsupported block selection item {sel!r} of type {type(sel).__name__} on "
                f"axis {axis}: block selections take integers and slices with step 1"
            )
    return tuple(out)


def block_projection(selection: Any, shape: tuple[int, ...],
                     chunks: tuple[int, ...]) -> BasicProjection:
    """The projection of a block selection."""
    return BasicProjection(block_to_basic_selection(selection, shape, chunks), shape, chunks)


# ------------------------------------------------------------------------- dispatch

def _is_array_like(x: Any) -> bool:
    return isinstance(x, (np.ndarray, list))


def selection_kind(selection: Any, ndim: int) -> str:
    """Which selection ``arr[selection]`` means, as in zarr-python 2: ``'mask'`` (one
    boolean array of the array's dimensionality), ``'coordinate'`` (a tuple of one
    integer or integer array per dimension, at least one array, no slices),
    ``'orthogonal'`` (any other selection with index arrays or masks) or ``'basic'``.
    """
    if _is_array_like(selection):
        a = _as_index_array(selection)
        _check_index_dtype(a, "selection")
        if a.dtype == bool:
            return "mask" if a.ndim == ndim and ndim != 1 else "orthogonal"
        return "coordinate" if ndim == 1 and a.ndim != 1 else "orthogonal"
    items = selection if isinstance(selection, tuple) else (selection,)
    _refuse_newaxis(items)
    arrays = [_as_index_array(s) for s in items if _is_array_like(s)]
    if not arrays:
        return "basic"
    for a in arrays:
        _check_index_dtype(a, "selection")
    if (
        len(items) == ndim
        and len(arrays) + sum(1 for s in items if _is_int(s)) == ndim
        and all(a.dtype != bool for a in arrays)
    ):
        return "coordinate"
    return "orthogonal"


# ------------------------------------------------------------------------- fields

def pop_fields(selection: Any) -> tuple[Any, Any]:
    """Split field names (``str`` items) from a selection, as zarr-python 2 does:
    ``'x'`` is field ``'x'`` of everything; ``('x', 0)`` is field ``'x'`` of item 0."""
    if isinstance(selection, str):
        return selection, ()
    if not isinstance(selection, tuple):
        return None, selection
    fields = [s for s in selection if isinstance(s, str)]
    rest = tuple(s for s in selection if not isinstance(s, str))
    if not fields:
        return None, selection
    return (fields[0] if len(fields) == 1 else fields), (rest[0] if len(rest) == 1 else rest)


def check_fields(fields: Any, dtype: np.dtype) -> np.dtype:
    """The dtype of the result of reading ``fields`` (a name or a list of names) of a
    structured ``dtype``; ``dtype`` itself when ``fields`` is None or empty."""
    if fields is None:
        return dtype
    if not isinstance(fields, (str, list, tuple)):
        raise IndexError(f"'fields' must be a field name or a list of field names, got "
                         f"{type(fields).__name__}")
    if not fields:
        return dtype
    if dtype.names is None:
        raise IndexError(f"fields {fields!r} given, but the array's dtype {dtype} has no fields")
    names = [fields] if isinstance(fields, str) else list(fields)
    missing = [f for f in names if not isinstance(f, str) or f not in dtype.names]
    if missing:
        raise IndexError(f"no field {missing[0]!r} in the array's dtype: its fields are "
                         f"{list(dtype.names)}")
    if isinstance(fields, str):
        return dtype[fields]
    return np.dtype([(f, dtype[f]) for f in names])


def select_fields(arr: np.ndarray, fields: Any) -> np.ndarray:
    """``arr``'s ``fields`` as a new packed array (``arr`` itself when no fields)."""
    out_dtype = check_fields(fields, arr.dtype)
    if not fields:
        return arr
    if isinstance(fields, str):
        return arr[fields].copy()  # C order, 0-d stays 0-d
    out = np.empty(arr.shape, dtype=out_dtype)
    for f in fields:
        out[f] = arr[f]
    return out


def assign_fields(arr: np.ndarray, fields: Any, value: Any) -> None:
    """Set one field of the structured ``arr`` to ``value`` (broadcast)."""
    check_fields(fields, arr.dtype)
    if isinstance(fields, (list, tuple)):
        if len(fields) != 1:
            raise IndexError(f"writes take a single field, got fields {list(fields)!r}")
        fields = fields[0]
    try:
        arr[fields] = value
    except ValueError as e:
        raise ValueError(f"could not assign value to field {fields!r} of the selection "
                         f"(shape {arr.shape}): {e}") from None


# ------------------------------------------------------------------------- accessors

class OIndex:
    """``arr.oindex[...]``: orthogonal selections (see
    :meth:`czarr.Array.get_orthogonal_selection`)."""

    __slots__ = ("array",)

    def __init__(self, array: Array) -> None:
        self.array = array

    def __getitem__(self, selection: Any) -> Any:
        fields, selection = pop_fields(selection)
        return self.array.get_orthogonal_selection(selection, fields=fields)

    def __setitem__(self, selection: Any, value: Any) -> None:
        fields, selection = pop_fields(selection)
        self.array.set_orthogonal_selection(selection, value, fields=fields)


class VIndex:
    """``arr.vindex[...]``: coordinate selections, or a mask selection when given one
    boolean array of the array's shape."""

    __slots__ = ("array",)

    def __init__(self, array: Array) -> None:
        self.array = array

    def _is_mask(self, selection: Any) -> bool:
        a = _as_index_array(selection) if _is_array_like(selection) else None
        return a is not None and a.dtype == bool

    def __getitem__(self, selection: Any) -> Any:
        fields, selection = pop_fields(selection)
        if self._is_mask(selection):
            return self.array.get_mask_selection(selection, fields=fields)
        return self.array.get_coordinate_selection(selection, fields=fields)

    def __setitem__(self, selection: Any, value: Any) -> None:
        fields, selection = pop_fields(selection)
        if self._is_mask(selection):
            self.array.set_mask_selection(selection, value, fields=fields)
        else:
            self.array.set_coordinate_selection(selection, value, fields=fields)


class BlockIndex:
    """``arr.blocks[...]``: block selections (see
    :meth:`czarr.Array.get_block_selection`)."""

    __slots__ = ("array",)

    def __init__(self, array: Array) -> None:
        self.array = array

    def __getitem__(self, selection: Any) -> Any:
        fields, selection = pop_fields(selection)
        return self.array.get_block_selection(selection, fields=fields)

    def __setitem__(self, selection: Any, value: Any) -> None:
        fields, selection = pop_fields(selection)
        self.array.set_block_selection(selection, value, fields=fields)
