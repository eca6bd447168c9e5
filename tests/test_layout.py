"""czarr.layout: keys, paths, and init_array/init_group with zarr-python 2's semantics."""

from __future__ import annotations

import json
import warnings

import numcodecs
import numpy as np
import pytest
import zarr

from czarr.errors import CodecError, ContainsArrayError, ContainsGroupError
from czarr.layout import (
    DEFAULT_COMPRESSOR_CONFIG,
    array_meta_key,
    attrs_key,
    build_array_metadata,
    chunk_key_prefix,
    contains_array,
    contains_group,
    group_meta_key,
    init_array,
    init_group,
    normalize_path,
)
from czarr.metadata.v2 import decode_array_metadata, encode_group_metadata


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (None, ""),
        ("", ""),
        ("/", ""),
        ("foo", "foo"),
        ("/foo/bar/", "foo/bar"),
        ("foo//bar///baz", "foo/bar/baz"),
        ("foo\\bar", "foo/bar"),
        (b"foo/bar", "foo/bar"),
        ("a.b/c..d/.e", "a.b/c..d/.e"),
    ],
)
def test_normalize_path(path, expected):
    assert normalize_path(path) == expected


@pytest.mark.parametrize("path", [".", "..", "foo/..", "foo/./bar", "../foo", "/a/../b"])
def test_normalize_path_refuses_dot_segments(path):
    with pytest.raises(ValueError, match=r"'\.' or '\.\.'"):
        normalize_path(path)


def test_keys():
    assert array_meta_key("") == ".zarray"
    assert array_meta_key(None) == ".zarray"
    assert group_meta_key("/a/b/") == "a/b/.zgroup"
    assert attrs_key("a") == "a/.zattrs"
    assert chunk_key_prefix("") == ""
    assert chunk_key_prefix("a/b") == "a/b/"


def test_contains_on_a_plain_dict():
    store = {".zgroup": b"{}", "a/.zarray": b"{}", "a/0.0": b"", "b/c/.zgroup": b"{}"}
    assert contains_group(store)
    assert not contains_array(store)
    assert contains_array(store, "a")
    assert contains_array(store, "/a/")
    assert not contains_group(store, "a")
    assert contains_group(store, "b/c")
    assert not contains_group(store, "b")  # only explicit groups count, as zarr-python 2
    assert not contains_array(store, "a/0.0")


# init_array ----------------------------------------------------------------------------


def test_init_array_root():
    store: dict = {}
    init_array(store, shape=(10000, 10000), chunks=(1000, 1000))
    assert sorted(store) == [".zarray"]
    meta = decode_array_metadata(store[".zarray"])
    assert meta.shape == (10000, 10000)
    assert meta.chunks == (1000, 1000)
    assert meta.dtype == np.dtype("<f8")
    assert meta.compressor == DEFAULT_COMPRESSOR_CONFIG
    assert meta.fill_value is None
    assert meta.filters is None
    assert meta.order == "C"
    assert meta.dimension_separator == "."


def test_init_array_with_path_creates_parent_groups():
    store: dict = {}
    init_array(store, shape=100000000, chunks=1000000, dtype="i1", path="foo")
    assert sorted(store) == [".zgroup", "foo/.zarray"]
    assert store[".zgroup"] == encode_group_metadata()
    doc = json.loads(store["foo/.zarray"])
    assert doc["dtype"] == "|i1"
    assert doc["shape"] == [100000000]
    assert doc["chunks"] == [1000000]

    init_array(store, shape=10, path="/a/b/c/")
    assert sorted(store) == [
        ".zgroup", "a/.zgroup", "a/b/.zgroup", "a/b/c/.zarray", "foo/.zarray",
    ]


def test_init_array_keeps_existing_parent_groups():
    store: dict = {}
    init_group(store, path="a")
    store["a/.zattrs"] = b'{"keep": 1}'
    init_array(store, shape=10, path="a/x")
    assert store["a/.zattrs"] == b'{"keep": 1}'
    assert contains_array(store, "a/x")


def test_init_array_refuses_existing_nodes():
    store: dict = {}
    init_array(store, shape=10, path="a")
    with pytest.raises(ContainsArrayError, match="'a'"):
        init_array(store, shape=20, path="a")
    init_group(store, path="g")
    with pytest.raises(ContainsGroupError, match="'g'"):
        init_array(store, shape=20, path="g")
    with pytest.raises(ContainsGroupError):
        init_array(store, shape=20)  # the root is a group now
    assert decode_array_metadata(store["a/.zarray"]).shape == (10,)


