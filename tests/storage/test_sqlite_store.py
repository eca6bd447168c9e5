"""SQLiteStore: the conformance suite on a file and in memory, then what SQLite adds: WAL
mode, zarr-python 2's table, batched reads and writes in single statements and
transactions, folder queries that treat LIKE's wildcards as plain characters, the
read-only mode, and readers in two processes while a third writes."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest

import czarr.storage.sqlite as sqlite_module
from czarr.errors import BadKeyError, ReadOnlyError
from czarr.storage import SQLiteStore, get_ranges, getsize, listdir, rename, rmdir

from . import db_checks
from .store_tests import StoreTests

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TestSQLiteStore(StoreTests):
    @pytest.fixture
    def create_store(self, tmp_path):
        store = SQLiteStore(tmp_path / "store.sqlite")
        yield store
        store.close()

    def reopen(self, store, read_only=False):
        return SQLiteStore(store.path, read_only=read_only)


class TestSQLiteStoreInMemory(StoreTests):
    @pytest.fixture
    def create_store(self):
        store = SQLiteStore(":memory:")
        yield store
        store.close()

    def test_pickle_round_trip(self, store):
        with pytest.raises(pickle.PicklingError, match="in-memory"):
            pickle.dumps(store)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "data.sqlite")


@pytest.fixture
def store(path):
    with SQLiteStore(path) as store:
        yield store


def traced(store):
    """Every SQL statement the store's connections run from now on, in a list."""
    statements = []
    original = store._connect

    def connect(read_only):
        conn = original(read_only)
        conn.set_trace_callback(statements.append)
        return conn

    store._connect = connect
    # connections already open are traced too
    for conn in [*store._pool, *([store._writer] if store._writer else [])]:
        conn.set_trace_callback(statements.append)
    return statements


# ---------------------------------------------------------------------------------------
# the file
# ---------------------------------------------------------------------------------------


def test_wal_mode_and_zarr_python_2_table(store, path):
    store["a"] = b"1"
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'zarr'").fetchone()
        assert sql == "CREATE TABLE zarr(k TEXT PRIMARY KEY, v BLOB)"
        assert conn.execute("SELECT k, v, typeof(v) FROM zarr").fetchall() == [
            ("a", b"1", "blob")]
    finally:
        conn.close()


def test_get_ranges_reads_every_range_in_one_transaction(store):
    store["k"] = bytes(range(256)) * 4
    statements = traced(store)
    ranges = [(i, 2) for i in range(0, 1000, 2)]  # more than one SELECT holds
    assert get_ranges(store, "k", ranges) == [store["k"][i:i + 2] for i in range(0, 1000, 2)]
    selects = [s for s in statements if s.startswith("SELECT substr")]
    assert len(selects) == 2
    assert statements[0] == "BEGIN" and "COMMIT" in statements


def test_reads_a_database_zarr_python_2_wrote(tmp_path):
    # written by zarr-python 2.18.7's SQLiteStore (tests/storage/fixtures/make_...py)
    path = shutil.copy(os.path.join(FIXTURES, "zarr2.sqlite"), tmp_path)
    with SQLiteStore(path, read_only=True) as store:
        db_checks.check_group(store)
        assert listdir(store) == [".zattrs", ".zgroup", "ints", "sub"]
    with SQLiteStore(path) as store:  # and goes on writing it
        store["sub/floats/.zattrs"] = b'{"more": true}'
    with SQLiteStore(path, read_only=True) as store:
        db_checks.check_group(store)


def test_group_round_trip(path):
    db_checks.group_round_trip(SQLiteStore(path), lambda: SQLiteStore(path, read_only=True))


def test_zarr3_reads_what_czarr_wrote(path):
    with SQLiteStore(path) as store:
        db_checks.write_group(store)
    with SQLiteStore(path, read_only=True) as store:
        db_checks.zarr3_reads(store)


def test_czarr_reads_what_zarr3_wrote(store):
    db_checks.czarr_reads_zarr3(store)


