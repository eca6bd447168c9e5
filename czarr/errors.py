"""Typed errors raised by czarr.

Every error is also a subclass of the built-in exception a caller would expect
(``ValueError``, ``KeyError``, ``PermissionError``...), so code written against
zarr-python's behaviour keeps working, while ``except czarr.errors.CzarrError``
catches everything czarr raises on purpose.
"""

from __future__ import annotations

from typing import Any


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


class StoreWriteError(CzarrError, OSError):
    """A store could not write (or delete) a value: the disk is full (``ENOSPC``), the
    device failed (``EIO``)... The message names the key(s) and the store; ``errno`` is
    the cause's, ``keys`` holds every key of the failed call (``key``: the first) and the
    store's own error is chained as ``__cause__``. Every czarr store writes a value whole
    or not at all, so what a key held before the failed write is still there."""

    def __init__(self, errno: int | None, strerror: str, keys: tuple[str, ...] = ()) -> None:
        super().__init__(errno, strerror)
        self.keys = tuple(keys)

    @classmethod
    def from_cause(cls, keys: Any, store: Any, cause: BaseException,
                   errno: int | None = None, action: str = "write") -> StoreWriteError:
        """The error saying that ``action`` on ``keys`` (a key or an iterable of them)
        in ``store`` failed with ``cause``; ``errno`` defaults to the cause's."""
        keys = (keys,) if isinstance(keys, str) else tuple(keys)
        if errno is None:
            errno = getattr(cause, "errno", None)
        text = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        if len(keys) <= 3:
            named = ", ".join(repr(k) for k in keys) or "every key"
        else:
            named = f"{keys[0]!r}, {keys[1]!r} and {len(keys) - 2} more keys"
        path = getattr(store, "path", None)
        where = f"{type(store).__name__}({path!r})" if isinstance(path, str) else \
            type(store).__name__
        return cls(errno, f"cannot {action} {named} in {where}: {text}", keys)

    @property
    def key(self) -> str | None:
        """The (first) key the failed call wrote."""
        return self.keys[0] if self.keys else None

    def __str__(self) -> str:
        if self.errno is None:
            return str(self.strerror)
        return super().__str__()

    def __reduce__(self) -> tuple:
        return type(self), (self.errno, self.strerror, self.keys)


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
