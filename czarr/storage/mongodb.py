"""MongoDBStore: a store whose values are MongoDB documents, laid out as zarr-python 2's
MongoDBStore writes them, with values past the 16 MiB document limit split into parts.

A value of up to 15 MiB is one document ``{"key": key, "value": <binary>}`` in the
collection, exactly what zarr-python 2.18 writes and reads. A larger value cannot fit one
BSON document (16 MiB at most), so its bytes go to part documents
``{"split": <id>, "n": i, "data": <binary>}`` in the companion collection
``<collection>.parts`` (zarr-python 2 never looks there), and the collection holds a head
document ``{"key": key, "value": None, "split": {"id", "size", "part_size", "parts"}}``
pointing at them (zarr-python 2 reads ``None`` for it and fails loudly instead of reading
a wrong value). Every write is ordered so that no reader ever sees half a value: the new
parts are written first under a fresh id, then the head document is replaced in one
atomic operation, then the parts of the value it displaced are deleted. A reader that
finds the parts of the head it read already gone (a concurrent overwrite) reads the key
again. ``pymongo`` is imported lazily (``pip install 'czarr[mongodb]'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from czarr.errors import CzarrError, ReadOnlyError
from czarr.metadata.normalize import normalize_dimension_separator
from czarr.storage.base import (
    Store,
    _check_canonical,
    _check_rename,
    _normalize_path,
    _slice_range,
    as_buffer,
    import_optional,
)

__all__ = ["MongoDBStore", "SplitValueError"]

INLINE_MAX = 15 << 20  # largest value kept in one document (BSON's limit is 16 MiB)
PART_SIZE = 8 << 20  # bytes per part document of a split value
_RETRIES = 5  # reads of a key whose parts vanish under a concurrent overwrite


class SplitValueError(CzarrError, ValueError):
    """The parts of a value split across documents are missing or do not add up."""


def _folder_filter(path: str) -> dict:
    """A query for the keys under the folder ``path`` (not ``''``), as a range on ``key``.

    Keys under ``'a/b'`` are the strings from ``'a/b/'`` up to, not including, ``'a/b0'``
    (``'0'`` follows ``'/'``): an index on ``key`` answers it, with no regex to escape.
    """
    return {"key": {"$gte": path + "/", "$lt": path + "0"}}


def _key_or_folder_filter(path: str) -> dict:
    return {"$or": [{"key": path}, _folder_filter(path)]}


def _split_of(doc: Mapping) -> Mapping | None:
    """The ``split`` description of a head document, None for an inline value."""
    split = doc.get("split")
    return split if isinstance(split, Mapping) else None


class MongoDBStore(Store):
    """A store keeping each value in MongoDB, one document per key (parts past 15 MiB).

    Parameters
    ----------
    database : str
        Name of the database.
    collection : str
        Name of the collection holding one document per key; split values keep their
        bytes in ``collection + '.parts'``.
    dimension_separator : {'.', '/'}, optional
        Chunk key separator that arrays created in this store use unless told otherwise
        (as zarr-python 2's stores take it).
    read_only : bool
        Refuse every write with :class:`czarr.errors.ReadOnlyError` (keyword only).
    **client_kwargs
        Passed to ``pymongo.MongoClient`` (``host``, ``port``, ``username``...).

    Raises
    ------
    MissingDependencyError
        The ``pymongo`` package is not installed.

    Notes
    -----
    Values up to 15 MiB are stored exactly as zarr-python 2.18's ``MongoDBStore`` stores
    them, so either library reads what the other wrote; zarr-python 2 cannot read the
    larger values (it could not write them either). A writer that dies between writing
    parts and writing the head leaves unreferenced parts behind, never a broken value;
    ``clear()`` removes them. The store pickles by its connection parameters, never by
    its data.
    """

    def __init__(
        self,
        database: str = "mongodb_zarr",
        collection: str = "zarr_collection",
        dimension_separator: str | None = None,
        *,
        read_only: bool = False,
        **client_kwargs: Any,
    ) -> None:
        pymongo = import_optional("pymongo", "mongodb", "MongoDBStore")
        self._pymongo = pymongo
        self._object_id = import_optional("bson", "mongodb", "MongoDBStore").ObjectId
        self._database = database
        self._collection = collection
        self._dimension_separator = normalize_dimension_separator(dimension_separator)
        self.read_only = bool(read_only)
        self._kwargs = client_kwargs
        self.client = pymongo.MongoClient(**client_kwargs)
        self.db = self.client.get_database(database)
        self.collection = self.db.get_collection(collection)
        self.parts = self.db.get_collection(collection + ".parts")
        self._indexed = False
        self._server_sizes = True  # False once the server lacks $binarySize (< 4.4)

    # -- pickling and comparison ------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {
            "database": self._database,
            "collection": self._collection,
            "dimension_separator": self._dimension_separator,
            "read_only": self.read_only,
            "client_kwargs": self._kwargs,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(
            state["database"], state["collection"], state["dimension_separator"],
            read_only=state["read_only"], **state["client_kwargs"],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MongoDBStore):
            return NotImplemented
        return (self._database, self._collection, self._kwargs) == (
            other._database, other._collection, other._kwargs)

    __hash__ = None  # type: ignore[assignment]  # the client arguments may not be hashable

    def __repr__(self) -> str:
        return (f"<czarr.MongoDBStore database={self._database!r} "
                f"collection={self._collection!r}>")

    # -- helpers ----------------------------------------------------------------------

    def _before_write(self) -> None:
        """Refuse writes to a read-only store; make the indexes on the first write."""
        if self.read_only:
            raise ReadOnlyError(
                f"MongoDBStore {self._database}.{self._collection} was opened read-only")
        if not self._indexed:
            # lookups by key, and parts by value id, use an index (created once)
            self.collection.create_index("key")
            self.parts.create_index([("split", 1), ("n", 1)])
            self._indexed = True

    def _head_document(self, key: str, value: Any, new_parts: list[dict]) -> dict:
        """The document for ``key``; the parts of a large value are appended to ``new_parts``."""
        buf = as_buffer(value)
        size = len(buf)
        if size <= INLINE_MAX:
            return {"key": key, "value": bytes(buf)}
        split_id = self._object_id()
        view = memoryview(buf)
        count = -(-size // PART_SIZE)
        for n in range(count):
            new_parts.append({"split": split_id, "n": n,
                              "data": bytes(view[n * PART_SIZE:(n + 1) * PART_SIZE])})
        return {"key": key, "value": None,
                "split": {"id": split_id, "size": size, "part_size": PART_SIZE, "parts": count}}

    def _drop_parts(self, split_ids: list) -> None:
        if split_ids:
            self.parts.delete_many({"split": {"$in": split_ids}})

    def _read_parts(self, split: Mapping, first: int = 0, last: int | None = None) -> list | None:
        """Parts ``first..last`` of a split value, in order; None when some are gone."""
        last = split["parts"] - 1 if last is None else last
        query: dict = {"split": split["id"]}
        if first > 0 or last < split["parts"] - 1:
            query["n"] = {"$gte": first, "$lte": last}
        found = {doc["n"]: doc["data"] for doc in self.parts.find(query, {"_id": 0, "split": 0})}
        if len(found) != last - first + 1:
            return None
        return [found[n] for n in range(first, last + 1)]

    def _join(self, key: str, split: Mapping, parts: list) -> bytes:
        value = b"".join(parts)
        if len(value) != split["size"]:
            raise SplitValueError(
                f"MongoDBStore: the parts of {key!r} hold {len(value)} bytes, its head "
                f"document says {split['size']}")
        return value

    def _find_head(self, key: str) -> Mapping:
        doc = self.collection.find_one({"key": key}, {"_id": 0, "key": 0})
        if doc is None:
            raise KeyError(key)
        return doc

    def _read(self, key: str) -> bytes:
        """The value of ``key``, reading its head again when its parts vanish meanwhile
        (overwritten or deleted since the head was read)."""
        for _ in range(_RETRIES):
            doc = self._find_head(key)
            split = _split_of(doc)
            if split is None:
                return self._inline_value(key, doc)
            parts = self._read_parts(split)
            if parts is not None:
                return self._join(key, split, parts)
        raise SplitValueError(f"MongoDBStore: parts of the value of {key!r} are missing")

    @staticmethod
    def _inline_value(key: str, doc: Mapping) -> bytes:
        value = doc.get("value")
        if isinstance(value, bytes):
            return value
        if value is not None and hasattr(value, "__bytes__"):  # bson.Binary subtypes
            return bytes(value)
        raise SplitValueError(f"MongoDBStore: the document of {key!r} holds no bytes")

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if type(key) is not str:
            raise KeyError(key)
        return self._read(key)

    def __contains__(self, key: object) -> bool:
        return type(key) is str and (
            self.collection.find_one({"key": key}, {"_id": 1}) is not None)

    def __setitem__(self, key: str, value: Any) -> None:
        self._before_write()
        _check_canonical(key)
        new_parts: list[dict] = []
        head = self._head_document(key, value, new_parts)
        if new_parts:
            self.parts.insert_many(new_parts, ordered=False)
        old = self.collection.find_one_and_replace(
            {"key": key}, head, projection={"_id": 1, "split": 1}, upsert=True)
        old_split = _split_of(old) if old else None
        if old_split is not None:
            self._drop_parts([old_split["id"]])

    def __delitem__(self, key: str) -> None:
        self._before_write()
        if type(key) is not str:
            raise KeyError(key)
        old = self.collection.find_one_and_delete({"key": key}, projection={"_id": 1, "split": 1})
        if old is None:
            raise KeyError(key)
        old_split = _split_of(old)
        if old_split is not None:
            self._drop_parts([old_split["id"]])

    def _keys(self, query: Mapping) -> list[str]:
        seen = {}
        for doc in self.collection.find(query, {"_id": 0, "key": 1}):
            key = doc.get("key")
            if isinstance(key, str):
                seen[key] = None
        return list(seen)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._keys({})))

    def __len__(self) -> int:
        return self.collection.count_documents({})

    def clear(self) -> None:
        """Remove every key (and any part left behind by an interrupted write)."""
        self.rmdir("")

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        keys = [k for k in dict.fromkeys(keys) if type(k) is str]
        if not keys:
            return {}
        out: dict[str, bytes] = {}
        splits: dict[str, Mapping] = {}
        for doc in self.collection.find({"key": {"$in": keys}}, {"_id": 0}):
            split = _split_of(doc)
            if split is None:
                out[doc["key"]] = self._inline_value(doc["key"], doc)
            else:
                splits[doc["key"]] = split
        if splits:
            found: dict = {}
            ids = [split["id"] for split in splits.values()]
            for part in self.parts.find({"split": {"$in": ids}}, {"_id": 0}):
                found.setdefault(part["split"], {})[part["n"]] = part["data"]
            for key, split in splits.items():
                got = found.get(split["id"], {})
                if len(got) == split["parts"]:
                    out[key] = self._join(key, split, [got[n] for n in range(split["parts"])])
                else:  # overwritten meanwhile: read the key alone
                    try:
                        out[key] = self._read(key)
                    except KeyError:
                        pass
        return {k: out[k] for k in keys if k in out}

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        self._before_write()
        new_parts: list[dict] = []
        heads = []
        for key, value in mapping.items():  # refuse bad keys and values before any write
            _check_canonical(key)
            heads.append(self._head_document(key, value, new_parts))
        if not heads:
            return
        keys = [head["key"] for head in heads]
        displaced = [split["id"] for doc in self.collection.find(
            {"key": {"$in": keys}, "split": {"$type": "object"}}, {"_id": 0, "split": 1})
            if (split := _split_of(doc)) is not None]
        if new_parts:
            self.parts.insert_many(new_parts, ordered=False)
        replace = self._pymongo.ReplaceOne
        self.collection.bulk_write([replace({"key": head["key"]}, head, upsert=True)
                                    for head in heads])
        self._drop_parts(displaced)

    def delitems(self, keys: Iterable[str]) -> None:
        self._before_write()
        keys = [k for k in dict.fromkeys(keys) if type(k) is str]
        if keys:
            self._delete({"key": {"$in": keys}})

    def _delete(self, query: dict) -> None:
        """Delete the documents matching ``query``, then the parts of the split ones."""
        split_query = {"$and": [query, {"split": {"$type": "object"}}]}
        ids = [split["id"] for doc in self.collection.find(split_query, {"_id": 0, "split": 1})
               if (split := _split_of(doc)) is not None]
        self.collection.delete_many(query)
        self._drop_parts(ids)

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0 or None, not {length}")
        if type(key) is not str:
            raise KeyError(key)
        for _ in range(_RETRIES):
            doc = self._find_head(key)
            split = _split_of(doc)
            if split is None:
                value = self._inline_value(key, doc)
                offset, count = _slice_range(len(value), start, length)
                return value[offset:offset + count]
            offset, count = _slice_range(split["size"], start, length)
            if count == 0:
                return b""
            step = split["part_size"]
            first, last = offset // step, (offset + count - 1) // step
            parts = self._read_parts(split, first, last)
            if parts is not None:
                joined = b"".join(parts)
                skip = offset - first * step
                return joined[skip:skip + count]
        raise SplitValueError(f"MongoDBStore: parts of the value of {key!r} are missing")

    def listdir(self, path: str = "") -> list[str]:
        path = _normalize_path(path)
        if not path:
            return sorted({k.split("/", 1)[0] for k in self._keys({})})
        n = len(path) + 1
        return sorted({k[n:].split("/", 1)[0] for k in self._keys(_folder_filter(path))})

    def rmdir(self, path: str = "") -> None:
        self._before_write()
        path = _normalize_path(path)
        if not path:
            self.collection.delete_many({})
            self.parts.delete_many({})  # with any part an interrupted write left behind
            return
        self._delete(_folder_filter(path))

    def getsize(self, path: str = "") -> int:
        path = _normalize_path(path)
        if path:
            sizes = self._sizes({"key": path})
            if sizes:
                return sizes[0]
            return sum(self._sizes(_folder_filter(path)))
        return sum(self._sizes({}))

    def _sizes(self, query: dict) -> list[int]:
        """Sizes of the values of the documents matching ``query``, measured by the server
        ($binarySize, MongoDB 4.4+) or, on older servers, by reading the values."""
        if self._server_sizes:
            # a split head's size is in its document; $binarySize(null) is null
            size = {"$ifNull": ["$split.size", {"$binarySize": "$value"}]}
            try:
                return [doc.get("size") or 0 for doc in self.collection.aggregate(
                    [{"$match": query}, {"$project": {"_id": 0, "size": size}}])]
            except self._pymongo.errors.OperationFailure as e:
                # 168: InvalidPipelineOperator, what servers before 4.4 answer
                if e.code != 168 and "Unrecognized expression" not in str(e):
                    raise
                self._server_sizes = False
        sizes = []
        for doc in self.collection.find(query, {"_id": 0, "value": 1, "split.size": 1}):
            split = _split_of(doc)
            value = doc.get("value")
            sizes.append(split["size"] if split is not None else
                         len(value) if value is not None else 0)
        return sizes

    def rename(self, src: str, dst: str) -> None:
        self._before_write()
        src = _normalize_path(src)
        dst = _normalize_path(dst)
        _check_rename(src, dst)
        n = len(src)
        moves = {doc["_id"]: dst + doc["key"][n:] for doc in
                 self.collection.find(_key_or_folder_filter(src), {"_id": 1, "key": 1})}
        if not moves:
            raise KeyError(src)
        # what is at the destination keys is replaced: remove it (and its parts) first
        self._delete({"key": {"$in": list(moves.values())}})
        update = self._pymongo.UpdateOne
        self.collection.bulk_write([update({"_id": _id}, {"$set": {"key": key}})
                                    for _id, key in moves.items()])

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()
