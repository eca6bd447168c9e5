"""Cost that stays flat as the work grows: what each hierarchy operation and each chunk
read or write asks of the store, counted call by call.

No timings here: each test counts store calls, so a cost that grows with the size of
the hierarchy or of the array (a read per child where a listing was asked, a full key
scan, store calls that multiply with the chunks) shows up as a count that depends on
that size.
"""

from __future__ import annotations

import pickle
import sys
import threading
from collections import Counter

import numpy as np
import pytest

import czarr
from czarr import engine
from czarr.storage import DirectoryStore, MemoryStore, Store


class CountingStore(Store):
    """A store that passes every call to ``inner`` and counts it by kind."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.getitems_keys: list[list[str]] = []
        self.setitems_keys: list[list[str]] = []
        self.threads: set[int] = set()

    def reset(self) -> None:
        self.calls.clear()
        self.getitems_keys.clear()
        self.setitems_keys.clear()
        self.threads.clear()

    def total(self) -> int:
        return sum(self.calls.values())

    def __getitem__(self, key):
        self.calls["get"] += 1
        return self.inner[key]

    def __contains__(self, key):
        self.calls["contains"] += 1
        return key in self.inner

    def __setitem__(self, key, value):
        self.calls["set"] += 1
        self.inner[key] = value

    def __delitem__(self, key):
        self.calls["del"] += 1
        del self.inner[key]

    def __iter__(self):
        self.calls["iter"] += 1
        return iter(self.inner)

    def __len__(self):
        self.calls["len"] += 1
        return len(self.inner)

    def listdir(self, path=""):
        self.calls["listdir"] += 1
        return self.inner.listdir(path)

    def getitems(self, keys):
        keys = list(keys)
        self.calls["getitems"] += 1
        self.getitems_keys.append(keys)
        self.threads.add(threading.get_ident())
        return self.inner.getitems(keys)

    def setitems(self, mapping):
        self.calls["setitems"] += 1
        self.setitems_keys.append(list(mapping))
        self.threads.add(threading.get_ident())
        self.inner.setitems(mapping)

    def delitems(self, keys):
        self.calls["delitems"] += 1
        self.inner.delitems(keys)

    def rmdir(self, path=""):
        self.calls["rmdir"] += 1
        self.inner.rmdir(path)


def _hierarchy(store, n_arrays: int, zarr_format: int, consolidated: bool = False):
    """A root group with ``n_arrays`` small arrays, and a sub-group holding one."""
    root = czarr.open_group(store, mode="w", zarr_format=zarr_format)
    root.attrs["title"] = "root"
    for i in range(n_arrays):
        a = root.create_dataset(f"a{i:04d}", shape=(6,), chunks=(4,), dtype="i4",
                                compressor=None)
        a[...] = np.arange(6) + i
        a.attrs["i"] = i
    sub = root.create_group("sub")
    sub.create_dataset("inner", shape=(3,), chunks=(3,), dtype="f8", compressor=None)
    if consolidated:
        czarr.consolidate_metadata(store)
    return root


FORMATS = [2, 3]


@pytest.fixture(params=FORMATS, ids=["v2", "v3"])
def fmt(request):
    return request.param


def _counting(n_arrays, fmt, tmp_path=None, consolidated=False):
    inner = MemoryStore() if tmp_path is None else DirectoryStore(str(tmp_path))
    _hierarchy(inner, n_arrays, fmt, consolidated)
    return CountingStore(inner)


# ------------------------------------------------------------------ without consolidation

@pytest.mark.parametrize("n", [3, 40])
def test_open_group_reads_only_the_groups_own_document(fmt, n):
    store = _counting(n, fmt)
    store.reset()
    czarr.open_group(store, mode="r+", zarr_format=fmt)
    # no listing and no child: the same calls whatever the number of children
    assert store.calls["listdir"] == store.calls["getitems"] == store.calls["iter"] == 0
    assert store.total() == 1


def test_open_group_in_mode_r_does_not_depend_on_the_children(fmt):
    counts = []
    for n in (3, 40):
        store = _counting(n, fmt)
        store.reset()
        g = czarr.open_group(store, mode="r")
        assert g.attrs["title"] == "root"
        assert store.calls["listdir"] == store.calls["getitems"] == store.calls["iter"] == 0
        counts.append(store.total())
    # a look for consolidated metadata (a miss per format), then the group's document
    # (after misses on the other format's names)
    assert counts[0] == counts[1] <= 5


def test_getitem_reads_that_nodes_document_once(fmt):
    store = _counting(40, fmt)
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    store.reset()
    a = g["a0017"]
    assert store.calls == {"get": 1}
    assert a.shape == (6,) and a.dtype == np.dtype("i4")
    store.reset()
    # a v3 node's attributes came with its document; a v2 array's are one more read
    assert a.attrs["i"] == 17
    assert store.total() == (0 if fmt == 3 else 1)
    store.reset()
    assert g["sub/inner"].shape == (3,)
    assert store.total() == 1
    store.reset()
    with pytest.raises(KeyError):
        g["missing"]
    assert store.calls["listdir"] == store.calls["getitems"] == store.calls["iter"] == 0


def test_getitem_of_a_subgroup(fmt):
    store = _counting(5, fmt)
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    store.reset()
    sub = g["sub"]
    assert list(sub) == ["inner"]
    store.reset()
    g["sub"]
    # v3: its zarr.json; v2: a miss on .zarray, then .zgroup seen
    assert store.total() == (1 if fmt == 3 else 2)


def test_contains_is_one_existence_check(fmt):
    store = _counting(40, fmt)
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    store.reset()
    assert "a0039" in g
    assert store.calls == {"contains": 1}
    store.reset()
    assert "sub/inner" in g and "nothing" not in g and "sub/nothing" not in g
    assert store.calls["get"] == store.calls["listdir"] == store.calls["getitems"] == 0


@pytest.mark.parametrize("n", [3, 40])
def test_listing_is_one_listdir_and_no_reads(fmt, n):
    store = _counting(n, fmt)
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    store.reset()
    names = list(iter(g))
    assert names == [f"a{i:04d}" for i in range(n)] + ["sub"]
    assert store.calls["listdir"] == 1
    assert store.calls["get"] == store.calls["getitems"] == store.calls["iter"] == 0
    # one existence check per array child; a v2 group's .zgroup is seen after a miss
    # on .zarray; non-node entries (the group's own documents) cost at most four
    own_documents = 2 if fmt == 2 else 1  # .zgroup + .zattrs, or zarr.json
    arrays_and_group = n + (2 if fmt == 2 else 1)
    assert arrays_and_group <= store.calls["contains"] <= arrays_and_group + 4 * own_documents
    store.reset()
    assert len(g) == n + 1
    assert store.calls["listdir"] == 1 and store.calls["get"] == 0


def test_array_and_group_keys_read_the_children_in_one_batch(fmt):
    store = _counting(40, fmt)
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    for call, expected in ((g.array_keys, [f"a{i:04d}" for i in range(40)]),
                           (g.group_keys, ["sub"])):
        store.reset()
        assert list(call()) == expected
        assert store.calls["listdir"] == 1
        assert store.calls["get"] == store.calls["iter"] == 0
        # v3: one batch of zarr.json; v2: one batch of .zarray (+ one for leftovers)
        assert 1 <= store.calls["getitems"] <= 2
        assert store.calls["contains"] <= 4


def test_tree_and_items_read_each_level_in_one_batch(fmt):
    store = _counting(40, fmt)
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    store.reset()
    text = repr(g.tree())
    assert "a0039 (6,) int32" in text and "inner (3,) float64" in text
    # two groups: one listing and one or two batched reads each, no read per child
    assert store.calls["listdir"] == 2
    assert store.calls["get"] == store.calls["iter"] == 0
    assert store.calls["getitems"] <= 4
    store.reset()
    items = dict(g.items())
    assert items["a0007"][:].tolist() == list(range(7, 13))
    assert store.calls["get"] == 0
    store.reset()
    assert [m.name for m in g.values()][-1] == "/sub"
    assert store.calls["get"] == 0 and store.calls["listdir"] == 1


def test_members_match_one_by_one_access(fmt, tmp_path):
    """What the batched listing builds is what group[name] opens."""
    store = _counting(6, fmt, tmp_path)
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    for name, member in g.items():
        alone = g[name]
        assert type(member) is type(alone) and member.path == alone.path
        if isinstance(member, czarr.Array):
            assert member.shape == alone.shape and member.dtype == alone.dtype
            assert member.attrs.asdict() == alone.attrs.asdict()
            assert np.array_equal(member[...], alone[...])
    assert [n for n, _ in g.arrays(recurse=True)] == list(g.array_keys(recurse=True))
    assert list(g.array_keys(recurse=True))[-1] == "sub/inner"
    assert g.visit(lambda name: name if name == "sub/inner" else None) == "sub/inner"


def test_members_of_a_directory_store_hold_no_stray_entries(fmt, tmp_path):
    store = _counting(3, fmt, tmp_path)
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    # the group's own documents sit beside the children: never listed as members
    assert list(g) == ["a0000", "a0001", "a0002", "sub"]
    assert sorted(n for n, _ in g.items()) == list(g)


def test_v3_group_attributes_come_with_its_document():
    store = _counting(2, 3)
    store.reset()
    g = czarr.open_group(store, mode="r+", zarr_format=3)
    assert g.attrs["title"] == "root"
    assert store.total() == 1


# ------------------------------------------------------------------ consolidated

@pytest.mark.parametrize("n", [3, 40])
def test_consolidated_open_and_metadata_are_one_read(fmt, n):
    store = _counting(n, fmt, consolidated=True)
    store.reset()
    g = czarr.open_consolidated(store, mode="r", zarr_format=fmt)
    a = g["a0002"]
    assert a.shape == (6,) and a.dtype == np.dtype("i4") and a.attrs["i"] == 2
    assert g.attrs["title"] == "root"
    assert g["sub/inner"].chunks == (3,)
    assert store.calls == {"get": 1}
    # then data: chunk reads of that array only
    store.reset()
    assert a[...].tolist() == [2, 3, 4, 5, 6, 7]
    keys = [k for batch in store.getitems_keys for k in batch]
    assert set(store.calls) == {"getitems"}
    expected = ["a0002/0", "a0002/1"] if fmt == 2 else ["a0002/c/0", "a0002/c/1"]
    assert sorted(keys) == expected


def test_consolidated_listing_and_tree_touch_no_store(fmt):
    store = _counting(40, fmt, consolidated=True)
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    store.reset()
    assert len(list(g)) == 41 and len(g) == 41 and "a0010" in g
    assert list(g.group_keys()) == ["sub"]
    assert "inner (3,) float64" in repr(g.tree())
    assert store.total() == 0


def test_open_group_mode_r_reads_consolidated_metadata_once(fmt):
    store = _counting(5, fmt, consolidated=True)
    store.reset()
    g = czarr.open_group(store, mode="r", zarr_format=fmt)
    assert g["a0001"].attrs["i"] == 1
    assert store.calls == {"get": 1}
    # without the format: one miss before the read when it is v3
    for opener in (czarr.open_group, czarr.open, czarr.open_consolidated):
        store.reset()
        g = opener(store, mode="r")
        assert g["a0001"].shape == (6,)
        assert store.calls == {"get": 1 if fmt == 2 else 2}


def test_consolidated_group_at_a_path_pickles():
    """A group opened through consolidated metadata written inside a sub-group keeps
    its keys after a pickle round trip (the document's keys are relative to it)."""
    store = MemoryStore()
    g = czarr.group(store).create_group("g")
    g.zeros("x", shape=(4,), chunks=(2,))[:2] = 5
    czarr.consolidate_metadata(store, path="g")
    opened = czarr.open_consolidated(store, path="g", mode="r")
    again = pickle.loads(pickle.dumps(opened))
    assert list(again) == ["x"] and again["x"][:].tolist() == [5, 5, 0, 0]


def test_consolidated_v3_nodes_are_checked_when_opened():
    """Opening checks the consolidated block's shape; each node's document is checked
    in full when that node is opened, so a bad one fails there, naming it."""
    import json

    from czarr.errors import MetadataError

    store = MemoryStore()
    _hierarchy(store, 2, 3, consolidated=True)
    doc = json.loads(store["zarr.json"])
    doc["consolidated_metadata"]["metadata"]["a0001"]["data_type"] = "no-such-type"
    store["zarr.json"] = json.dumps(doc).encode()
    g = czarr.open_consolidated(store, mode="r")
    assert g["a0000"][...].tolist() == list(range(6))
    with pytest.raises(MetadataError, match="a0001"):
        g["a0001"]
    doc["consolidated_metadata"]["metadata"] = ["not", "a", "mapping"]
    store["zarr.json"] = json.dumps(doc).encode()
    with pytest.raises(MetadataError, match="consolidated_metadata"):
        czarr.open_consolidated(store, mode="r")


# ------------------------------------------------------------------ chunks

def test_one_chunk_of_a_million_chunk_array_is_one_store_call():
    store = CountingStore(MemoryStore())
    a = czarr.create(store=store, shape=(16 * 10**6,), chunks=(16,), dtype="i4",
                     compressor=None, fill_value=7)
    a[16 * 500_000 + 3] = 1
    store.reset()
    assert a[16 * 500_000:16 * 500_000 + 5].tolist() == [7, 7, 7, 1, 7]
    assert store.calls == {"getitems": 1}
    assert store.getitems_keys == [["500000"]]
    store.reset()
    a[16 * 999_999] = 2
    # a partial write: one batched read of that chunk and one batched store
    assert store.calls == {"getitems": 1, "setitems": 1}
    assert store.setitems_keys == [["999999"]]


@pytest.mark.parametrize("n", [100, 3000, 60000])
@pytest.mark.parametrize("threads", [1, 2])
def test_store_calls_of_a_full_read_and_write_do_not_grow(n, threads):
    """A full write and a full read ask each chunk's key once, in a bounded number of
    batched store calls whatever the number of chunks (one when inline)."""
    store = CountingStore(MemoryStore())
    a = czarr.create(store=store, shape=(16 * n,), chunks=(16,), dtype="i4",
                     compressor=None)
    data = np.arange(16 * n, dtype="i4")
    most = 1 if threads == 1 else threads * engine._BATCHES_PER_THREAD
    with czarr.config.set(threads=threads):
        store.reset()
        a[...] = data
        written = [k for batch in store.setitems_keys for k in batch]
        assert sorted(written, key=int) == [str(i) for i in range(n)]
        assert set(store.calls) == {"setitems"} and store.calls["setitems"] <= most
        store.reset()
        assert np.array_equal(a[...], data)
        read = [k for batch in store.getitems_keys for k in batch]
        assert sorted(read, key=int) == [str(i) for i in range(n)]
        assert set(store.calls) == {"getitems"} and store.calls["getitems"] <= most


def test_a_small_read_of_small_chunks_stays_on_the_calling_thread():
    """Handing a batch to a thread costs more than reading a few small chunks: a read
    of 100 chunks of 64 bytes runs inline even with threads to spare, while a read of
    large chunks still spreads over them."""
    store = CountingStore(MemoryStore())
    a = czarr.create(store=store, shape=(1600,), chunks=(16,), dtype="i4",
                     compressor=None)
    a[...] = 1
    with czarr.config.set(threads=2):
        store.reset()
        a[...]
    assert store.threads == {threading.get_ident()}
    assert store.calls == {"getitems": 1}
    big = czarr.create(store=MemoryStore(), shape=(8 * 2**16,), chunks=(2**16,), dtype="f8",
                       compressor=None)
    with czarr.config.set(threads=2):
        batches, threads = engine._batches(8, engine._min_batch(
            big._ctx.pipeline.chunk_nbytes, big.store))
    assert threads == 2 and len(batches) == 8


def _python_calls(fn) -> int:
    """How many Python and C functions ``fn()`` calls (deterministic, unlike a time)."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def test_one_chunk_costs_the_same_in_a_thousand_or_a_million_chunks():
    """A one-chunk read or write makes the same calls whatever the array's size: nothing
    is made, listed or checked per chunk of the array."""
    counts = []
    with czarr.config.set(threads=1):
        for nchunks in (10**3, 10**6):
            a = czarr.create(store=MemoryStore(), shape=(16 * nchunks,), chunks=(16,),
                             dtype="i4", compressor=None)
            mid = 16 * (nchunks // 2)
            a[mid:mid + 16] = 1
            counts.append((_python_calls(lambda a=a, mid=mid: a[mid:mid + 5]),
                           _python_calls(lambda a=a, mid=mid: a.__setitem__(
                               slice(mid, mid + 3), 5))))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("compressor", [None, "default"])
def test_the_calls_of_a_full_read_and_write_grow_linearly(compressor):
    """Each chunk adds the same calls to a full read or write, at any size: the calls
    for 4,000 chunks are those for 2,000 plus twice what 1,000 more add."""
    counts = {}
    with czarr.config.set(threads=1):
        for n in (1000, 2000, 4000):
            a = czarr.create(store=MemoryStore(), shape=(16 * n,), chunks=(16,), dtype="i4",
                             compressor=compressor)
            data = np.arange(16 * n, dtype="i4")
            write = _python_calls(lambda a=a, data=data: a.__setitem__(Ellipsis, data))
            read = _python_calls(lambda a=a: a[...])
            counts[n] = (write, read)
    for i in (0, 1):
        step_1000 = counts[2000][i] - counts[1000][i]
        step_2000 = counts[4000][i] - counts[2000][i]
        assert abs(step_2000 - 2 * step_1000) <= 8
        assert step_1000 <= 40 * 1000  # a bounded number per chunk
