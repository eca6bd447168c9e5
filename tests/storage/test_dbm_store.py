"""DBMStore: the conformance suite on every DBM flavour this Python has (a missing one is
skipped, naming it), then flags, flushing, pickling, a czarr group round trip, and the
data exchanged with zarr-python 3 and read from files zarr-python 2.18 wrote."""

from __future__ import annotations

import dbm
import dbm.dumb
import importlib
import os
import pickle
import shutil
import threading

import pytest

from czarr.errors import BadKeyError, ReadOnlyError
from czarr.storage import DBMStore, getsize, listdir, rename, rmdir, setitems

from . import db_checks
from .store_tests import NESTED, StoreTests

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _flavour(name):
    """The ``open`` function of a dbm flavour, or a skip naming why it is missing."""
    try:
        module = importlib.import_module(f"dbm.{name}")
    except ImportError as e:
        return pytest.param(None, id=name, marks=pytest.mark.skip(
            reason=f"dbm.{name} is not available in this Python ({e})"))
    return pytest.param(module.open, id=name)


FLAVOURS = [_flavour("dumb"), _flavour("gnu"), _flavour("ndbm"),
            pytest.param(None, id="default")]


@pytest.fixture(params=FLAVOURS)
def opener(request):
    return request.param


class TestDBMStore(StoreTests):
    @pytest.fixture
    def create_store(self, tmp_path, opener):
        store = DBMStore(tmp_path / "store.db", flag="n", open=opener)
        yield store
        store.close()

    def reopen(self, store, read_only=False):
        return DBMStore(store.path, flag="r" if read_only else "w", open=store.open)

    @staticmethod
    def keeps_empty_values(store):
        # dbm.ndbm over gdbm's compatibility layer reads b"" back as a missing key
        return type(store.db).__module__ != "_dbm"

    def test_bytes_like_values(self, store, make_value, expected):
        if expected == b"" and not self.keeps_empty_values(store):
            with pytest.raises(ValueError, match="empty values"):
                store["k"] = make_value()
            assert "k" not in store and len(store) == 0
            return
        super().test_bytes_like_values(store, make_value, expected)

    test_bytes_like_values.pytestmark = StoreTests.test_bytes_like_values.pytestmark

    def test_value_sizes(self, store, size):
        if size == 0 and not self.keeps_empty_values(store):
            with pytest.raises(ValueError, match="empty values"):
                store.setitems({"v/x": b""})
            assert len(store) == 0
            return
        super().test_value_sizes(store, size)

    test_value_sizes.pytestmark = StoreTests.test_value_sizes.pytestmark

    def test_listdir_is_sorted(self, store):
        if self.keeps_empty_values(store):
            super().test_listdir_is_sorted(store)
            return
        names = ["9", "10", "1.0", "0.0", "Z", "a", ".zarray", "_x"]
        setitems(store, {f"arr/{n}": b"-" for n in names})
        assert listdir(store, "arr") == sorted(names)

    def test_pickle_round_trip(self, store):
        self.fill(store)
        store.flush()
        if dbm.whichdb(store.path) == "dbm.gnu":
            # gdbm locks the file against a second opener while a writer holds it
            store.close()
            copy = pickle.loads(pickle.dumps(store))
            try:
                assert {k: bytes(copy[k]) for k in copy} == NESTED
            finally:
                copy.close()
            return
        super().test_pickle_round_trip(store)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "data.db")


def test_flag_r_reads_and_refuses_writes_before_touching_the_database(path):
    with DBMStore(path, open=dbm.dumb.open) as store:
        setitems(store, {"a": b"1", "b/c": b"2"})
    calls = []

    class Spy:
        def __init__(self, db):
            self.db = db

        def __getattr__(self, name):
            calls.append(name)
            return getattr(self.db, name)

        def __getitem__(self, key):
            return self.db[key]

        def __setitem__(self, key, value):  # pragma: no cover - must not be reached
            calls.append("__setitem__")

        def __delitem__(self, key):  # pragma: no cover - must not be reached
            calls.append("__delitem__")

    store = DBMStore(path, flag="r", open=dbm.dumb.open)
    store.db = Spy(store.db)
    assert store.read_only
    for write in (lambda: store.__setitem__("x", b"1"), lambda: store.setitems({"x": b"1"}),
                  lambda: store.__delitem__("a"), lambda: store.delitems(["a"]),
                  lambda: rmdir(store, "b"), lambda: rmdir(store), lambda: store.clear(),
                  lambda: rename(store, "a", "z")):
        with pytest.raises(ReadOnlyError, match="read-only"):
            write()
    assert "__setitem__" not in calls and "__delitem__" not in calls
    assert store["a"] == b"1"
    store.flush()  # nothing to write: a no-op
    store.close()


def test_flag_n_empties_and_c_keeps(path):
    with DBMStore(path, flag="c", open=dbm.dumb.open) as store:
        store["old"] = b"1"
    with DBMStore(path, flag="c", open=dbm.dumb.open) as store:
        assert list(store) == ["old"]
    with DBMStore(path, flag="n", open=dbm.dumb.open) as store:
        assert len(store) == 0


def test_invalid_arguments(path):
    with pytest.raises(ValueError, match="flag"):
        DBMStore(path, flag="x")
    with pytest.raises(ValueError, match="dimension_separator"):
        DBMStore(path, dimension_separator=":")
    assert not os.path.exists(path + ".dat")


