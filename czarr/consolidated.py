"""Consolidated metadata: every ``.zarray``, ``.zgroup`` and ``.zattrs`` of a hierarchy
in one ``.zmetadata`` document, so opening a hierarchy in a cloud bucket is one read.

The document is the one zarr-python 2 writes (``{"metadata": {key: document},
"zarr_consolidated_format": 1}``, JSON as every v2 metadata document) and zarr-python 3
reads. :class:`ConsolidatedMetadataStore` presents it as a read-only store of metadata
keys; :func:`open_consolidated` opens a group over it, with the real store as the chunk
store, so arrays read and write their chunks where they are while their metadata comes
from the one document.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from czarr.errors import MetadataError, ReadOnlyError
from czarr.layout import (
    ARRAY_META_KEY,
    ATTRS_KEY,
    GROUP_META_KEY,
    V3_META_KEY,
    normalize_path,
)
from czarr.metadata.v2 import encode_json, parse_json
from czarr.storage import base
from czarr.storage.base import Store, naming_keys, normalize_store_arg

__all__ = [
    "CONSOLIDATED_KEY",
    "ConsolidatedMetadataStore",
    "consolidate_metadata",
    "open_consolidated",
]

CONSOLIDATED_KEY = ".zmetadata"
_METADATA_NAMES = (ARRAY_META_KEY, GROUP_META_KEY, ATTRS_KEY)


def _is_metadata_key(key: str) -> bool:
    return key.rpartition("/")[2] in _METADATA_NAMES


def consolidate_metadata(store: Any, metadata_key: str = CONSOLIDATED_KEY,
                         *, path: str = "") -> Any:
    """Gather every metadata document under ``path`` into one ``metadata_key`` document
    and open the group over it, as zarr-python 2's ``consolidate_metadata``.

    Parameters
    ----------
    store : MutableMapping or str
        The store (or path/URL) holding the hierarchy.
    metadata_key : str
        Where the document goes (``'.zmetadata'``).
    path : str
        The group to consolidate (the root by default); keys in the document are
        relative to it, and the document is written inside it.

    Returns
    -------
    czarr.Group
        The group opened through the consolidated metadata (see :func:`open_consolidated`).

    Raises
    ------
    ReadOnlyError
        The store is read-only (``store.read_only``); nothing is written.
    """
    store = normalize_store_arg(store, mode="a")
    if getattr(store, "read_only", False):
        raise ReadOnlyError(f"cannot consolidate the metadata of {store!r}: it is read-only")
    path = normalize_path(path)
    prefix = path + "/" if path else ""
    from czarr.layout import node_format

    if node_format(store, path) == 3:
        _consolidate_v3(store, prefix)
        return open_consolidated(store, path=path)
    keys = [k for k in list(store.keys()) if k.startswith(prefix) and
            _is_metadata_key(k[len(prefix):])]
    values = base.getitems(store, keys)
    metadata = {}
    for key in sorted(values):
        try:
            metadata[key[len(prefix):]] = parse_json(values[key], key)
        except MetadataError as e:
            raise MetadataError(f"cannot consolidate {key!r}: {e}") from None
    out = {"metadata": metadata, "zarr_consolidated_format": 1}
    with naming_keys(prefix + metadata_key, store):
        store[prefix + metadata_key] = encode_json(out)
    return open_consolidated(store, metadata_key=metadata_key, path=path)


class _Documents(Mapping):
    """Metadata documents by key, kept as parsed and encoded to JSON bytes only when
    one is read, so opening a hierarchy does no work per node; with the folders of
    their keys indexed on the first listing, so each listing costs what it lists."""

    def __init__(self, docs: dict[str, Any], encode: Callable[[Any], bytes],
                 encoded: dict[str, bytes] | None = None) -> None:
        self._docs = docs
        self._encode = encode
        self._encoded = dict(encoded or {})
        self._folders: dict[str, list[str]] | None = None

    def __getitem__(self, key: str) -> bytes:
        data = self._encoded.get(key)
        if data is None:
            data = self._encoded[key] = self._encode(self._docs[key])
        return data

    def __contains__(self, key: object) -> bool:
        return key in self._docs

    def __iter__(self) -> Iterator[str]:
        return iter(self._docs)

    def __len__(self) -> int:
        return len(self._docs)

    def under(self, prefix: str) -> _Documents:
        """The same documents with ``prefix`` before every key."""
        return _Documents({prefix + k: v for k, v in self._docs.items()}, self._encode,
                          {prefix + k: v for k, v in self._encoded.items()})

    def listdir(self, path: str) -> list[str]:
        """Sorted names directly under ``path`` (the store's ``listdir``)."""
        if self._folders is None:
            folders: dict[str, set[str]] = {}
            for key in self._docs:
                parts = key.split("/")
                for i in range(len(parts)):
                    folders.setdefault("/".join(parts[:i]), set()).add(parts[i])
            self._folders = {k: sorted(v) for k, v in folders.items()}
        return list(self._folders.get(path, ()))


class ConsolidatedMetadataStore(Store):
    """The metadata documents of a ``.zmetadata`` document as a read-only store.

    The document is read and parsed once; each metadata document in it is encoded
    back to bytes only when read, so opening a hierarchy of any size is one store read
    and one parse.

    Parameters
    ----------
    store : MutableMapping or str
        The store holding the document.
    metadata_key : str
        Its key (``'.zmetadata'``).

    Raises
    ------
    KeyError
        The store holds no such document.
    MetadataError
        The document is not consolidated metadata.
    """

    read_only = True

    def __init__(self, store: Any, metadata_key: str = CONSOLIDATED_KEY) -> None:
        self.store = normalize_store_arg(store, mode="r")
        self.metadata_key = metadata_key
        self._prefix = ""
        self.meta_store = _v2_documents(self.store[metadata_key], metadata_key)

    @classmethod
    def _from_document(cls, store: MutableMapping, metadata_key: str, raw: Any,
                       prefix: str) -> ConsolidatedMetadataStore:
        """Over a document already read, its keys under ``prefix`` (the group it was
        written in, as :func:`open_consolidated` addresses them)."""
        self = cls.__new__(cls)
        self.store = store
        self.metadata_key = metadata_key
        self._prefix = prefix
        docs = _v2_documents(raw, metadata_key)
        self.meta_store = docs.under(prefix) if prefix else docs
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {"store": self.store, "metadata_key": self.metadata_key,
                "prefix": self._prefix}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["store"], state["metadata_key"])
        prefix = state.get("prefix", "")
        if prefix:
            self._prefix = prefix
            self.meta_store = self.meta_store.under(prefix)

    def __repr__(self) -> str:
        return f"ConsolidatedMetadataStore({self.store!r}, {self.metadata_key!r})"

    def __getitem__(self, key: str) -> bytes:
        return self.meta_store[key]

    def __contains__(self, key: object) -> bool:
        return key in self.meta_store

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.meta_store))

    def __len__(self) -> int:
        return len(self.meta_store)

    def getitems(self, keys: Any) -> dict[str, bytes]:
        return {k: self.meta_store[k] for k in keys if k in self.meta_store}

    def listdir(self, path: str = "") -> list[str]:
        return self.meta_store.listdir(base._normalize_path(path))

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        """Refused with :class:`~czarr.errors.ReadOnlyError`: consolidated metadata is
        read-only."""
        raise ReadOnlyError("consolidated metadata is read-only: write through the store "
                            "itself, then call consolidate_metadata again")

    __setitem__ = __delitem__ = setitems = delitems = rmdir = rename = _refuse  # type: ignore

    def clear(self) -> None:
        self._refuse()

    def getsize(self, path: str = "") -> int:
        return base.getsize(self.store, path)


