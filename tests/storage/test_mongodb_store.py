"""MongoDBStore, in two kinds of tests that must not be confused.

**Against a real MongoDB server** (``TestMongoDBStore``, ``test_real_server_*``): the
conformance suite and a czarr hierarchy round trip against a ``mongod`` that the
``mongod_port`` fixture starts on 127.0.0.1. No MongoDB server is installable from the
package registries this project reaches (PyPI, Debian 12), so these tests are skipped
with the reason "no mongod on PATH (no MongoDB server in PyPI/Debian)" on machines
without ``mongod``.

**Store logic with mongomock** (``TestMongoDBStoreLogicWithMongomock``,
``test_mongodb_store_logic_with_mongomock_*``): mongomock is an in-process mock of the
pymongo API, NOT a MongoDB server. It checks the store's own logic: the document layout
zarr-python 2 shares, values split past the 16 MiB BSON limit and reassembled, the write
order that keeps half-written values invisible, the cleanup of parts. It says nothing
about a real server's behaviour.
"""

from __future__ import annotations

import inspect
import os
import pickle
import sys
import uuid

import numpy as np
import pytest

import czarr
from czarr.errors import MissingDependencyError, ReadOnlyError
from czarr.storage import (
    delitems,
    get_partial,
    getitems,
    getsize,
    listdir,
    rename,
    rmdir,
    setitems,
)

from .store_tests import StoreTests

if os.environ.get("CI"):  # the test extra installs them: never skip there
    import mongomock
    import pymongo
else:
    pymongo = pytest.importorskip("pymongo", reason="pymongo is in czarr's test extra")
    mongomock = pytest.importorskip("mongomock", reason="mongomock is in czarr's test extra")
import bson  # noqa: E402  (pymongo's)

from czarr.storage import MongoDBStore  # noqa: E402
from czarr.storage.mongodb import INLINE_MAX, PART_SIZE, SplitValueError  # noqa: E402

BSON_MAX = 16 << 20  # MongoDB's largest document


def write_hierarchy(store):
    """A group with attributes holding two arrays, one of them compressed."""
    rng = np.random.default_rng(7)
    temps = rng.normal(size=(40, 30)).astype("<f4")
    counts = rng.integers(0, 1000, size=(1000,), dtype="<i8")
    root = czarr.group(store=store)
    root.attrs.update(title="run 7", tags=["a", "b"])
    grid = root.create_group("grid")
    grid.attrs["units"] = "K"
    grid.create_dataset("temps", data=temps, chunks=(16, 16), compressor=None)
    grid.create_dataset("counts", data=counts, chunks=(128,),
                        compressor=czarr.Blosc(cname="zstd", clevel=3))
    return temps, counts


def check_hierarchy(store, temps, counts):
    root = czarr.open_group(store, mode="r")
    assert root.attrs.asdict() == {"title": "run 7", "tags": ["a", "b"]}
    assert root["grid"].attrs["units"] == "K"
    assert sorted(root["grid"].array_keys()) == ["counts", "temps"]
    np.testing.assert_array_equal(root["grid/temps"][:], temps)
    np.testing.assert_array_equal(root["grid/counts"][:], counts)
    assert root["grid/temps"].compressor is None
    assert root["grid/counts"].compressor.get_config()["cname"] == "zstd"
    assert getsize(store, "grid/counts") < counts.nbytes


# ---------------------------------------------------------------------------------------
# against a real mongod (skipped without one: none comes from PyPI or Debian)
# ---------------------------------------------------------------------------------------


@pytest.fixture
def real_store_args(mongod_port):
    """Arguments of a MongoDBStore on a fresh collection of the real server."""
    collection = f"c_{uuid.uuid4().hex[:8]}"
    args = dict(database="czarr_test", collection=collection, host="127.0.0.1",
                port=mongod_port, serverSelectionTimeoutMS=10_000)
    yield args
    client = pymongo.MongoClient(host="127.0.0.1", port=mongod_port)
    client.drop_database("czarr_test")
    client.close()


class TestMongoDBStore(StoreTests):
    @pytest.fixture
    def create_store(self, real_store_args):
        store = MongoDBStore(**real_store_args)
        yield store
        store.close()

    def reopen(self, store, read_only=False):
        return MongoDBStore(store._database, store._collection, read_only=read_only,
                            **store._kwargs)


def test_real_server_hierarchy_round_trip(real_store_args):
    with MongoDBStore(**real_store_args) as store:
        temps, counts = write_hierarchy(store)
    with MongoDBStore(**real_store_args) as again:
        check_hierarchy(again, temps, counts)


