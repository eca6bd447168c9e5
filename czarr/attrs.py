"""User attributes of an array or group: a ``MutableMapping`` over one JSON document.

:class:`Attributes` reads and writes the ``.zattrs`` document at one key of a store
(a missing key is an empty document). Every write is read-modify-write of the whole
document, as in zarr-python 2, so keys written meanwhile by someone else survive; bulk
changes (:meth:`Attributes.update`, :meth:`Attributes.put`) are one store write. Values
must be JSON-serialisable: NumPy numbers, booleans and numeric or str arrays are
converted, anything else is refused with a ``TypeError`` naming its type before anything
is written.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from czarr.errors import MetadataError, ReadOnlyError
from czarr.metadata.v2 import decode_attrs, encode_attrs
from czarr.storage.base import naming_keys

__all__ = ["Attributes"]


class Attributes(MutableMapping):
    """The attributes document at ``key`` of ``store``, as a mapping.

    Parameters
    ----------
    store : MutableMapping
        The store holding the document.
    key : str
        Its key, e.g. ``'foo/bar/.zattrs'`` (see :func:`czarr.layout.attrs_key`).
    read_only : bool
        If True, every write raises :class:`czarr.errors.ReadOnlyError`.
    cache : bool
        If True, reads are served from a copy kept since the last read or write
        (call :meth:`refresh` to see others' changes); if False, every read hits the store.
    synchronizer : object, optional
        Accepted for zarr-python 2's signature (kept as ``.synchronizer``).
    cached_dict : dict, optional
        The attributes already read (zarr-python 2's option): the cache starts from them.
    """

    def __init__(
        self,
        store: MutableMapping,
        key: str = ".zattrs",
        read_only: bool = False,
        cache: bool = True,
        synchronizer: Any = None,
        cached_dict: dict | None = None,
    ) -> None:
        self.synchronizer = synchronizer
        self.store = store
        self.key = key
        self.read_only = read_only
        self.cache = cache
        self._cached: dict[str, Any] | None = (
            copy.deepcopy(dict(cached_dict)) if cache and cached_dict is not None else None)

    # reading ------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        try:
            data = self.store[self.key]
        except KeyError:
            return {}
        return decode_attrs(data, key=self.key)

    def _current(self) -> dict[str, Any]:
        """The document as last seen (cached) or as stored now; never hand this out."""
        if self.cache:
            if self._cached is None:
                self._cached = self._load()
            return self._cached
        return self._load()

    def asdict(self) -> dict[str, Any]:
        """A copy of all attributes as a plain ``dict``."""
        return copy.deepcopy(self._current())

    def refresh(self) -> None:
        """Re-read the document from the store (only matters when caching)."""
        if self.cache:
            self._cached = self._load()

    def __getitem__(self, name: str) -> Any:
        return copy.deepcopy(self._current()[name])

    def __contains__(self, name: object) -> bool:
        return name in self._current()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    # writing ------------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"attributes at {self.key!r} are read-only")

    def _write(self, document: dict[str, Any]) -> None:
        if not all(isinstance(k, str) for k in document):
            # zarr-python 2 warns and writes the keys as strings (JSON would anyway)
            warnings.warn("only attribute keys of type 'string' will be allowed in the "
                          "future", DeprecationWarning, stacklevel=3)
            document = {str(k): v for k, v in document.items()}
        data = encode_attrs(document)  # raises TypeError before touching the store
        self._store_document(data)
        if self.cache:
            # cache what a reader will see (NumPy values converted, tuples as lists)
            self._cached = decode_attrs(data, key=self.key)

    def _store_document(self, data: bytes) -> None:
        with naming_keys(self.key, self.store):
            self.store[self.key] = data

    def _lock(self) -> Any:
        """The synchronizer's lock of this document, or no lock."""
        if self.synchronizer is None:
            return contextlib.nullcontext()
        return self.synchronizer[self.key]

    def put(self, d: Mapping[str, Any]) -> None:
        """Replace every attribute with those of ``d`` (one store write)."""
        self._check_writable()
        with self._lock():
            self._write(dict(d))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Set many attributes at once, like ``dict.update``, with one store write."""
        self._check_writable()
        with self._lock():
            document = self._load()
            document.update(*args, **kwargs)
            self._write(document)

    def __setitem__(self, name: str, value: Any) -> None:
        self._check_writable()
        with self._lock():
            document = self._load()
            document[name] = value
            self._write(document)

    def __delitem__(self, name: str) -> None:
        self._check_writable()
        with self._lock():
            document = self._load()
            del document[name]
            self._write(document)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key!r} {self._current()!r}>"

    def _ipython_key_completions_(self) -> list[str]:
        return sorted(self._current())


# zarr-python 2.18 names that live in other czarr modules (see czarr.compat)
__getattr__ = __import__("czarr.compat", fromlist=["lazy_names"]).lazy_names(__name__)


class AttributesV3(Attributes):
    """The ``attributes`` of a Zarr v3 node, kept inside its ``zarr.json`` (``key``):
    reads take that field; writes rewrite the document with only that field changed."""

    def _load(self) -> dict[str, Any]:
        try:
            data = self.store[self.key]
        except KeyError:
            return {}
        doc = decode_attrs(data, key=self.key)
        attrs = doc.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise MetadataError(f"{self.key}: field 'attributes' must be an object")
        return attrs

    def _store_document(self, data: bytes) -> None:
        import json

        doc = decode_attrs(self.store[self.key], key=self.key)
        doc["attributes"] = json.loads(data)
        with naming_keys(self.key, self.store):
            self.store[self.key] = json.dumps(doc, indent=2, allow_nan=True).encode("ascii")


def attributes_for(store: MutableMapping, path: str, zarr_format: int, **kwargs: Any
                   ) -> Attributes:
    """The attributes of the node at ``path`` in its format."""
    from czarr.layout import V3_META_KEY, attrs_key, path_prefix

    if zarr_format == 3:
        return AttributesV3(store, key=path_prefix(path) + V3_META_KEY, **kwargs)
    return Attributes(store, key=attrs_key(path), **kwargs)
