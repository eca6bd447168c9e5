"""DirectoryStore: the conformance suite, then what a folder adds: atomic writes, keys that
stay inside the root, and the very file layout zarr-python reads and writes."""

from __future__ import annotations

import os
import pickle
import shutil

import numpy as np
import pytest
import zarr

import czarr.storage.directory as directory_module
from czarr.errors import BadKeyError
from czarr.storage import DirectoryStore, getitems, getsize, listdir, rmdir

from .store_tests import StoreTests


class TestDirectoryStore(StoreTests):
    @pytest.fixture
    def create_store(self, tmp_path):
        return DirectoryStore(tmp_path / "store")

    def reopen(self, store, read_only=False):
        return None if read_only else DirectoryStore(store.path)


def files_under(root):
    """Every file under ``root`` as '/'-joined relative paths."""
    out = []
    for dirpath, _, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            out.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return sorted(out)


# ---------------------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------------------


def test_one_file_per_key(tmp_path):
    store = DirectoryStore(tmp_path)
    store[".zgroup"] = b"{}"
    store["arr/.zarray"] = b"{}"
    store["arr/0.0"] = b"chunk"
    store["nested/0/1"] = b"n"
    assert files_under(tmp_path) == [".zgroup", "arr/.zarray", "arr/0.0", "nested/0/1"]
    with open(tmp_path / "arr" / "0.0", "rb") as f:
        assert f.read() == b"chunk"


def test_root_created_lazily(tmp_path):
    root = tmp_path / "later"
    store = DirectoryStore(root)
    assert not root.exists()
    assert len(store) == 0 and list(store) == [] and listdir(store) == []
    assert getsize(store) == 0
    with pytest.raises(KeyError):
        store["a"]
    rmdir(store)
    store["a"] = b"1"
    assert root.is_dir()


def test_root_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        DirectoryStore(tmp_path / "file")


def test_rmdir_root_keeps_the_root_folder(tmp_path):
    store = DirectoryStore(tmp_path / "s")
    store["a/b"] = b"1"
    store["c"] = b"2"
    rmdir(store, "")
    assert (tmp_path / "s").is_dir()
    assert os.listdir(tmp_path / "s") == []


def test_deleting_the_last_key_of_a_folder_removes_the_folder(tmp_path):
    store = DirectoryStore(tmp_path)
    store["a/b/c"] = b"1"
    store["a/x"] = b"2"
    del store["a/b/c"]
    assert not (tmp_path / "a" / "b").exists()
    assert (tmp_path / "a" / "x").is_file()
    del store["a/x"]
    assert os.listdir(tmp_path) == []


def test_key_and_folder_cannot_share_a_name(tmp_path):
    store = DirectoryStore(tmp_path)
    store["a/b"] = b"1"
    with pytest.raises(BadKeyError, match="folder"):
        store["a"] = b"2"
    assert store["a/b"] == b"1"
    store["x"] = b"3"
    with pytest.raises(BadKeyError, match="file"):
        store["x/y"] = b"4"
    with pytest.raises(BadKeyError, match="file"):
        store["x/y/z"] = b"4"
    assert store["x"] == b"3"
    assert files_under(tmp_path) == ["a/b", "x"]
    with pytest.raises(KeyError):
        del store["a"]  # a folder is not a key
    assert store["a/b"] == b"1"


def test_normalize_keys(tmp_path):
    store = DirectoryStore(tmp_path, normalize_keys=True)
    store["Foo/BAR"] = b"1"
    assert files_under(tmp_path) == ["foo/bar"]
    assert store["FOO/bar"] == b"1"
    assert "foo/BAR" in store
    assert listdir(store, "FOO") == ["bar"]


def test_pickle_equality_hash_repr(tmp_path):
    store = DirectoryStore(tmp_path / "s", normalize_keys=True)
    store["a"] = b"1"
    copy = pickle.loads(pickle.dumps(store))
    assert copy == store and hash(copy) == hash(store)
    assert copy.normalize_keys
    assert copy["A"] == b"1"
    assert store == DirectoryStore(str(tmp_path / "s"))
    assert store != DirectoryStore(tmp_path / "other")
    assert repr(store) == f"DirectoryStore({str(tmp_path / 's')!r})"


# ---------------------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------------------


def test_no_temporary_files_left_behind(tmp_path):
    store = DirectoryStore(tmp_path)
    for i in range(50):
        store[f"a/{i}"] = b"x" * i
        store[f"a/{i}"] = b"y" * i
    assert files_under(tmp_path) == sorted(f"a/{i}" for i in range(50))


