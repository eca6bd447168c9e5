"""Groups and creation/opening functions."""

from __future__ import annotations

import numpy as np
import pytest

import czarr
from czarr.errors import (
    ArrayNotFoundError,
    ContainsArrayError,
    ContainsGroupError,
    GroupNotFoundError,
    PathNotFoundError,
    ReadOnlyError,
)


def test_group_members():
    root = czarr.group()
    a = root.create_group("a")
    b = a.require_group("b")
    c = root.require_group("a/b/c")
    assert b.path == "a/b" and c.name == "/a/b/c"
    arr = root.zeros("a/b/x", shape=(5,), chunks=2)
    assert root["a/b/x"] == arr and "a/b/x" in root and "a/b/nope" not in root
    assert list(root) == ["a"] and len(a) == 1
    assert list(root["a/b"].group_keys()) == ["c"]
    assert list(root["a/b"].array_keys()) == ["x"]
    assert [n for n, _ in root["a/b"].arrays()] == ["x"]
    assert sorted(root.keys()) == ["a"] and list(dict(root.groups())) == ["a"]
    assert list(root.array_keys(recurse=True)) == ["a/b/x"]
    names = []
    root.visit(names.append)
    assert names == ["a", "a/b", "a/b/c", "a/b/x"]
    items = []
    root.visititems(lambda n, o: items.append((n, type(o).__name__)))
    assert items[-1] == ("a/b/x", "Array")
    assert root.a.b.x == arr  # attribute access
    with pytest.raises(KeyError):
        root["missing"]
    with pytest.raises(ContainsGroupError):
        root.create_group("a")
    with pytest.raises(ContainsArrayError):
        root.zeros("a/b/x", shape=(5,))
    del root["a/b/x"]
    assert "a/b/x" not in root


def test_datasets():
    root = czarr.group()
    d = root.create_dataset("d", data=np.arange(10), chunks=4)
    assert np.array_equal(d[:], np.arange(10))
    e = root.create_dataset("e", shape=(3, 3), dtype="f4", fill_value=2)
    assert (e[...] == 2).all()
    assert root.require_dataset("e", shape=(3, 3), dtype="f4") == e
    with pytest.raises(TypeError):
        root.require_dataset("e", shape=(4, 3))
    with pytest.raises(TypeError):
        root.require_dataset("e", shape=(3, 3), dtype="i8", exact=True)
    f = root.require_dataset("f", shape=(2,), dtype="i2")
    assert f.dtype == np.dtype("i2")
    for fn, val in [("zeros", 0), ("ones", 1)]:
        assert (getattr(root, fn)(fn, shape=(2,))[...] == val).all()
    assert (root.full("full", fill_value=9, shape=(2,))[...] == 9).all()
    assert (root.full_like("fl", d, fill_value=3)[...] == 3).all()
    assert root.zeros_like("zl", d).chunks == (4,)
    root["g"] = np.ones(3)
    assert np.array_equal(root["g"][...], np.ones(3))
    root.move("g", "h/g")
    assert "h/g" in root and "g" not in root


def test_open_modes(tmp_path):
    path = str(tmp_path / "m.zarr")
    with pytest.raises(PathNotFoundError):
        czarr.open(path, mode="r")
    g = czarr.open(path, mode="a")
    assert isinstance(g, czarr.Group)
    arr = czarr.open(path, mode="w", shape=(4,), chunks=2)
    assert isinstance(arr, czarr.Array)
    arr[:] = 1
    r = czarr.open(path, mode="r")
    assert isinstance(r, czarr.Array) and r.read_only
    with pytest.raises(ReadOnlyError):
        r[0] = 2
    with pytest.raises(ContainsArrayError):
        czarr.open_array(path, mode="w-", shape=(4,))
    with pytest.raises(ContainsArrayError):
        czarr.open_group(path, mode="r")
    with pytest.raises(ArrayNotFoundError):
        czarr.open_array(str(tmp_path / "nope.zarr"), mode="r")
    with pytest.raises(GroupNotFoundError):
        czarr.open_group(str(tmp_path / "nope.zarr"), mode="r+")
    with pytest.raises(ValueError):
        czarr.open_array(path, mode="q")
    gw = czarr.open_group(path, mode="w")
    assert list(gw) == []
    ro = czarr.open_group(path, mode="r")
    with pytest.raises(ReadOnlyError):
        ro.create_group("x")


def test_creation_functions():
    assert czarr.empty((3,), dtype="i4").fill_value is None
    assert (czarr.ones((3,))[...] == 1).all()
    src = czarr.array(np.arange(6, dtype="i2").reshape(2, 3), chunks=(1, 3))
    for fn in (czarr.empty_like, czarr.zeros_like, czarr.ones_like):
        like = fn(src)
        assert like.shape == (2, 3) and like.dtype == np.dtype("i2") and like.chunks == (1, 3)
    assert czarr.full_like(np.zeros((2, 2)), fill_value=4)[0, 0] == 4
    copy = czarr.array(src)
    assert np.array_equal(copy[...], src[...])


def test_zip_store_hierarchy(tmp_path):
    path = str(tmp_path / "h.zip")
    with czarr.ZipStore(path, mode="w") as store:
        root = czarr.group(store)
        root.zeros("x", shape=(10,), chunks=5, dtype="i4")[:] = np.arange(10)
    root = czarr.open(path, mode="r")
    assert np.array_equal(root["x"][:], np.arange(10))
    root.store.close()
