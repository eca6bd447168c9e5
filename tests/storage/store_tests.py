"""The behaviour every store shares, as one base class each store's tests subclass.

A subclass provides a ``create_store`` fixture returning a new, empty, writable store and
sets the flags below for what its store cannot do (a zip file cannot delete members; a
plain dict keeps whatever object it is given). Every operation goes through the
functions of :mod:`czarr.storage`, so the same tests check a store's own fast paths and
the generic fallbacks used for mappings without them.
"""

from __future__ import annotations

import pickle
import threading
import warnings

import numpy as np
import pytest

from czarr.errors import BadKeyError
from czarr.storage import (
    close,
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

NESTED = {
    ".zgroup": b'{"zarr_format": 2}',
    "a": b"A",
    "b/c": b"CC",
    "b/d/e": b"EEE",
    "bb": b"BBBB",  # shares a prefix with the folder 'b' without being under it
}


class StoreTests:
    """Conformance tests; subclasses define the ``create_store`` fixture."""

    can_delete = True  # del, delitems, rmdir, rename
    overwrite_warns = False  # writing an existing key warns (zip duplicates)
    stores_bytes = True  # values read back as bytes; non-bytes-like values refused
    refuses_bad_keys = True  # '../x', 'a//b', '' ... raise BadKeyError on write
    is_context_manager = True

    @pytest.fixture
    def store(self, create_store):
        return create_store

    def overwrite(self, store, key, value):
        """``store[key] = value`` for a key that exists, expecting a warning where due."""
        if self.overwrite_warns:
            with pytest.warns(UserWarning, match="Duplicate name"):
                store[key] = value
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                store[key] = value

    def fill(self, store, items=NESTED):
        setitems(store, items)

    # -- the mapping ------------------------------------------------------------------

    def test_empty(self, store):
        assert len(store) == 0
        assert list(store) == []
        assert "a" not in store
        assert store.get("a") is None
        assert listdir(store) == []
        assert getsize(store) == 0

    def test_set_get(self, store):
        store["foo"] = b"bar"
        assert "foo" in store
        assert bytes(store["foo"]) == b"bar"
        if self.stores_bytes:
            assert type(store["foo"]) is bytes
        assert len(store) == 1
        assert list(store) == ["foo"]
        assert dict(store.items()) == {"foo": store["foo"]}

    @pytest.mark.parametrize(
        "make_value, expected",
        [
            (lambda: b"\x00\x01\xff", b"\x00\x01\xff"),
            (lambda: bytearray(b"xyz"), b"xyz"),
            (lambda: memoryview(b"mv-bytes"), b"mv-bytes"),
            (lambda: memoryview(b"0123456789")[2:5], b"234"),
            (lambda: np.arange(6, dtype="<i2").reshape(2, 3),
             np.arange(6, dtype="<i2").tobytes()),
            (lambda: np.arange(12, dtype="<f8")[3:7], np.arange(3, 7, dtype="<f8").tobytes()),
            (lambda: memoryview(np.arange(4, dtype=">u4")), np.arange(4, dtype=">u4").tobytes()),
            # Fortran order: the bytes as they lie in memory, as numcodecs reads them
            (lambda: np.asfortranarray(np.arange(6, dtype="u1").reshape(2, 3)),
             bytes([0, 3, 1, 4, 2, 5])),
            (lambda: np.array(["2020-01-02"], dtype="<M8[D]"),
             np.array(["2020-01-02"], dtype="<M8[D]").view("u1").tobytes()),
            (lambda: np.float64(1.5), np.float64(1.5).tobytes()),
            (lambda: b"", b""),
        ],
    )
    def test_bytes_like_values(self, store, make_value, expected):
        if not self.stores_bytes:
            pytest.skip("this store keeps the object it is given")
        store["k"] = make_value()
        assert store["k"] == expected
        assert getitems(store, ["k"]) == {"k": expected}

    def test_values_are_copied(self, store):
        if not self.stores_bytes:
            pytest.skip("this store keeps the object it is given")
        buf = bytearray(b"before")
        arr = np.zeros(4, dtype="u1")
        store["buf"] = buf
        store["arr"] = arr
        buf[:] = b"after!"
        arr[:] = 7
        assert store["buf"] == b"before"
        assert store["arr"] == bytes(4)

    @pytest.mark.parametrize("value", ["text", 42, None, [1, 2], np.array([object()])])
    def test_refuses_values_that_are_not_bytes_like(self, store, value):
        if not self.stores_bytes:
            pytest.skip("this store keeps the object it is given")
        with pytest.raises(TypeError):
            store["k"] = value
        assert "k" not in store

    def test_refuses_non_contiguous_arrays(self, store):
        if not self.stores_bytes:
            pytest.skip("this store keeps the object it is given")
        with pytest.raises(ValueError, match="contiguous"):
            store["k"] = np.arange(10)[::2]
        assert "k" not in store

    @pytest.mark.parametrize("size", [0, 1, 65_543, (16 << 20) + 1, 64 << 20],
                             ids=["0B", "1B", "64KiB", "16MiB+1", "64MiB"])
    def test_value_sizes(self, store, size):
        """0 B to 64 MiB (past MongoDB's 16 MiB document limit, Redis' default buffers)."""
        value = np.random.default_rng(size).integers(0, 256, size, dtype="u1").tobytes()
        store["v/x"] = value
        store["v/after"] = b"!"
        assert bytes(store["v/x"]) == value
        assert getsize(store, "v/x") == size
        assert bytes(get_partial(store, "v/x", max(size - 5, 0), 5)) == value[-5:]
        assert getitems(store, ["v/x", "v/missing"]).keys() == {"v/x"}
        assert bytes(store["v/after"]) == b"!"

    def test_large_value(self, store):
        value = np.random.default_rng(0).integers(0, 256, 3_000_001, dtype="u1")
        store["big"] = value
        assert bytes(store["big"]) == value.tobytes()
        assert getsize(store, "big") == value.nbytes

    def test_missing_keys_raise_key_error(self, store):
        store["a"] = b"1"
        for key in ["b", "a/b", "A", "aa"]:
            with pytest.raises(KeyError):
                store[key]
            assert key not in store
        if self.can_delete:
            with pytest.raises(KeyError):
                del store["b"]

    def test_overwrite(self, store):
        store["a"] = b"old"
        self.overwrite(store, "a", b"new value")
        assert bytes(store["a"]) == b"new value"
        assert len(store) == 1
        assert list(store) == ["a"]

    def test_delete(self, store):
        if not self.can_delete:
            pytest.skip("this store cannot delete")
        self.fill(store)
        del store["b/c"]
        assert "b/c" not in store
        assert sorted(store) == sorted(set(NESTED) - {"b/c"})
        assert listdir(store, "b") == ["d"]
        del store["b/d/e"]
        assert listdir(store) == [".zgroup", "a", "bb"]
        assert len(store) == 3

    def test_nested_keys_iteration_and_len(self, store):
        self.fill(store)
        assert sorted(store) == sorted(NESTED)
        assert sorted(store.keys()) == sorted(NESTED)
        assert len(store) == len(NESTED)
        for key, value in NESTED.items():
            assert key in store
            assert bytes(store[key]) == value
        # a folder is not a key
        for folder in ["b", "b/d"]:
            assert folder not in store
            with pytest.raises(KeyError):
                store[folder]

    def test_clear(self, store):
        self.fill(store)
        store.clear()
        assert len(store) == 0
        assert listdir(store) == []
        store["again"] = b"1"
        assert list(store) == ["again"]

    def test_bad_keys_refused(self, store):
        if not self.refuses_bad_keys:
            pytest.skip("this store accepts any key")
        for key in ["", ".", "..", "../x", "a/../../x", "/abs", "a//b", "a/./b", "a/", "a/..",
                    "a\\b"]:
            with pytest.raises(BadKeyError):
                store[key] = b"x"
        assert len(store) == 0
        for key in ["../x", "/abs", "a//b"]:
            assert key not in store
            with pytest.raises(KeyError):
                store[key]

    def test_non_str_keys(self, store):
        if not self.refuses_bad_keys:
            pytest.skip("this store accepts any key")
        with pytest.raises(TypeError):
            store[1] = b"x"
        assert 1 not in store

    # -- batched access ---------------------------------------------------------------

    def test_getitems(self, store):
        self.fill(store)
        got = getitems(store, ["a", "missing", "b/d/e", "b", "b/d/e/f"])
        assert {k: bytes(v) for k, v in got.items()} == {"a": b"A", "b/d/e": b"EEE"}
        assert getitems(store, iter(["bb"])) == {"bb": store["bb"]}
        assert getitems(store, []) == {}

    def test_setitems(self, store):
        values = {"x/0.0": b"00", "x/0.1": bytearray(b"01"), "y": np.arange(3, dtype="u1")}
        setitems(store, values)
        assert sorted(store) == ["x/0.0", "x/0.1", "y"]
        assert bytes(store["x/0.1"]) == b"01"
        assert bytes(memoryview(store["y"])) == b"\x00\x01\x02"
        setitems(store, {})
        assert len(store) == 3

    def test_delitems(self, store):
        self.fill(store)
        if not self.can_delete:
            delitems(store, ["missing", "b/missing"])  # nothing to delete is fine
            assert len(store) == len(NESTED)
            with pytest.raises(NotImplementedError):
                delitems(store, ["a"])
            return
        delitems(store, ["a", "missing", "b/c", "b/d/e"])
        assert sorted(store) == [".zgroup", "bb"]
        assert listdir(store) == [".zgroup", "bb"]
        delitems(store, [])

    def test_get_partial(self, store):
        store["k"] = b"0123456789"
        assert get_partial(store, "k") == b"0123456789"
        assert get_partial(store, "k", 2, 3) == b"234"
        assert get_partial(store, "k", 7) == b"789"
        assert get_partial(store, "k", 8, 100) == b"89"
        assert get_partial(store, "k", 20, 5) == b""
        assert get_partial(store, "k", 3, 0) == b""
        assert get_partial(store, "k", -4) == b"6789"
        assert get_partial(store, "k", -4, 2) == b"67"
        assert get_partial(store, "k", -40, 2) == b"01"
        with pytest.raises(ValueError):
            get_partial(store, "k", 0, -1)
        with pytest.raises(KeyError):
            get_partial(store, "missing", 0, 1)

    def test_get_ranges(self, store):
        store["k"] = b"0123456789"
        assert get_ranges(store, "k", [(0, 2), (5, 3), (8, 100), (20, 5), (3, 0)]) == [
            b"01", b"567", b"89", b"", b""]
        with pytest.raises(KeyError):
            get_ranges(store, "missing", [(0, 1)])

    # -- hierarchy operations ---------------------------------------------------------

    def test_listdir(self, store):
        self.fill(store)
        assert listdir(store) == [".zgroup", "a", "b", "bb"]
        assert listdir(store, "") == listdir(store)
        assert listdir(store, "b") == ["c", "d"]
        assert listdir(store, "/b/") == ["c", "d"]
        assert listdir(store, "b//d") == ["e"]
        assert listdir(store, "b/d/e") == []  # a key has no children
        assert listdir(store, "missing") == []
        assert listdir(store, "b/c/x") == []

    def test_listdir_is_sorted(self, store):
        names = ["9", "10", "1.0", "0.0", "Z", "a", ".zarray", "_x"]
        setitems(store, {f"arr/{n}": b"" for n in names})
        assert listdir(store, "arr") == sorted(names)

    def test_rmdir(self, store):
        self.fill(store)
        if not self.can_delete:
            with pytest.raises(NotImplementedError):
                rmdir(store, "b")
            rmdir(store, "missing")  # nothing to remove is fine
            return
        rmdir(store, "b")
        assert sorted(store) == [".zgroup", "a", "bb"]
        assert listdir(store, "b") == []
        rmdir(store, "missing")
        rmdir(store, "a/x")
        assert sorted(store) == [".zgroup", "a", "bb"]
        rmdir(store, "")
        assert len(store) == 0
        assert listdir(store) == []

    def test_rmdir_root_empties(self, store):
        self.fill(store)
        rmdir(store)
        assert len(store) == 0
        store["a"] = b"after"
        assert list(store) == ["a"]

    def test_getsize(self, store):
        self.fill(store)
        total = sum(len(v) for v in NESTED.values())
        assert getsize(store) == total
        assert getsize(store, "") == total
        assert getsize(store, "a") == 1
        assert getsize(store, "b") == len(b"CC") + len(b"EEE")  # recursive
        assert getsize(store, "b/d") == 3
        assert getsize(store, "/b/d/") == 3
        assert getsize(store, "b/d/e") == 3
        assert getsize(store, "missing") == 0

    def test_rename(self, store):
        self.fill(store)
        if not self.can_delete:
            with pytest.raises(NotImplementedError):
                rename(store, "b", "x")
            return
        rename(store, "b", "x/y")
        assert sorted(store) == sorted([".zgroup", "a", "bb", "x/y/c", "x/y/d/e"])
        assert bytes(store["x/y/d/e"]) == b"EEE"
        assert listdir(store) == [".zgroup", "a", "bb", "x"]
        rename(store, "a", "z")
        assert "a" not in store and bytes(store["z"]) == b"A"
        rename(store, "x/y/c", "bb")  # replaces what is at the destination
        assert bytes(store["bb"]) == b"CC"
        with pytest.raises(KeyError):
            rename(store, "missing", "elsewhere")
        with pytest.raises(ValueError):
            rename(store, "", "q")
        with pytest.raises(ValueError):
            rename(store, "x", "x/inner")

    def test_rename_merges_into_existing_folder(self, store):
        if not self.can_delete:
            pytest.skip("this store cannot rename")
        setitems(store, {"src/a": b"1", "src/s/b": b"2", "dst/a": b"old", "dst/keep": b"3"})
        rename(store, "src", "dst")
        assert sorted(store) == ["dst/a", "dst/keep", "dst/s/b"]
        assert bytes(store["dst/a"]) == b"1"
        assert listdir(store) == ["dst"]

    # -- lifetime ---------------------------------------------------------------------

    def reopen(self, store, read_only: bool = False):
        """A new store object over the same data (after ``store`` is closed), read-only
        when asked; None when the store cannot do it (memory, or no read-only mode)."""
        return None

    def test_reopen_after_close(self, store):
        self.fill(store)
        big = bytes(range(256)) * 4096
        store["big/0"] = big
        close(store)
        again = self.reopen(store)
        if again is None:
            pytest.skip(f"{type(store).__name__} keeps nothing once closed")
        try:
            assert sorted(again) == sorted([*NESTED, "big/0"])
            assert {k: bytes(again[k]) for k in NESTED} == NESTED
            assert bytes(again["big/0"]) == big
            again["later"] = b"L"
        finally:
            close(again)
        again = self.reopen(store)
        try:
            assert bytes(again["later"]) == b"L"
        finally:
            close(again)

    def test_read_only_refuses_writes(self, store):
        from czarr.errors import ReadOnlyError

        self.fill(store)
        close(store)
        ro = self.reopen(store, read_only=True)
        if ro is None:
            pytest.skip(f"{type(store).__name__} has no read-only mode")
        try:
            writes = [lambda: ro.__setitem__("a", b"x"), lambda: ro.__setitem__("new", b"x"),
                      lambda: setitems(ro, {"new": b"x"})]
            if self.can_delete:
                writes += [lambda: ro.__delitem__("a"), lambda: delitems(ro, ["a"]),
                           lambda: rmdir(ro, "b"), lambda: rename(ro, "b", "z"),
                           lambda: ro.clear()]
            for write in writes:
                with pytest.raises(ReadOnlyError):
                    write()
            assert {k: bytes(ro[k]) for k in ro} == NESTED
        finally:
            close(ro)

    def test_pickle_round_trip(self, store):
        self.fill(store)
        copy = pickle.loads(pickle.dumps(store))
        try:
            assert type(copy) is type(store)
            assert sorted(copy) == sorted(NESTED)
            assert {k: bytes(copy[k]) for k in copy} == NESTED
            assert copy == store
        finally:
            close(copy)

    def test_context_manager(self, store):
        if not self.is_context_manager:
            pytest.skip("not a context manager")
        with store as entered:
            assert entered is store

    def test_threads_write_and_read(self, store):
        errors = []

        def work(i):
            try:
                for j in range(20):
                    store[f"t{i}/{j}"] = bytes([i]) * (j + 1)
                for j in range(20):
                    assert bytes(store[f"t{i}/{j}"]) == bytes([i]) * (j + 1)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(store) == 80
        assert listdir(store) == ["t0", "t1", "t2", "t3"]

