"""A full disk, for real: each store on a 1 MiB tmpfs, filled to the last page.

The test mounts the tmpfs itself, so it needs root (on Linux): elsewhere it is skipped,
except under CI (``CI`` set), where skipping would hide a missing capability, so it
fails. On the full disk a write to DirectoryStore, SQLiteStore, LMDBStore (whose memory
map also grows on the way) and ZipStore must raise :class:`czarr.errors.StoreWriteError`
with ``errno`` ENOSPC naming the key, keep the key's old value, leave no temporary file
in a listing, and an array's ``resize`` must fail whole; once space is freed, the same
store writes again.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import czarr
from czarr.errors import StoreWriteError
from czarr.storage import DirectoryStore, SQLiteStore, ZipStore

SIZE = "1m"  # room for SQLite's WAL, which grows with every commit


class Disk:
    """A mounted tmpfs that can be filled up and freed again."""

    def __init__(self, root) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self) -> None:
        """Take every free page with one file."""
        with open(self.filler, "ab", buffering=0) as f:
            block = b"\0" * 4096
            while True:
                try:
                    f.write(block)
                except OSError as e:
                    assert e.errno == errno.ENOSPC
                    break
        st = os.statvfs(self.root)
        assert st.f_bavail == 0

    def free(self) -> None:
        os.unlink(self.filler)

    def partial_files(self) -> list[str]:
        return [name for _, _, names in os.walk(self.root) for name in names
                if name.endswith(".partial")]


@pytest.fixture
def disk(tmp_path):
    why = None
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        why = "mounting a tmpfs needs root on Linux"
    else:
        root = tmp_path / "tmpfs"
        root.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs",
                               str(root)], capture_output=True, text=True)
        if done.returncode:
            why = f"mount -t tmpfs failed: {done.stderr.strip()}"
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI runs as root and must run this test")
        pytest.skip(why)
    try:
        yield Disk(root)
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def check_enospc(info: pytest.ExceptionInfo, key: str) -> None:
    assert info.value.errno == errno.ENOSPC
    assert key in info.value.keys and repr(key) in str(info.value)


def array_scenario(store, disk: Disk, meta_key: str) -> None:
    """Chunk, attribute, resize and direct writes on a full disk, on any store."""
    a = czarr.zeros((4096,), chunks=(1024,), dtype="i4", store=store, path="arr",
                    compressor=None)  # 4 KiB chunks: a page each
    a[:] = 1
    a.attrs["v"] = 1
    keys = sorted(store)
    disk.fill()
    with pytest.raises(StoreWriteError) as info:
        a[:] = np.arange(4096, dtype="i4")
    assert info.value.errno == errno.ENOSPC and info.value.keys[0].startswith("arr/")
    with pytest.raises(StoreWriteError) as info:
        a.attrs["v"] = "x" * 10_000
    check_enospc(info, "arr/.zattrs")
    for shape in (8192, 1000):  # growing and shrinking: the new shape cannot be written
        with pytest.raises(StoreWriteError) as info:
            a.resize(shape)
        check_enospc(info, meta_key)
        assert a.shape == (4096,)
    with pytest.raises(StoreWriteError) as info:
        store["arr/0"] = b"\1" * 8192
    check_enospc(info, "arr/0")
    # nothing changed: values, attributes, shape, keys
    again = czarr.open_array(store, path="arr", mode="r")
    assert again.shape == (4096,) and again.attrs.asdict() == {"v": 1}
    np.testing.assert_array_equal(again[:], 1)
    assert sorted(store) == keys
    assert disk.partial_files() == []
    # with room again, every one of them works
    disk.free()
    a[:] = np.arange(4096, dtype="i4")
    a.attrs["v"] = 2
    a.resize(1000)
    a.resize(5000)
    expected = np.full(5000, 0, dtype="i4")
    expected[:1000] = np.arange(1000)
    np.testing.assert_array_equal(czarr.open_array(store, path="arr")[:], expected)


@pytest.mark.parametrize("fsync", [False, True])
def test_directory_store_on_a_full_disk(disk, fsync):
    store = DirectoryStore(disk.root / "data.zarr", fsync=fsync)
    array_scenario(store, disk, "arr/.zarray")


def test_sqlite_store_on_a_full_disk(disk):
    store = SQLiteStore(disk.root / "data.sqlite")
    try:
        array_scenario(store, disk, "arr/.zarray")
        disk.fill()
        # a new key and a rewritten one, in one transaction: neither lands
        with pytest.raises(StoreWriteError) as info:
            store.setitems({"fresh": b"\2" * 65536, "arr/.zattrs": b"{}"})
        check_enospc(info, "fresh")
        assert "fresh" not in store and store["arr/.zattrs"] != b"{}"
        disk.free()
    finally:
        store.close()
    with SQLiteStore(disk.root / "data.sqlite") as store:  # and it opens again
        assert czarr.open_array(store, path="arr").attrs["v"] == 2


def test_lmdb_store_grows_its_map_then_hits_the_full_disk(disk):
    pytest.importorskip("lmdb")
    from czarr.storage import LMDBStore

    path = disk.root / "data.lmdb"
    store = LMDBStore(path, map_size=64 * 1024)
    assert store.kwargs["writemap"] is False  # with it, a full disk is SIGBUS
    values = {}
    try:
        with pytest.raises(StoreWriteError) as info:
            for i in range(1000):  # ~8 KiB each: the map doubles on the way, then no room
                key, value = f"v/{i}", os.urandom(8000)
                store[key] = value
                values[key] = value
        check_enospc(info, key)
        assert store.db.info()["map_size"] > 64 * 1024
        assert key not in store
        assert {k: store[k] for k in values} == values
        # a rewrite of a key that exists: the old value stays
        with pytest.raises(StoreWriteError) as info:
            store["v/0"] = os.urandom(64 * 1024)
        check_enospc(info, "v/0")
        assert store["v/0"] == values["v/0"]
    finally:
        store.close()
    with LMDBStore(path) as again:
        assert {k: again[k] for k in again} == values


def test_lmdb_store_array_on_a_full_disk(disk):
    # (not array_scenario: LMDB reuses the free pages inside its file, so small writes
    # such as a new .zarray may still fit on a full disk; a new chunk does not)
    pytest.importorskip("lmdb")
    from czarr.storage import LMDBStore

    with LMDBStore(disk.root / "data.lmdb", map_size=128 * 1024) as store:
        a = czarr.zeros((4, 16384), chunks=(1, 16384), dtype="i4", store=store,
                        compressor=None)  # 64 KiB chunks
        old = np.random.default_rng(0).integers(0, 2**30, a.shape, dtype="i4")
        a[:] = old
        disk.fill()
        with pytest.raises(StoreWriteError) as info:
            a[:] = old + 1
        check_enospc(info, "0.0")
        np.testing.assert_array_equal(czarr.open_array(store, mode="r")[:], old)
        disk.free()
        a[:] = old + 1
        np.testing.assert_array_equal(czarr.open_array(store, mode="r")[:], old + 1)


def test_zip_store_on_a_full_disk(disk):
    path = disk.root / "data.zip"
    with ZipStore(path, mode="w") as store:
        store.setitems({"a": b"1" * 20_000, "b": b"2"})
    before = path.read_bytes()
    disk.fill()
    # appending copies the zip first: no room for the copy
    store = ZipStore(path, mode="a")
    with pytest.raises(StoreWriteError) as info:
        store["c"] = b"3"
    check_enospc(info, "c")
    assert store["a"] == b"1" * 20_000 and "c" not in store  # reads go on
    assert disk.partial_files() == []
    store.close()
    assert path.read_bytes() == before
    # room for the copy, not for a big member: that member is cut off, the rest kept
    disk.free()
    store = ZipStore(path, mode="a")
    store["c"] = b"3"
    disk.fill()
    with pytest.raises(StoreWriteError) as info:
        store["big"] = os.urandom(100_000)
    check_enospc(info, "big")
    assert sorted(store) == ["a", "b", "c"]
    disk.free()
    store["d"] = b"4"
    store.close()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert sorted(zf.namelist()) == ["a", "b", "c", "d"]
    assert disk.partial_files() == []
    # an array in a zip on a full disk
    disk.fill()
    with ZipStore(path, mode="a") as store:
        with pytest.raises(StoreWriteError) as info:
            czarr.zeros((10,), store=store, path="arr")  # its parent group first
        check_enospc(info, ".zgroup")
    assert path.read_bytes() != b"" and zipfile.ZipFile(path).testzip() is None
