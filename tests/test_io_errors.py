"""Injected I/O errors: a store that fails its Nth write with ENOSPC or EIO.

``FailingStore`` wraps a MemoryStore and raises ``OSError(ENOSPC)`` (or ``EIO``) on one
chosen write or delete, as a full disk or a failing device would. Array writes,
attribute updates, array and group creation, ``resize``, ``append`` and
``consolidate_metadata`` must then raise :class:`czarr.errors.StoreWriteError` (an
``OSError`` keeping the errno) that names the key, leave that key's old value intact,
and never leave metadata half-updated: for every write a resize or an append makes, the
test fails exactly that write and checks the array either changed whole or not at all,
and that values cut off by a shrink never come back, on Zarr v2, v3 and sharded v3
arrays.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import warnings
from collections.abc import MutableMapping

import numpy as np
import pytest

import czarr
from czarr.errors import StoreWriteError
from czarr.storage import MemoryStore, setitems

ERRNOS = [errno.ENOSPC, errno.EIO]


class FailingStore(MutableMapping):
    """A MemoryStore whose ``fail_at``-th write or delete (counting from 1) raises
    ``OSError(code)``; ``writes`` counts them all, failed ones included."""

    def __init__(self, code: int = errno.ENOSPC) -> None:
        self.inner = MemoryStore()
        self.code = code
        self.fail_at: int | None = None
        self.writes = 0

    def _count(self) -> None:
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError(self.code, os.strerror(self.code))

    def __getitem__(self, key):
        return self.inner[key]

    def __setitem__(self, key, value):
        self._count()
        self.inner[key] = value

    def __delitem__(self, key):
        if key not in self.inner:
            raise KeyError(key)
        self._count()
        del self.inner[key]

    def __iter__(self):
        return iter(self.inner)

    def __len__(self):
        return len(self.inner)

    def arm(self, after: int) -> None:
        """Fail the ``after``-th write from now."""
        self.fail_at = self.writes + after

    def snapshot(self) -> dict[str, bytes]:
        return {k: bytes(v) for k, v in self.inner.items()}


def check_error(info: pytest.ExceptionInfo, code: int, key: str) -> None:
    error = info.value
    assert isinstance(error, StoreWriteError) and isinstance(error, OSError)
    assert error.errno == code
    assert key in error.keys and repr(key) in str(error)
    assert os.strerror(code) in str(error)
    assert isinstance(error.__cause__, OSError) and error.__cause__.errno == code


# ---------------------------------------------------------------------------------------
# writes name their key; the key keeps its old value
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ERRNOS)
def test_chunk_write_names_the_key_and_keeps_the_old_value(code):
    store = FailingStore(code)
    a = czarr.zeros((40,), chunks=(10,), dtype="i4", store=store, path="arr")
    a[:] = 1
    store.arm(3)  # the third chunk of the next write
    with pytest.raises(StoreWriteError) as info:
        a[:] = 2
    check_error(info, code, "arr/2")
    again = czarr.open_array(store, path="arr", mode="r")
    np.testing.assert_array_equal(again[:], [2] * 20 + [1] * 20)  # arr/2 kept its 1s


@pytest.mark.parametrize("code", ERRNOS)
def test_store_setitems_names_the_failing_key(code):
    store = FailingStore(code)
    store.arm(2)
    with pytest.raises(StoreWriteError) as info:
        setitems(store, {"a": b"1", "b": b"2", "c": b"3"})
    check_error(info, code, "b")
    assert info.value.keys == ("b",)
    assert store.snapshot() == {"a": b"1"}


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("code", ERRNOS)
def test_attrs_update_names_the_key(code, zarr_format):
    store = FailingStore(code)
    a = czarr.zeros((4,), chunks=(2,), store=store, path="arr", zarr_format=zarr_format)
    a.attrs["old"] = 1
    before = store.snapshot()
    store.arm(1)
    with pytest.raises(StoreWriteError) as info:
        a.attrs.update(new=2)
    check_error(info, code, "arr/.zattrs" if zarr_format == 2 else "arr/zarr.json")
    assert store.snapshot() == before
    assert czarr.open_array(store, path="arr").attrs.asdict() == {"old": 1}


@pytest.mark.parametrize("code", ERRNOS)
def test_creating_an_array_or_group_names_the_key(code):
    store = FailingStore(code)
    czarr.group(store=store)
    store.arm(1)
    with pytest.raises(StoreWriteError) as info:
        czarr.zeros((4,), store=store, path="x")
    check_error(info, code, "x/.zarray")
    store.arm(1)
    with pytest.raises(StoreWriteError) as info:
        czarr.group(store=store, path="g")
    check_error(info, code, "g/.zgroup")


@pytest.mark.parametrize("code", ERRNOS)
def test_consolidate_metadata_names_the_key_and_keeps_the_old_document(code):
    store = FailingStore(code)
    root = czarr.group(store=store)
    root.zeros("a", shape=(4,))
    czarr.consolidate_metadata(store)
    old = store.snapshot()[".zmetadata"]
    root.zeros("b", shape=(4,))
    store.arm(1)
    with pytest.raises(StoreWriteError) as info:
        czarr.consolidate_metadata(store)
    check_error(info, code, ".zmetadata")
    assert store.snapshot()[".zmetadata"] == old
    assert list(czarr.open_consolidated(store)) == ["a"]


def test_store_write_error_pickles():
    error = StoreWriteError(errno.ENOSPC, "cannot write 'k': full", ("k",))
    back = pickle.loads(pickle.dumps(error))
    assert (back.errno, back.keys, back.key, str(back)) == (
        errno.ENOSPC, ("k",), "k", str(error))
    assert str(StoreWriteError(None, "no errno", ())) == "no errno"


def test_errors_of_a_precise_kind_keep_their_type():
    class Refusing(dict):
        def __setitem__(self, key, value):
            raise PermissionError(errno.EACCES, "read-only folder")

    with pytest.raises(PermissionError) as info:
        setitems(Refusing(), {"k": b""})
    assert not isinstance(info.value, StoreWriteError)


# ---------------------------------------------------------------------------------------
# resize and append: all or nothing, at every write they make
# ---------------------------------------------------------------------------------------

FORMATS = {
    "v2": {"zarr_format": 2},
    "v3": {"zarr_format": 3},
    "v3-sharded": {"zarr_format": 3, "shards": (8, 6)},
}
SHAPE, CHUNKS = (13, 11), (4, 3)


def make_array(store, fmt):
    a = czarr.full(SHAPE, -1, chunks=CHUNKS, dtype="i4", store=store, path="arr",
                   **FORMATS[fmt])
    a[:] = np.arange(np.prod(SHAPE), dtype="i4").reshape(SHAPE)
    return a


def expected_after(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` resized to ``shape``: cut, and grown with the fill value (-1)."""
    out = np.full(shape, -1, dtype=values.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(values.shape, shape))
    out[common] = values[common]
    return out


