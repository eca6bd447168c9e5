"""zarr-python 2's other file and memory stores (NestedDirectoryStore, TempStore, KVStore,
DictStore) and the LRUStoreCache wrapper: the conformance suite, plus what each adds."""

from __future__ import annotations

import os
import pickle
import threading

import numpy as np
import pytest
import zarr

import czarr
from czarr.storage import (
    DictStore,
    DirectoryStore,
    KVStore,
    LRUStoreCache,
    MemoryStore,
    NestedDirectoryStore,
    TempStore,
    getitems,
    listdir,
)

from .store_tests import StoreTests


class TestNestedDirectoryStore(StoreTests):
    @pytest.fixture
    def create_store(self, tmp_path):
        return NestedDirectoryStore(tmp_path / "nested")

    def reopen(self, store, read_only=False):
        return None if read_only else NestedDirectoryStore(store.path)


class TestTempStore(StoreTests):
    @pytest.fixture
    def create_store(self, tmp_path):
        return TempStore(dir=str(tmp_path))

    def reopen(self, store, read_only=False):
        return None if read_only else DirectoryStore(store.path)


class TestKVStore(StoreTests):
    stores_bytes = False  # it keeps what its mapping keeps
    refuses_bad_keys = False

    @pytest.fixture
    def create_store(self):
        return KVStore(dict())


class TestLRUStoreCache(StoreTests):
    @pytest.fixture
    def create_store(self, tmp_path):
        return LRUStoreCache(DirectoryStore(tmp_path / "cached"), max_size=1 << 20)

    def reopen(self, store, read_only=False):
        return None if read_only else LRUStoreCache(DirectoryStore(store._store.path), None)


def test_nested_directory_store_layout_and_zarr_reads_it(tmp_path):
    store = NestedDirectoryStore(tmp_path / "n.zarr")
    with pytest.raises(ValueError, match="only supports '/'"):
        NestedDirectoryStore(tmp_path / "x", dimension_separator=".")
    z = czarr.zeros((4, 4), chunks=(2, 2), dtype="i4", store=store)
    z[...] = np.arange(16).reshape(4, 4)
    assert z.dimension_separator == "/"
    assert os.path.isfile(tmp_path / "n.zarr" / "1" / "1")
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "n.zarr"), mode="r")[...],
                                  np.arange(16).reshape(4, 4))
    assert pickle.loads(pickle.dumps(store)) == store


def test_store_separator_is_the_default_and_conflicts_are_refused(tmp_path):
    store = DirectoryStore(tmp_path / "d", dimension_separator="/")
    a = czarr.zeros((4,), chunks=2, store=store, path="a")
    assert a.dimension_separator == "/"
    with pytest.raises(ValueError, match="conflicts"):
        czarr.zeros((4,), chunks=2, store=store, path="b", dimension_separator=".")
    # a .zarray without dimension_separator (written before zarr-python 2.8) takes the
    # store's, as zarr-python 2 reads it
    import json
    doc = json.loads(store["a/.zarray"])
    del doc["dimension_separator"]
    store["a/.zarray"] = json.dumps(doc).encode()
    a[...] = [1, 2, 3, 4]
    assert czarr.open_array(store, path="a", mode="r")[...].tolist() == [1, 2, 3, 4]
    assert czarr.open_array(DirectoryStore(tmp_path / "d"), path="a", mode="r"
                            ).dimension_separator == "."


def test_temp_store_is_a_new_folder(tmp_path):
    a, b = TempStore(dir=str(tmp_path)), TempStore(prefix="x", suffix=".zarr")
    assert a.path != b.path and os.path.isdir(a.path) and b.path.endswith(".zarr")
    assert os.path.basename(b.path).startswith("x")


def test_dict_store_warns_and_is_a_memory_store():
    with pytest.warns(DeprecationWarning, match="renamed to MemoryStore"):
        store = DictStore()
    assert isinstance(store, MemoryStore)


def test_memory_store_takes_zarr_python_2_arguments():
    nested = MemoryStore({"a": {"b": b"1", "c": {"d": b"2"}}, "e": b"3"},
                         dimension_separator="/")
    assert sorted(nested) == ["a/b", "a/c/d", "e"]
    assert czarr.zeros((4,), chunks=2, store=nested, path="z").dimension_separator == "/"


