"""Containment: no key, path or symbolic link lets a store change anything outside its root.

Every hostile key below is tried against every operation of every store that keeps its
values in local files (DirectoryStore, NestedDirectoryStore, ZipStore, FSStore over a
``file://`` URL), straight on the store and through the array and group API. The root
sits two folders deep in a sandbox full of decoys (files and folders where ``'../x'``,
``'../../x'``, an absolute path or a sibling root would land); after each attempt the
sandbox outside the root must be identical (contents, modes, modification times, the
folders' own times included, so a file made and removed again is seen too). Then the
symbolic-link rules of DirectoryStore: reads follow links, changes never go through a
link that leads out of the root.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import czarr
from czarr.errors import BadKeyError
from czarr.storage import (
    DirectoryStore,
    FSStore,
    NestedDirectoryStore,
    ZipStore,
    base,
    delitems,
    get_partial,
    get_ranges,
    getitems,
    getsize,
    listdir,
    rename,
    rmdir,
    setitems,
)

# '{ABS}' is replaced by the sandbox's absolute path
HOSTILE_KEYS = [
    "..", "../x", "../../x", "a/../../x", "a/b/../../../x", "../outside/precious",
    "../outside", "../root2/x", "../root.zip", "..//x", "./../x",
    "{ABS}/x", "{ABS}/deep/outside/precious", "//{ABS}/x", "/x",
    "..\\x", "a\\..\\..\\x", "\\{ABS}\\x", "..\\..\\x",
    "\0", "x\0", "a/\0/b", "..\0/x", "\0../x",
    "", "/", "//", ".", "a//b", "a/./b", "a/", "./x",
    "%2e%2e/x", "..%2fx", "\u2025/x", "\uff0e\uff0e/x", "~/x", "$HOME/x", "C:/x", "C:\\x",
]
# keys that must be refused for every write (after '\\' -> '/', a '..' segment or a NUL)


def _must_refuse(key: str) -> bool:
    segments = key.replace("\\", "/").split("/")
    return ".." in segments or "\0" in key


# ---------------------------------------------------------------------------------------
# the sandbox
# ---------------------------------------------------------------------------------------


def _snapshot(sandbox: str, exclude: str) -> dict[str, tuple]:
    """Everything under ``sandbox`` except ``exclude`` (the store's root): per path, its
    kind, mode, modification time and contents (files) or link target."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(sandbox):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) != exclude]
        st = os.lstat(dirpath)
        # a ZipStore replaces its file by renaming a temporary zip over it (crash
        # safety), which touches the folder holding it: there only the names must stay
        mtime = None if exclude.endswith(".zip") and dirpath == os.path.dirname(exclude) \
            else st.st_mtime_ns
        out[dirpath] = ("dir", st.st_mode, mtime, tuple(sorted(os.listdir(dirpath))))
        for name in filenames:
            path = os.path.join(dirpath, name)
            if path == exclude:
                continue
            st = os.lstat(path)
            if os.path.islink(path):
                out[path] = ("link", st.st_mode, st.st_mtime_ns, os.readlink(path))
            else:
                with open(path, "rb") as f:
                    out[path] = ("file", st.st_mode, st.st_mtime_ns, f.read())
    # the folder holding the sandbox: nothing appears beside it either
    parent = os.path.dirname(sandbox)
    out[parent] = ("parent", tuple(sorted(os.listdir(parent))))
    return out


def _make_sandbox(tmp_path: Any) -> tuple[str, str]:
    """``(sandbox, deep)``: decoys at every place a hostile key could reach."""
    sandbox = str(tmp_path / "sandbox")
    deep = os.path.join(sandbox, "deep")
    for folder in (os.path.join(sandbox, "outside"), os.path.join(deep, "outside"),
                   os.path.join(deep, "root2")):
        os.makedirs(folder)
        with open(os.path.join(folder, "precious"), "wb") as f:
            f.write(b"keep")
    for path in (os.path.join(sandbox, "x"), os.path.join(deep, "x"),
                 os.path.join(deep, "root2", "x")):
        with open(path, "wb") as f:
            f.write(b"decoy")
    return sandbox, deep


class Sandbox:
    """A store whose root is ``sandbox/deep/root`` (or ``root.zip``), holding a group with
    an array ``'seed'`` and a key ``'keep/v'``."""

    def __init__(self, tmp_path: Any, kind: str) -> None:
        self.sandbox, deep = _make_sandbox(tmp_path)
        self.kind = kind
        self.root = os.path.join(deep, "root.zip" if kind == "zip" else "root")
        self.store = self.open()
        g = czarr.group(store=self.store, overwrite=True)
        g.zeros("seed", shape=(4,), chunks=(2,), dtype="i4")[:] = 7
        self.store["keep/v"] = b"v"
        if kind == "zip":
            self.store.flush()
        self.before = _snapshot(self.sandbox, self.root)
        self.attempts = 0

    def open(self) -> Any:
        if self.kind == "directory":
            return DirectoryStore(self.root)
        if self.kind == "nested":
            return NestedDirectoryStore(self.root)
        if self.kind == "zip":
            return ZipStore(self.root, mode="a")
        return FSStore("file://" + self.root)

    def key(self, template: str) -> str:
        return template.replace("{ABS}", self.sandbox.lstrip("/"))

    def attempt(self, op: Callable[[Any, str], Any], key: str, write: bool,
                what: str) -> None:
        """Run ``op(store, key)``; whatever it does, nothing outside the root may change."""
        self.attempts += 1
        try:
            op(self.store, key)
        except (BadKeyError, ValueError, KeyError, TypeError, NotImplementedError,
                PermissionError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
                czarr.errors.CzarrError):
            refused = True
        else:
            refused = False
        if self.kind == "zip":
            self.store.flush()
        after = _snapshot(self.sandbox, self.root)
        assert after == self.before, f"{what} with key {key!r} changed the sandbox"
        if write and _must_refuse(key):
            assert refused, f"{what} with key {key!r} was not refused"


STORE_KINDS = ["directory", "nested", "zip", "fsstore"]


@pytest.fixture(params=STORE_KINDS)
def box(request, tmp_path):
    b = Sandbox(tmp_path, request.param)
    yield b
    if b.kind == "zip":
        b.store.close()
        # no member name a zip tool would extract outside its folder
        with zipfile.ZipFile(b.root) as zf:
            for name in zf.namelist():
                assert base.normalize_key(name) == name and "\0" not in name, name


# ---------------------------------------------------------------------------------------
# every hostile key against every store operation
# ---------------------------------------------------------------------------------------

# (name, is a write, call(store, key))
STORE_OPS: list[tuple[str, bool, Callable[[Any, str], Any]]] = [
    ("setitem", True, lambda s, k: s.__setitem__(k, b"evil")),
    ("setitems", True, lambda s, k: setitems(s, {k: b"evil"})),
    ("delitem", True, lambda s, k: s.__delitem__(k)),
    ("delitems", True, lambda s, k: delitems(s, [k])),
    ("rmdir", True, lambda s, k: rmdir(s, k)),
    ("store.rmdir", True, lambda s, k: s.rmdir(k)),
    ("rename from", True, lambda s, k: rename(s, k, "moved")),
    ("rename to", True, lambda s, k: rename(s, "keep", k)),
    ("store.rename to", True, lambda s, k: s.rename("keep", k)),
    ("getitem", False, lambda s, k: s[k]),
    ("contains", False, lambda s, k: k in s),
    ("getitems", False, lambda s, k: getitems(s, [k])),
    ("get_partial", False, lambda s, k: get_partial(s, k, 0, 2)),
    ("get_ranges", False, lambda s, k: get_ranges(s, k, [(0, 2)])),
    ("listdir", False, lambda s, k: listdir(s, k)),
    ("store.listdir", False, lambda s, k: s.listdir(k)),
    ("getsize", False, lambda s, k: getsize(s, k)),
    ("store.getsize", False, lambda s, k: s.getsize(k)),
]


@pytest.mark.parametrize("name,write,op", STORE_OPS, ids=[o[0] for o in STORE_OPS])
def test_hostile_keys_stay_inside_the_store(box, name, write, op):
    for template in HOSTILE_KEYS:
        key = box.key(template)
        box.attempt(op, key, write, name)
    box.store["after"] = b"1"  # still a working store
    assert box.store["after"] == b"1"


def _v3_group(store: Any) -> Any:
    return czarr.open_group(store, mode="a", path="v3", zarr_format=3)


# the same through the array and group API
NODE_OPS: list[tuple[str, Callable[[Any, str], Any]]] = [
    ("group.zeros", lambda s, k: czarr.open_group(s, mode="a").zeros(k, shape=(2,))),
    ("group.create_group", lambda s, k: czarr.open_group(s, mode="a").create_group(k)),
    ("group.require_group", lambda s, k: czarr.open_group(s, mode="a").require_group(k)),
    ("group.create_dataset",
     lambda s, k: czarr.open_group(s, mode="a").create_dataset(k, shape=(2,), dtype="u1")),
    ("group.array", lambda s, k: czarr.open_group(s, mode="a").array(k, np.arange(3))),
    ("group.__setitem__", lambda s, k: czarr.open_group(s, mode="a").__setitem__(k, [1])),
    ("del group[k]", lambda s, k: czarr.open_group(s, mode="a").__delitem__(k)),
    ("group.move from", lambda s, k: czarr.open_group(s, mode="a").move(k, "moved")),
    ("group.move to", lambda s, k: czarr.open_group(s, mode="a").move("seed", k)),
    ("subgroup.zeros", lambda s, k: czarr.open_group(s, mode="a").require_group("sub")
     .zeros(k, shape=(2,))),
    ("v3 group.zeros", lambda s, k: _v3_group(s).zeros(k, shape=(2,))),
    ("czarr.open w", lambda s, k: czarr.open(s, mode="w", path=k, shape=(2,))),
    ("czarr.open a", lambda s, k: czarr.open(s, mode="a", path=k)),
    ("czarr.open r", lambda s, k: czarr.open(s, mode="r", path=k)),
    ("open_group a", lambda s, k: czarr.open_group(s, mode="a", path=k)),
    ("open_group w v3", lambda s, k: czarr.open_group(s, mode="w", path=k, zarr_format=3)),
    ("open_array w", lambda s, k: czarr.open_array(s, mode="w", path=k, shape=(2,))),
    ("czarr.zeros", lambda s, k: czarr.zeros((2,), store=s, path=k, overwrite=True)),
    ("group[k]", lambda s, k: czarr.open_group(s, mode="r")[k]),
]


@pytest.mark.parametrize("name,op", NODE_OPS, ids=[o[0] for o in NODE_OPS])
def test_hostile_paths_stay_inside_the_store(box, name, op):
    for template in HOSTILE_KEYS:
        key = box.key(template)
        if key in ("", "/", "//", "."):  # the root itself: a legitimate path
            continue
        box.attempt(op, key, name != "group[k]", name)
    if name != "group.move to":  # (which moved it, inside the root)
        assert czarr.open_array(box.store, path="seed", mode="r")[:].tolist() == [7] * 4


def test_file_url_through_normalize_store_arg(tmp_path):
    sandbox, deep = _make_sandbox(tmp_path)
    root = os.path.join(deep, "root")
    g = czarr.open_group("file://" + root, mode="a")
    before = _snapshot(sandbox, root)
    for template in HOSTILE_KEYS:
        key = template.replace("{ABS}", sandbox.lstrip("/"))
        if _must_refuse(key):
            with pytest.raises((ValueError, BadKeyError)):
                g.zeros(key, shape=(2,))
            with pytest.raises((ValueError, BadKeyError)):
                czarr.open("file://" + root, mode="w", path=key, shape=(2,))
    assert _snapshot(sandbox, root) == before


def test_normalize_key_refuses_nul():
    for key in ["\0", "a\0", "a/\0b", "a\0/b"]:
        with pytest.raises(BadKeyError, match="NUL|canonical|invalid"):
            base.normalize_key(key)
        with pytest.raises(BadKeyError):
            base._normalize_path(key)
        with pytest.raises(BadKeyError):
            czarr.MemoryStore()[key] = b"x"
    with pytest.raises(ValueError, match="NUL"):
        czarr.layout.normalize_path("a\0b")


# ---------------------------------------------------------------------------------------
# symbolic links inside a root
# ---------------------------------------------------------------------------------------

LINK_STORES = {
    "directory": DirectoryStore,
    "nested": NestedDirectoryStore,
    "fsstore": lambda root: FSStore("file://" + root),
}


@pytest.fixture(params=list(LINK_STORES))
def linked(request, tmp_path):
    """A root holding links out of it: ``linkdir`` -> ``sandbox/outside`` (a folder with
    ``precious`` and ``sub/deeper``), ``linkfile`` -> ``sandbox/x``; plus a real folder
    ``real`` with a key and ``alias`` -> ``real`` (a link that stays inside)."""
    sandbox, _ = _make_sandbox(tmp_path)
    outside = os.path.join(sandbox, "outside")
    os.makedirs(os.path.join(outside, "sub"))
    with open(os.path.join(outside, "sub", "deeper"), "wb") as f:
        f.write(b"deep")
    root = os.path.join(sandbox, "deep", "root")
    os.makedirs(os.path.join(root, "real"))
    with open(os.path.join(root, "real", "k"), "wb") as f:
        f.write(b"inside")
    os.symlink(outside, os.path.join(root, "linkdir"))
    os.symlink(os.path.join(sandbox, "x"), os.path.join(root, "linkfile"))
    os.symlink(os.path.join(root, "real"), os.path.join(root, "alias"))
    store = LINK_STORES[request.param](root)
    return store, sandbox, root


def _outside_snapshot(sandbox: str, root: str) -> dict:
    return _snapshot(sandbox, root)


LINK_WRITES: list[tuple[str, Callable[[Any], Any]]] = [
    ("set through a linked folder", lambda s: s.__setitem__("linkdir/new", b"evil")),
    ("overwrite through a linked folder",
     lambda s: s.__setitem__("linkdir/precious", b"evil")),
    ("set deeper", lambda s: s.__setitem__("linkdir/sub/deeper", b"evil")),
    ("set a new folder under a link", lambda s: s.__setitem__("linkdir/a/b/c", b"evil")),
    ("setitems", lambda s: setitems(s, {"ok": b"1", "linkdir/new": b"evil"})),
    ("delete through a link", lambda s: s.__delitem__("linkdir/precious")),
    ("delitems through a link", lambda s: delitems(s, ["linkdir/precious", "linkdir/sub/deeper"])),
    ("rmdir the link", lambda s: rmdir(s, "linkdir")),
    ("rmdir under the link", lambda s: rmdir(s, "linkdir/sub")),
    ("rename out of the link", lambda s: rename(s, "linkdir/precious", "got")),
    ("rename the linked folder", lambda s: rename(s, "linkdir", "moved")),
    ("rename into the link", lambda s: rename(s, "real", "linkdir/real")),
    ("rename merging through a link", lambda s: rename(s, "real", "linkdir")),
    ("array under a link", lambda s: czarr.zeros((4,), chunks=(2,), store=s,
                                                 path="linkdir/arr", overwrite=True)),
    ("group under a link", lambda s: czarr.open_group(s, mode="a", path="linkdir/g")),
    ("move a node out through the link",
     lambda s: czarr.open_group(s, mode="a").move("linkdir/sub", "stolen")),
]


@pytest.mark.parametrize("name,op", LINK_WRITES, ids=[w[0] for w in LINK_WRITES])
def test_changes_never_go_through_a_link_out_of_the_root(linked, name, op):
    store, sandbox, root = linked
    before = _outside_snapshot(sandbox, root)
    with pytest.raises((BadKeyError, ValueError, OSError)):
        op(store)
    assert _outside_snapshot(sandbox, root) == before
    assert os.path.islink(os.path.join(root, "linkdir"))


def test_reads_follow_links(linked):
    store, sandbox, root = linked
    assert store["linkdir/precious"] == b"keep"
    assert store["linkdir/sub/deeper"] == b"deep"
    assert store["linkfile"] == b"decoy"
    assert listdir(store, "linkdir") == ["precious", "sub"]
    assert getsize(store, "linkdir/precious") == 4
    assert getitems(store, ["linkdir/precious", "alias/k"]) == {
        "linkdir/precious": b"keep", "alias/k": b"inside"}


def test_a_key_that_is_a_link_is_replaced_not_followed(linked):
    store, sandbox, root = linked
    before = _outside_snapshot(sandbox, root)
    store["linkfile"] = b"new"
    assert not os.path.islink(os.path.join(root, "linkfile"))
    assert store["linkfile"] == b"new"
    del store["linkfile"]
    assert not os.path.lexists(os.path.join(root, "linkfile"))
    assert _outside_snapshot(sandbox, root) == before


def test_links_inside_the_root_are_followed_for_writes(linked):
    store, sandbox, root = linked
    store["alias/new"] = b"via alias"
    with open(os.path.join(root, "real", "new"), "rb") as f:
        assert f.read() == b"via alias"
    del store["alias/new"]
    assert not os.path.exists(os.path.join(root, "real", "new"))


def test_rmdir_root_removes_links_not_their_targets(linked):
    store, sandbox, root = linked
    before = _outside_snapshot(sandbox, root)
    try:
        rmdir(store, "")
    except OSError:  # fsspec's local rm refuses to rmtree a link; contained either way
        pass
    assert _outside_snapshot(sandbox, root) == before
    assert not os.path.exists(os.path.join(root, "real", "k"))


def test_an_array_whose_chunk_folder_became_a_link(tmp_path):
    sandbox, _ = _make_sandbox(tmp_path)
    root = os.path.join(sandbox, "deep", "root")
    store = NestedDirectoryStore(root)
    z = czarr.zeros((4, 4), chunks=(2, 2), dtype="u1", store=store, path="arr")
    z[:] = 1
    # someone swaps the chunk row folder '0' for a link to a folder outside
    import shutil
    shutil.rmtree(os.path.join(root, "arr", "0"))
    os.symlink(os.path.join(sandbox, "outside"), os.path.join(root, "arr", "0"))
    before = _outside_snapshot(sandbox, root)
    with pytest.raises(BadKeyError, match="symbolic link"):
        z[:] = 2
    with pytest.raises(BadKeyError, match="symbolic link"):
        z[0:2, 0:2] = 3
    assert _outside_snapshot(sandbox, root) == before
    rows = z[2:, :]  # (the other chunks: each old or new, whole)
    for block in (rows[:, :2], rows[:, 2:]):
        assert len(set(block.ravel().tolist())) == 1 and block[0, 0] in (1, 2)


def test_a_root_that_is_itself_a_link(tmp_path):
    real = tmp_path / "real_root"
    real.mkdir()
    os.symlink(real, tmp_path / "root_link")
    store = DirectoryStore(tmp_path / "root_link")
    store["a/b"] = b"1"
    rename(store, "a", "c")
    rmdir(store, "c")
    store["d"] = b"2"
    assert sorted(os.listdir(real)) == ["d"]
