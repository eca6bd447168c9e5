"""The store contract: keys, values, normalize_store_arg, and the generic fallbacks that
make every storage function work on a plain dict or any other MutableMapping."""

from __future__ import annotations

import pathlib
import sys
import zipfile
from collections.abc import MutableMapping

import numpy as np
import pytest

import czarr.storage
from czarr.errors import BadKeyError, MissingDependencyError, ReadOnlyError
from czarr.storage import (
    DirectoryStore,
    MemoryStore,
    Store,
    ZipStore,
    as_buffer,
    close,
    get_partial,
    getitems,
    getsize,
    listdir,
    normalize_key,
    normalize_store_arg,
    rename,
    rmdir,
)

from .store_tests import StoreTests


class KVMapping(MutableMapping):
    """A mapping with nothing but the five MutableMapping methods."""

    def __init__(self):
        self.d = {}

    def __getitem__(self, key):
        return self.d[key]

    def __setitem__(self, key, value):
        self.d[key] = value

    def __delitem__(self, key):
        del self.d[key]

    def __iter__(self):
        return iter(self.d)

    def __len__(self):
        return len(self.d)

    def __eq__(self, other):
        return isinstance(other, KVMapping) and self.d == other.d


class MinimalStore(Store):
    """A Store subclass implementing only the mapping: every fast path is inherited."""

    def __init__(self):
        self.d = {}

    def __getitem__(self, key):
        return self.d[key]

    def __setitem__(self, key, value):
        self.d[key] = bytes(as_buffer(value))

    def __delitem__(self, key):
        del self.d[key]

    def __iter__(self):
        return iter(list(self.d))

    def __len__(self):
        return len(self.d)

    def __eq__(self, other):
        return isinstance(other, MinimalStore) and self.d == other.d


class TestDictFallbacks(StoreTests):
    stores_bytes = False
    refuses_bad_keys = False
    is_context_manager = False

    @pytest.fixture
    def create_store(self):
        return {}


class TestMappingFallbacks(StoreTests):
    stores_bytes = False
    refuses_bad_keys = False
    is_context_manager = False

    @pytest.fixture
    def create_store(self):
        return KVMapping()


class TestStoreBaseClassDefaults(StoreTests):
    refuses_bad_keys = False

    @pytest.fixture
    def create_store(self):
        return MinimalStore()


# ---------------------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, expected",
    [
        ("a", "a"),
        (".zarray", ".zarray"),
        ("0.0", "0.0"),
        ("a/b/0.0", "a/b/0.0"),
        ("/a/b/", "a/b"),
        ("a//b///c", "a/b/c"),
        ("a\\b", "a/b"),
        ("a..b/c.", "a..b/c."),
        ("...", "..."),
    ],
)
def test_normalize_key(key, expected):
    assert normalize_key(key) == expected


@pytest.mark.parametrize("key", ["", "/", "//", ".", "..", "a/..", "../a", "a/./b", "a/../b"])
def test_normalize_key_refuses(key):
    with pytest.raises(BadKeyError):
        normalize_key(key)
    with pytest.raises(KeyError):  # BadKeyError is a KeyError
        normalize_key(key)


def test_normalize_key_type():
    with pytest.raises(TypeError):
        normalize_key(b"a")
    with pytest.raises(TypeError):
        normalize_key(None)


def test_paths_are_normalized_too():
    store = {"a/b/c": b"1"}
    assert listdir(store, None) == ["a"]
    assert listdir(store, "\\a\\") == ["b"]
    with pytest.raises(BadKeyError):
        listdir(store, "a/../..")
    with pytest.raises(BadKeyError):
        rmdir(store, "..")


# ---------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------


def test_as_buffer_does_not_copy():
    data = b"abc"
    assert as_buffer(data) is data
    arr = np.arange(4, dtype="<i4").reshape(2, 2)
    view = as_buffer(arr)
    assert isinstance(view, memoryview) and view.format == "B" and view.nbytes == 16
    arr[0, 0] = 99
    assert view[0] == 99  # same memory
    buf = bytearray(b"xy")
    view = as_buffer(buf)
    buf[0] = ord("z")
    assert bytes(view) == b"zy"


# ---------------------------------------------------------------------------------------
# fallbacks on foreign mappings
# ---------------------------------------------------------------------------------------


class FsspecLikeMapping(KVMapping):
    """fsspec's FSMap.getitems raises on missing keys unless told otherwise."""

    def getitems(self, keys, on_error="raise"):
        return {k: self.d[k] for k in keys}


def test_getitems_of_a_foreign_mapping_that_raises_on_missing_keys():
    store = FsspecLikeMapping()
    store["a"] = b"1"
    assert getitems(store, ["a"]) == {"a": b"1"}
    assert getitems(store, ["a", "missing"]) == {"a": b"1"}


class UnsortedListdirMapping(KVMapping):
    def listdir(self, path=""):
        return ["b", "a", "c"]


def test_listdir_of_a_foreign_mapping_is_sorted():
    assert listdir(UnsortedListdirMapping()) == ["a", "b", "c"]


def test_getsize_unknown_for_values_that_are_not_buffers():
    assert getsize({"a": b"12", "b": "text"}) == -1
    assert getsize({"a": b"12", "b": "text"}, "a") == 2


