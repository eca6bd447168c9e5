"""Stores: where czarr keeps bytes.

Any ``MutableMapping[str, bytes]`` is a store. :mod:`czarr.storage.base` holds the
contract (the :class:`Store` base class and the functions czarr calls on any store, with
generic fallbacks that work on a plain ``dict``); each store family lives in its own
module: :class:`MemoryStore` (memory), :class:`DirectoryStore` (a folder, one file per
key), :class:`ZipStore` (a zip file) and the embedded databases :class:`DBMStore`,
:class:`SQLiteStore` and :class:`LMDBStore` (the last needs the ``lmdb`` extra).
"""

from __future__ import annotations

from czarr.storage.absstore import ABSStore
from czarr.storage.base import (
    Store,
    as_buffer,
    close,
    delitems,
    get_partial,
    get_ranges,
    getitems,
    getsize,
    import_optional,
    listdir,
    normalize_key,
    normalize_store_arg,
    rename,
    rmdir,
    setitems,
)
from czarr.storage.cache import LRUStoreCache
from czarr.storage.dbm import DBMStore
from czarr.storage.directory import DirectoryStore, NestedDirectoryStore, TempStore
from czarr.storage.fsstore import FSStore
from czarr.storage.lmdb import LMDBStore
from czarr.storage.memory import DictStore, KVStore, MemoryStore
from czarr.storage.mongodb import MongoDBStore
from czarr.storage.redis import RedisStore
from czarr.storage.sqlite import SQLiteStore
from czarr.storage.zip import ZipStore

__all__ = [
    "ABSStore",
    "DBMStore",
    "DictStore",
    "DirectoryStore",
    "FSStore",
    "KVStore",
    "LMDBStore",
    "LRUStoreCache",
    "MemoryStore",
    "MongoDBStore",
    "NestedDirectoryStore",
    "RedisStore",
    "SQLiteStore",
    "Store",
    "TempStore",
    "ZipStore",
    "as_buffer",
    "close",
    "delitems",
    "get_partial",
    "get_ranges",
    "getitems",
    "getsize",
    "import_optional",
    "listdir",
    "normalize_key",
    "normalize_store_arg",
    "rename",
    "rmdir",
    "setitems",
]


# zarr-python 2.18 names that live in other czarr modules (see czarr.compat)
__getattr__ = __import__("czarr.compat", fromlist=["lazy_names"]).lazy_names(__name__)
