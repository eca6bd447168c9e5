"""MemoryStore: the conformance suite plus its folder index and its equality."""

from __future__ import annotations

import pickle

import pytest

from czarr.errors import BadKeyError
from czarr.storage import MemoryStore, listdir, rename, rmdir

from .store_tests import StoreTests


class TestMemoryStore(StoreTests):
    @pytest.fixture
    def create_store(self):
        return MemoryStore()


def test_initial_data_is_copied():
    source = {"a": b"1", "b/c": bytearray(b"2")}
    store = MemoryStore(source)
    source["a"] = b"changed"
    assert store["a"] == b"1"
    assert store["b/c"] == b"2"
    assert listdir(store) == ["a", "b"]


def test_equality():
    a = MemoryStore({"x": b"1"})
    b = MemoryStore({"x": b"1"})
    assert a == b
    b["x"] = b"2"
    assert a != b
    assert a != {"x": b"1"}  # a store is not equal to a dict
    with pytest.raises(TypeError):
        hash(a)


def test_pickled_copy_is_independent():
    store = MemoryStore({"a/b": b"1"})
    copy = pickle.loads(pickle.dumps(store))
    copy["a/c"] = b"2"
    assert listdir(copy, "a") == ["b", "c"]
    assert listdir(store, "a") == ["b"]


def test_key_and_folder_may_share_a_name():
    # a mapping can hold 'a' and 'a/b' at once (a filesystem cannot)
    store = MemoryStore({"a": b"1", "a/b": b"2"})
    assert listdir(store) == ["a"]
    assert listdir(store, "a") == ["b"]
    rmdir(store, "a")  # removes what is under a/, not the key a
    assert list(store) == ["a"]
    store["a/b"] = b"2"
    rename(store, "a", "z")
    assert sorted(store) == ["z", "z/b"]


def test_folder_index_follows_many_writes_and_deletes():
    store = MemoryStore()
    keys = [f"g{i % 3}/arr{i % 5}/{i}.0" for i in range(300)]
    for key in keys:
        store[key] = b"x"
    for key in keys[::2]:
        del store[key]
    left = set(keys[1::2])
    assert set(store) == left
    for folder in ["", "g0", "g1/arr2"]:
        prefix = folder + "/" if folder else ""
        expected = sorted({k[len(prefix):].split("/")[0] for k in left if k.startswith(prefix)})
        assert listdir(store, folder) == expected
    for key in keys[1::2]:
        del store[key]
    assert listdir(store) == []
    assert store._dirs in ({}, {"": {}})


def test_non_canonical_keys_refused_even_when_overwriting_is_not_involved():
    store = MemoryStore()
    with pytest.raises(BadKeyError, match="canonical"):
        store["/a"] = b"1"
    assert len(store) == 0