def test_init_array_refuses_nesting_in_an_array():
    store: dict = {}
    init_array(store, shape=10, path="a")
    before = dict(store)
    with pytest.raises(ContainsArrayError, match="'a'"):
        init_array(store, shape=10, path="a/b/c")
    with pytest.raises(ContainsArrayError, match="'a'"):
        init_group(store, path="a/b")
    assert store == before  # nothing written, not even parent groups


def test_init_array_overwrite_clears_the_subtree():
    store: dict = {}
    chunk_store: dict = {}
    init_group(store, path="g")
    init_array(store, shape=10, chunks=5, path="g/x")
    store["g/x/0"] = b"chunk"
    store["g/.zattrs"] = b"{}"
    store["other/.zarray"] = b"{}"
    chunk_store["g/x/1"] = b"chunk"
    chunk_store["h/0"] = b"chunk"
    init_array(store, shape=3, path="g", overwrite=True, chunk_store=chunk_store)
    assert sorted(store) == [".zgroup", "g/.zarray", "other/.zarray"]
    assert sorted(chunk_store) == ["h/0"]
    assert decode_array_metadata(store["g/.zarray"]).shape == (3,)


def test_init_array_overwrite_replaces_array_parents_with_groups():
    store: dict = {}
    init_array(store, shape=10, path="a")
    store["a/0"] = b"chunk"
    init_array(store, shape=5, path="a/b", overwrite=True)
    assert sorted(store) == [".zgroup", "a/.zgroup", "a/b/.zarray"]


def test_init_array_overwrite_at_root_clears_everything():
    store = {".zgroup": b"{}", "x/.zarray": b"{}", "x/0": b""}
    init_array(store, shape=4, overwrite=True)
    assert sorted(store) == [".zarray"]


def test_init_array_uses_store_rmdir_when_present():
    class Store(dict):
        removed: list = []

        def rmdir(self, path=""):
            self.removed.append(path)
            for k in [k for k in self if k.startswith(path + "/")]:
                del self[k]

    store = Store()
    init_array(store, shape=4, path="x")
    init_array(store, shape=4, path="x", overwrite=True)
    assert Store.removed == ["x"]
    assert contains_array(store, "x")


def test_bad_arguments_leave_the_store_untouched():
    store: dict = {}
    for kwargs in [
        dict(shape=-1),
        dict(shape=10, chunks=(0,)),
        dict(shape=10, dtype="nope"),
        dict(shape=10, order="K"),
        dict(shape=10, fill_value="x", dtype="i4"),
        dict(shape=10, dimension_separator="-"),
        dict(shape=10, compressor="zlib"),
        dict(shape=10, compressor=object()),
        dict(shape=10, filters=[object()]),
        dict(shape=10, dtype=object),
    ]:
        with pytest.raises((ValueError, TypeError)):
            init_array(store, path="a/b", **kwargs)
    assert store == {}


def test_compressor_forms():
    def compressor_of(**kwargs):
        store: dict = {}
        init_array(store, shape=100, chunks=10, **kwargs)
        return json.loads(store[".zarray"])["compressor"]

    assert compressor_of() == numcodecs.Blosc(
        cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE, blocksize=0
    ).get_config()
    assert compressor_of(compressor=None) is None
    assert compressor_of(compressor="none") is None
    assert compressor_of(compressor=numcodecs.Zstd(level=2)) == numcodecs.Zstd(level=2).get_config()
    assert compressor_of(compressor={"id": "zlib", "level": 3}) == {"id": "zlib", "level": 3}
    with pytest.raises(CodecError, match="'zlib'"):
        compressor_of(compressor="zlib")
    with pytest.raises(CodecError, match="get_config"):
        compressor_of(compressor=42)


def test_zero_dimensional_arrays_are_not_compressed():
    store: dict = {}
    init_array(store, shape=(), dtype="i4", fill_value=7)
    doc = json.loads(store[".zarray"])
    assert doc["shape"] == [] and doc["chunks"] == [] and doc["compressor"] is None
    assert doc["fill_value"] == 7


