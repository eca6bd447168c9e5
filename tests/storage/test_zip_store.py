"""ZipStore: the conformance suite (a zip cannot delete, and rewriting a key duplicates
it), then modes, read-only refusal, closing and reopening, and zips that zarr-python and
zip tools produce or read."""

from __future__ import annotations

import errno
import os
import pickle
import threading
import warnings
import zipfile

import numpy as np
import pytest
import zarr

from czarr.errors import BadKeyError, ReadOnlyError
from czarr.storage import DirectoryStore, ZipStore, getitems, getsize, listdir, rename, rmdir

from .store_tests import StoreTests


class TestZipStore(StoreTests):
    can_delete = False
    overwrite_warns = True

    @pytest.fixture
    def create_store(self, tmp_path):
        store = ZipStore(tmp_path / "store.zip", mode="w")
        yield store
        store.close()

    def reopen(self, store, read_only=False):
        return ZipStore(store.path, mode="r" if read_only else "a")

    def test_clear(self, store):
        super().test_clear(store)
        store.close()
        assert zipfile.ZipFile(store.path).namelist() == ["again"]


def written_zip(path, items, mode="w"):
    with ZipStore(path, mode=mode) as store:
        for key, value in items.items():
            store[key] = value
    return str(path)


# ---------------------------------------------------------------------------------------
# modes
# ---------------------------------------------------------------------------------------


def test_mode_r_reads_and_refuses_writes(tmp_path):
    path = written_zip(tmp_path / "a.zip", {"a": b"1", "b/c": b"2"})
    store = ZipStore(path, mode="r")
    assert store.read_only
    assert dict(store.items()) == {"a": b"1", "b/c": b"2"}
    for write in (lambda: store.__setitem__("x", b"1"), lambda: store.setitems({"x": b"1"}),
                  lambda: store.__delitem__("a"), lambda: rmdir(store, "b"),
                  lambda: rmdir(store), lambda: store.clear(),
                  lambda: rename(store, "a", "z")):
        with pytest.raises(ReadOnlyError):
            write()
        with pytest.raises(PermissionError):  # ReadOnlyError is a PermissionError
            write()
    store.flush()  # nothing to write: a no-op
    store.close()
    assert zipfile.ZipFile(path).namelist() == ["a", "b/c"]


def test_mode_r_needs_the_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ZipStore(tmp_path / "missing.zip", mode="r")


def test_mode_w_truncates(tmp_path):
    path = written_zip(tmp_path / "a.zip", {"old": b"1"})
    with ZipStore(path, mode="w") as store:
        assert len(store) == 0
        store["new"] = b"2"
    assert zipfile.ZipFile(path).namelist() == ["new"]


def test_mode_a_appends_or_creates(tmp_path):
    path = str(tmp_path / "a.zip")
    written_zip(path, {"first": b"1"}, mode="a")
    written_zip(path, {"second": b"2"}, mode="a")
    with ZipStore(path, mode="r") as store:
        assert dict(store.items()) == {"first": b"1", "second": b"2"}


def test_mode_x_refuses_an_existing_file(tmp_path):
    path = written_zip(tmp_path / "a.zip", {"a": b"1"}, mode="x")
    with pytest.raises(FileExistsError):
        ZipStore(path, mode="x")
    with ZipStore(path, mode="r") as store:
        assert list(store) == ["a"]


