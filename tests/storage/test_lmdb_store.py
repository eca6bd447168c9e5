"""LMDBStore: the conformance suite, then what LMDB adds: zarr-python 2's defaults, the map
growing when full (while other threads read), one environment per path and process,
values that never point into the map, batched reads in one transaction, the read-only
mode and the missing package."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import threading

import numpy as np
import pytest

from czarr.errors import BadKeyError, MissingDependencyError, ReadOnlyError
from czarr.storage import getsize, listdir, rename, rmdir

from . import db_checks
from .store_tests import StoreTests

lmdb = pytest.importorskip("lmdb", reason="LMDBStore needs the lmdb package (czarr[lmdb])")

from czarr.storage import LMDBStore  # noqa: E402
from czarr.storage import lmdb as lmdb_module  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


class TestLMDBStore(StoreTests):
    @pytest.fixture
    def create_store(self, tmp_path):
        store = LMDBStore(tmp_path / "store.lmdb")
        yield store
        store.close()

    def reopen(self, store, read_only=False):
        return LMDBStore(store.path, readonly=read_only)


class TestLMDBStoreWithoutBuffers(TestLMDBStore):
    @pytest.fixture
    def create_store(self, tmp_path):
        store = LMDBStore(tmp_path / "store.lmdb", buffers=False, map_size=1 << 20)
        yield store
        store.close()


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "data.lmdb")


@pytest.fixture
def store(path):
    with LMDBStore(path) as store:
        yield store


def test_zarr_python_2_defaults(store):
    info = store.db.info()
    assert info["map_size"] == (2**40 if sys.maxsize >= 2**32 else 2**28)
    assert store.kwargs["sync"] is False and store.kwargs["metasync"] is False
    assert store.kwargs["meminit"] is False
    # the one default czarr changes: writemap turns a full disk into SIGBUS
    assert store.kwargs["writemap"] is False
    # and no cached read transactions: their reader slots do not survive a fork
    assert store.kwargs["max_spare_txns"] == 0
    assert store.buffers is True
    assert isinstance(store.db, lmdb.Environment)


def test_keys_and_values_as_zarr_python_2_keeps_them(store):
    store.setitems({"a/.zarray": b"{}", "a/0.0": np.arange(3, dtype="<u2")})
    with store.db.begin() as txn:
        assert list(txn.cursor()) == [(b"a/.zarray", b"{}"), (b"a/0.0", b"\0\0\1\0\2\0")]


def test_reads_a_database_zarr_python_2_wrote(tmp_path):
    # written by zarr-python 2.18.7's LMDBStore (tests/storage/fixtures/make_...py)
    path = shutil.copytree(os.path.join(FIXTURES, "zarr2_lmdb"), tmp_path / "zarr2_lmdb")
    with LMDBStore(path, readonly=True) as store:
        db_checks.check_group(store)
    with LMDBStore(path) as store:  # and goes on writing it
        store["sub/floats/.zattrs"] = b'{"more": true}'
        db_checks.check_group(store)


def test_group_round_trip(path):
    db_checks.group_round_trip(LMDBStore(path), lambda: LMDBStore(path, readonly=True))


def test_zarr3_reads_what_czarr_wrote(path):
    with LMDBStore(path) as store:
        db_checks.write_group(store)
    with LMDBStore(path, readonly=True) as store:
        db_checks.zarr3_reads(store)


def test_czarr_reads_what_zarr3_wrote(store):
    db_checks.czarr_reads_zarr3(store)


# ---------------------------------------------------------------------------------------
# the map grows
# ---------------------------------------------------------------------------------------


def test_map_doubles_when_full(path):
    with LMDBStore(path, map_size=64 << 10) as store:
        small = store.db.info()["map_size"]
        value = np.random.default_rng(1).integers(0, 256, 1 << 20, dtype="u1").tobytes()
        store["big"] = value
        grown = store.db.info()["map_size"]
        assert grown >= (1 << 20) and bin(grown // small).count("1") == 1  # doubled k times
        store.setitems({f"more/{i}": value for i in range(3)})  # a batch grows it too
        assert store["big"] == value
        assert store.getitems(["more/0", "more/2"]) == {"more/0": value, "more/2": value}
    with LMDBStore(path, map_size=64 << 10) as again:  # the file keeps its size
        assert again["more/1"] == value


def test_map_grows_while_other_threads_read(path):
    with LMDBStore(path, map_size=64 << 10) as store:
        store.setitems({f"r/{i}": bytes([i]) * 1000 for i in range(20)})
        errors = []
        stop = threading.Event()

        def read():
            try:
                while not stop.is_set():
                    got = store.getitems([f"r/{i}" for i in range(20)])
                    assert got == {f"r/{i}": bytes([i]) * 1000 for i in range(20)}
                    assert listdir(store, "r")[:2] == ["0", "1"]
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        readers = [threading.Thread(target=read) for _ in range(3)]
        for t in readers:
            t.start()
        try:
            for i in range(12):
                store[f"w/{i}"] = bytes([i]) * (200 << 10)
        finally:
            stop.set()
            for t in readers:
                t.join()
        assert errors == []
        assert store.db.info()["map_size"] > 64 << 10
        assert all(store[f"w/{i}"] == bytes([i]) * (200 << 10) for i in range(12))


# ---------------------------------------------------------------------------------------
# values, batches, keys
# ---------------------------------------------------------------------------------------


def test_values_are_bytes_that_outlive_their_transaction(store):
    store["k"] = b"first"
    value = store["k"]
    many = store.getitems(["k"])
    part = store.get_partial("k", 1, 3)
    store["k"] = b"SECOND"  # would reuse the pages a buffer pointed to
    store.rmdir()
    assert (value, many["k"], part) == (b"first", b"first", b"irs")
    assert all(type(v) is bytes for v in (value, many["k"], part))


def test_getitems_is_one_read_transaction(store, monkeypatch):
    store.setitems({f"k/{i}": bytes([i]) for i in range(10)})
    shared = store._env
    begun = []
    original = shared.env

    class Counting:
        def __getattr__(self, name):
            return getattr(original, name)

        def begin(self, **kwargs):
            begun.append(kwargs)
            return original.begin(**kwargs)

    monkeypatch.setattr(shared, "env", Counting())
    got = store.getitems([f"k/{i}" for i in range(12)])
    assert len(got) == 10
    assert begun == [{"write": False, "buffers": True}]
    store.setitems({f"n/{i}": b"x" for i in range(5)})
    assert begun[1:] == [{"write": True, "buffers": False}]


def test_a_failed_batch_leaves_nothing_behind(store):
    store["keep"] = b"old"
    with pytest.raises(BadKeyError):
        store.setitems({"keep": b"new", "ok": b"1", "a//b": b"2"})
    too_long = "x" * 600
    with pytest.raises(BadKeyError, match="511"):
        store.setitems({"keep": b"new", too_long: b"2"})
    assert dict(store.items()) == {"keep": b"old"}


def test_rename_refuses_keys_too_long_and_changes_nothing(store):
    store.setitems({"a/" + "b" * 300: b"1", "a/c": b"2"})
    with pytest.raises(BadKeyError, match="limit"):
        rename(store, "a", "z" * 300)
    assert sorted(store) == ["a/" + "b" * 300, "a/c"]


def test_listdir_skips_folders_and_sizes_without_copies(store):
    store.setitems({f"arr/{i}/{j}": b"x" * j for i in range(50) for j in range(4)})
    store.setitems({"arr/.zarray": b"{}", "arr/0.5": b"", "arr0": b"?", "ar": b"!"})
    assert listdir(store) == ["ar", "arr", "arr0"]
    assert listdir(store, "arr") == sorted([".zarray", "0.5", *map(str, range(50))])
    assert getsize(store, "arr") == 50 * 6 + 2
    assert getsize(store, "arr/7") == 6
    rmdir(store, "arr")
    assert sorted(store) == ["ar", "arr0"]


# ---------------------------------------------------------------------------------------
# lifetime: one environment per path and process
# ---------------------------------------------------------------------------------------


def test_stores_over_one_path_share_the_environment(path):
    a = LMDBStore(path)
    b = LMDBStore(path, readonly=True)
    assert a.db is b.db
    a["x"] = b"1"
    assert b["x"] == b"1"
    with pytest.raises(ReadOnlyError):
        b["y"] = b"2"
    b.close()
    a["still"] = b"open"  # closing b left a's environment open
    a.close()
    with pytest.raises(ValueError, match="closed"):
        a["x"]
    a.close()  # twice is fine
    assert lmdb_module._OPEN == {}


def test_writable_store_refused_while_open_read_only(path):
    LMDBStore(path).close()
    with LMDBStore(path, readonly=True), pytest.raises(ValueError, match="read-only"):
        LMDBStore(path)
    with LMDBStore(path) as store:  # fine once the read-only one closed
        store["a"] = b"1"


def test_pickle_and_equality(path, tmp_path):
    with LMDBStore(path, dimension_separator="/", map_size=1 << 22) as store:
        store["a"] = b"1"
        copy = pickle.loads(pickle.dumps(store))
        try:
            assert copy == store and copy.kwargs["map_size"] == 1 << 22
            assert copy._dimension_separator == "/"
            copy["b"] = b"2"
            assert store["b"] == b"2"
        finally:
            copy.close()
        with LMDBStore(tmp_path / "other") as other:
            assert store != other
        assert store["a"] == b"1"


def test_flush_writes_to_disk(store, monkeypatch):
    synced = []
    original = store._env.env

    class Spy:
        def __getattr__(self, name):
            return getattr(original, name)

        def sync(self, force=False):
            synced.append(force)
            return original.sync(force)

    monkeypatch.setattr(store._env, "env", Spy())
    store["a"] = b"1"
    store.flush()
    assert synced == [True]  # forced: the environment runs with sync=False


def test_read_only_needs_the_database(tmp_path):
    with pytest.raises(lmdb.Error):
        LMDBStore(tmp_path / "missing", readonly=True)


def test_invalid_dimension_separator(path):
    with pytest.raises(ValueError, match="dimension_separator"):
        LMDBStore(path, dimension_separator="-")


def test_forked_child_opens_its_own_environment(path):
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    store = LMDBStore(path)
    store["parent"] = b"p"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            parent_env = store._shared
            store["child"] = b"c"
            code = 0 if store["parent"] == b"p" and store._shared is not parent_env else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store["child"] == b"c"
    store.close()


def test_parent_reads_on_after_a_forked_child_used_the_store(path):
    # a child that opens the database closes its inherited copy; with cached read
    # transactions (zarr-python 2's max_spare_txns) that released the parent's reader
    # slots, and the parent's next read failed with MDB_BAD_RSLOT
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    store = LMDBStore(path)
    store.setitems({"a": b"1", "b": b"2"})
    for _ in range(3):
        assert store["a"] == b"1" and "b" in store
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            code = 0 if store["b"] == b"2" else 1
            store["c"] = b"3"
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    for _ in range(3):
        assert store["a"] == b"1" and store["c"] == b"3"
    store.close()


def test_missing_package_names_the_extra(monkeypatch, path):
    monkeypatch.setitem(sys.modules, "lmdb", None)  # import lmdb now fails
    with pytest.raises(MissingDependencyError, match=r"czarr\[lmdb\]") as info:
        LMDBStore(path)
    assert "LMDBStore" in str(info.value)
    assert isinstance(info.value, ImportError)
    assert not os.path.exists(path)


def test_dimension_separator_reaches_new_arrays(path):
    with LMDBStore(path, dimension_separator="/") as store:
        db_checks.check_dimension_separator(store)


def test_an_io_error_names_the_keys_and_aborts(store):
    import errno

    from czarr.errors import StoreWriteError

    store["a"] = b"old"

    def failing(txn):
        txn.put(b"a", b"new")
        raise lmdb.Error("mdb_txn_commit: " + os.strerror(errno.EIO))

    with pytest.raises(StoreWriteError) as info:
        store._write(failing, ("a",))
    assert info.value.errno == errno.EIO and info.value.keys == ("a",)
    assert store["a"] == b"old"

    def bad_value(txn):
        raise lmdb.BadValsizeError("not a disk error")

    with pytest.raises(lmdb.BadValsizeError):  # other LMDB errors keep their type
        store._write(bad_value, ("a",))