# ---------------------------------------------------------------------------------------
# read-only
# ---------------------------------------------------------------------------------------


def test_read_only_needs_the_file_and_the_table(tmp_path):
    with pytest.raises(sqlite3.OperationalError):
        SQLiteStore(tmp_path / "missing.sqlite", read_only=True)
    assert not (tmp_path / "missing.sqlite").exists()
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.close()
    with pytest.raises(ValueError, match="no zarr table"):
        SQLiteStore(other, read_only=True)
    with pytest.raises(ValueError, match="in-memory"):
        SQLiteStore(":memory:", read_only=True)


def test_read_only_refuses_writes_and_never_writes(path):
    with SQLiteStore(path) as store:
        store.setitems({"a": b"1", "b/c": b"2"})
    before = os.path.getmtime(path), os.path.getsize(path)
    with SQLiteStore(path, read_only=True) as ro:
        assert ro.read_only
        for write in (lambda: ro.__setitem__("x", b"1"), lambda: ro.setitems({}),
                      lambda: ro.__delitem__("a"), lambda: ro.delitems(["a"]),
                      lambda: rmdir(ro), lambda: rmdir(ro, "b"), lambda: ro.clear(),
                      lambda: rename(ro, "a", "z")):
            with pytest.raises(ReadOnlyError, match="read-only"):
                write()
        # the connections themselves cannot write either
        with ro._reader() as conn, pytest.raises(sqlite3.OperationalError):
            conn.execute("DELETE FROM zarr")
        assert dict(ro.items()) == {"a": b"1", "b/c": b"2"}
    assert (os.path.getmtime(path), os.path.getsize(path)) == before


def test_paths_with_uri_characters_open_read_only(tmp_path):
    folder = tmp_path / "odd?name #1%"
    folder.mkdir()
    path = folder / "d.sqlite"
    with SQLiteStore(path) as store:
        store["a"] = b"1"
    with SQLiteStore(path, read_only=True) as store:
        assert store["a"] == b"1"


# ---------------------------------------------------------------------------------------
# batches and transactions
# ---------------------------------------------------------------------------------------


def test_getitems_is_one_select_per_batch(store, monkeypatch):
    store.setitems({f"k/{i}": bytes([i]) for i in range(25)})
    monkeypatch.setattr(sqlite_module, "_MAX_BATCH", 10)
    statements = traced(store)
    wanted = [f"k/{i}" for i in range(0, 30)] + ["k/3", "missing"]
    got = store.getitems(wanted)
    assert got == {f"k/{i}": bytes([i]) for i in range(25)}
    selects = [s for s in statements if s.startswith("SELECT")]
    assert len(selects) == 4  # 31 distinct keys in batches of 10
    assert all(" IN (" in s for s in selects)


def test_setitems_is_one_transaction(store):
    statements = traced(store)
    store.setitems({f"x/{i}": b"v" * i for i in range(50)})
    assert [s.split()[0] for s in statements if not s.startswith("INSERT")] == [
        "BEGIN", "COMMIT"]
    assert len(store) == 50


def test_a_failed_batch_leaves_nothing_behind(store):
    store["keep"] = b"old"
    store._writer_connection().setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)
    with pytest.raises(sqlite3.DataError):
        store.setitems({"keep": b"new", "a": b"1", "big": b"x" * 2000})
    assert dict(store.items()) == {"keep": b"old"}
    with pytest.raises(BadKeyError):
        store.setitems({"ok": b"1", "a//b": b"2"})  # keys checked before anything runs
    assert list(store) == ["keep"]


def test_rename_is_one_transaction(store):
    store.setitems({"src/a": b"1", "src/b/c": b"2", "dst/a": b"old"})
    statements = traced(store)
    rename(store, "src", "dst")
    assert [s for s in statements if s in ("BEGIN IMMEDIATE", "COMMIT")] == [
        "BEGIN IMMEDIATE", "COMMIT"]
    assert dict(store.items()) == {"dst/a": b"1", "dst/b/c": b"2"}


