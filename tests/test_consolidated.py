"""Consolidated metadata: the .zmetadata document as zarr-python 2 writes it, read by
zarr-python 3 and the other way round; a whole hierarchy opened with one metadata read,
with chunks still read and written through the real store."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

import czarr
from czarr.consolidated import ConsolidatedMetadataStore
from czarr.errors import MetadataError, ReadOnlyError
from czarr.storage import DirectoryStore, MemoryStore


def _hierarchy(store):
    root = czarr.group(store)
    root.attrs["title"] = "t"
    a = root.create_dataset("a", shape=(10, 10), chunks=(5, 5), dtype="i4")
    a[...] = np.arange(100).reshape(10, 10)
    a.attrs["unit"] = "m"
    sub = root.create_group("sub")
    b = sub.create_dataset("b", shape=7, chunks=3, dtype="f8", fill_value=np.nan)
    b[:3] = [1, 2, 3]
    return root


class CountingStore(MemoryStore):
    def __init__(self):
        super().__init__()
        self.reads = []

    def __getitem__(self, key):
        self.reads.append(key)
        return super().__getitem__(key)

    def getitems(self, keys):
        keys = list(keys)
        self.reads.extend(keys)
        return super().getitems(keys)


def test_document_is_zarr_python_2s():
    store = MemoryStore()
    _hierarchy(store)
    czarr.consolidate_metadata(store)
    doc = json.loads(store[".zmetadata"])
    assert doc["zarr_consolidated_format"] == 1
    assert sorted(doc["metadata"]) == [".zattrs", ".zgroup", "a/.zarray", "a/.zattrs",
                                       "sub/.zgroup", "sub/b/.zarray"]
    assert doc["metadata"]["a/.zattrs"] == {"unit": "m"}
    # the same JSON layout as every other metadata document
    assert store[".zmetadata"].startswith(b'{\n    "metadata": {\n        ".zattrs": {')


def test_one_metadata_read_opens_everything():
    store = CountingStore()
    _hierarchy(store)
    czarr.consolidate_metadata(store)
    store.reads.clear()
    root = czarr.open_consolidated(store, mode="r")
    assert root["a"][2, 3] == 23 and root["sub/b"][:3].tolist() == [1, 2, 3]
    assert dict(root.attrs) == {"title": "t"} and root["a"].attrs["unit"] == "m"
    metadata_reads = [k for k in store.reads if k.rpartition("/")[2].startswith(".z")]
    assert metadata_reads == [".zmetadata"]


def test_plain_open_in_mode_r_uses_it_and_can_be_told_not_to():
    store = CountingStore()
    _hierarchy(store)
    czarr.consolidate_metadata(store)
    store.reads.clear()
    root = czarr.open(store, mode="r")
    assert isinstance(root.store, ConsolidatedMetadataStore)
    assert root["a"][9, 9] == 99
    assert [k for k in store.reads if ".z" in k] == [".zmetadata"]
    assert not isinstance(czarr.open_group(store, mode="r", use_consolidated=False).store,
                          ConsolidatedMetadataStore)
    assert not isinstance(czarr.open_group(store, mode="a").store, ConsolidatedMetadataStore)


def test_r_plus_writes_chunks_through_the_real_store_and_refuses_metadata():
    store = MemoryStore()
    _hierarchy(store)
    czarr.consolidate_metadata(store)
    root = czarr.open_consolidated(store, mode="r+")
    root["a"][0, 0] = -5
    assert czarr.open_group(store, mode="r", use_consolidated=False)["a"][0, 0] == -5
    with pytest.raises(ReadOnlyError):
        root.attrs["new"] = 1
    with pytest.raises(ReadOnlyError):
        root.create_group("nope")
    with pytest.raises(ValueError, match="'r' or 'r\\+'"):
        czarr.open_consolidated(store, mode="a")


def test_zarr_python_3_reads_czarrs_and_czarr_reads_zarr_python_3s(tmp_path):
    path = str(tmp_path / "c.zarr")
    _hierarchy(DirectoryStore(path))
    czarr.consolidate_metadata(path)
    theirs = zarr.open_consolidated(path, zarr_format=2, mode="r")
    assert theirs["a"][2, 3] == 23 and theirs.attrs["title"] == "t"
    assert sorted(theirs.group_keys()) == ["sub"]
    other = str(tmp_path / "z3.zarr")
    g = zarr.open_group(other, mode="w", zarr_format=2)
    arr = g.create_array("x", shape=(4,), chunks=(2,), dtype="i2")
    arr[:] = [1, 2, 3, 4]
    g.attrs["k"] = "v"
    zarr.consolidate_metadata(other, zarr_format=2)
    mine = czarr.open_consolidated(other, mode="r")
    assert mine["x"][...].tolist() == [1, 2, 3, 4] and dict(mine.attrs) == {"k": "v"}
    # czarr's document for zarr-python 3's hierarchy holds the same metadata as its own
    theirs_doc = json.loads((tmp_path / "z3.zarr" / ".zmetadata").read_text())
    czarr.consolidate_metadata(other)
    ours_doc = json.loads((tmp_path / "z3.zarr" / ".zmetadata").read_text())
    assert ours_doc["metadata"]["x/.zarray"] == theirs_doc["metadata"]["x/.zarray"]
    assert ours_doc["metadata"][".zattrs"] == theirs_doc["metadata"][".zattrs"] == {"k": "v"}


def test_consolidate_a_subgroup_and_bad_documents():
    store = MemoryStore()
    _hierarchy(store)
    sub = czarr.consolidate_metadata(store, path="sub")
    assert sorted(json.loads(store["sub/.zmetadata"])["metadata"]) == [".zgroup", "b/.zarray"]
    assert sub["b"][:3].tolist() == [1, 2, 3]
    store[".zmetadata"] = b"{not json"
    with pytest.raises(MetadataError, match="not valid JSON"):
        czarr.open_consolidated(store)
    store[".zmetadata"] = json.dumps({"metadata": {}, "zarr_consolidated_format": 9}).encode()
    with pytest.raises(MetadataError, match="zarr_consolidated_format"):
        czarr.open_consolidated(store)
