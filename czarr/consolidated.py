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
from collections.abc import Iterator, MutableMapping
from typing import Any

from czarr.errors import MetadataError, ReadOnlyError
from czarr.layout import (
    ARRAY_META_KEY,
    ATTRS_KEY,
    GROUP_META_KEY,
    V3_META_KEY,
    normalize_path,
)
from czarr.metadata.v2 import encode_json
from czarr.storage import base
from czarr.storage.base import Store, normalize_store_arg

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
    """
    store = normalize_store_arg(store, mode="a")
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
            metadata[key[len(prefix):]] = json.loads(bytes(memoryview(values[key])))
        except ValueError as e:
            raise MetadataError(f"{key!r} is not valid JSON, cannot consolidate it ({e})"
                                ) from None
    out = {"metadata": metadata, "zarr_consolidated_format": 1}
    store[prefix + metadata_key] = encode_json(out)
    return open_consolidated(store, metadata_key=metadata_key, path=path)


class ConsolidatedMetadataStore(Store):
    """The metadata documents of a ``.zmetadata`` document as a read-only store.

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
        raw = self.store[metadata_key]
        try:
            doc = json.loads(bytes(memoryview(raw)))
        except ValueError as e:
            raise MetadataError(f"{metadata_key!r} is not valid JSON ({e})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
            raise MetadataError(f"{metadata_key!r} holds no 'metadata' object")
        fmt = doc.get("zarr_consolidated_format")
        if fmt != 1:
            raise MetadataError(f"{metadata_key!r}: unsupported zarr_consolidated_format "
                                f"{fmt!r} (czarr reads version 1)")
        self.meta_store = {k: encode_json(v) for k, v in doc["metadata"].items()}

    def __getstate__(self) -> dict[str, Any]:
        return {"store": self.store, "metadata_key": self.metadata_key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["store"], state["metadata_key"])

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


def _consolidate_v3(store: MutableMapping, prefix: str) -> None:
    """Zarr v3: every node's ``zarr.json`` under the group, inside the group's own
    ``zarr.json`` as ``consolidated_metadata`` (zarr-python 3's inline form)."""
    from czarr.metadata.v3 import _consolidated_order

    root_key = prefix + V3_META_KEY
    nodes = {}
    for key in list(store.keys()):
        if key.startswith(prefix) and key.endswith("/" + V3_META_KEY):
            rel = key[len(prefix):-len(V3_META_KEY) - 1]
            doc = json.loads(bytes(memoryview(store[key])))
            if doc.get("node_type") == "group":
                doc["consolidated_metadata"] = None
            nodes[rel] = doc
    root = json.loads(bytes(memoryview(store[root_key])))
    root["consolidated_metadata"] = {
        "kind": "inline", "must_understand": False,
        "metadata": {k: nodes[k] for k in sorted(nodes, key=_consolidated_order)}}
    store[root_key] = json.dumps(root, indent=2, allow_nan=True).encode("ascii")


def _v3_metadata_store(store: MutableMapping, path: str) -> dict[str, bytes] | None:
    """The node documents of a v3 group's inline consolidated metadata as a mapping of
    their ``zarr.json`` keys, or None when the group has none."""
    from czarr.metadata.v3 import decode_group_metadata_v3

    prefix = path + "/" if path else ""
    key = prefix + V3_META_KEY
    raw = store[key]
    doc = decode_group_metadata_v3(raw, key=key)
    block = doc["consolidated_metadata"]
    if block is None:
        return None
    out = {key: bytes(memoryview(raw))}
    for rel, node in block["metadata"].items():
        out[f"{prefix}{rel}/{V3_META_KEY}"] = json.dumps(node, indent=2).encode("ascii")
    return out


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
    from czarr.creation import open as open_

    if mode not in ("r", "r+"):
        raise ValueError(f"invalid mode {mode!r}: consolidated metadata opens with 'r' or "
                         "'r+'")
    store = normalize_store_arg(store, storage_options=kwargs.pop("storage_options", None),
                                mode=mode)
    path = normalize_path(kwargs.pop("path", None))
    key = (path + "/" if path else "") + metadata_key
    from czarr.layout import node_format

    if key not in store and node_format(store, path) == 3:
        docs = _v3_metadata_store(store, path)
        if docs is None:
            raise KeyError(f"the group at {path or '/'!r} has no consolidated metadata")
        chunk_store = kwargs.pop("chunk_store", None) or store
        return open_(_ReadOnlyDocuments(docs), mode=mode, path=path,
                     chunk_store=chunk_store, **kwargs)
    meta_store = ConsolidatedMetadataStore(store, metadata_key=key)
    if path:
        # the document's keys are relative to the group it was written in
        meta_store.meta_store = {f"{path}/{k}": v for k, v in meta_store.meta_store.items()}
    chunk_store = kwargs.pop("chunk_store", None) or store
    return open_(meta_store, mode=mode, path=path, chunk_store=chunk_store, **kwargs)


def is_consolidated(store: MutableMapping, path: str = "",
                    metadata_key: str = CONSOLIDATED_KEY) -> bool:
    """Whether ``store`` holds consolidated metadata for the group at ``path``: v2's
    ``.zmetadata``, or v3's inline block in the group's ``zarr.json``."""
    prefix = path + "/" if path else ""
    if (prefix + metadata_key) in store:
        return True
    try:
        raw = store[prefix + V3_META_KEY]
    except KeyError:
        return False
    try:
        doc = json.loads(bytes(memoryview(raw)))
    except ValueError:
        return False
    return doc.get("node_type") == "group" and bool(doc.get("consolidated_metadata"))


class _ReadOnlyDocuments(ConsolidatedMetadataStore):
    """Metadata documents held in memory as a read-only store (v3 consolidated)."""

    def __init__(self, docs: dict[str, bytes]) -> None:  # noqa: D107 - no store read
        self.store = None
        self.metadata_key = None
        self.meta_store = docs

    def __getstate__(self) -> dict[str, Any]:
        return {"docs": self.meta_store}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["docs"])

    def getsize(self, path: str = "") -> int:
        return base.getsize(self.meta_store, path)