def _v2_documents(raw: Any, metadata_key: str) -> _Documents:
    """The documents of a ``.zmetadata`` document, parsed once."""
    doc = parse_json(raw, metadata_key)
    if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
        raise MetadataError(f"{metadata_key!r} holds no 'metadata' object")
    fmt = doc.get("zarr_consolidated_format")
    if fmt != 1:
        raise MetadataError(f"{metadata_key!r}: unsupported zarr_consolidated_format "
                            f"{fmt!r} (czarr reads version 1)")
    for key, value in doc["metadata"].items():
        # each document is checked when a node is opened; here only that it is one,
        # under a key a store could hold ('a/b/.zarray', no '.', '..' or '//')
        if key.rpartition("/")[2] not in _METADATA_NAMES or not isinstance(value, dict):
            raise MetadataError(f"{metadata_key!r}: entry {key!r} is not a metadata "
                                f"document (a .zarray, .zgroup or .zattrs object)")
        try:
            canonical = normalize_path(key) == key
        except ValueError:
            canonical = False
        if not canonical:
            raise MetadataError(f"{metadata_key!r}: entry {key!r} is not a canonical "
                                "store key")
    return _Documents(doc["metadata"], encode_json)


def _consolidate_v3(store: MutableMapping, prefix: str) -> None:
    """Zarr v3: every node's ``zarr.json`` under the group, inside the group's own
    ``zarr.json`` as ``consolidated_metadata`` (zarr-python 3's inline form)."""
    from czarr.metadata.v3 import _consolidated_order

    root_key = prefix + V3_META_KEY
    keys = [key for key in list(store.keys())
            if key.startswith(prefix) and key.endswith("/" + V3_META_KEY)]
    nodes = {}
    for key, raw in base.getitems(store, keys).items():  # one batched read
        rel = key[len(prefix):-len(V3_META_KEY) - 1]
        doc = json.loads(bytes(memoryview(raw)))
        if doc.get("node_type") == "group":
            doc["consolidated_metadata"] = None
        nodes[rel] = doc
    root = json.loads(bytes(memoryview(store[root_key])))
    root["consolidated_metadata"] = {
        "kind": "inline", "must_understand": False,
        "metadata": {k: nodes[k] for k in sorted(nodes, key=_consolidated_order)}}
    with naming_keys(root_key, store):
        store[root_key] = json.dumps(root, indent=2, allow_nan=True).encode("ascii")