def test_default_open_reopens_with_the_flavour_that_wrote(path):
    with DBMStore(path, open=dbm.dumb.open) as store:
        store["k"] = b"v"
    assert dbm.whichdb(path) == "dbm.dumb"
    with DBMStore(path, flag="r") as store:  # dbm.open finds the flavour
        assert store["k"] == b"v"


def test_flush_writes_the_index_without_closing(path):
    store = DBMStore(path, open=dbm.dumb.open)
    store["a"] = b"1"
    store.flush()
    with DBMStore(path, flag="r", open=dbm.dumb.open) as other:
        assert other["a"] == b"1"
    store["b"] = b"2"  # still open
    store.close()
    store.close()  # twice is fine


def test_open_kwargs_and_mode_pass_through(path):
    seen = {}

    def opener(file, flag, mode, **kwargs):
        seen.update(file=file, flag=flag, mode=mode, **kwargs)
        return dbm.dumb.open(file, flag, mode)

    store = DBMStore(path, flag="c", mode=0o640, open=opener, extra=5)
    store.close()
    assert seen == {"file": os.path.abspath(path), "flag": "c", "mode": 0o640, "extra": 5}


def test_pickle_keeps_data_and_never_empties(path):
    store = DBMStore(path, flag="n", open=dbm.dumb.open, dimension_separator="/")
    store["a/b"] = b"1"
    state = pickle.dumps(store)  # flushes first
    store.close()
    copy = pickle.loads(state)
    try:
        assert copy.flag == "c"
        assert copy["a/b"] == b"1"
        assert copy._dimension_separator == "/"
        assert copy == store
    finally:
        copy.close()


def test_equality_ignores_flag_not_path(tmp_path):
    a = DBMStore(tmp_path / "a.db", open=dbm.dumb.open)
    a.flush()
    b = DBMStore(tmp_path / "a.db", flag="r", open=dbm.dumb.open)
    c = DBMStore(tmp_path / "c.db", open=dbm.dumb.open)
    try:
        assert a == b
        assert a != c
        assert a != {}
        with pytest.raises(TypeError):
            hash(a)
    finally:
        for s in (a, b, c):
            s.close()


def test_keys_refused_and_values_bytes(path):
    with DBMStore(path, open=dbm.dumb.open) as store:
        with pytest.raises(BadKeyError):
            store.setitems({"ok": b"1", "../bad": b"2"})
        assert len(store) == 0  # the batch is checked before anything is written
        store["k"] = memoryview(b"abcdef")[1:4]
        assert store["k"] == b"bcd" and type(store["k"]) is bytes
        store["u/é"] = b"accent"  # UTF-8 keys
        assert sorted(store) == ["k", "u/é"]
        assert listdir(store, "u") == ["é"]
        assert getsize(store) == 3 + 6


def test_threads_share_one_store_without_the_lock_when_told(path):
    with DBMStore(path, open=dbm.dumb.open, write_lock=False) as store:
        store["a"] = b"1"  # single-threaded use works the same
        assert store["a"] == b"1"
    with DBMStore(path, open=dbm.dumb.open) as store:
        barrier = threading.Barrier(3)

        def work(i):
            barrier.wait()
            for j in range(30):
                store[f"w{i}/{j}"] = bytes([i, j])
                assert store[f"w{i}/{j}"] == bytes([i, j])
                list(store)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(store) == 91


def test_group_round_trip(path, opener):
    db_checks.group_round_trip(
        DBMStore(path, flag="n", open=opener), lambda: DBMStore(path, flag="r", open=opener))


def test_zarr3_reads_what_czarr_wrote(path):
    with DBMStore(path, open=dbm.dumb.open) as store:
        db_checks.write_group(store)
    with DBMStore(path, flag="r", open=dbm.dumb.open) as store:
        db_checks.zarr3_reads(store)


def test_czarr_reads_what_zarr3_wrote(path):
    with DBMStore(path, open=dbm.dumb.open) as store:
        db_checks.czarr_reads_zarr3(store)


def test_reads_a_database_zarr_python_2_wrote(tmp_path):
    # written by zarr-python 2.18.7's DBMStore with dbm.dumb (tests/storage/fixtures/README)
    for suffix in (".dat", ".dir"):
        shutil.copy(os.path.join(FIXTURES, "zarr2_dbm_dumb.db" + suffix), tmp_path)
    path = str(tmp_path / "zarr2_dbm_dumb.db")
    with DBMStore(path, flag="r", open=dbm.dumb.open) as store:
        db_checks.check_group(store)


class _LosesEmptyValues(dict):
    """A DBM-like object reading an empty value back as a missing key, as dbm.ndbm over
    gdbm's compatibility layer does."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if not value:
            raise KeyError(key)
        return value

    def __contains__(self, key):
        return bool(super().get(key))

    def close(self):
        pass


def test_a_flavour_losing_empty_values_refuses_them(path):
    store = DBMStore(path, open=lambda *args: _LosesEmptyValues())
    store["a"] = b"1"
    with pytest.raises(ValueError, match="cannot store empty values"):
        store["e"] = b""
    with pytest.raises(ValueError, match="cannot store empty values"):
        store.setitems({"f": b""})
    assert dict(store.db) == {b"a": b"1"}  # nothing half-kept
    assert "e" not in store


def test_dimension_separator_reaches_new_arrays(path):
    with DBMStore(path, open=dbm.dumb.open, dimension_separator="/") as store:
        db_checks.check_dimension_separator(store)
