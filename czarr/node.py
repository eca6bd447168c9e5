"""What arrays and groups share: where a node lives, its attributes, its ``.info``.

``Node`` holds the store, the optional chunk store, the path and the read-only flag
that ``czarr.core.Array`` and ``czarr.hierarchy.Group`` both have, and the properties
derived from them; each subclass sets those attributes in its ``__init__`` and provides
``_info_items`` for its report.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from czarr.attrs import Attributes
from czarr.util import info_text_report

__all__ = ["Node", "InfoReport"]


class InfoReport:
    """The text report behind ``.info``; ``repr`` and ``str`` give the same text."""

    def __init__(self, items_fn: Callable[[], list[tuple[str, str]]]) -> None:
        self._items_fn = items_fn

    def __repr__(self) -> str:
        return info_text_report(self._items_fn())

    __str__ = __repr__


def type_name(obj: Any) -> str:
    """``module.Class`` of ``obj`` as a user would import it (``czarr.storage.X``)."""
    cls = type(obj)
    module = cls.__module__
    if module.startswith("czarr.storage."):
        module = "czarr.storage"
    return f"{module}.{cls.__qualname__}"


class Node:
    """Base of Array and Group (not instantiated on its own)."""

    _store: MutableMapping
    _chunk_store: MutableMapping | None
    _path: str
    _read_only: bool
    _synchronizer: Any
    _attrs: Attributes

    @property
    def store(self) -> MutableMapping:
        """The store holding the metadata."""
        return self._store

    @property
    def chunk_store(self) -> MutableMapping:
        """The store holding the chunks (the metadata store unless given separately)."""
        return self._store if self._chunk_store is None else self._chunk_store

    @property
    def path(self) -> str:
        """Path inside the store."""
        return self._path

    @property
    def name(self) -> str:
        """Absolute name, ``'/'`` + path."""
        return "/" + self._path

    @property
    def basename(self) -> str:
        """Last component of the name."""
        return self.name.split("/")[-1]

    @property
    def read_only(self) -> bool:
        """Whether changes are refused."""
        return self._read_only

    @property
    def synchronizer(self) -> Any:
        return self._synchronizer

    @property
    def attrs(self) -> Attributes:
        """User attributes (``.zattrs``)."""
        return self._attrs

    @property
    def info(self) -> InfoReport:
        """A report of the node's properties (print it)."""
        return InfoReport(self._info_items)

    def info_items(self) -> list[tuple[str, str]]:
        """The rows of :attr:`info` as ``(name, value)`` pairs."""
        return list(self._info_items())

    @property
    def meta_array(self) -> Any:
        """The type of array reads return (zarr-python 2.18's option): NumPy's."""
        import numpy as np

        return np.empty(())

    def _info_items(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _store_items(self) -> list[tuple[str, str]]:
        items = [("Store type", type_name(self._store))]
        if self._chunk_store is not None:
            items.append(("Chunk store type", type_name(self._chunk_store)))
        return items

    def __hash__(self) -> int:
        return hash((type(self), id(self._store), self._path))