# ---------------------------------------------------------------------------------------
# folder queries
# ---------------------------------------------------------------------------------------


def test_like_wildcards_are_plain_characters(store):
    store.setitems({"a_b/x": b"1", "aXb/y": b"22", "a%/z": b"333", "a%b/w": b"4444",
                    "a/q": b"55555", "a_b0": b"6"})
    assert listdir(store) == ["a", "a%", "a%b", "aXb", "a_b", "a_b0"]
    assert listdir(store, "a_b") == ["x"]
    assert getsize(store, "a_b") == 1
    assert getsize(store, "a%") == 3
    rmdir(store, "a_b")
    rmdir(store, "a%")
    assert sorted(store) == ["a%b/w", "a/q", "aXb/y", "a_b0"]
    rename(store, "a", "b_")
    assert sorted(store) == ["a%b/w", "aXb/y", "a_b0", "b_/q"]


def test_non_ascii_keys(store):
    store.setitems({"é/ü": b"1", "é/ß/x": b"22", "éa": b"3", "z": b"4"})
    assert listdir(store) == ["z", "é", "éa"]
    assert listdir(store, "é") == ["ß", "ü"]
    assert getsize(store, "é") == 3
    rename(store, "é", "日本")
    assert sorted(store) == ["z", "éa", "日本/ß/x", "日本/ü"]


def test_get_partial_reads_in_sqlite(store):
    store["e"] = b""
    assert store.get_partial("e") == b""
    assert store.get_partial("e", -3, 2) == b""
    statements = traced(store)
    store["k"] = bytes(range(100))
    assert store.get_partial("k", 90, 5) == bytes(range(90, 95))
    assert any("substr(v" in s for s in statements)


# ---------------------------------------------------------------------------------------
# lifetime
# ---------------------------------------------------------------------------------------


def test_close_twice_and_use_after_close(path):
    store = SQLiteStore(path)
    store["a"] = b"1"
    store.close()
    store.close()
    with pytest.raises(ValueError, match="closed"):
        store["a"]
    with pytest.raises(ValueError, match="closed"):
        store["a"] = b"2"


def test_pickle_and_equality(path, tmp_path):
    with SQLiteStore(path, dimension_separator="/", timeout=5) as store:
        store["a"] = b"1"
        copy = pickle.loads(pickle.dumps(store))
        try:
            assert copy == store and copy is not store
            assert copy.kwargs == {"timeout": 5}
            assert copy._dimension_separator == "/"
            copy["b"] = b"2"  # both write the same file
            assert store["b"] == b"2"
        finally:
            copy.close()
        with SQLiteStore(tmp_path / "other.sqlite") as other:
            assert store != other
    memory = SQLiteStore(":memory:")
    assert memory == memory and memory != SQLiteStore(":memory:")


def test_invalid_dimension_separator(path):
    with pytest.raises(ValueError, match="dimension_separator"):
        SQLiteStore(path, dimension_separator="-")


def test_forked_child_opens_its_own_connections(path):
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    store = SQLiteStore(path)
    store["parent"] = b"p"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            store["child"] = b"c"
            code = 0 if store["parent"] == b"p" and store._writer is not None else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store["child"] == b"c"  # the parent's connections still work
    store.close()


# ---------------------------------------------------------------------------------------
# processes: two readers while one writer writes
# ---------------------------------------------------------------------------------------

