"""zarr-python 2.18's public names where its code expects them.

zarr-python 2 re-exported many names from module to module (``zarr.storage.init_array``,
``zarr.convenience.open_group``, ``zarr.hierarchy.zeros``...). czarr keeps each idea in
one module; the tables here say where each of those names really lives, and the modules
concerned resolve them on first use through a module ``__getattr__`` (so
``from czarr.storage import init_array`` works without the storage layer importing the
format layer). The small helpers zarr-python 2 exposed from ``zarr.util`` through those
modules (``buffer_size``, ``json_loads``, ``nolock``, ``retry_call``...) live here.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "DEFAULT_ZARR_VERSION",
    "NoLock",
    "atexit_rmglob",
    "atexit_rmtree",
    "buffer_size",
    "ensure_bytes",
    "ensure_text",
    "json_dumps",
    "json_loads",
    "lazy_names",
    "nolock",
    "retry_call",
]

DEFAULT_ZARR_VERSION = 2
data_root = "data/root/"  # zarr-python 2.18's experimental v3 layout constants
meta_root = "meta/root/"


def __getattr__(name: str) -> Any:
    if name == "default_compressor":  # zarr-python 2's: Blosc(lz4, 5, SHUFFLE)
        from czarr.codecs import Blosc

        return Blosc()
    raise AttributeError(f"module 'czarr.compat' has no attribute {name!r}")


def ensure_bytes(buf: Any) -> bytes:
    """Any bytes-like object as ``bytes``."""
    return buf if isinstance(buf, bytes) else bytes(memoryview(buf).cast("B"))


def ensure_text(s: Any, encoding: str = "utf-8") -> str:
    """``str`` as is, bytes-like decoded."""
    return s if isinstance(s, str) else ensure_bytes(s).decode(encoding)


def ensure_contiguous_ndarray_or_bytes(buf: Any) -> Any:
    """``bytes`` as they are, any other buffer as a flat contiguous ndarray."""
    if isinstance(buf, bytes):
        return buf
    import numpy as np

    return np.frombuffer(memoryview(buf).cast("B"), dtype=np.uint8) if not isinstance(
        buf, np.ndarray) else np.ascontiguousarray(buf).reshape(-1, order="A")


def buffer_size(v: Any) -> int:
    """Bytes in a bytes-like object."""
    return memoryview(v).nbytes


def json_dumps(o: Any) -> bytes:
    """A JSON document as zarr-python 2 writes metadata."""
    from czarr.metadata.v2 import encode_json

    return encode_json(o)


def json_loads(s: bytes | str) -> dict[str, Any]:
    """Parse a JSON document (bytes or str)."""
    return json.loads(ensure_text(s))


class NoLock:
    """A context manager that locks nothing (what an unsynchronized array uses)."""

    def __enter__(self) -> NoLock:
        return self

    def __exit__(self, *args: Any) -> None:
        pass


nolock = NoLock()


def retry_call(callabl: Callable, args: tuple | None = None, kwargs: dict | None = None,
               exceptions: tuple = (), retries: int = 10, wait: float = 0.1) -> Any:
    """Call ``callabl``, retrying up to ``retries`` times on ``exceptions``."""
    for attempt in range(retries + 1):
        try:
            return callabl(*(args or ()), **(kwargs or {}))
        except exceptions:
            if attempt == retries:
                raise
            time.sleep(wait)
    return None  # pragma: no cover


def atexit_rmtree(path: str, isdir: Callable = os.path.isdir,
                  rmtree: Callable = shutil.rmtree) -> None:
    """Remove a folder tree if it exists (registered with ``atexit`` by TempStore)."""
    if isdir(path):
        rmtree(path)


def atexit_rmglob(path: str, glob: Callable | None = None, isdir: Callable = os.path.isdir,
                  isfile: Callable = os.path.isfile, remove: Callable = os.remove,
                  rmtree: Callable = shutil.rmtree) -> None:
    """Remove every file or folder matching a glob pattern."""
    if glob is None:
        from glob import glob
    for p in glob(path):
        if isdir(p):
            rmtree(p)
        elif isfile(p):
            remove(p)


def is_valid_python_name(name: str) -> bool:
    """Whether ``name`` can be an attribute name (a group member as ``group.name``)."""
    import keyword

    return name.isidentifier() and not keyword.iskeyword(name)


def normalize_dtype(dtype: Any, object_codec: Any) -> tuple[Any, Any]:
    """zarr-python 2's ``normalize_dtype``: the dtype, and the object codec a
    ``'str'``/``'bytes'``/``'array:<dt>'`` shorthand implies (or ``object_codec``)."""
    from czarr.layout import _implied_object_codec
    from czarr.metadata.v2 import normalize_dtype as _normalize

    if object_codec is None:
        object_codec = _implied_object_codec(dtype)
    return _normalize(dtype), object_codec


class InfoReporter:
    """zarr-python 2's name for an object's ``info`` report, built from the object."""

    def __new__(cls, obj: Any) -> Any:
        return obj.info


# module -> {name: "module:attribute"}: where zarr-python 2's re-exported names live
_LAYOUT = {n: f"czarr.layout:{n}" for n in (
    "init_array", "init_group", "contains_array", "contains_group", "array_meta_key",
    "group_meta_key", "attrs_key")}
_META = {n: f"czarr.metadata.v2:{n}" for n in (
    "normalize_chunks", "normalize_fill_value", "normalize_order",
    "normalize_shape", "normalize_dimension_separator", "encode_array_metadata",
    "encode_group_metadata")}
_HELPERS = {n: f"czarr.compat:{n}" for n in __all__ if n != "lazy_names"}
_HELPERS["is_valid_python_name"] = "czarr.compat:is_valid_python_name"
_HELPERS["ensure_contiguous_ndarray_like"] = "numcodecs.compat:ensure_contiguous_ndarray_like"
_HELPERS["ensure_contiguous_ndarray_or_bytes"] = (
    "czarr.compat:ensure_contiguous_ndarray_or_bytes")
_HELPERS.update({"data_root": "czarr.compat:data_root", "meta_root": "czarr.compat:meta_root"})
_ERRORS = {n: f"czarr.errors:{n}" for n in (
    "ArrayNotFoundError", "ContainsArrayError", "ContainsGroupError", "GroupNotFoundError",
    "PathNotFoundError", "ReadOnlyError", "MetadataError", "BadCompressorError",
    "FSPathExistNotDir")}
_SYNC = {"Synchronizer": "czarr.sync:Synchronizer"}
_CREATION = {n: f"czarr.creation:{n}" for n in (
    "create", "empty", "zeros", "ones", "full", "array", "open_array", "empty_like",
    "zeros_like", "ones_like", "full_like", "open_like")}
_CONSOLIDATED = {
    "consolidate_metadata": "czarr.consolidated:consolidate_metadata",
    "open_consolidated": "czarr.consolidated:open_consolidated",
    "ConsolidatedMetadataStore": "czarr.consolidated:ConsolidatedMetadataStore",
}
_STORE_BASE = {
    "BaseStore": "czarr.storage.base:Store",
    "normalize_store_arg": "czarr.storage.base:normalize_store_arg",
    "normalize_storage_path": "czarr.layout:normalize_path",
    "default_compressor": "czarr.compat:default_compressor",
    "Blosc": "czarr.codecs:Blosc", "Codec": "czarr.codecs:Codec",
    "codec_registry": "czarr.codecs:codec_registry",
    "listdir": "czarr.storage.base:listdir", "rmdir": "czarr.storage.base:rmdir",
    "rename": "czarr.storage.base:rename", "getsize": "czarr.storage.base:getsize",
}

TABLES: dict[str, dict[str, str]] = {
    "czarr.storage": {**_LAYOUT, **_META, **_HELPERS, **_ERRORS, **_CONSOLIDATED,
                      "init_store": "czarr.layout:init_array",
                      "normalize_dtype": "czarr.compat:normalize_dtype",
                      "DEFAULT_ZARR_VERSION": "czarr.compat:DEFAULT_ZARR_VERSION",
                      "default_compressor": "czarr.compat:default_compressor",
                      "Blosc": "czarr.codecs:Blosc", "Codec": "czarr.codecs:Codec",
                      "codec_registry": "czarr.codecs:codec_registry",
                      "BaseStore": "czarr.storage.base:Store",
                      "normalize_storage_path": "czarr.layout:normalize_path"},
    "czarr.creation": {**_LAYOUT, **_ERRORS, **_SYNC, "Array": "czarr.core:Array",
                       "normalize_store_arg": "czarr.storage.base:normalize_store_arg",
                       "normalize_storage_path": "czarr.layout:normalize_path",
                       "normalize_dimension_separator":
                           "czarr.metadata.v2:normalize_dimension_separator",
                       "default_compressor": "czarr.compat:default_compressor",
                       "codec_registry": "czarr.codecs:codec_registry",
                       "Codec": "czarr.codecs:Codec",
                       "DEFAULT_ZARR_VERSION": "czarr.compat:DEFAULT_ZARR_VERSION"},
    "czarr.convenience": {**_LAYOUT, **_CONSOLIDATED, **_STORE_BASE,
                          "Array": "czarr.core:Array", "Group": "czarr.hierarchy:Group",
                          "open": "czarr.creation:open",
                          "open_array": "czarr.creation:open_array",
                          "open_group": "czarr.hierarchy:open_group",
                          "PathNotFoundError": "czarr.errors:PathNotFoundError",
                          "TreeViewer": "czarr.hierarchy:TreeView",
                          "data_root": "czarr.compat:data_root",
                          "meta_root": "czarr.compat:meta_root",
                          "json_dumps": "czarr.compat:json_dumps",
                          "json_loads": "czarr.compat:json_loads",
                          "buffer_size": "czarr.compat:buffer_size"},
    "czarr.hierarchy": {**_LAYOUT, **_CREATION, **_ERRORS, **_STORE_BASE,
                        "TreeViewer": "czarr.hierarchy:TreeView",
                        "InfoReporter": "czarr.compat:InfoReporter",
                        "is_valid_python_name": "czarr.compat:is_valid_python_name",
                        "islice": "itertools:islice",
                        "data_root": "czarr.compat:data_root",
                        "meta_root": "czarr.compat:meta_root",
                        "Array": "czarr.core:Array", "Attributes": "czarr.attrs:Attributes",
                        "MemoryStore": "czarr.storage.memory:MemoryStore",
                        "normalize_shape": "czarr.metadata.v2:normalize_shape",
                        "nolock": "czarr.compat:nolock",
                        "DEFAULT_ZARR_VERSION": "czarr.compat:DEFAULT_ZARR_VERSION"},
    "czarr.attrs": {"json_dumps": "czarr.compat:json_dumps",
                    "Store": "czarr.storage.base:Store"},
}


def lazy_names(module: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` that resolves ``module``'s zarr-python 2 names."""
    table = TABLES[module]

    def __getattr__(name: str) -> Any:
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        mod, _, attr = target.partition(":")
        return getattr(importlib.import_module(mod), attr)

    return __getattr__