def test_real_server_split_value_and_layout(real_store_args):
    big = np.random.default_rng(1).integers(0, 256, INLINE_MAX + 1, dtype="u1").tobytes()
    with MongoDBStore(**real_store_args) as store:
        store["small"] = b"abc"
        store["big"] = big
        assert store.collection.find_one({"key": "small"}, {"_id": 0}) == {
            "key": "small", "value": b"abc"}
        assert store.parts.count_documents({}) == 2
        assert getsize(store) == len(big) + 3  # measured by the server ($binarySize)
    with MongoDBStore(**real_store_args) as again:
        assert again["big"] == big
        del again["big"]
        assert again.parts.count_documents({}) == 0


# ---------------------------------------------------------------------------------------
# store logic with mongomock (an in-process mock of pymongo, not a server)
# ---------------------------------------------------------------------------------------


def _drop_sort(method):
    def without_sort(self, *args, sort=None, **kwargs):
        assert sort is None  # the store never sorts a write
        return method(self, *args, **kwargs)

    return without_sort


@pytest.fixture
def mock_server(monkeypatch):
    """Make pymongo.MongoClient a mongomock client; every client made in the test shares
    one mock data set (so a store can be reopened)."""
    shared = mongomock.store.ServerStore()
    # mongomock 4.3 predates pymongo 4.11, whose ReplaceOne/UpdateOne hand a `sort`
    # argument to the bulk builder: let the mock's builder accept (and ignore) it
    builder = mongomock.collection.BulkOperationBuilder
    for name in ("add_replace", "add_update"):
        method = getattr(builder, name)
        if "sort" not in inspect.signature(method).parameters:
            monkeypatch.setattr(builder, name, _drop_sort(method))
    monkeypatch.setattr(pymongo, "MongoClient",
                        lambda *a, **kw: mongomock.MongoClient(*a, _store=shared, **kw))
    return shared


@pytest.fixture
def mock_store(mock_server):
    store = MongoDBStore("czarr_test", "logic")
    yield store
    store.close()


class TestMongoDBStoreLogicWithMongomock(StoreTests):
    """The conformance suite on mongomock: the store's logic, not a server's."""

    @pytest.fixture
    def create_store(self, mock_store):
        return mock_store

    def reopen(self, store, read_only=False):
        return MongoDBStore(store._database, store._collection, read_only=read_only)


def all_documents(store):
    return list(store.collection.find({})), list(store.parts.find({}))


def random_bytes(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, n, dtype="u1").tobytes()


def test_mongodb_store_logic_with_mongomock_small_values_as_zarr_python_2(mock_store):
    """zarr-python 2.18 writes {'key': key, 'value': bytes} and reads doc['value']."""
    mock_store["foo/.zarray"] = b"{}"
    mock_store["foo/0"] = np.arange(3, dtype="<i2")
    mock_store["edge"] = random_bytes(INLINE_MAX)  # the largest value kept whole
    heads, parts = all_documents(mock_store)
    assert parts == []
    assert {d["key"]: set(d) for d in heads} == {
        k: {"_id", "key", "value"} for k in ["foo/.zarray", "foo/0", "edge"]}
    assert mock_store.collection.find_one({"key": "foo/0"})["value"] == bytes([0, 0, 1, 0, 2, 0])


def test_mongodb_store_logic_with_mongomock_default_names_as_zarr_python_2(mock_server):
    store = MongoDBStore()
    assert (store.db.name, store.collection.name) == ("mongodb_zarr", "zarr_collection")
    assert store.parts.name == "zarr_collection.parts"


def test_mongodb_store_logic_with_mongomock_reads_documents_zarr_python_2_wrote(mock_store):
    zarray = (b'{"chunks": [3], "compressor": null, "dtype": "<i4", "fill_value": 7, '
              b'"filters": null, "order": "C", "shape": [5], "zarr_format": 2}')
    mock_store.collection.insert_many([
        {"key": ".zgroup", "value": b'{\n    "zarr_format": 2\n}'},
        {"key": "a/.zarray", "value": zarray},
        {"key": "a/0", "value": bson.Binary(np.arange(3, dtype="<i4").tobytes())},
    ])
    arr = czarr.open_group(mock_store, mode="r")["a"]
    np.testing.assert_array_equal(arr[:], [0, 1, 2, 7, 7])
    assert getsize(mock_store, "a/0") == 12


