"""A read-only open writes nothing, anywhere.

A hierarchy (v2 and v3, a sharded v3 array, consolidated metadata) is opened with
``mode='r'`` in every way czarr offers (``czarr.open``, ``open_group``, ``open_array``,
``open_consolidated``), through a store wrapper that records every write call and claims
to be writable, so only the read-only open can stop the writes. Every write a user can
try (chunks, resize/append, attributes, new and removed nodes, moves, copies into it) must
raise and reach no write method of the store. The same attempts against a DirectoryStore
opened by path must leave its tree byte-identical, modification times included.
``consolidate_metadata`` on a store that says it is read-only must refuse before
writing too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pytest

import czarr
from czarr.errors import ReadOnlyError
from czarr.storage import DirectoryStore, MemoryStore, Store, ZipStore, base


class RecordingStore(Store):
    """Reads pass through to ``inner``; every write call is recorded and refused with an
    AssertionError, so a write that czarr swallows is still seen in ``writes``."""

    def __init__(self, inner: Any, read_only: bool = False) -> None:
        self.inner = inner
        self.read_only = read_only
        self.writes: list[tuple[str, Any]] = []

    def _refuse(self, what: str, arg: Any) -> None:
        self.writes.append((what, arg))
        raise AssertionError(f"write call {what}({arg!r}) on a read-only open")

    # reads
    def __getitem__(self, key: str) -> bytes:
        return self.inner[key]

    def __contains__(self, key: object) -> bool:
        return key in self.inner

    def __iter__(self) -> Iterator[str]:
        return iter(self.inner)

    def __len__(self) -> int:
        return len(self.inner)

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        return base.getitems(self.inner, keys)

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        return base.get_partial(self.inner, key, start, length)

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        return base.get_ranges(self.inner, key, ranges)

    def listdir(self, path: str = "") -> list[str]:
        return base.listdir(self.inner, path)

    def getsize(self, path: str = "") -> int:
        return base.getsize(self.inner, path)

    # writes
    def __setitem__(self, key: str, value: Any) -> None:
        self._refuse("__setitem__", key)

    def __delitem__(self, key: str) -> None:
        self._refuse("__delitem__", key)

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        self._refuse("setitems", list(mapping))

    def delitems(self, keys: Iterable[str]) -> None:
        self._refuse("delitems", list(keys))

    def rmdir(self, path: str = "") -> None:
        self._refuse("rmdir", path)

    def rename(self, src: str, dst: str) -> None:
        self._refuse("rename", (src, dst))

    def clear(self) -> None:
        self._refuse("clear", None)


def build(store: Any, zarr_format: int) -> None:
    """A group with attributes, arrays 'a' (2-d) and 'g/b', a v3 sharded 's', and
    consolidated metadata."""
    root = czarr.open_group(store, mode="w", zarr_format=zarr_format)
    root.attrs.update(title="t", keep=1)
    a = root.zeros("a", shape=(6, 6), chunks=(2, 3), dtype="i4")
    a[:] = np.arange(36).reshape(6, 6)
    a.attrs["units"] = "m"
    b = root.create_group("g").zeros("b", shape=(4,), chunks=(2,), dtype="f8")
    b[:] = 1.5
    b.attrs["units"] = "s"
    if zarr_format == 3:
        s = czarr.create_array(store, name="s", shape=(8, 8), chunks=(2, 2), shards=(4, 4),
                               dtype="u2", zarr_format=3)
        s[:] = 3
        s.attrs["kind"] = "sharded"
    czarr.consolidate_metadata(store)


def _set(x: Any, sel: Any, value: Any) -> None:
    x[sel] = value


def _array_writes(a: Any) -> list[tuple[str, Callable[[], Any]]]:
    return [
        ("a[...] =", lambda: _set(a, Ellipsis, 1)),
        ("a[0, 0] =", lambda: _set(a, (0, 0), 1)),
        ("set_basic_selection", lambda: a.set_basic_selection(slice(0, 2), 1)),
        ("set_orthogonal_selection", lambda: a.set_orthogonal_selection(([0, 1], [2]), 1)),
        ("oindex =", lambda: _set(a.oindex, ([0, 1], [2]), 1)),
        ("set_coordinate_selection", lambda: a.set_coordinate_selection(([0], [1]), 1)),
        ("vindex =", lambda: _set(a.vindex, ([0], [1]), 1)),
        ("set_mask_selection",
         lambda: a.set_mask_selection(np.ones(a.shape, dtype=bool), 1)),
        ("set_block_selection", lambda: a.set_block_selection((0, 0), 1)),
        ("blocks =", lambda: _set(a.blocks, (0, 0), 1)),
        ("resize", lambda: a.resize(a.shape[0] * 2, *a.shape[1:])),
        ("resize smaller", lambda: a.resize(1, *a.shape[1:])),
        ("append", lambda: a.append(np.zeros((1,) + a.shape[1:], dtype=a.dtype))),
        ("attrs[] =", lambda: _set(a.attrs, "new", 1)),
        ("attrs.update", lambda: a.attrs.update(new=1)),
        ("attrs.put", lambda: a.attrs.put({"new": 1})),
        ("del attrs[]", lambda: a.attrs.__delitem__("units")),
        ("attrs.pop", lambda: a.attrs.pop("units")),
        ("attrs.clear", lambda: a.attrs.clear()),
        ("attrs.setdefault", lambda: a.attrs.setdefault("new", 1)),
    ] + ([  # (views of v3 arrays are not supported yet)
        ("astype view write", lambda: _set(a.astype("f8"), Ellipsis, 1)),
        ("view write", lambda: _set(a.view(), Ellipsis, 1)),
    ] if a.zarr_format == 2 else [])


def _group_writes(g: Any) -> list[tuple[str, Callable[[], Any]]]:
    return [
        ("create_group", lambda: g.create_group("new")),
        ("create_groups", lambda: g.create_groups("new1", "new2")),
        ("require_group new", lambda: g.require_group("new")),
        ("require_groups new", lambda: g.require_groups("g", "new")),
        ("create_group overwrite", lambda: g.create_group("g", overwrite=True)),
        ("require_group overwrite", lambda: g.require_group("g", overwrite=True)),
        ("create_dataset", lambda: g.create_dataset("new", shape=(2,), dtype="u1")),
        ("require_dataset new", lambda: g.require_dataset("new", shape=(2,), dtype="u1")),
        ("create_array", lambda: g.create_array("new", shape=(2,), dtype="u1")),
        ("zeros", lambda: g.zeros("new", shape=(2,))),
        ("zeros overwrite", lambda: g.zeros("a", shape=(2,), overwrite=True)),
        ("array", lambda: g.array("new", np.arange(3))),
        ("full_like", lambda: g.full_like("new", np.arange(3), fill_value=1)),
        ("g[name] =", lambda: _set(g, "new", np.arange(3))),
        ("del g[array]", lambda: g.__delitem__("a")),
        ("del g[group]", lambda: g.__delitem__("g")),
        ("move", lambda: g.move("a", "moved")),
        ("child array write", lambda: _set(g["a"], Ellipsis, 5)),
        ("child array attrs", lambda: _set(g["a"].attrs, "x", 1)),
        ("child group zeros", lambda: g["g"].zeros("new", shape=(2,))),
        ("child group del", lambda: g["g"].__delitem__("b")),
        ("attrs[] =", lambda: _set(g.attrs, "new", 1)),
        ("attrs.update", lambda: g.attrs.update(new=1)),
        ("attrs.put", lambda: g.attrs.put({})),
        ("del attrs[]", lambda: g.attrs.__delitem__("title")),
        ("copy into", lambda: czarr.copy(czarr.array(np.arange(3)), g, name="copied")),
        ("copy_all into", lambda: czarr.copy_all(czarr.group(), g)),
    ] + ([("getattr child write", lambda: _set(g.g.b, Ellipsis, 5))] if "g" in g else [])


def _opens(zarr_format: int) -> list[tuple[str, Callable[[Any], Any]]]:
    opens: list[tuple[str, Callable[[Any], Any]]] = [
        ("czarr.open group", lambda s: czarr.open(s, mode="r")),
        ("czarr.open array", lambda s: czarr.open(s, mode="r", path="a")),
        ("open_group", lambda s: czarr.open_group(s, mode="r")),
        ("open_group sub", lambda s: czarr.open_group(s, mode="r", path="g")),
        ("open_array", lambda s: czarr.open_array(s, mode="r", path="a")),
        ("open_array sub", lambda s: czarr.open_array(s, mode="r", path="g/b")),
        ("open_consolidated", lambda s: czarr.open_consolidated(s, mode="r")),
        ("open_consolidated array",
         lambda s: czarr.open_consolidated(s, mode="r")["a"]),
        ("czarr.load-like group", lambda s: czarr.open(s, mode="r")["g"]),
    ]
    if zarr_format == 3:
        opens += [("open_array sharded", lambda s: czarr.open_array(s, mode="r", path="s")),
                  ("open_group v3", lambda s: czarr.open_group(s, mode="r", zarr_format=3))]
    return opens


def _writes_of(node: Any) -> list[tuple[str, Callable[[], Any]]]:
    return _array_writes(node) if isinstance(node, czarr.Array) else _group_writes(node)


def _try(fn: Callable[[], Any]) -> BaseException | None:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - every refusal counts; the checks below decide
        return e
    return None


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_a_read_only_open_reaches_no_write_method(zarr_format):
    inner = MemoryStore()
    build(inner, zarr_format)
    before = dict(inner._data)
    attempts = 0
    for open_name, open_fn in _opens(zarr_format):
        store = RecordingStore(inner)
        node = open_fn(store)
        assert node.read_only
        for what, write in _writes_of(node):
            err = _try(write)
            attempts += 1
            assert store.writes == [], f"{open_name}: {what} called {store.writes}"
            assert err is not None, f"{open_name}: {what} did not raise"
            assert not isinstance(err, AssertionError), f"{open_name}: {what}: {err}"
            assert isinstance(err, (ReadOnlyError, ValueError, KeyError, TypeError)), (
                f"{open_name}: {what} raised {type(err).__name__}: {err}")
        # the node still reads what was there
        if isinstance(node, czarr.Array) and node.path == "a":
            assert node[:].tolist() == np.arange(36).reshape(6, 6).tolist()
    assert inner._data == before
    assert attempts > 100


def _tree(root: str) -> dict[str, tuple]:
    out = {}
    for dirpath, _, filenames in os.walk(root):
        st = os.stat(dirpath)
        out[dirpath] = (st.st_mtime_ns, tuple(sorted(os.listdir(dirpath))))
        for name in filenames:
            path = os.path.join(dirpath, name)
            st = os.stat(path)
            with open(path, "rb") as f:
                out[path] = (st.st_mtime_ns, st.st_mode, f.read())
    return out


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_a_read_only_directory_is_byte_identical_after_every_write_attempt(
        tmp_path, zarr_format):
    root = str(tmp_path / "data.zarr")
    build(DirectoryStore(root), zarr_format)
    before = _tree(root)
    outside = sorted(os.listdir(tmp_path))
    opens = [(name, fn) for name, fn in _opens(zarr_format)
             if name in ("czarr.open group", "open_array", "open_consolidated",
                         "open_array sharded")]
    for open_name, open_fn in opens:
        node = open_fn(root)  # by path: czarr makes the DirectoryStore itself
        for what, write in _writes_of(node):
            err = _try(write)
            assert err is not None, f"{open_name}: {what} did not raise"
            assert _tree(root) == before, f"{open_name}: {what} changed the folder"
    assert sorted(os.listdir(tmp_path)) == outside


def test_a_missing_node_opened_read_only_creates_nothing(tmp_path):
    root = str(tmp_path / "nothing.zarr")
    for fn in (lambda: czarr.open(root, mode="r"), lambda: czarr.open_group(root, mode="r"),
               lambda: czarr.open_array(root, mode="r"),
               lambda: czarr.open_consolidated(root, mode="r")):
        assert _try(fn) is not None
    assert not os.path.exists(root)
    inner = MemoryStore()
    build(inner, 2)
    store = RecordingStore(inner)
    for fn in (lambda: czarr.open(store, mode="r", path="missing"),
               lambda: czarr.open_group(store, mode="r", path="missing"),
               lambda: czarr.open_array(store, mode="r", path="missing")):
        assert _try(fn) is not None
    assert store.writes == []


@pytest.mark.filterwarnings("ignore:Duplicate name")  # a zip member written twice
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_consolidate_metadata_refuses_a_read_only_store(tmp_path, zarr_format):
    inner = MemoryStore()
    build(inner, zarr_format)
    store = RecordingStore(inner, read_only=True)
    with pytest.raises(ReadOnlyError):
        czarr.consolidate_metadata(store)
    assert store.writes == []
    # a zip opened for reading: the file is not touched
    path = str(tmp_path / "data.zip")
    with ZipStore(path, mode="w") as z:
        build(z, zarr_format)
    st = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    with ZipStore(path, mode="r") as z:
        with pytest.raises(ReadOnlyError):
            czarr.consolidate_metadata(z)
        node = czarr.open_group(z, mode="r")
        with pytest.raises(ReadOnlyError):
            node.attrs["x"] = 1
    with open(path, "rb") as f:
        assert f.read() == data
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns


def test_read_only_stores_refuse_moves_and_removals(tmp_path):
    inner = MemoryStore()
    build(inner, 2)
    store = RecordingStore(inner, read_only=True)
    for fn in (lambda: base.rename(store, "a", "b"), lambda: base.rmdir(store, "g")):
        err = _try(fn)
        assert isinstance(err, AssertionError)  # the wrapper's refusal: it was reached
    store.writes.clear()
    g = czarr.open_group(store, mode="r")
    for fn in (lambda: g.move("a", "b"), lambda: g.__delitem__("g")):
        assert isinstance(_try(fn), ReadOnlyError)
    assert store.writes == []