def test_filters_and_object_codecs():
    store: dict = {}
    init_array(store, shape=10, dtype="<i4", filters=[numcodecs.Delta(dtype="<i4")], path="d")
    assert json.loads(store["d/.zarray"])["filters"] == [
        {"id": "delta", "dtype": "<i4", "astype": "<i4"}
    ]
    init_array(store, shape=10, dtype=str, object_codec=numcodecs.VLenUTF8(),
               filters=[numcodecs.Zlib()], path="s")
    doc = json.loads(store["s/.zarray"])
    assert doc["dtype"] == "|O"
    assert doc["filters"] == [{"id": "vlen-utf8"}, {"id": "zlib", "level": 1}]
    with pytest.raises(ValueError, match="object_codec"):
        init_array(store, shape=10, dtype=object, path="o")
    with pytest.warns(UserWarning, match="only needed for object arrays"):
        init_array(store, shape=10, dtype="i4", object_codec=numcodecs.VLenUTF8(), path="w")


def test_dimension_separator_from_store_attribute():
    class NestedStore(dict):
        _dimension_separator = "/"

    store = NestedStore()
    init_array(store, shape=10, chunks=5)
    assert json.loads(store[".zarray"])["dimension_separator"] == "/"
    init_array(store, shape=10, chunks=5, dimension_separator=".", overwrite=True)
    assert json.loads(store[".zarray"])["dimension_separator"] == "."


def test_build_array_metadata_folds_subarray_dtypes():
    meta = build_array_metadata(shape=(10,), chunks=(5,), dtype="(2,3)<f4", fill_value=0)
    assert meta.shape == (10, 2, 3)
    assert meta.chunks == (5, 2, 3)
    assert meta.dtype == np.dtype("<f4")
    assert build_array_metadata(shape=(10, 4), chunks=(5,)).chunks == (5, 4)
    assert build_array_metadata(shape=(10000, 10000), dtype="f8").chunks == (313, 625)


# init_group ----------------------------------------------------------------------------


def test_init_group():
    store: dict = {}
    init_group(store)
    assert store == {".zgroup": b'{\n    "zarr_format": 2\n}'}
    init_group(store, path="a/b")
    assert sorted(store) == [".zgroup", "a/.zgroup", "a/b/.zgroup"]
    with pytest.raises(ContainsGroupError):
        init_group(store, path="a/b")
    with pytest.raises(ContainsGroupError):
        init_group(store)
    init_array(store, shape=3, path="a/x")
    with pytest.raises(ContainsArrayError):
        init_group(store, path="a/x")


def test_init_group_overwrite():
    store: dict = {}
    chunk_store: dict = {"a/x/0": b"", "b/0": b""}
    init_group(store, path="a")
    init_array(store, shape=3, path="a/x")
    init_group(store, path="a", overwrite=True, chunk_store=chunk_store)
    assert sorted(store) == [".zgroup", "a/.zgroup"]
    assert sorted(chunk_store) == ["b/0"]
    init_group(store, path="a/b/c", overwrite=True)
    init_array(store, shape=3, path="z")
    init_group(store, path="z/y", overwrite=True)  # the array z becomes a group
    assert contains_group(store, "z") and not contains_array(store, "z")


# zarr-python reads what layout writes --------------------------------------------------


def test_zarr3_opens_the_hierarchy(tmp_path):
    store: dict = {}
    init_array(store, shape=(6, 4), chunks=(3, 2), dtype="<i2", fill_value=9, path="g/h/arr",
               compressor=numcodecs.Zlib())
    init_group(store, path="g/empty")
    for key, value in store.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = zarr.open_group(str(tmp_path), mode="r", zarr_format=2)
        assert sorted(root["g"].group_keys()) == ["empty", "h"]
        arr = root["g/h/arr"]
        assert arr.shape == (6, 4)
        assert arr.dtype == np.dtype("<i2")
        np.testing.assert_array_equal(arr[:], np.full((6, 4), 9, dtype="<i2"))


@pytest.mark.parametrize("kind", ["memory", "directory"])
def test_layout_on_czarr_stores(kind, tmp_path):
    from czarr.storage import DirectoryStore, MemoryStore

    store = MemoryStore() if kind == "memory" else DirectoryStore(str(tmp_path))
    init_array(store, shape=10, chunks=5, path="a/b")
    store["a/b/0"] = b"chunk"
    assert contains_array(store, "a/b") and contains_group(store, "a")
    with pytest.raises(ContainsArrayError):
        init_group(store, path="a/b")
    init_group(store, path="a", overwrite=True)
    assert sorted(store.keys()) == [".zgroup", "a/.zgroup"]