def test_kv_store_passes_through():
    inner = {}
    store = KVStore(inner)
    czarr.zeros((4,), chunks=2, store=store)[...] = 1
    assert sorted(inner) == [".zarray", "0", "1"]
    assert store == KVStore(inner) and listdir(store) == [".zarray", "0", "1"]


def test_lru_cache_hits_misses_and_invalidation():
    inner = MemoryStore({"a": b"1" * 10, "b": b"2" * 10, "c": b"3" * 10})
    cache = LRUStoreCache(inner, max_size=25)
    assert cache["a"] == b"1" * 10 and (cache.hits, cache.misses) == (0, 1)
    assert cache["a"] == b"1" * 10 and (cache.hits, cache.misses) == (1, 1)
    cache["b"], cache["c"]  # evicts "a": 30 bytes would not fit
    assert cache._current_size == 20 and "a" not in cache._values_cache
    assert getitems(cache, ["b", "c", "a"]).keys() == {"a", "b", "c"}  # "a" evicts "b"
    assert list(cache._values_cache) == ["c", "a"]
    inner["c"] = b"changed"  # behind the cache's back
    assert cache["c"] == b"3" * 10
    cache.invalidate()
    assert cache["c"] == b"changed"
    cache["b"] = b"written"  # through the cache: seen at once
    assert inner["b"] == b"written" and cache["b"] == b"written"
    assert sorted(cache) == ["a", "b", "c"]
    del cache["a"]
    assert "a" not in cache and sorted(cache) == ["b", "c"]
    big = LRUStoreCache(inner, max_size=4)
    assert big["b"] == b"written" and big._current_size == 0  # too big to cache


def test_lru_cache_in_front_of_an_array_and_threads(tmp_path):
    cache = LRUStoreCache(DirectoryStore(tmp_path / "a.zarr"), max_size=None)
    z = czarr.zeros((100, 100), chunks=(10, 10), dtype="i4", store=cache)
    z[...] = np.arange(10000).reshape(100, 100)
    cache.invalidate_values()
    errors = []

    def read():
        try:
            for _ in range(5):
                assert (z[...] == np.arange(10000).reshape(100, 100)).all()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and cache.hits >= 7 * 100  # only the first reads missed
    assert pickle.loads(pickle.dumps(cache))._store == cache._store


@pytest.mark.parametrize("make", [
    lambda p: MemoryStore(), lambda p: NestedDirectoryStore(p / "n"),
    lambda p: TempStore(dir=str(p)), lambda p: KVStore({}),
    lambda p: LRUStoreCache(DirectoryStore(p / "c"), max_size=1 << 16),
], ids=["memory", "nested", "temp", "kv", "lru"])
def test_array_and_group_round_trip(tmp_path, make):
    store = make(tmp_path)
    root = czarr.group(store)
    root.attrs["k"] = [1, 2]
    a = root.create_dataset("g/a", shape=(30, 20), chunks=(7, 6), dtype="f4",
                            compressor=czarr.Zstd(3))
    a[...] = np.arange(600, dtype="f4").reshape(30, 20)
    b = root.zeros("b", shape=5, chunks=2, dtype="i2")
    b[1:4] = [7, 8, 9]
    again = czarr.open_group(store, mode="r")
    assert again.attrs["k"] == [1, 2]
    np.testing.assert_array_equal(again["g/a"][...], a[...])
    assert again["b"][...].tolist() == [0, 7, 8, 9, 0]
    assert sorted(again.group_keys()) == ["g"] and sorted(again.array_keys()) == ["b"]


def test_czarr_reads_nested_arrays_zarr_python_3_wrote(tmp_path):
    path = str(tmp_path / "z3.zarr")
    z = zarr.create_array(path, shape=(4, 6), chunks=(2, 3), dtype="u2", zarr_format=2,
                          chunk_key_encoding={"name": "v2", "separator": "/"})
    z[...] = np.arange(24).reshape(4, 6)
    assert os.path.isfile(tmp_path / "z3.zarr" / "1" / "1")
    ours = czarr.open_array(NestedDirectoryStore(path), mode="r")
    np.testing.assert_array_equal(ours[...], np.arange(24).reshape(4, 6))