WORKER = textwrap.dedent("""
    import json, os, sys, time
    from czarr.storage import SQLiteStore

    def value(name, generation, size):
        head = f"{name}:{generation}:{size}:".encode()
        return head + bytes([generation % 251]) * size

    def check(key, got):
        name, generation, size = got.split(b":", 3)[:3]
        assert name.decode() == key, (key, got[:40])
        assert got == value(key, int(generation), int(size)), ("torn value", key)

    path, role = sys.argv[1], sys.argv[2]
    stats = {"reads": 0, "writes": 0, "errors": [], "generations": []}
    try:
        if role == "writer":
            store = SQLiteStore(path, timeout=30)
            deadline = time.monotonic() + 60
            ready = [path + ".ready0", path + ".ready1"]
            while not all(map(os.path.exists, ready)) and time.monotonic() < deadline:
                time.sleep(0.01)  # until both readers read
            for generation in range(60):
                time.sleep(0.005)
                batch = {f"w/{generation}/{i}": value(f"w/{generation}/{i}", generation,
                                                       1000 * i) for i in range(5)}
                store.setitems(batch)
                store["shared"] = value("shared", generation, 50_000 + 997 * generation)
                stats["writes"] += 6
            store["done"] = b"1"
        else:
            store = SQLiteStore(path, read_only=True, timeout=30)
            deadline = time.monotonic() + 60
            seen_writer = 0
            generations = set()
            # a reader announces itself through the file system: it cannot write
            open(path + ".ready" + role[-1], "w").close()
            while "done" not in store and time.monotonic() < deadline:
                for i in range(20):
                    check(f"pre/{i}", store[f"pre/{i}"])
                got = store.getitems([f"pre/{i}" for i in range(20)] + ["shared"])
                for key, v in got.items():
                    check(key, v)
                if "shared" in got:
                    generations.add(int(got["shared"].split(b":")[1]))
                stats["reads"] += 21 + len(got)
                seen_writer = max(seen_writer, len(store.listdir("w")))
            stats["seen_writer"] = seen_writer
            stats["generations"] = sorted(generations)
        store.close()
    except Exception as e:
        stats["errors"].append(repr(e))
    print(json.dumps(stats))
""")


def test_two_reader_processes_and_one_writer(path):
    with SQLiteStore(path) as store:
        store.setitems({f"pre/{i}": f"pre/{i}:0:{i * 100}:".encode() + bytes([0]) * (i * 100)
                        for i in range(20)})
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, path, role], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for role in ("reader0", "reader1", "writer")]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    for stats in results:
        assert stats["errors"] == []
    readers, writer = results[:2], results[2]
    assert writer["writes"] == 360
    assert all(r["reads"] > 0 for r in readers)
    # the readers read while the writer wrote: they saw several of its generations
    seen = set().union(*(r["generations"] for r in readers))
    assert len(seen) > 1, seen
    with SQLiteStore(path, read_only=True) as store:
        assert len(listdir(store, "w")) == 60
        assert len(store) == 20 + 300 + 2


def test_dimension_separator_reaches_new_arrays(path):
    with SQLiteStore(path, dimension_separator="/") as store:
        db_checks.check_dimension_separator(store)


@pytest.mark.parametrize("code, expected", [(778, "EIO"), (13, "ENOSPC")])
def test_disk_errors_name_the_keys_and_roll_back(store, code, expected):
    # SQLITE_IOERR_WRITE (778) and SQLITE_FULL (13), as SQLite raises them mid-transaction
    import errno

    from czarr.errors import StoreWriteError

    store["a"] = b"old"
    real = store._writer

    class FailingConnection:
        in_transaction = property(lambda self: real.in_transaction)

        def execute(self, *args):
            return real.execute(*args)

        def executemany(self, sql, rows):
            real.executemany(sql, list(rows)[:1])  # the first row lands in the transaction
            error = sqlite3.OperationalError("disk I/O error")
            error.sqlite_errorcode = code
            raise error

    store._writer = FailingConnection()
    try:
        with pytest.raises(StoreWriteError) as info:
            store.setitems({"a": b"new", "b": b"new"})
    finally:
        store._writer = real
    assert info.value.errno == getattr(errno, expected)
    assert info.value.keys == ("a", "b") and "'a', 'b'" in str(info.value)
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert store["a"] == b"old" and "b" not in store  # rolled back, whole
    store["c"] = b"fine"  # and the store goes on
    assert store["c"] == b"fine"
