"""Sharded Zarr v3 arrays: every selection kind against NumPy, reads that fetch only the
shard index and the inner chunks asked for, writes that keep the inner chunks they do
not touch, and corrupt shards refused with an error naming the key."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr
from czarr.errors import ChunkDecodeError, MetadataError, UnsupportedFormatError
from czarr.storage import MemoryStore


class CountingStore(MemoryStore):
    """A MemoryStore that counts the bytes it serves and the calls that serve them."""

    def __init__(self):
        super().__init__()
        self.served = 0
        self.calls = []

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.served += len(value)
        self.calls.append(("get", key, len(value)))
        return value

    def getitems(self, keys):
        out = super().getitems(keys)
        for k, v in out.items():
            self.served += len(v)
            self.calls.append(("get", k, len(v)))
        return out

    def get_partial(self, key, start=0, length=None):
        value = super().get_partial(key, start, length)
        self.served += len(value)
        self.calls.append(("range", key, len(value)))
        return value

    def get_ranges(self, key, ranges):
        out = [super(CountingStore, self).get_partial(key, s, n) for s, n in ranges]
        self.served += sum(len(v) for v in out)
        self.calls.append(("ranges", key, [len(v) for v in out]))
        return out


def _sharded(store, shape=(13, 11), chunks=(2, 3), shards=(4, 6), dtype="i4", **kw):
    return czarr.create(shape, chunks=chunks, shards=shards, dtype=dtype, store=store,
                        zarr_format=3, **kw)


@st.composite
def sharded_case(draw):
    ndim = draw(st.integers(1, 3))
    chunks = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    shards = tuple(c * draw(st.integers(1, 3)) for c in chunks)
    shape = tuple(draw(st.integers(0, 10)) for _ in range(ndim))
    return shape, chunks, shards


def _slice(draw, n):
    start = draw(st.none() | st.integers(-n - 2, n + 2))
    stop = draw(st.none() | st.integers(-n - 2, n + 2))
    step = draw(st.none() | st.integers(1, 3) | st.integers(-3, -1))
    return slice(start, stop, step)


@settings(max_examples=60, deadline=None)
@given(case=sharded_case(), data=st.data())
def test_every_selection_kind_equals_numpy(case, data):
    shape, chunks, shards = case
    ref = np.arange(int(np.prod(shape)), dtype="i4").reshape(shape) + 1
    z = _sharded(MemoryStore(), shape=shape, chunks=chunks, shards=shards,
                 write_empty_chunks=False)
    z[...] = ref
    basic = tuple(_slice(data.draw, n) for n in shape)
    np.testing.assert_array_equal(z[basic], ref[basic])
    if all(shape):
        idx = [np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5)))
               for n in shape]
        np.testing.assert_array_equal(z.oindex[tuple(idx)], ref[np.ix_(*idx)])
        pts = [np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=3, max_size=3)))
               for n in shape]
        np.testing.assert_array_equal(z.vindex[tuple(pts)], ref[tuple(pts)])
        mask = ref % 3 == 0
        np.testing.assert_array_equal(z.get_mask_selection(mask), ref[mask])
        # writes through every kind land where NumPy puts them
        z.vindex[tuple(pts)] = -7
        ref[tuple(pts)] = -7
        z[basic] = -3
        ref[basic] = -3
        np.testing.assert_array_equal(z[...], ref)
    block = tuple(slice(0, 1) for _ in shape)
    np.testing.assert_array_equal(
        z.get_block_selection(block), ref[tuple(slice(0, c) for c in chunks)])


def test_a_point_read_fetches_the_index_and_one_inner_chunk():
    store = CountingStore()
    z = _sharded(store, shape=(64, 64), chunks=(8, 8), shards=(64, 64), dtype="f8",
                 compressor=None)  # one shard of 64 inner chunks of 512 bytes
    z[...] = np.arange(64 * 64, dtype="f8").reshape(64, 64)
    shard = len(store["c/0/0"])
    store.served, store.calls = 0, []
    assert z[17, 42] == 17 * 64 + 42
    index_bytes = 64 * 16 + 4
    # the index, then the chunk with the index again (in the same call: the same version)
    assert store.served == 2 * index_bytes + 8 * 8 * 8, store.calls
    assert store.served < shard / 10


def test_overwriting_one_inner_chunk_keeps_the_others():
    store = MemoryStore()
    z = _sharded(store, shape=(8, 12), chunks=(2, 3), shards=(4, 6))
    ref = np.arange(96, dtype="i4").reshape(8, 12)
    z[...] = ref
    z[0:2, 3:6] = -1
    ref[0:2, 3:6] = -1
    np.testing.assert_array_equal(z[...], ref)
    z[5, 7] = 99
    ref[5, 7] = 99
    np.testing.assert_array_equal(czarr.open_array(store, mode="r")[...], ref)
    assert z.nchunks_initialized == 16 and sorted(k for k in store if "c/" in k) == [
        "c/0/0", "c/0/1", "c/1/0", "c/1/1"]


def test_empty_inner_chunks_are_missing_and_empty_shards_deleted():
    store = MemoryStore()
    z = _sharded(store, shape=(8, 12), chunks=(2, 3), shards=(4, 6),
                 write_empty_chunks=False)
    z[0, 0] = 5
    assert z.nchunks_initialized == 1 and [k for k in store if "c/" in k] == ["c/0/0"]
    z[0, 0] = 0
    assert z.nchunks_initialized == 0 and [k for k in store if "c/" in k] == []


def _corrupt(store, key, edit):
    raw = bytearray(store[key])
    edit(raw)
    store[key] = bytes(raw)


def test_corrupt_shards_raise_naming_the_key():
    store = MemoryStore()
    z = _sharded(store, shape=(4, 6), chunks=(2, 3), shards=(4, 6), compressor=None)
    z[...] = np.arange(24, dtype="i4").reshape(4, 6)
    good = store["c/0/0"]

    def offset_past_end(raw):
        index = np.frombuffer(bytes(raw[-(4 * 16 + 4):-4]), "<u8").copy()
        index[0] = 10_000  # the first inner chunk's offset, past the end
        raw[-(4 * 16 + 4):-4] = index.tobytes()
        from czarr._core.filters import crc32c_checksum
        raw[-4:] = crc32c_checksum(bytes(raw[-(4 * 16 + 4):-4])).to_bytes(4, "little")

    _corrupt(store, "c/0/0", offset_past_end)
    with pytest.raises(ChunkDecodeError, match=r"shard 'c/0/0'.*outside the shard"):
        z[0, 0]
    store["c/0/0"] = good
    _corrupt(store, "c/0/0", lambda raw: raw.__setitem__(-1, raw[-1] ^ 0xFF))
    with pytest.raises(ChunkDecodeError, match=r"shard 'c/0/0'.*checksum"):
        z[...]
    store["c/0/0"] = good[-30:]
    with pytest.raises(ChunkDecodeError, match=r"shard 'c/0/0' is truncated"):
        z[...]


def test_unknown_must_understand_extension_and_format_mixes_are_refused():
    store = MemoryStore()
    _sharded(store, shape=(4, 6), chunks=(2, 3), shards=(4, 6))
    doc = json.loads(store["zarr.json"])
    doc["my_extension"] = {"must_understand": True, "name": "x"}
    store["zarr.json"] = json.dumps(doc).encode()
    with pytest.raises(MetadataError, match="my_extension"):
        czarr.open_array(store, mode="r")
    mixed = MemoryStore()
    czarr.group(mixed, zarr_format=3)
    with pytest.raises(UnsupportedFormatError, match="zarr.json"):
        czarr.zeros(3, store=mixed, path="v2", zarr_format=2)


def test_sharded_info_shows_the_format_shards_and_chunks():
    z = _sharded(MemoryStore(), shape=(13, 11), chunks=(2, 3), shards=(4, 6))
    items = dict(z.info_items())
    assert items["Zarr format"] == "3"
    assert items["Shard shape"] == "(4, 6)" and items["Chunk shape"] == "(2, 3)"
    assert z.shards == (4, 6) and z.chunks == (2, 3)


def test_threads_writing_inner_chunks_of_the_same_shards_lose_nothing():
    """Batches of one write run on several threads; those touching the same shard each
    read it (index, then bytes) while others rewrite it. Reads and rewrites of a shard
    take its lock, so an old index is never paired with new bytes."""
    rng = np.random.default_rng(1)
    with czarr.config.set(threads=4):
        z = _sharded(MemoryStore(), shape=(64, 64), chunks=(2, 2), shards=(32, 32),
                     compressor=None)
        ref = np.zeros((64, 64), dtype="i4")
        for step in range(25):
            rows, cols = rng.integers(0, 64, 300), rng.integers(0, 64, 300)
            z.vindex[rows, cols] = step + 1
            ref[rows, cols] = step + 1
        np.testing.assert_array_equal(z[...], ref)
