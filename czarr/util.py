"""Small helpers with no home of their own: integer ceil division, byte counts read from
text (``'256MiB'``) and written for humans, and the text of the ``.info`` report, the
last two formatted exactly as zarr-python 2 formats them so reports read the same side
by side."""

from __future__ import annotations

import re
from collections.abc import Iterable
from textwrap import TextWrapper

__all__ = ["ceildiv", "human_readable_size", "info_text_report", "parse_bytes"]


def ceildiv(a: int, b: int) -> int:
    """``ceil(a / b)`` in integer maths (exact for any size, unlike the float division).

    Parameters
    ----------
    a : int
    b : int
        Must not be zero.

    Returns
    -------
    int

    Examples
    --------
    >>> ceildiv(10, 3), ceildiv(9, 3), ceildiv(0, 5), ceildiv(2**63 + 1, 2)
    (4, 3, 0, 4611686018427387905)
    """
    return -(-a // b)


# (upper bound, divisor, suffix): zarr-python 2 switches unit at each power of 1024
_SIZE_UNITS = (
    (2**20, 2**10, "K"),
    (2**30, 2**20, "M"),
    (2**40, 2**30, "G"),
    (2**50, 2**40, "T"),
)


def human_readable_size(size: int) -> str:
    """A byte count as zarr-python 2 prints it in ``.info``: ``'1000'``, ``'9.8K'``, ``'35.5P'``.

    Parameters
    ----------
    size : int
        Bytes.

    Returns
    -------
    str
        The plain number below 1 KiB, else one decimal and a binary-prefix letter
        (K, M, G, T, then P for anything from 1 PiB up).

    Examples
    --------
    >>> human_readable_size(1023), human_readable_size(10000), human_readable_size(40 * 10**15)
    ('1023', '9.8K', '35.5P')
    """
    if size < 2**10:
        return f"{size}"
    for bound, divisor, suffix in _SIZE_UNITS:
        if size < bound:
            return f"{size / float(divisor):.1f}{suffix}"
    return f"{size / float(2**50):.1f}P"


def info_text_report(items: Iterable[tuple[str, object]]) -> str:
    """The text of an ``.info`` report, as zarr-python 2 lays it out.

    Each item is one line ``key : value``, keys left-aligned and padded to the longest
    key; a value longer than the 80-column line wraps onto continuation lines that carry
    an empty key column and the same ``' : '``.

    Parameters
    ----------
    items : iterable of (str, object)
        Keys and values in display order; values are formatted with ``str``.

    Returns
    -------
    str
        One line per item (more when wrapped), each ending in a newline; ``''`` when there
        are no items.
    """
    items = list(items)
    if not items:
        return ""
    width = max(len(k) for k, _ in items)
    report = ""
    for key, value in items:
        wrapper = TextWrapper(
            width=80,
            initial_indent=key.ljust(width) + " : ",
            subsequent_indent=" " * width + " : ",
        )
        report += wrapper.fill(str(value)) + "\n"
    return report


_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40}


def parse_bytes(text: str | int) -> int:
    """A byte count from ``'2GiB'``, ``'256MB'``, ``'1.5g'`` or ``1000``.

    Raises
    ------
    ValueError
        The text is not a number followed by an optional unit (B, kB, MB, GB, TB, KiB,
        MiB, GiB, TiB; case-insensitive).
    """
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (try 512MiB, 2GiB or a number of bytes)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])