def test_invalid_mode(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        ZipStore(tmp_path / "a.zip", mode="r+")
    assert not (tmp_path / "a.zip").exists()


# ---------------------------------------------------------------------------------------
# closing, flushing, reopening, pickling
# ---------------------------------------------------------------------------------------


def test_context_manager_closes(tmp_path):
    path = str(tmp_path / "a.zip")
    with ZipStore(path, mode="w") as store:
        store["a"] = b"1"
    assert zipfile.ZipFile(path).testzip() is None
    with pytest.raises(ValueError):  # the zip file is closed
        store["a"]
    store.close()  # closing twice is fine


def test_reopen_after_close(tmp_path):
    path = str(tmp_path / "a.zip")
    store = ZipStore(path, mode="w")
    store["a/0.0"] = np.arange(4, dtype="u1")
    store.close()
    store = ZipStore(path, mode="a")
    assert store["a/0.0"] == bytes([0, 1, 2, 3])
    store["a/0.1"] = b"more"
    store.close()
    with ZipStore(path, mode="r") as store:
        assert sorted(store) == ["a/0.0", "a/0.1"]
        assert listdir(store, "a") == ["0.0", "0.1"]


def test_flush_makes_writes_visible_and_keeps_writing(tmp_path):
    path = str(tmp_path / "a.zip")
    store = ZipStore(path, mode="w")
    store["a"] = b"1"
    store.flush()
    assert zipfile.ZipFile(path).namelist() == ["a"]
    store["b"] = b"2"  # still writable, and the first write survived
    store.close()
    assert sorted(zipfile.ZipFile(path).namelist()) == ["a", "b"]


def test_pickle_reopens_without_truncating(tmp_path):
    path = str(tmp_path / "a.zip")
    store = ZipStore(path, mode="w", compression=zipfile.ZIP_DEFLATED)
    store["a"] = b"1"
    copy = pickle.loads(pickle.dumps(store))
    try:
        assert copy.mode == "a"
        assert copy.compression == zipfile.ZIP_DEFLATED
        assert copy["a"] == b"1"
        assert copy == store
    finally:
        copy.close()
    store["b"] = b"2"
    store.close()
    with ZipStore(path, mode="r") as reader:
        assert sorted(reader) == ["a", "b"]
        copy = pickle.loads(pickle.dumps(reader))
        assert copy.mode == "r" and copy["b"] == b"2"
        copy.close()


def test_equality_and_repr(tmp_path):
    path = written_zip(tmp_path / "a.zip", {"a": b"1"})
    with ZipStore(path, mode="r") as a, ZipStore(path, mode="r") as b:
        assert a == b
        assert repr(a) == f"ZipStore({path!r}, mode='r')"
        with ZipStore(path, mode="r", compression=zipfile.ZIP_DEFLATED) as c:
            assert a != c


# ---------------------------------------------------------------------------------------
# what a zip cannot do
# ---------------------------------------------------------------------------------------


def test_rewriting_a_key_duplicates_it_and_reads_the_newest(tmp_path):
    path = str(tmp_path / "a.zip")
    with ZipStore(path, mode="w") as store:
        store["k"] = b"old"
        with pytest.warns(UserWarning, match="Duplicate name"):
            store["k"] = b"newer"
        assert store["k"] == b"newer"
        assert len(store) == 1 and list(store) == ["k"]
        assert getsize(store) == 5
    assert zipfile.ZipFile(path).namelist() == ["k", "k"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ZipStore(path, mode="r") as store:
            assert store["k"] == b"newer"
            assert getitems(store, ["k"]) == {"k": b"newer"}


def test_deleting_is_not_implemented(tmp_path):
    with ZipStore(tmp_path / "a.zip", mode="w") as store:
        store["a/b"] = b"1"
        with pytest.raises(NotImplementedError):
            del store["a/b"]
        with pytest.raises(NotImplementedError):
            rmdir(store, "a")
        with pytest.raises(NotImplementedError):
            rename(store, "a", "b")
        rmdir(store, "elsewhere")  # nothing to remove: fine
        assert list(store) == ["a/b"]


def test_rmdir_root_truncates(tmp_path):
    path = str(tmp_path / "a.zip")
    with ZipStore(path, mode="a") as store:
        store["a"] = b"1"
        rmdir(store)
        assert len(store) == 0
        store["b"] = b"2"
    assert zipfile.ZipFile(path).namelist() == ["b"]


def test_bad_keys_refused(tmp_path):
    with ZipStore(tmp_path / "a.zip", mode="w") as store:
        for key in ["/abs", "../x", "a//b", ""]:
            with pytest.raises(BadKeyError):
                store[key] = b"1"
        assert len(store) == 0


# ---------------------------------------------------------------------------------------
# compression, threads
# ---------------------------------------------------------------------------------------


def test_deflated_members(tmp_path):
    path = str(tmp_path / "a.zip")
    value = bytes(100_000)
    with ZipStore(path, mode="w", compression=zipfile.ZIP_DEFLATED) as store:
        store["zeros"] = value
        assert store["zeros"] == value
        assert 0 < getsize(store, "zeros") < len(value)  # bytes stored in the zip
    info = zipfile.ZipFile(path).getinfo("zeros")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert (info.external_attr >> 16) & 0o777 == 0o644


def test_threads_read_one_zip(tmp_path):
    items = {f"c/{i}": os.urandom(1000 + i) for i in range(64)}
    path = written_zip(tmp_path / "a.zip", items)
    errors = []
    with ZipStore(path, mode="r") as store:

        def read():
            try:
                for _ in range(5):
                    for key, value in items.items():
                        assert store[key] == value
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


# ---------------------------------------------------------------------------------------
# zips from folders, tools and zarr-python
# ---------------------------------------------------------------------------------------


def zip_folder(folder, path, folder_entries=False):
    """Zip a store folder the way zarr expects: members named by key, no leading folder."""
    with zipfile.ZipFile(path, "w") as zf:
        for dirpath, _, filenames in os.walk(folder):
            rel = os.path.relpath(dirpath, folder)
            if folder_entries and rel != ".":
                zf.write(dirpath, rel.replace(os.sep, "/") + "/")
            for name in filenames:
                full = os.path.join(dirpath, name)
                zf.write(full, os.path.relpath(full, folder).replace(os.sep, "/"))
    return str(path)


@pytest.mark.parametrize("folder_entries", [False, True])
def test_zipped_directory_store_reads_back(tmp_path, folder_entries):
    folder = tmp_path / "data.zarr"
    items = {".zgroup": b"{}", "arr/.zarray": b"{}", "arr/0.0": b"c00", "arr/1/0": b"c10"}
    DirectoryStore(folder).setitems(items)
    path = zip_folder(folder, tmp_path / "data.zip", folder_entries=folder_entries)
    with ZipStore(path, mode="r") as store:
        assert sorted(store) == sorted(items)  # folder entries ('arr/') are not keys
        assert len(store) == len(items)
        assert {k: store[k] for k in store} == items
        assert "arr/" not in store
        assert listdir(store) == [".zgroup", "arr"]
        assert listdir(store, "arr") == [".zarray", "0.0", "1"]
        assert getsize(store, "arr") == 2 + 3 + 3
        assert getitems(store, ["arr/0.0", "arr/9"]) == {"arr/0.0": b"c00"}


def test_zarr_folder_zipped_opens_in_zarr_and_czarr(tmp_path):
    folder = str(tmp_path / "z.zarr")
    data = np.arange(30, dtype="<i2").reshape(5, 6)
    z = zarr.open_array(folder, mode="w", shape=data.shape, chunks=(2, 4), dtype=data.dtype,
                        zarr_format=2)
    z[:] = data
    path = zip_folder(folder, tmp_path / "z.zip")
    with ZipStore(path, mode="r") as store:
        assert sorted(store) == sorted(DirectoryStore(folder))
        assert store[".zarray"] == DirectoryStore(folder)[".zarray"]
    zs = zarr.storage.ZipStore(path, mode="r")
    assert np.array_equal(zarr.open_array(store=zs, mode="r", zarr_format=2)[:], data)
    zs.close()


def test_zarr_reads_a_zip_store_written_here(tmp_path):
    source = str(tmp_path / "src.zarr")
    data = np.linspace(0, 1, 40).reshape(4, 10)
    z = zarr.open_array(source, mode="w", shape=data.shape, chunks=(3, 3), dtype="<f8",
                        zarr_format=2, dimension_separator="/")
    z[:] = data
    path = str(tmp_path / "out.zip")
    src = DirectoryStore(source)
    with ZipStore(path, mode="w") as store:
        store.setitems(getitems(src, list(src)))
    zs = zarr.storage.ZipStore(path, mode="r")
    assert np.array_equal(zarr.open_array(store=zs, mode="r", zarr_format=2)[:], data)
    zs.close()


def test_reads_a_zip_zarr_writes(tmp_path):
    path = str(tmp_path / "zarr.zip")
    zs = zarr.storage.ZipStore(path, mode="w")
    z = zarr.open_array(store=zs, mode="w", shape=(4, 4), chunks=(2, 2), dtype="<i2",
                        zarr_format=2)
    z[:] = np.arange(16).reshape(4, 4)
    zs.close()
    with ZipStore(path, mode="r") as store:
        chunks = ["0.0", "0.1", "1.0", "1.1"]
        assert set(chunks) | {".zarray"} <= set(store)
        assert set(getitems(store, chunks)) == set(chunks)


# ---------------------------------------------------------------------------------------
# atomic on close: the zip changes only when closed or flushed, and whole
# ---------------------------------------------------------------------------------------


def partial_files(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".partial"))


@pytest.mark.parametrize("mode", ["a", "w"])
def test_the_file_changes_only_on_close(tmp_path, mode):
    path = written_zip(tmp_path / "a.zip", {"old": b"1"})
    before = open(path, "rb").read()
    store = ZipStore(path, mode=mode)
    store["new"] = b"2"
    assert store["new"] == b"2"
    assert open(path, "rb").read() == before  # a reader still sees the old zip, whole
    with ZipStore(path, mode="r") as reader:
        assert list(reader) == ["old"]
    assert len(partial_files(tmp_path)) == 1  # the writes are in the temporary zip
    store.close()
    assert partial_files(tmp_path) == []
    expected = ["new"] if mode == "w" else ["new", "old"]
    assert sorted(zipfile.ZipFile(path).namelist()) == expected


def test_mode_a_on_an_empty_file_starts_a_zip(tmp_path):
    path = tmp_path / "empty.zip"
    path.write_bytes(b"")
    with ZipStore(path) as store:
        assert len(store) == 0
        store["a"] = b"1"
    assert zipfile.ZipFile(path).namelist() == ["a"]


def test_a_failed_member_is_cut_off_and_the_store_goes_on(tmp_path, monkeypatch):
    from czarr.errors import StoreWriteError
    from czarr.storage import zip as zip_module

    path = written_zip(tmp_path / "a.zip", {"k": b"old"})
    store = ZipStore(path, mode="a")
    store["first"] = b"1"
    real_write = zip_module._TempFile.write

    def half_then_full(self, data):
        if len(data) == 50_000:  # the data of the member below: half of it lands
            real_write(self, bytes(data)[:25_000])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, data)

    monkeypatch.setattr(zip_module._TempFile, "write", half_then_full)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        with pytest.raises(StoreWriteError) as info:
            store["k"] = b"x" * 50_000
    assert info.value.errno == errno.ENOSPC and info.value.keys == ("k",)
    assert "'k'" in str(info.value)
    monkeypatch.undo()
    assert store["k"] == b"old" and sorted(store) == ["first", "k"]
    store["after"] = b"3"
    store.close()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert sorted(zf.namelist()) == ["after", "first", "k"]
        assert zf.read("k") == b"old"


