"""czarr.attrs.Attributes: a MutableMapping over one .zattrs document."""

from __future__ import annotations

import json
from collections.abc import MutableMapping

import numpy as np
import pytest
import zarr

import czarr
from czarr.attrs import Attributes
from czarr.errors import MetadataError, ReadOnlyError


class CountingStore(MutableMapping):
    """A dict that counts reads and writes."""

    def __init__(self, *args, **kwargs):
        self.data = dict(*args, **kwargs)
        self.reads = 0
        self.writes = 0

    def __getitem__(self, key):
        self.reads += 1
        return self.data[key]

    def __setitem__(self, key, value):
        self.writes += 1
        self.data[key] = bytes(value)

    def __delitem__(self, key):
        del self.data[key]

    def __iter__(self):
        return iter(self.data)

    def __len__(self):
        return len(self.data)


def test_missing_document_is_empty():
    attrs = Attributes({}, key="a/.zattrs")
    assert attrs.asdict() == {}
    assert len(attrs) == 0
    assert "x" not in attrs
    with pytest.raises(KeyError):
        attrs["x"]


def test_write_through_and_exact_bytes():
    store: dict = {}
    attrs = Attributes(store, key="a/.zattrs")
    attrs["foo"] = "bar"
    attrs["baz"] = [1, 2]
    assert store["a/.zattrs"] == (
        b'{\n    "baz": [\n        1,\n        2\n    ],\n    "foo": "bar"\n}'
    )
    assert attrs["foo"] == "bar"
    assert sorted(attrs) == ["baz", "foo"]
    assert dict(attrs) == {"foo": "bar", "baz": [1, 2]}
    del attrs["foo"]
    assert json.loads(store["a/.zattrs"]) == {"baz": [1, 2]}
    with pytest.raises(KeyError):
        del attrs["nope"]


def test_reads_existing_document():
    store = {".zattrs": b'{"a": 1, "nested": {"b": [true, null]}}'}
    attrs = Attributes(store)
    assert attrs["a"] == 1
    assert attrs["nested"] == {"b": [True, None]}
    assert attrs.asdict() == {"a": 1, "nested": {"b": [True, None]}}


def test_asdict_and_getitem_return_copies():
    store = {".zattrs": b'{"l": [1, 2]}'}
    attrs = Attributes(store)
    attrs.asdict()["l"].append(3)
    attrs["l"].append(3)
    assert attrs["l"] == [1, 2]


def test_put_replaces_everything_in_one_write():
    store = CountingStore({".zattrs": b'{"old": 1}'})
    attrs = Attributes(store)
    attrs.put({"new": 2, "other": 3})
    assert store.writes == 1
    assert json.loads(store.data[".zattrs"]) == {"new": 2, "other": 3}
    assert attrs.asdict() == {"new": 2, "other": 3}


def test_update_is_one_write():
    store = CountingStore()
    attrs = Attributes(store)
    attrs.update({"a": 1, "b": 2}, c=3)
    assert store.writes == 1
    assert json.loads(store.data[".zattrs"]) == {"a": 1, "b": 2, "c": 3}
    attrs.update([("d", 4)])
    assert store.writes == 2
    assert attrs.asdict() == {"a": 1, "b": 2, "c": 3, "d": 4}


def test_cache_and_refresh():
    store: dict = {}
    cached = Attributes(store, cache=True)
    uncached = Attributes(store, cache=False)
    other = Attributes(store)
    assert cached.asdict() == {}
    other["x"] = 1
    assert uncached["x"] == 1  # every read hits the store
    assert "x" not in cached  # served from the cache...
    cached.refresh()
    assert cached["x"] == 1  # ...until refreshed


def test_cached_reads_do_not_hit_the_store():
    store = CountingStore({".zattrs": b'{"a": 1}'})
    attrs = Attributes(store)
    for _ in range(5):
        assert attrs["a"] == 1
    assert store.reads == 1


def test_writes_keep_keys_written_meanwhile():
    # read-modify-write of the stored document, as zarr-python 2
    store: dict = {}
    a = Attributes(store)
    b = Attributes(store)
    a["from_a"] = 1
    b["from_b"] = 2
    assert json.loads(store[".zattrs"]) == {"from_a": 1, "from_b": 2}
    assert b.asdict() == {"from_a": 1, "from_b": 2}


def test_read_only():
    store = {".zattrs": b'{"a": 1}'}
    attrs = Attributes(store, read_only=True)
    assert attrs["a"] == 1
    with pytest.raises(ReadOnlyError):
        attrs["b"] = 2
    with pytest.raises(ReadOnlyError):
        del attrs["a"]
    with pytest.raises(ReadOnlyError):
        attrs.update(b=2)
    with pytest.raises(ReadOnlyError):
        attrs.put({})
    with pytest.raises(PermissionError):  # ReadOnlyError is a PermissionError
        attrs["c"] = 3
    assert store == {".zattrs": b'{"a": 1}'}


def test_numpy_values_are_converted():
    store: dict = {}
    attrs = Attributes(store)
    attrs["i"] = np.int64(3)
    attrs.update(f=np.float32(0.5), b=np.bool_(False), a=np.arange(3, dtype="u2"),
                 m=np.array([[1.5, 2.0]]), s=np.str_("text"))
    expected = {"i": 3, "f": 0.5, "b": False, "a": [0, 1, 2], "m": [[1.5, 2.0]], "s": "text"}
    assert json.loads(store[".zattrs"]) == expected
    assert attrs.asdict() == expected
    assert type(attrs["i"]) is int


def test_unserialisable_values_are_refused_before_writing():
    store = {".zattrs": b'{"a": 1}'}
    attrs = Attributes(store)
    with pytest.raises(TypeError, match="bytes"):
        attrs["raw"] = b"\x00"
    with pytest.raises(TypeError, match="object"):
        attrs.update(x=object())
    with pytest.raises(TypeError, match="set"):
        attrs.put({"s": {1, 2}})
    assert store == {".zattrs": b'{"a": 1}'}
    assert attrs.asdict() == {"a": 1}


def test_nan_is_written_as_python_json_does():
    store: dict = {}
    attrs = Attributes(store)
    attrs["x"] = float("nan")
    assert store[".zattrs"] == b'{\n    "x": NaN\n}'
    assert np.isnan(attrs["x"])


def test_bad_document_names_the_key():
    attrs = Attributes({"g/.zattrs": b"[1, 2]"}, key="g/.zattrs")
    with pytest.raises(MetadataError, match=r"\.zattrs at 'g'"):
        attrs.asdict()


def test_zarr3_reads_czarr_attributes(tmp_path):
    store: dict = {}
    Attributes(store).update(title="czarr", scale=np.float64(2.5), dims=["x", "y"])
    store[".zgroup"] = b'{"zarr_format": 2}'
    for key, value in store.items():
        (tmp_path / key).write_bytes(value)
    group = zarr.open_group(str(tmp_path), mode="r", zarr_format=2)
    assert dict(group.attrs) == {"title": "czarr", "scale": 2.5, "dims": ["x", "y"]}


def test_non_string_keys_warn_and_are_written_as_strings_as_in_zarr_python_2():
    z = czarr.zeros(3)
    with pytest.warns(DeprecationWarning, match="only attribute keys of type 'string'"):
        z.attrs.update({1: "one", "two": 2})
    assert dict(z.attrs) == {"1": "one", "two": 2}