def count_writes(fmt, operation) -> int:
    store = FailingStore()
    a = make_array(store, fmt)
    start = store.writes
    operation(a)
    return store.writes - start


OPERATIONS = {
    "grow": lambda a: a.resize(17, 14),
    "shrink": lambda a: a.resize(6, 5),
    "shrink-one-axis-grow-other": lambda a: a.resize(5, 16),
    "append": lambda a: a.append(np.full((3, 11), 7, dtype="i4")),
}


def expected_shape_and_values(name, values):
    if name == "append":
        grown = np.concatenate([values, np.full((3, 11), 7, dtype="i4")])
        return grown.shape, grown
    shape = {"grow": (17, 14), "shrink": (6, 5), "shrink-one-axis-grow-other": (5, 16)}[name]
    return shape, expected_after(values, shape)


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("name", list(OPERATIONS))
def test_resize_and_append_fail_whole_at_every_write(fmt, name):
    operation = OPERATIONS[name]
    total = count_writes(fmt, operation)
    assert total >= 1
    happened = not_happened = 0
    for nth in range(1, total + 1):
        for code in ERRNOS:
            store = FailingStore(code)
            a = make_array(store, fmt)
            values = a[:]
            new_shape, new_values = expected_shape_and_values(name, values)
            store.arm(nth)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    operation(a)
                    raised = None
                except StoreWriteError as e:
                    raised = e
            assert raised is not None or caught, f"write {nth} failed unseen"
            if raised is not None:
                assert raised.errno == code and raised.keys
            # in memory and in the store: the old array or the new one, whole
            again = czarr.open_array(store, path="arr", mode="r")
            assert a.shape == again.shape
            if again.shape == SHAPE:
                not_happened += 1
                assert raised is not None
                np.testing.assert_array_equal(again[:], values)
            else:
                happened += 1
                assert again.shape == new_shape, (nth, again.shape)
                np.testing.assert_array_equal(again[:], new_values)
                # only the clean-up after the metadata write may fail: a warning
                assert raised is None
                assert any("could not all be deleted" in str(w.message) for w in caught)
            # growing past everything shows the fill value, never cut-off values
            store.fail_at = None
            big = (20, 20)
            a = czarr.open_array(store, path="arr", mode="r+")
            seen = a[:]
            a.resize(big)
            np.testing.assert_array_equal(a[:], expected_after(seen, big))
    assert not_happened >= 1
    if name != "grow" and name != "append":
        assert happened >= 1  # a failed deletion after the metadata write


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_stale_chunks_of_a_failed_shrink_never_reappear(fmt):
    """zarr-python 2 writes the new shape, then deletes chunks: when a deletion fails,
    the chunk stays, and growing the array again shows its old values."""
    store = FailingStore(errno.EIO)
    a = make_array(store, fmt)
    writes = count_writes(fmt, OPERATIONS["shrink"])
    store.arm(writes)  # the last write of the shrink: a deletion after the metadata
    with pytest.warns(RuntimeWarning, match="could not all be deleted"):
        a.resize(6, 5)
    assert a.shape == (6, 5)
    a.resize(SHAPE)
    expected = expected_after(np.arange(np.prod(SHAPE), dtype="i4").reshape(SHAPE), (6, 5))
    np.testing.assert_array_equal(a[:], expected_after(expected, SHAPE))
    meta = "arr/.zarray" if fmt == "v2" else "arr/zarr.json"
    assert json.loads(store.inner[meta])["shape"] == list(SHAPE)