def test_failed_replace_keeps_the_old_value(tmp_path, monkeypatch):
    store = DirectoryStore(tmp_path)
    store["k"] = b"old"

    def failing_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(directory_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        store["k"] = b"new"
    monkeypatch.undo()
    assert store["k"] == b"old"
    assert files_under(tmp_path) == ["k"]


def test_failed_write_midway_keeps_the_old_value(tmp_path, monkeypatch):
    store = DirectoryStore(tmp_path)
    store["k"] = b"old"

    def half_write(fd, buf):
        os.write(fd, bytes(buf[:2]))
        raise OSError("no space left")

    monkeypatch.setattr(directory_module, "_write_fd", half_write)
    with pytest.raises(OSError, match="no space"):
        store["k"] = b"new value"
    with pytest.raises(OSError, match="no space"):
        store["fresh/key"] = b"new value"
    monkeypatch.undo()
    assert store["k"] == b"old"
    assert "fresh/key" not in store
    assert [f for f in files_under(tmp_path) if "partial" in f] == []


def test_a_full_disk_names_the_key(tmp_path, monkeypatch):
    import errno

    from czarr.errors import StoreWriteError

    store = DirectoryStore(tmp_path)
    store["a/k"] = b"old"

    def full(fd, buf):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(directory_module, "_write_fd", full)
    with pytest.raises(StoreWriteError) as info:
        store.setitems({"a/k": b"new"})
    assert info.value.errno == errno.ENOSPC and info.value.keys == ("a/k",)
    assert str(info.value) == (f"[Errno 28] cannot write 'a/k' in DirectoryStore({store.path!r})"
                               ": No space left on device")
    monkeypatch.undo()
    assert store["a/k"] == b"old" and files_under(tmp_path) == ["a/k"]


def fsync_log(monkeypatch):
    """Record what ``os.fsync`` is called on (the file or folder path), and the renames."""
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        calls.append(("replace", os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(directory_module.os, "fsync", fsync)
    monkeypatch.setattr(directory_module.os, "replace", replace)
    return calls


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_fsync_syncs_the_file_then_the_folder(tmp_path, monkeypatch):
    store = DirectoryStore(tmp_path / "root", fsync=True)
    store["a/b/k"] = b"1"  # new folders: synced up to the root
    calls = fsync_log(monkeypatch)
    store["a/b/k"] = b"2"
    root = store.path
    kind, temp = calls[0]
    assert kind == "fsync" and temp.startswith(root + "/a/b/k.") and temp.endswith(".partial")
    assert calls[1:] == [("replace", root + "/a/b/k"), ("fsync", root + "/a/b")]
    calls.clear()
    store["c/k"] = b"3"
    assert [c for c in calls if c[0] == "fsync"][1:] == [
        ("fsync", root + "/c"), ("fsync", root)]
    calls.clear()
    store.delitems(["c/k", "a/b/k"])  # folders emptied are removed: their parent synced
    assert sorted(calls) == [("fsync", root), ("fsync", root)]
    calls.clear()
    store["x"] = b"1"
    store.rename("x", "y/z")
    assert ("fsync", root + "/y") in calls and calls[-1] == ("fsync", root)
    assert store["y/z"] == b"1"


def test_no_fsync_by_default_and_the_option_is_kept(tmp_path, monkeypatch):
    calls = fsync_log(monkeypatch) if os.path.isdir("/proc/self/fd") else []
    store = DirectoryStore(tmp_path)
    store["a/k"] = b"1"
    assert [c for c in calls if c[0] == "fsync"] == []
    assert pickle.loads(pickle.dumps(DirectoryStore(tmp_path, fsync=True))).fsync is True
    assert pickle.loads(pickle.dumps(store)).fsync is False
    assert directory_module.NestedDirectoryStore(tmp_path / "n", fsync=True).fsync is True
    assert directory_module.TempStore(fsync=True).fsync is True


def test_temporary_files_of_other_writers_are_not_keys(tmp_path):
    store = DirectoryStore(tmp_path)
    store["arr/0.0"] = b"12"
    # one of ours in flight, and one of zarr-python 2's (uuid4 hex)
    (tmp_path / "arr" / "0.1.0123456789abcdef0123456789abcdef.partial").write_bytes(b"xx")
    (tmp_path / f"x{directory_module._temp_suffix()}").write_bytes(b"xx")
    assert list(store) == ["arr/0.0"]
    assert len(store) == 1
    assert listdir(store, "arr") == ["0.0"]
    assert listdir(store) == ["arr"]
    assert getsize(store) == 2
    store["data.partial"] = b"a key may end in .partial"
    assert "data.partial" in list(store)


# ---------------------------------------------------------------------------------------
# keys that would escape the root
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../escape", "..", "/tmp/escape", "//escape", "a/", "nul\0l"]
)
def test_escaping_keys_refused(tmp_path, key):
    root = tmp_path / "root"
    store = DirectoryStore(root)
    with pytest.raises(BadKeyError):
        store[key] = b"x"
    with pytest.raises(KeyError):
        store[key]
    with pytest.raises(KeyError):
        del store[key]
    assert key not in store
    with pytest.raises(BadKeyError):
        getitems(store, [key])
    assert files_under(tmp_path) == []


def test_escaping_paths_refused(tmp_path):
    store = DirectoryStore(tmp_path / "root")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "precious").write_bytes(b"keep")
    for call in (lambda: rmdir(store, "../outside"), lambda: listdir(store, "../outside"),
                 lambda: getsize(store, "..")):
        with pytest.raises(BadKeyError):
            call()
    assert (tmp_path / "outside" / "precious").read_bytes() == b"keep"


# ---------------------------------------------------------------------------------------
# the same folders as zarr-python
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("separator", [".", "/"])
def test_sees_exactly_the_keys_zarr_writes(tmp_path, separator):
    path = str(tmp_path / "arr.zarr")
    z = zarr.open_array(path, mode="w", shape=(4, 6), chunks=(2, 3), dtype="<i4",
                        zarr_format=2, dimension_separator=separator)
    z[:] = np.arange(24, dtype="<i4").reshape(4, 6)
    store = DirectoryStore(path)
    chunks = [f"{i}{separator}{j}" for i in range(2) for j in range(2)]
    assert sorted(store) == files_under(path)
    assert set(chunks) | {".zarray"} <= set(store)
    assert set(store) - set(chunks) <= {".zarray", ".zattrs"}
    assert listdir(store) == sorted(os.listdir(path))
    if separator == "/":
        assert listdir(store, "1") == ["0", "1"]
    values = getitems(store, chunks + ["9.9"])
    assert sorted(values) == sorted(chunks)
    for key, value in values.items():
        with open(os.path.join(path, *key.split("/")), "rb") as f:
            assert f.read() == value


def test_sees_the_keys_of_a_zarr_group(tmp_path):
    path = str(tmp_path / "g.zarr")
    g = zarr.open_group(path, mode="w", zarr_format=2)
    g.create_array("x", shape=(3,), chunks=(2,), dtype="<f8")[:] = 1.0
    g.create_group("sub").create_array("y", shape=(2, 2), chunks=(1, 2), dtype="u1")[:] = 3
    store = DirectoryStore(path)
    assert sorted(store) == files_under(path)
    assert {".zgroup", "x/.zarray", "x/0", "x/1", "sub/.zgroup", "sub/y/.zarray",
            "sub/y/0.0", "sub/y/1.0"} <= set(store)
    assert "sub" in listdir(store) and "x" in listdir(store)
    assert listdir(store, "sub/y")[-2:] == ["0.0", "1.0"]


@pytest.mark.parametrize("separator", [".", "/"])
def test_zarr_reads_what_directory_store_writes(tmp_path, separator):
    source = str(tmp_path / "source.zarr")
    data = np.arange(60, dtype="<f4").reshape(6, 10)
    z = zarr.open_array(source, mode="w", shape=data.shape, chunks=(4, 4), dtype=data.dtype,
                        zarr_format=2, dimension_separator=separator)
    z[:] = data
    z.attrs["answer"] = 42
    copy_path = str(tmp_path / "copy.zarr")
    store = DirectoryStore(copy_path)
    src = DirectoryStore(source)
    store.setitems(getitems(src, list(src)))
    assert files_under(copy_path) == files_under(source)
    z2 = zarr.open_array(copy_path, mode="r", zarr_format=2)
    assert np.array_equal(z2[:], data)
    assert z2.attrs["answer"] == 42
    shutil.rmtree(source)


def test_zarr_reads_keys_written_one_by_one_and_as_arrays(tmp_path):
    # values given as ndarrays/memoryviews land as the raw bytes zarr expects
    src = zarr.open_array(str(tmp_path / "src"), mode="w", shape=(5,), chunks=(5,),
                          dtype="<i8", zarr_format=2, compressor=None, fill_value=0)
    src[:] = np.arange(5)
    store = DirectoryStore(tmp_path / "dst")
    store[".zarray"] = DirectoryStore(tmp_path / "src")[".zarray"]
    store["0"] = np.arange(5, dtype="<i8")
    assert np.array_equal(zarr.open_array(str(tmp_path / "dst"), mode="r")[:], np.arange(5))
    store["0"] = memoryview(np.arange(5, 10, dtype="<i8"))
    assert np.array_equal(zarr.open_array(str(tmp_path / "dst"), mode="r")[:],
                          np.arange(5, 10))


def test_fifo_where_a_chunk_should_be_raises_naming_the_key(tmp_path):
    """Every read path refuses a FIFO without opening it for a blocking read (run in a
    child process, so a regression is a timeout rather than a hung suite)."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import os
        import czarr
        from czarr.errors import NotAFileError
        root = {str(tmp_path / "a.zarr")!r}
        a = czarr.open(root, mode="w", shape=(4, 4), chunks=(2, 2), dtype="i4")
        a[...] = 1
        os.remove(os.path.join(root, "1.1"))
        os.mkfifo(os.path.join(root, "1.1"))
        store = czarr.DirectoryStore(root)
        calls = [lambda: store["1.1"], lambda: store.get_partial("1.1", 0, 2),
                 lambda: store.getitems(["0.0", "1.1"]), lambda: a[...],
                 lambda: a.__setitem__((3, 3), 5)]
        for call in calls:
            try:
                call()
            except NotAFileError as e:
                assert "'1.1' is not a regular file" in str(e), e
                print("refused")
        print(a[0:2, 0:2].sum(), "1.1" in store)
        """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["refused"] * 5 + ["4", "False"]