def test_a_failed_close_keeps_the_previous_zip(tmp_path, monkeypatch):
    from czarr.errors import StoreWriteError
    from czarr.storage import zip as zip_module

    path = written_zip(tmp_path / "a.zip", {"old": b"1"})
    before = open(path, "rb").read()
    store = ZipStore(path, mode="a")
    store.setitems({"new": b"2", "other": b"3"})

    def failing_replace(src, dst):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(zip_module.os, "replace", failing_replace)
    with pytest.raises(StoreWriteError) as info:
        store.close()
    monkeypatch.undo()
    assert info.value.errno == errno.EIO
    assert info.value.keys == ("new", "other") and "cannot commit" in str(info.value)
    assert open(path, "rb").read() == before
    assert partial_files(tmp_path) == []
    with pytest.raises(ValueError, match="closed"):
        store["old"]
    store.close()  # closing again is fine


def test_a_failed_flush_goes_on_from_the_previous_zip(tmp_path, monkeypatch):
    from czarr.errors import StoreWriteError
    from czarr.storage import zip as zip_module

    path = written_zip(tmp_path / "a.zip", {"old": b"1"})
    store = ZipStore(path, mode="a")
    store["lost"] = b"2"
    monkeypatch.setattr(zip_module.os, "fsync", lambda fd: (_ for _ in ()).throw(
        OSError(errno.EIO, "fsync failed")))
    with pytest.raises(StoreWriteError, match="lost"):
        store.flush()
    monkeypatch.undo()
    assert sorted(store) == ["old"]
    store["kept"] = b"3"
    store.close()
    assert sorted(zipfile.ZipFile(path).namelist()) == ["kept", "old"]


def test_a_store_collected_unclosed_puts_its_zip_in_place(tmp_path):
    import gc

    path = str(tmp_path / "a.zip")
    store = ZipStore(path, mode="w")
    store["a"] = b"1"
    del store
    gc.collect()
    assert zipfile.ZipFile(path).namelist() == ["a"]
    assert partial_files(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_leaves_the_parents_pending_zip_alone(tmp_path):
    path = str(tmp_path / "a.zip")
    store = ZipStore(path, mode="w")
    store["a"] = b"1"
    (temp,) = partial_files(tmp_path)
    pending = (tmp_path / temp).read_bytes()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            try:
                store["b"] = b"2"
            except RuntimeError as e:
                code = 0 if "forked" in str(e) else 2
            store.close()  # lets go of the parent's temporary zip, writes nothing to it
            del store
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / temp).read_bytes() == pending  # no end record written by the child
    store["c"] = b"3"
    store.close()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None and sorted(zf.namelist()) == ["a", "c"]