def _encode_v3(doc: Any) -> bytes:
    return json.dumps(doc, indent=2).encode("ascii")


def _v3_metadata_store(raw: Any, path: str) -> _Documents | None:
    """The node documents of a v3 group's inline consolidated metadata (its
    ``zarr.json`` as read: ``raw``) as a mapping of their ``zarr.json`` keys, or None
    when the group has none. The group's own entry leaves the consolidated block out
    (it is this mapping), so reading it costs what one group's document costs."""
    from czarr.metadata.v3 import consolidated_nodes_v3

    prefix = path + "/" if path else ""
    key = prefix + V3_META_KEY
    root, nodes = consolidated_nodes_v3(raw, key=key)
    if nodes is None:
        return None
    docs = {key: {**root, "consolidated_metadata": None}}
    for rel, node in nodes.items():
        docs[f"{prefix}{rel}/{V3_META_KEY}"] = node
    return _Documents(docs, _encode_v3)


def read_consolidated(store: MutableMapping, path: str = "",
                      metadata_key: str = CONSOLIDATED_KEY,
                      zarr_format: int | None = None) -> ConsolidatedMetadataStore | None:
    """The consolidated metadata of the group at ``path`` as a read-only store of
    metadata keys, or None when it has none: one store read of ``zarr_format``'s
    document (v2: the ``.zmetadata``; v3: the group's ``zarr.json``); when the format
    is None, v2's is looked for first, so a v3 hierarchy costs a miss before it.

    Raises
    ------
    MetadataError
        The document found is not consolidated metadata.
    """
    prefix = path + "/" if path else ""
    for fmt in (2, 3) if zarr_format is None else (zarr_format,):
        key = prefix + (V3_META_KEY if fmt == 3 else metadata_key)
        try:
            raw = store[key]
        except KeyError:
            continue
        if fmt == 2:
            return ConsolidatedMetadataStore._from_document(store, key, raw, prefix)
        docs = _v3_metadata_store(raw, path)
        return None if docs is None else _ReadOnlyDocuments(docs)
    return None


def open_over(meta_store: MutableMapping, store: MutableMapping, mode: str, path: str,
              **kwargs: Any) -> Any:
    """Open the node at ``path`` whose metadata comes from ``meta_store`` (see
    :func:`read_consolidated`) and whose chunks are in ``store``: no store call."""
    from czarr.creation import open as open_

    chunk_store = kwargs.pop("chunk_store", None) or store
    return open_(meta_store, mode=mode, path=path, chunk_store=chunk_store, **kwargs)


def open_consolidated(store: Any, metadata_key: str = CONSOLIDATED_KEY, mode: str = "r+",
                      **kwargs: Any) -> Any:
    """Open a group (or array) whose metadata all comes from one consolidated document,
    as zarr-python 2's ``open_consolidated``.

    Parameters
    ----------
    store : MutableMapping or str
        The store (or path/URL) holding the hierarchy and its ``metadata_key`` document.
    metadata_key : str
    mode : {'r', 'r+'}
        ``'r+'`` lets arrays write chunks (their metadata and attributes stay read-only).
    **kwargs
        Passed to :func:`czarr.open` (``path``, ``cache_attrs``, ``storage_options``...).

    Returns
    -------
    czarr.Group or czarr.Array
    """
    if mode not in ("r", "r+"):
        raise ValueError(f"invalid mode {mode!r}: consolidated metadata opens with 'r' or "
                         "'r+'")
    store = normalize_store_arg(store, storage_options=kwargs.pop("storage_options", None),
                                mode=mode)
    path = normalize_path(kwargs.pop("path", None))
    meta_store = read_consolidated(store, path, metadata_key, kwargs.get("zarr_format"))
    if meta_store is None:
        raise KeyError(f"the group at {path or '/'!r} has no consolidated metadata "
                       f"({metadata_key!r} or a zarr.json with consolidated_metadata)")
    return open_over(meta_store, store, mode, path, **kwargs)


class _ReadOnlyDocuments(ConsolidatedMetadataStore):
    """Metadata documents held in memory as a read-only store (v3 consolidated)."""

    def __init__(self, docs: _Documents) -> None:  # noqa: D107 - no store read
        self.store = None
        self.metadata_key = None
        self._prefix = ""
        self.meta_store = docs

    def __getstate__(self) -> dict[str, Any]:
        return {"docs": self.meta_store}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["docs"])

    def getsize(self, path: str = "") -> int:
        return base.getsize(self.meta_store, path)
