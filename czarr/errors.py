"""Typed errors raised by czarr.

Every error is also a subclass of the built-in exception a caller would expect
(``ValueError``, ``KeyError``, ``PermissionError``...), so code written against
zarr-python's behaviour keeps working, while ``except czarr.errors.CzarrError``
catches everything czarr raises on purpose.
"""

from __future__ import annotations


class CzarrError(Exception):
    """Base class of every error czarr raises on purpose."""


class MetadataError(CzarrError, ValueError):
    """Array or group metadata (``.zarray``, ``.zgroup``, ``.zattrs``) is missing a field,
    malformed, or describes something czarr does not support."""


class CodecError(CzarrError, ValueError):
    """A codec was given invalid parameters or could not process its input."""


class ChunkDecodeError(CodecError):
    """A stored chunk (or shard) is corrupt, truncated or hostile. The message names the
    key, which is also the ``key`` attribute (None when not given)."""

    def __init__(self, *args: object, key: str | None = None) -> None:
        super().__init__(*args)
        self.key = key


class ReadOnlyError(CzarrError, PermissionError):
    """A write was attempted on a read-only array, group or store."""


class ContainsArrayError(CzarrError, ValueError):
    """An array already exists at this path."""


class ContainsGroupError(CzarrError, ValueError):
    """A group already exists at this path."""


class ArrayNotFoundError(CzarrError, ValueError):
    """No array at this path."""


class GroupNotFoundError(CzarrError, ValueError):
    """No group at this path."""


class PathNotFoundError(CzarrError, ValueError):
    """Nothing (neither array nor group) at this path."""


class BadKeyError(CzarrError, KeyError):
    """A store key is not acceptable (escapes the store root, empty segment...)."""


class MissingDependencyError(CzarrError, ImportError):
    """An optional feature needs a package that is not installed; the message names the extra."""


class CopyError(CzarrError, RuntimeError):
    """Something is already where a copy would put data (``if_exists='raise'``)."""


class NotAFileError(CzarrError, OSError):
    """A store key leads to something that is not a regular file (a FIFO, a socket, a
    device); it is refused without being read, so a read never waits on it."""


# zarr-python 2.18's remaining error names, with its bases, so `except` clauses written
# for it catch what czarr raises in the same situations


class ArrayIndexError(CzarrError, IndexError):
    """A selection that does not index the array."""


class BoundsCheckError(CzarrError, IndexError):
    """An index out of the array's bounds."""


class NegativeStepError(CzarrError, IndexError):
    """A negative slice step. zarr-python 2 refuses them; czarr reads and writes with
    any step, so it never raises this (the name is here for ``except`` clauses)."""


class VindexInvalidSelectionError(CzarrError, IndexError):
    """A coordinate (``vindex``) selection that is not one integer array or mask per
    dimension."""


class BadCompressorError(CzarrError, ValueError):
    """A compressor that is not a codec."""


class FSPathExistNotDir(GroupNotFoundError):
    """A filesystem path that exists but is not a folder, where a group should be."""


def err_too_many_indices(selection: tuple, shape: tuple) -> None:
    """Raise the ``IndexError`` zarr-python 2 raises for a selection with more items
    than the array has dimensions."""
    raise IndexError(f"too many indices for array; expected {len(shape)}, "
                     f"got {len(selection)}")


class UnsupportedFormatError(MetadataError):
    """The store holds another format's metadata (Zarr v3's ``zarr.json``) where czarr
    would read or write Zarr v2; czarr never mixes the two in one hierarchy."""
