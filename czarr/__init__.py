"""czarr: Zarr for Python, compiled.

Chunked, compressed N-dimensional arrays in any key/value store, in the Zarr v2 and v3
formats, byte-compatible with zarr-python and numcodecs, with the hot paths in Cython.
"""

from __future__ import annotations

import os

from czarr import config, errors
from czarr.codecs import (
    BZ2,
    CRC32,
    JSON,
    LZ4,
    LZMA,
    Adler32,
    AsType,
    Base64,
    BitRound,
    Blosc,
    Categorize,
    Codec,
    Delta,
    FixedScaleOffset,
    Fletcher32,
    GZip,
    PackBits,
    Pickle,
    Quantize,
    Shuffle,
    VLenArray,
    VLenBytes,
    VLenUTF8,
    Zlib,
    Zstd,
    codec_registry,
    get_codec,
    ncores,
    register_codec,
    suppress,
)
from czarr.consolidated import consolidate_metadata, open_consolidated
from czarr.convenience import (
    CopyError,
    copy,
    copy_all,
    copy_store,
    load,
    save,
    save_array,
    save_group,
    tree,
)
from czarr.core import Array
from czarr.creation import (
    array,
    create,
    empty,
    empty_like,
    full,
    full_like,
    ones,
    ones_like,
    open,
    open_array,
    open_like,
    zeros,
    zeros_like,
)
from czarr.dask import from_dask, to_dask  # dask itself is imported on first call
from czarr.errors import MetadataError
from czarr.hierarchy import Group, group, open_group
from czarr.rechunk import rechunk
from czarr.storage import (
    ABSStore,
    DBMStore,
    DictStore,
    DirectoryStore,
    FSStore,
    KVStore,
    LMDBStore,
    LRUStoreCache,
    MemoryStore,
    MongoDBStore,
    NestedDirectoryStore,
    RedisStore,
    SQLiteStore,
    TempStore,
    ZipStore,
)
from czarr.sync import ProcessSynchronizer, ThreadSynchronizer
from czarr.v3api import create_array, create_group

__version__ = "0.1.0"
v3_api_available = False  # zarr-python 2.18's experimental v3 API: not in czarr


def get_include() -> str:
    """Directory to put on Cython's include path to ``cimport czarr.capi``, czarr's
    public C-level API (``czarr/capi.pxd``; see the README's "C-level API")."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


__all__ = [
    "Array", "Group", "group", "open_group",
    "create", "empty", "zeros", "ones", "full", "array", "open", "open_array", "open_like",
    "empty_like", "zeros_like", "ones_like", "full_like",
    "MemoryStore", "DirectoryStore", "ZipStore",
    "RedisStore", "MongoDBStore", "FSStore", "DBMStore", "SQLiteStore", "LMDBStore",
    "ABSStore",
    "Codec", "Blosc", "Zstd", "LZ4", "Zlib", "GZip", "BZ2", "LZMA", "get_codec",
    "register_codec", "VLenUTF8", "VLenBytes", "VLenArray", "JSON", "Pickle", "Delta",
    "FixedScaleOffset", "Quantize", "AsType", "BitRound", "Categorize", "PackBits", "Shuffle",
    "CRC32", "Adler32", "Fletcher32", "copy", "copy_all", "copy_store", "CopyError",
    "config", "errors", "get_include", "__version__",
    "NestedDirectoryStore", "TempStore", "KVStore", "DictStore", "LRUStoreCache",
    "consolidate_metadata", "open_consolidated", "save", "save_array", "save_group", "load",
    "tree", "Base64", "codec_registry", "ncores", "suppress", "MetadataError",
    "v3_api_available", "create_array", "create_group", "ThreadSynchronizer",
    "ProcessSynchronizer",
    "to_dask", "from_dask",
    "rechunk",
]


def __getattr__(name: str) -> object:
    if name == "JenkinsLookup3":
        from czarr import codecs

        return codecs.JenkinsLookup3
    raise AttributeError(f"module 'czarr' has no attribute {name!r}")
