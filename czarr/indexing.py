"""What a user's selection means: parsing and validation before the Cython projection.

``normalize_basic_selection`` turns what ``arr[...]`` receives (ints, slices with any
step, ``Ellipsis``, a tuple of those) into one normalised item per dimension, raising
``IndexError``/``TypeError`` with a message that says what was given and what is
allowed. The chunk mapping itself lives in ``czarr._core.indexing``.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from czarr._core.indexing import BasicProjection

__all__ = ["BasicProjection", "normalize_basic_selection", "is_basic_selection"]


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


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
        Too many indices, more than one ``Ellipsis``, an integer out of bounds.
    TypeError
        An item that is not an int, a slice or ``Ellipsis``.
    ValueError
        A slice step of zero.
    """
    items = selection if isinstance(selection, tuple) else (selection,)
    n_ellipsis = sum(1 for s in items if s is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError(f"an index can only have a single Ellipsis ('...'), got {selection!r}")
    n_real = len(items) - n_ellipsis
    if n_real > len(shape):
        raise IndexError(
            f"too many indices for array: array is {len(shape)}-dimensional, "
            f"but {n_real} were indexed"
        )
    if n_ellipsis:
        at = next(i for i, s in enumerate(items) if s is Ellipsis)
        fill = (slice(None),) * (len(shape) - n_real)
        items = items[:at] + fill + items[at + 1:]
    else:
        items = items + (slice(None),) * (len(shape) - n_real)
    out = []
    for axis, (sel, size) in enumerate(zip(items, shape)):
        if _is_int(sel):
            i = operator.index(sel)
            if i < 0:
                i += size
            if not 0 <= i < size:
                raise IndexError(
                    f"index {operator.index(sel)} is out of bounds for axis {axis} with size {size}"
                )
            out.append(i)
        elif isinstance(sel, slice):
            for part in (sel.start, sel.stop, sel.step):
                if part is not None and not _is_int(part):
                    raise TypeError(
                        f"slice {sel!r} on axis {axis}: start, stop and step must be "
                        "integers or None"
                    )
            if sel.step is not None and operator.index(sel.step) == 0:
                raise ValueError(f"slice step cannot be zero (axis {axis})")
            out.append(sel)
        else:
            raise TypeError(
                f"unsupported selection item {sel!r} of type {type(sel).__name__} on axis "
                f"{axis}: basic selections take integers, slices and Ellipsis"
            )
    return tuple(out)
