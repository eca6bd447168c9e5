"""czarr never writes Zarr v2 metadata into a hierarchy that holds Zarr v3 metadata
(``zarr.json``), nor v3 into v2. Was: ``czarr.open`` of what zarr-python 3 wrote returned
an empty group and wrote a ``.zgroup`` into the v3 store; now it reads the v3 data and
writes nothing."""

from __future__ import annotations

import os

import numpy as np
import pytest
import zarr

import czarr
from czarr.errors import UnsupportedFormatError


@pytest.fixture
def v3_store(tmp_path):
    path = str(tmp_path / "x.zarr")
    z = zarr.create_array(path, shape=(100, 100), chunks=(10, 10), dtype="i4")
    z[...] = np.arange(10000).reshape(100, 100)
    root = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    root.create_array("a", shape=(4,), dtype="u1")
    return path, str(tmp_path / "g.zarr")


def _files(path):
    return sorted(os.path.relpath(os.path.join(d, f), path)
                  for d, _, fs in os.walk(path) for f in fs)


@pytest.mark.parametrize("mode", ["r", "r+", "a"])
def test_opening_v3_data_reads_it_and_writes_nothing(v3_store, mode):
    array_path, group_path = v3_store
    before = _files(array_path), _files(group_path)
    arr = czarr.open(array_path, mode=mode)
    assert arr[5, 7] == 507 and arr.shape == (100, 100)
    assert czarr.open_array(array_path, mode=mode)[99, 99] == 9999
    group = czarr.open_group(group_path, mode=mode)
    assert sorted(group.array_keys()) == ["a"]
    assert czarr.open(group_path, mode=mode, path="a").shape == (4,)
    assert (_files(array_path), _files(group_path)) == before
    assert not any(f.endswith((".zgroup", ".zarray", ".zattrs")) for f in before[1])


def test_no_v3_node_inside_a_v2_hierarchy(tmp_path):
    store = czarr.DirectoryStore(tmp_path / "v2.zarr")
    czarr.group(store)
    with pytest.raises(UnsupportedFormatError, match=r"Zarr v2 metadata \('.zgroup'\)"):
        czarr.zeros(3, store=store, path="x", zarr_format=3)
    assert "zarr.json" not in _files(store.path)


def test_no_v2_node_inside_a_v3_hierarchy(v3_store):
    _, group_path = v3_store
    store = czarr.DirectoryStore(group_path)
    for call in (lambda: czarr.group(store, path="new"),
                 lambda: czarr.zeros(3, store=store, path="new/arr"),
                 lambda: czarr.open_group(store, mode="w", path="a/b")):
        with pytest.raises(UnsupportedFormatError):
            call()
    assert not any(f.endswith((".zgroup", ".zarray")) for f in _files(group_path))
    # zarr-python 3 still reads its data untouched
    assert zarr.open_group(group_path, mode="r")["a"].shape == (4,)


def test_an_explicit_overwrite_of_the_v3_node_replaces_it_whole(v3_store):
    array_path, _ = v3_store
    z = czarr.open(array_path, mode="w", shape=(3,), chunks=2, dtype="i1")
    z[...] = [1, 2, 3]
    assert "zarr.json" not in _files(array_path)
    assert czarr.open(array_path, mode="r")[...].tolist() == [1, 2, 3]


def test_open_array_in_append_mode_inside_a_v3_hierarchy(tmp_path):
    """mode='a' checks the format it is asked to write: v3 into v3 is fine, v2 is not,
    and a missing node is reported as missing."""
    path = str(tmp_path / "g.zarr")
    czarr.group(path, zarr_format=3)
    assert czarr.open_array(path, path="new", mode="a", shape=(3,),
                            zarr_format=3).zarr_format == 3
    with pytest.raises(UnsupportedFormatError, match=r"Zarr v3 metadata \('zarr.json'\)"):
        czarr.open_array(path, path="v2", mode="a", shape=(3,))
    with pytest.raises(czarr.errors.ArrayNotFoundError):
        czarr.open_array(path, path="nothing", mode="r")