@pytest.mark.parametrize("size", [INLINE_MAX + 1, 2 * PART_SIZE, 2 * PART_SIZE + 1, 40 << 20])
def test_mongodb_store_logic_with_mongomock_large_values_are_split(mock_store, size):
    value = random_bytes(size, seed=size)
    mock_store["arr/0"] = value
    (head,), parts = all_documents(mock_store)
    count = -(-size // PART_SIZE)
    assert head["value"] is None  # zarr-python 2 reads None and fails loudly
    assert head["split"]["size"] == size and head["split"]["parts"] == count
    assert sorted(p["n"] for p in parts) == list(range(count))
    assert {p["split"] for p in parts} == {head["split"]["id"]}
    for doc in [head, *parts]:  # every document fits MongoDB's 16 MiB limit
        assert len(bson.encode(doc)) <= BSON_MAX
    assert mock_store["arr/0"] == value
    assert getitems(mock_store, ["arr/0", "arr/1"]) == {"arr/0": value}
    assert getsize(mock_store, "arr") == size
    assert len(mock_store) == 1 and list(mock_store) == ["arr/0"]
    # ranges across part boundaries
    for start, length in [(0, 10), (PART_SIZE - 3, 6), (size - 7, None), (-PART_SIZE - 2, 5),
                          (PART_SIZE, PART_SIZE), (5, 0)]:
        offset = start if start >= 0 else size + start
        stop = size if length is None else offset + length
        assert get_partial(mock_store, "arr/0", start, length) == value[offset:stop]


def test_mongodb_store_logic_with_mongomock_partial_reads_fetch_only_needed_parts(mock_store):
    mock_store["k"] = random_bytes(3 * PART_SIZE + 10)
    fetched = []
    real_find = mock_store.parts.find

    class Spy:
        def find(self, query, *args, **kwargs):
            docs = list(real_find(query, *args, **kwargs))
            fetched.extend(d["n"] for d in docs)
            return docs

    mock_store.parts = Spy()
    get_partial(mock_store, "k", 2 * PART_SIZE - 1, 2)
    assert sorted(fetched) == [1, 2]


def test_mongodb_store_logic_with_mongomock_overwrite_and_delete_remove_parts(mock_store):
    big1, big2 = random_bytes(INLINE_MAX + 5, 1), random_bytes(3 * PART_SIZE, 2)
    mock_store["k"] = big1
    first_id = mock_store.collection.find_one({"key": "k"})["split"]["id"]
    mock_store["k"] = big2  # large over large: the old parts go
    (head,), parts = all_documents(mock_store)
    assert {p["split"] for p in parts} == {head["split"]["id"]} != {first_id}
    assert len(parts) == 3 and mock_store["k"] == big2
    mock_store["k"] = b"small"  # small over large: no parts left
    assert all_documents(mock_store)[1] == [] and mock_store["k"] == b"small"
    mock_store["k"] = big1
    del mock_store["k"]
    assert all_documents(mock_store) == ([], [])

    setitems(mock_store, {"a": big1, "b": big2, "c": b"c"})
    assert len(all_documents(mock_store)[1]) == 2 + 3
    setitems(mock_store, {"a": b"a", "b": big1})  # setitems drops the parts it displaces
    assert len(all_documents(mock_store)[1]) == 2
    assert getitems(mock_store, ["a", "b", "c"]) == {"a": b"a", "b": big1, "c": b"c"}
    delitems(mock_store, ["b", "c"])
    assert all_documents(mock_store)[1] == [] and list(mock_store) == ["a"]

    setitems(mock_store, {"d/x": big1, "d/y/z": big2, "e": big1})
    rename(mock_store, "d", "f")
    assert mock_store["f/y/z"] == big2 and listdir(mock_store) == ["a", "e", "f"]
    rename(mock_store, "e", "f/x")  # replaces a split value: its parts go
    assert len(all_documents(mock_store)[1]) == 2 + 3
    rmdir(mock_store, "f")
    assert all_documents(mock_store)[1] == [] and list(mock_store) == ["a"]


class Recorder:
    """Wraps a collection, recording the writes made through it in a shared log."""

    def __init__(self, inner, name, log, fail_on=None):
        self._inner, self._name, self._log, self._fail_on = inner, name, log, fail_on

    def __getattr__(self, attr):
        method = getattr(self._inner, attr)
        if not attr.startswith(("insert", "replace", "find_one_and", "delete", "bulk")):
            return method

        def recorded(*args, **kwargs):
            self._log.append(f"{self._name}.{attr}")
            if attr == self._fail_on:
                raise ConnectionError("the server went away")
            return method(*args, **kwargs)

        return recorded


def test_mongodb_store_logic_with_mongomock_write_order_hides_half_written_values(mock_store):
    old, new = random_bytes(INLINE_MAX + 1, 3), random_bytes(2 * PART_SIZE + 1, 4)
    mock_store["k"] = old
    mock_store["other"] = b"x"  # make the indexes exist before recording
    log = []
    mock_store.collection = Recorder(mock_store.collection, "heads", log)
    mock_store.parts = Recorder(mock_store.parts, "parts", log)
    mock_store["k"] = new
    # parts first, then the head in one atomic replace, then the displaced parts
    assert log == ["parts.insert_many", "heads.find_one_and_replace", "parts.delete_many"]
    log.clear()
    setitems(mock_store, {"k": old, "j": new})
    assert log == ["parts.insert_many", "heads.bulk_write", "parts.delete_many"]
    log.clear()
    del mock_store["k"]
    assert log == ["heads.find_one_and_delete", "parts.delete_many"]


@pytest.mark.parametrize("fail_on", ["find_one_and_replace", "insert_many"])
def test_mongodb_store_logic_with_mongomock_interrupted_write_keeps_old_value(
        mock_store, fail_on):
    old, new = random_bytes(INLINE_MAX + 1, 5), random_bytes(2 * PART_SIZE + 9, 6)
    mock_store["k"] = old
    heads, parts = mock_store.collection, mock_store.parts
    mock_store.collection = Recorder(heads, "heads", [], fail_on=fail_on)
    mock_store.parts = Recorder(parts, "parts", [], fail_on=fail_on)
    with pytest.raises(ConnectionError):
        mock_store["k"] = new
    mock_store.collection, mock_store.parts = heads, parts
    assert mock_store["k"] == old  # the old value, whole
    again = MongoDBStore("czarr_test", "logic")
    assert again["k"] == old and list(again) == ["k"]
    again.clear()  # clear also removes the parts the interrupted write left behind
    assert all_documents(again) == ([], [])


def test_mongodb_store_logic_with_mongomock_reader_retries_after_concurrent_overwrite(
        mock_store):
    old, new = random_bytes(INLINE_MAX + 1, 7), random_bytes(INLINE_MAX + 2, 8)
    mock_store["k"] = old
    writer = MongoDBStore("czarr_test", "logic")
    real_find = mock_store.parts.find
    calls = []

    class OverwriteBetweenHeadAndParts:
        def find(self, *args, **kwargs):
            if not calls:  # the head was read: another writer replaces the value now
                writer["k"] = new
            calls.append(1)
            return real_find(*args, **kwargs)

    mock_store.parts = OverwriteBetweenHeadAndParts()
    assert mock_store["k"] == new  # read again, whole: never a mix, never missing
    assert len(calls) == 2


def test_mongodb_store_logic_with_mongomock_missing_parts_raise(mock_store):
    mock_store["k"] = random_bytes(INLINE_MAX + 1)
    mock_store.parts.delete_many({"n": 1})
    with pytest.raises(SplitValueError, match="'k'"):
        mock_store["k"]


def test_mongodb_store_logic_with_mongomock_hierarchy_round_trip(mock_server):
    with MongoDBStore("czarr_test", "h") as store:
        temps, counts = write_hierarchy(store)
    with MongoDBStore("czarr_test", "h") as again:
        check_hierarchy(again, temps, counts)


def test_mongodb_store_logic_with_mongomock_pickles_by_parameters(mock_server):
    store = MongoDBStore("db1", "coll1", host="localhost", port=27017)
    store["big"] = bytes(1 << 20)
    payload = pickle.dumps(store)
    assert len(payload) < 1000  # the parameters, not the data
    copy = pickle.loads(payload)
    assert copy == store and copy["big"] == bytes(1 << 20)
    assert (copy._database, copy._collection) == ("db1", "coll1")
    assert copy._kwargs == {"host": "localhost", "port": 27017}
    assert copy != MongoDBStore("db1", "coll2", host="localhost", port=27017)
    ro = pickle.loads(pickle.dumps(MongoDBStore("db1", "coll1", read_only=True)))
    assert ro.read_only and ro["big"] == bytes(1 << 20)


def test_mongodb_store_logic_with_mongomock_read_only(mock_store):
    mock_store["a"] = b"1"
    ro = MongoDBStore("czarr_test", "logic", read_only=True)
    assert ro["a"] == b"1"
    with pytest.raises(ReadOnlyError, match="read-only"):
        ro["a"] = b"2"
    with pytest.raises(ReadOnlyError):
        czarr.zeros(3, store=ro)


def test_mongodb_store_logic_with_mongomock_dimension_separator(mock_server):
    store = MongoDBStore("czarr_test", "sep", "/")
    czarr.zeros((4, 4), chunks=(2, 2), store=store, dtype="u1")[:] = 1
    assert sorted(k for k in store if not k.startswith(".")) == ["0/0", "0/1", "1/0", "1/1"]


def test_missing_pymongo_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pymongo", None)  # `import pymongo` now raises
    with pytest.raises(MissingDependencyError, match=r"czarr\[mongodb\]"):
        MongoDBStore()