def test_get_partial_on_a_dict():
    assert get_partial({"k": bytearray(b"0123")}, "k", 1, 2) == b"12"


def test_rename_fallback_keeps_unrelated_keys():
    store = {"ab": b"1", "a/x": b"2", "a": b"3"}
    rename(store, "a", "z")
    assert store == {"ab": b"1", "z/x": b"2", "z": b"3"}


def test_close_is_a_no_op_without_a_close_method():
    close({})
    with MinimalStore() as store:
        store["a"] = b"1"
    close(store)


# ---------------------------------------------------------------------------------------
# normalize_store_arg
# ---------------------------------------------------------------------------------------


def test_normalize_store_arg_none_gives_a_new_memory_store():
    a = normalize_store_arg(None)
    b = normalize_store_arg(None)
    assert isinstance(a, MemoryStore) and len(a) == 0
    assert a is not b


@pytest.mark.parametrize("mapping", [{}, MemoryStore(), KVMapping()])
def test_normalize_store_arg_passes_mappings_through(mapping):
    assert normalize_store_arg(mapping) is mapping
    assert normalize_store_arg(mapping, mode="r") is mapping


def test_normalize_store_arg_directory(tmp_path, monkeypatch):
    for arg in [str(tmp_path / "d.zarr"), tmp_path / "d.zarr"]:
        store = normalize_store_arg(arg)
        assert isinstance(store, DirectoryStore)
        assert store.path == str(tmp_path / "d.zarr")
    monkeypatch.chdir(tmp_path)
    assert normalize_store_arg("rel").path == str(tmp_path / "rel")


def test_normalize_store_arg_file_url_without_fsspec(tmp_path, monkeypatch):
    # zarr-python 2.18 opens file:// URLs with FSStore (tests/storage/test_fsstore.py);
    # without fsspec the same folder still opens, as a DirectoryStore
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fsspec" else real_find_spec(name, *a))
    store = normalize_store_arg(f"file://{tmp_path}/d.zarr")
    assert isinstance(store, DirectoryStore)
    assert store.path == str(tmp_path / "d.zarr")


@pytest.mark.parametrize(
    "mode, zip_mode", [("a", "a"), ("w", "w"), ("w-", "x"), ("x", "x")]
)
def test_normalize_store_arg_zip_modes(tmp_path, mode, zip_mode):
    store = normalize_store_arg(pathlib.Path(tmp_path, "data.zip"), mode=mode)
    try:
        assert isinstance(store, ZipStore)
        assert store.mode == zip_mode
        store["a"] = b"1"
    finally:
        store.close()
    assert zipfile.ZipFile(tmp_path / "data.zip").namelist() == ["a"]


def test_normalize_store_arg_zip_existing(tmp_path):
    path = str(tmp_path / "data.zip")
    with ZipStore(path, mode="w") as store:
        store["a"] = b"1"
    store = normalize_store_arg(path, mode="r")
    assert isinstance(store, ZipStore) and store.read_only
    with pytest.raises(ReadOnlyError):
        store["b"] = b"2"
    store.close()
    store = normalize_store_arg(path, mode="r+")
    assert store.mode == "a"
    store["b"] = b"2"
    store.close()
    assert sorted(ZipStore(path, mode="r")) == ["a", "b"]
    with pytest.raises(FileExistsError):
        normalize_store_arg(path, mode="w-")


@pytest.mark.parametrize("mode", ["r", "r+"])
def test_normalize_store_arg_zip_must_exist_to_read(tmp_path, mode):
    path = tmp_path / "missing.zip"
    with pytest.raises(FileNotFoundError):
        normalize_store_arg(str(path), mode=mode)
    assert not path.exists()


@pytest.mark.parametrize(
    "url", ["s3://bucket/data.zarr", "gs://b/x", "https://example.org/x.zarr",
            "simplecache::s3://bucket/x", "memory://x"]
)
def test_normalize_store_arg_urls_need_fsspec(url, monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'czarr\[s3\]'") as info:
        normalize_store_arg(url)
    assert isinstance(info.value, ImportError)


@pytest.mark.parametrize("bad", [42, 1.5, b"bytes/path", ["a"], object()])
def test_normalize_store_arg_type_error(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        normalize_store_arg(bad)


def test_normalize_store_arg_invalid_mode(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        normalize_store_arg(str(tmp_path / "d"), mode="q")


def test_public_names():
    for name in czarr.storage.__all__:
        assert getattr(czarr.storage, name) is not None
    assert issubclass(MemoryStore, MutableMapping)
    assert issubclass(DirectoryStore, Store) and issubclass(ZipStore, Store)


def test_import_optional_names_the_extra():
    from czarr.errors import MissingDependencyError
    from czarr.storage import import_optional

    assert import_optional("json", "none", "JSON") is __import__("json")
    with pytest.raises(MissingDependencyError, match=r"pip install 'czarr\[lmdb\]'") as info:
        import_optional("czarr_no_such_module_xyz", "lmdb", "LMDBStore")
    assert isinstance(info.value, ImportError) and "LMDBStore" in str(info.value)
