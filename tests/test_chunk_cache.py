"""The decoded-chunk cache (czarr.chunk_cache): reads equal NumPy's with it on, for every
selection kind, v2, v3 and sharded; every write path through czarr drops what it makes
stale; threads decode a chunk once and read their own writes; LRU byte accounting;
cached chunks are read-only; and the suite's reading tests pass with it on."""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr
from czarr import chunk_cache, config
from czarr.pipeline import ChunkPipeline

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class fresh_cache:  # noqa: N801 - a context manager, used like config.set
    """A new, empty process-wide cache of ``size`` for a ``with`` block (whatever
    CZARR_CHUNK_CACHE says), restored after."""

    def __init__(self, size="8MiB") -> None:
        self.size = size

    def __enter__(self) -> chunk_cache.ChunkCache:
        self._off = config.set(chunk_cache=0)
        self._on = config.set(chunk_cache=self.size)
        cache = chunk_cache.shared()
        assert cache is not None and cache.info()["chunks"] == 0
        return cache

    def __exit__(self, *exc) -> None:
        self._on.__exit__(*exc)
        self._off.__exit__(*exc)


@pytest.fixture
def cache():
    with fresh_cache() as c:
        yield c


def _make(fmt, ref, chunks, shards=None, order="C", compressor="default", store=None,
          path=None, **kw):
    kwargs = dict(chunks=chunks, dtype=ref.dtype, order=order, store=store, path=path,
                  fill_value=0, **kw)
    if compressor != "default":
        kwargs["compressor"] = compressor
    if fmt != "v2":
        kwargs["zarr_format"] = 3
    if fmt == "sharded":
        kwargs["shards"] = shards
    z = czarr.create(ref.shape, **kwargs)
    z[...] = ref
    return z


# ------------------------------------------------------------------- settings

def test_config_set_get_and_restore():
    with config.set(chunk_cache=0):
        assert config.get()["chunk_cache"] == 0
        assert chunk_cache.shared() is None
        with config.set(chunk_cache="256MiB") as _:
            assert config.get()["chunk_cache"] == 256 * 2**20
            assert chunk_cache.shared().max_bytes == 256 * 2**20
            with config.set(chunk_cache=1000):
                assert chunk_cache.shared().max_bytes == 1000
                assert config.get()["threads"] == config.get_threads()  # untouched
            assert chunk_cache.shared().max_bytes == 256 * 2**20
            with config.set(chunk_cache=None):
                assert chunk_cache.shared() is None
        assert chunk_cache.shared() is None
    for bad in ("lots", -1, 1.5, "-3MiB"):
        with pytest.raises(ValueError, match="chunk_cache"):
            config.set(chunk_cache=bad)
    with pytest.raises(ValueError, match="cache_chunks"):
        czarr.zeros(4, cache_chunks="lots")


def test_env_var_is_read_at_import():
    code = ("import czarr\nfrom czarr import chunk_cache, config\n"
            "print(config.get()['chunk_cache'], chunk_cache.shared().max_bytes)")
    env = dict(os.environ, CZARR_CHUNK_CACHE="3MiB", PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert out.stdout.split() == [str(3 * 2**20)] * 2, out.stderr
    env["CZARR_CHUNK_CACHE"] = "many"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert out.returncode != 0 and "CZARR_CHUNK_CACHE" in out.stderr


def test_off_by_default_no_entries():
    if os.environ.get("CZARR_CHUNK_CACHE"):
        pytest.skip("the suite runs with the cache on")
    assert config.get()["chunk_cache"] == 0
    assert chunk_cache.shared() is None
    z = czarr.array(np.arange(100.0), chunks=50)
    assert z[3] == 3.0
    assert z._ctx.cache.active(z._ctx) is None


def test_per_array_setting_overrides_config():
    ref = np.arange(400.0).reshape(20, 20)
    with fresh_cache() as shared:
        off = czarr.array(ref, chunks=(10, 10), cache_chunks=False)
        assert off[3, 4] == ref[3, 4] and shared.info()["misses"] == 0
        own = czarr.array(ref, chunks=(10, 10), cache_chunks="1MiB")
        assert own[3, 4] == ref[3, 4]
        assert shared.info()["misses"] == 0
        assert own._cache_setting.cache().info()["chunks"] == 1
        follow = czarr.array(ref, chunks=(10, 10))
        assert follow[3, 4] == ref[3, 4] and shared.info()["misses"] == 1
        on = czarr.array(ref, chunks=(10, 10), cache_chunks=True)
        assert on._cache_setting.cache() is shared
    with config.set(chunk_cache=0):
        on = czarr.array(ref, chunks=(10, 10), cache_chunks=True)
        assert on[1, 2] == ref[1, 2]
        assert on._cache_setting.cache().max_bytes == chunk_cache.DEFAULT_SIZE
        assert czarr.array(ref, chunks=(10, 10))._ctx.cache.active(on._ctx) is None
    # kept through pickling and open_array / open
    assert pickle.loads(pickle.dumps(own))._cache_setting.value == 2**20
    store = czarr.MemoryStore()
    czarr.array(ref, chunks=(10, 10), store=store)
    assert czarr.open_array(store, cache_chunks="2MiB")._cache_setting.value == 2 * 2**20
    assert czarr.open(store, mode="r", cache_chunks=False)._cache_setting.value is False


# ------------------------------------------------------------------- equality with NumPy

@st.composite
def layouts(draw):
    fmt = draw(st.sampled_from(["v2", "v3", "sharded"]))
    ndim = draw(st.integers(1, 3))
    # at least 4 items a chunk, so a point is at most a quarter of one (then it is cached)
    chunks = tuple(draw(st.integers(2 if ndim > 1 else 4, 6)) for _ in range(ndim))
    shape = tuple(draw(st.integers(1, 3 * c + 2)) for c in chunks)
    shards = tuple(c * draw(st.integers(1, 3)) for c in chunks) if fmt == "sharded" else None
    order = draw(st.sampled_from("CF"))
    comp = draw(st.sampled_from(["blosc", "none"]))
    return fmt, shape, chunks, shards, order, comp


def _index(draw, n, unique=False):
    k = draw(st.integers(1, 3))
    if unique:
        return np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=k,
                                      unique=True)))
    return np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=k)))


@st.composite
def selections(draw, shape, chunks, write=False):
    """``(kind, selection)``: small ones mostly, so reads go through the cache."""
    kind = draw(st.sampled_from(["point", "basic", "orthogonal", "coordinate", "mask",
                                 "block"]))
    if kind == "point":
        return kind, tuple(draw(st.integers(-n, n - 1)) for n in shape)
    if kind == "basic":
        sel = []
        for n in shape:
            if draw(st.booleans()):
                sel.append(draw(st.integers(-n, n - 1)))
            else:
                start = draw(st.integers(0, n - 1))
                sel.append(slice(start, start + draw(st.integers(1, 4)),
                                 draw(st.sampled_from([1, 2, -1])) if not write else 1))
        return kind, tuple(sel)
    if kind == "orthogonal":
        sel = []
        for n in shape:
            how = draw(st.sampled_from(["int", "ints", "mask", "slice"]))
            if how == "int":
                sel.append(draw(st.integers(0, n - 1)))
            elif how == "ints":
                sel.append(_index(draw, n, unique=write))
            elif how == "mask":
                sel.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
            else:
                sel.append(slice(draw(st.integers(0, n - 1)), None, draw(st.integers(1, 3))))
        return kind, tuple(sel)
    if kind == "coordinate":
        k = draw(st.integers(1, 4))
        if write:  # distinct points, so the value written is unambiguous
            flat = draw(st.lists(st.integers(0, int(np.prod(shape)) - 1), min_size=1,
                                 max_size=k, unique=True))
            return kind, np.unravel_index(np.array(flat), shape)
        return kind, tuple(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=k,
                                                  max_size=k))) for n in shape)
    if kind == "mask":
        flat = draw(st.lists(st.integers(0, int(np.prod(shape)) - 1), max_size=3))
        mask = np.zeros(shape, dtype=bool)
        mask.flat[flat] = True
        return kind, mask
    sel = []
    for n, c in zip(shape, chunks):
        nb = -(-n // c)
        b = draw(st.integers(0, nb - 1))
        sel.append(b if draw(st.booleans()) else slice(b, b + 1))
    return kind, tuple(sel)


def _numpy_index(kind, sel, shape, chunks):
    """The NumPy index selecting what czarr's ``kind`` selection does."""
    if kind in ("point", "basic", "coordinate", "mask"):
        return sel
    if kind == "block":
        out = []
        for s, c in zip(sel, chunks):
            b0, b1 = (s, s + 1) if isinstance(s, int) else (s.start, s.stop)
            out.append(slice(b0 * c, b1 * c))
        return tuple(out)
    idx, drop = [], []
    for s, n in zip(sel, shape):
        if isinstance(s, slice):
            idx.append(np.arange(n)[s])
        elif isinstance(s, np.ndarray) and s.dtype == bool:
            idx.append(np.flatnonzero(s))
        elif isinstance(s, np.ndarray):
            idx.append(s % n)
        else:
            idx.append(np.array([s]))
        drop.append(not isinstance(s, (slice, np.ndarray)))
    return np.ix_(*idx), tuple(i for i, d in enumerate(drop) if d)


def _np_get(ref, kind, sel, chunks):
    index = _numpy_index(kind, sel, ref.shape, chunks)
    if kind != "orthogonal":
        return ref[index]
    ix, drop = index
    return ref[ix].squeeze(axis=drop) if drop else ref[ix]


def _np_set(ref, kind, sel, chunks, value):
    index = _numpy_index(kind, sel, ref.shape, chunks)
    if kind != "orthogonal":
        ref[index] = value
        return
    ix, drop = index
    ref[ix] = np.expand_dims(value, drop) if drop else value


_GETTERS = {"point": "get_basic_selection", "basic": "get_basic_selection",
            "orthogonal": "get_orthogonal_selection",
            "coordinate": "get_coordinate_selection", "mask": "get_mask_selection",
            "block": "get_block_selection"}
_SETTERS = {k: v.replace("get_", "set_") for k, v in _GETTERS.items()}


@st.composite
def cases(draw):
    lay = draw(layouts())
    shape, chunks = lay[1], lay[2]
    ops = []
    for _ in range(draw(st.integers(1, 8))):
        write = draw(st.integers(0, 3)) == 0
        ops.append((write, draw(selections(shape, chunks, write=write))))
    return lay, ops


@settings(max_examples=120, deadline=None)
@given(cases(), st.sampled_from([1, 2]))
def test_reads_and_writes_match_numpy(case, threads):
    (fmt, shape, chunks, shards, order, comp), ops = case
    ref = (np.arange(int(np.prod(shape)), dtype="i4") * 7 % 101).reshape(shape)
    with fresh_cache("1MiB") as cache, config.set(threads=threads):
        z = _make(fmt, ref, chunks, shards, order, None if comp == "none" else "default")
        counter = 1000
        for write, (kind, sel) in ops:
            expected = _np_get(ref, kind, sel, chunks)
            if write:
                counter += 1000
                value = (np.arange(np.size(expected), dtype="i4") + counter).reshape(
                    np.shape(expected))
                getattr(z, _SETTERS[kind])(sel, value)
                _np_set(ref, kind, sel, chunks, value)
                expected = _np_get(ref, kind, sel, chunks)
            for _ in range(2):  # the second read of each is served from the cache
                got = getattr(z, _GETTERS[kind])(sel)
                assert np.shape(got) == np.shape(expected)
                assert np.array_equal(got, expected), (kind, sel)
        point = tuple(n // 2 for n in shape)
        assert z[point] == ref[point] and z[point] == ref[point]
        assert cache.info()["hits"] > 0
        assert np.array_equal(z[...], ref)


def test_fields_through_the_cache(cache):
    dt = np.dtype([("a", "<i4"), ("b", "<f8")])
    ref = np.zeros((12, 10), dtype=dt)
    ref["a"] = np.arange(120).reshape(12, 10)
    ref["b"] = ref["a"] / 4
    z = czarr.array(ref, chunks=(5, 5), fill_value=None)
    for _ in range(2):
        assert np.array_equal(z["a", 3, 2:4], ref["a"][3, 2:4])
        assert np.array_equal(z.get_basic_selection((7, 1), fields=["b", "a"]),
                              ref[["b", "a"]][7, 1])
        assert np.array_equal(z.vindex[[1, 11], [0, 9]]["b"], ref["b"][[1, 11], [0, 9]])
    z.set_basic_selection((3, 2), 99, fields="a")
    assert z["a", 3, 2] == 99 and z["b", 3, 2] == ref["b"][3, 2]
    assert cache.info()["hits"] > 0


def test_large_reads_bypass_the_cache(cache):
    ref = np.arange(64 * 64.0).reshape(64, 64)
    z = czarr.array(ref, chunks=(16, 16))
    assert z[5, 5] == ref[5, 5] and z[40, 40] == ref[40, 40]
    assert cache.info()["chunks"] == 2
    assert np.array_equal(z[...], ref)                    # a scan: every chunk whole
    assert np.array_equal(z[0:12, 0:12], ref[0:12, 0:12])  # 56% of one chunk
    assert np.array_equal(z[:, 3], ref[:, 3])             # 1/16 of each of four chunks
    info = cache.info()
    assert info["chunks"] == 2 + 3  # the column's chunks, not the scan's
    assert z[5, 5] == ref[5, 5] and cache.info()["hits"] == info["hits"] + 1
    # a region that covers one chunk and a little of its neighbours: the neighbours only
    assert np.array_equal(z[16:33, 16:33], ref[16:33, 16:33])
    assert cache.info()["chunks"] == 5 + 2  # (1, 2) and (2, 1); (2, 2) was cached


# ------------------------------------------------------------------- invalidation

def _cached_read(z, sel, expected, cache):
    """Read twice; the second read must be a hit, and both must equal ``expected``."""
    assert np.array_equal(z[sel], expected)
    hits = cache.info()["hits"]
    assert np.array_equal(z[sel], expected)
    assert cache.info()["hits"] > hits


@pytest.mark.parametrize("fmt", ["v2", "v3", "sharded"])
def test_writes_through_any_array_invalidate(cache, fmt, tmp_path):
    ref = np.arange(32 * 32, dtype="f8").reshape(32, 32)
    store = czarr.DirectoryStore(str(tmp_path / "a.zarr"))
    z = _make(fmt, ref, (8, 8), (16, 16), store=store)
    _cached_read(z, (1, 2), ref[1, 2], cache)
    _cached_read(z, (9, 2), ref[9, 2], cache)
    # a partial write through the same array
    z[1, 3] = -1
    ref[1, 3] = -1
    assert z[1, 2] == ref[1, 2] and z[1, 3] == -1
    # a whole-chunk write through another array on another store object, same folder
    other = czarr.open_array(czarr.DirectoryStore(str(tmp_path / "a.zarr")), mode="r+")
    other[8:16, 0:8] = 5
    ref[8:16, 0:8] = 5
    assert z[9, 2] == 5
    # a shard neighbour written: the rest of the shard still reads right
    _cached_read(z, (0, 9), ref[0, 9], cache)
    other[2, 2] = 7
    ref[2, 2] = 7
    assert z[0, 9] == ref[0, 9] and z[2, 2] == 7
    assert np.array_equal(z[...], ref)


def test_empty_chunk_deletes_invalidate(cache):
    store = czarr.MemoryStore()
    z = czarr.zeros((20, 20), chunks=(10, 10), store=store, write_empty_chunks=False)
    z[0:10, 0:10] = 3
    _cached_read(z, (1, 1), 3, cache)
    z[0:10, 0:10] = 0           # stores nothing: the chunk is deleted
    assert "0.0" not in store
    assert z[1, 1] == 0
    _cached_read(z, (15, 15), 0, cache)  # absent chunks are cached too
    z[15, 15] = 2
    assert z[15, 15] == 2


@pytest.mark.parametrize("fmt", ["v2", "sharded"])
def test_resize_and_append_invalidate(cache, fmt):
    ref = np.arange(20 * 20, dtype="i4").reshape(20, 20) + 1
    z = _make(fmt, ref, (5, 5), (10, 10), store=czarr.MemoryStore())
    _cached_read(z, (17, 17), ref[17, 17], cache)
    _cached_read(z, (12, 13), ref[12, 13], cache)
    z.resize(12, 12)   # chunks past the edge are deleted, (12, 13) is cut off
    z.resize(20, 20)   # what grows back is the fill value
    assert z[17, 17] == 0 and z[12, 13] == 0 and z[11, 11] == ref[11, 11]
    z.append(np.full((3, 20), 9, dtype="i4"))
    _cached_read(z, (21, 4), 9, cache)


def test_overwrite_delete_and_move_invalidate(cache, tmp_path):
    ref = np.arange(100.0).reshape(10, 10)
    root = czarr.group(str(tmp_path / "h.zarr"))
    a = root.array("a", ref, chunks=(5, 5))
    _cached_read(a, (2, 2), ref[2, 2], cache)
    # mode='w' over the same path, same codecs: a new array, nothing old shows through
    b = czarr.open_array(str(tmp_path / "h.zarr"), mode="w", path="a", shape=(10, 10),
                         chunks=(5, 5), dtype="f8")
    assert a[2, 2] == 0 and b[2, 2] == 0
    b[...] = ref + 1
    _cached_read(a, (2, 2), ref[2, 2] + 1, cache)
    del root["a"]       # rmdir
    c = root.zeros("a", shape=(10, 10), chunks=(5, 5), dtype="f8")
    assert c[2, 2] == 0 and a[2, 2] == 0
    c[...] = ref + 2
    _cached_read(c, (2, 2), ref[2, 2] + 2, cache)
    root.move("a", "moved")  # rename
    assert a[2, 2] == 0
    assert root["moved"][2, 2] == ref[2, 2] + 2
    d = root.array("a", ref + 3, chunks=(5, 5))
    assert d[2, 2] == ref[2, 2] + 3
    # copy_store writes keys into an existing destination store
    dest = czarr.MemoryStore()
    e = czarr.array(np.zeros((10, 10)), chunks=(5, 5), store=dest, path="moved")
    _cached_read(e, (2, 2), 0, cache)
    czarr.copy_store(czarr.DirectoryStore(str(tmp_path / "h.zarr")), dest,
                     if_exists="replace")
    assert e[2, 2] == ref[2, 2] + 2


def test_codecs_never_share_entries(cache):
    ref = np.linspace(0, 1, 100).reshape(10, 10)
    store = czarr.MemoryStore()
    z = czarr.array(ref, chunks=(5, 5), store=store)
    assert z[3, 3] == ref[3, 3]
    # same store, same keys, another decoding
    f4 = z.astype("f4")
    assert f4[3, 3] == np.float32(ref[3, 3])
    as_int = z.view(dtype="<i8")
    assert as_int[3, 3] == ref.view("<i8")[3, 3]
    assert cache.info()["misses"] == 3
    assert cache.info()["chunks"] == 3
    base = chunk_cache.pipeline_config(z._pipeline)
    assert base != chunk_cache.pipeline_config(f4._pipeline)
    other = ChunkPipeline(z.dtype, z.chunks, "C", czarr.Blosc(cname="zstd"), None)
    assert base != chunk_cache.pipeline_config(other)
    assert base == chunk_cache.pipeline_config(
        ChunkPipeline(z.dtype, z.chunks, "C", czarr.Blosc(), None))


def test_decode_failure_falls_back_to_partial_decoding(cache):
    data = np.arange(256 * 256, dtype="f8").reshape(256, 256)
    store = czarr.MemoryStore()
    z = czarr.array(data, chunks=(128, 128), store=store,
                    compressor=czarr.Blosc(cname="lz4", shuffle=0, blocksize=4096))
    frame = bytearray(store["0.0"])
    frame[-200:] = bytes(200)  # the last block is corrupt
    store["0.0"] = bytes(frame)
    for _ in range(2):
        assert z[3, 5] == data[3, 5]
    assert cache.info()["chunks"] == 0


# ------------------------------------------------------------------- store identity

def test_dict_stores_are_not_cached(cache):
    store: dict = {}
    z = czarr.array(np.arange(100.0).reshape(10, 10), chunks=(5, 5), store=store)
    assert z[2, 3] == 23 and z[2, 3] == 23
    assert cache.info()["chunks"] == 0
    assert chunk_cache.store_token(store) is None


def test_collected_store_is_forgotten(cache):
    z = czarr.array(np.arange(100.0).reshape(10, 10), chunks=(5, 5))
    assert z[1, 1] == 11
    token = chunk_cache.store_token(z.store, create=False)
    assert token is not None and cache.info()["chunks"] == 1
    del z
    gc.collect()
    other = czarr.array(np.arange(100.0).reshape(10, 10), chunks=(5, 5))
    assert other[1, 1] == 11  # an insert drops the collected store's entries
    assert cache.info()["chunks"] == 1
    assert chunk_cache.store_token(other.store) != token


def test_store_tokens():
    a, b = czarr.DirectoryStore("/tmp/x"), czarr.DirectoryStore("/tmp/x")
    assert chunk_cache.store_token(a) == chunk_cache.store_token(b)
    assert chunk_cache.store_token(a) != chunk_cache.store_token(czarr.DirectoryStore("/tmp/y"))
    m1, m2 = czarr.MemoryStore(), czarr.MemoryStore()
    assert chunk_cache.store_token(m1, create=False) is None
    assert chunk_cache.store_token(m1) != chunk_cache.store_token(m2)
    assert chunk_cache.store_token(m1) == chunk_cache.store_token(m1, create=False)


def test_fsstore_identity(cache):
    pytest.importorskip("fsspec")
    ref = np.arange(100.0).reshape(10, 10)
    z = czarr.array(ref, chunks=(5, 5), store=czarr.FSStore("memory://cc/a.zarr"))
    _cached_read(z, (4, 4), ref[4, 4], cache)
    other = czarr.open_array(czarr.FSStore("memory://cc/a.zarr"), mode="r+")
    other[4, 4] = -4
    assert z[4, 4] == -4


# ------------------------------------------------------------------- the LRU

def test_lru_counts_bytes_and_evicts_least_recent():
    ref = np.arange(40 * 40, dtype="f8").reshape(40, 40)
    chunk_bytes = 10 * 10 * 8
    with fresh_cache(3 * chunk_bytes + 10) as cache:
        z = czarr.array(ref, chunks=(10, 10))
        for p in [(0, 0), (0, 10), (0, 20)]:
            assert z[p] == ref[p]
        assert cache.info()["nbytes"] == 3 * chunk_bytes
        assert z[0, 0] == ref[0, 0]                 # (0, 0) is now the most recent
        for _ in range(4):  # the cache is full: (0, 3) gets in on its 4th miss...
            assert z[0, 30] == ref[0, 30]
        info = cache.info()
        assert info["bypasses"] == 3
        # ...and evicts (0, 1), the least recently used
        assert (info["chunks"], info["nbytes"], info["evictions"]) == (3, 3 * chunk_bytes, 1)
        misses = info["misses"]
        assert z[0, 0] == ref[0, 0] and cache.info()["misses"] == misses
        assert z[0, 10] == ref[0, 10]  # evicted: read past the full cache
        assert cache.info()["misses"] == misses and cache.info()["bypasses"] == 4
        z2 = czarr.zeros((40, 40), chunks=(10, 10))  # absent chunks count 64 bytes each
        assert z2[35, 35] == 0
        assert cache.info()["nbytes"] <= cache.max_bytes
        cache.resize(chunk_bytes)
        assert cache.info()["nbytes"] <= chunk_bytes and cache.info()["chunks"] == 1
    with fresh_cache(chunk_bytes - 1) as cache:  # a chunk larger than the cache
        z = czarr.array(ref, chunks=(10, 10))
        for _ in range(5):
            assert z[5, 5] == ref[5, 5]
        assert cache.info()["chunks"] == 0 and cache.info()["misses"] == 0
        assert cache.info()["bypasses"] == 5


def test_evicted_buffers_are_decoded_into_again():
    ref = np.arange(40 * 40, dtype="f8").reshape(40, 40)
    with fresh_cache(10 * 10 * 8 + 10) as cache:  # one chunk
        z = czarr.array(ref, chunks=(10, 10))
        assert z[0, 0] == ref[0, 0]
        first = id(cache.values()[0])
        for _ in range(4):
            assert z[15, 15] == ref[15, 15]      # evicts (0, 0): its buffer is a spare
        second = cache.values()[0]
        assert id(second) != first
        for _ in range(4):
            assert z[25, 25] == ref[25, 25]      # decoded into (0, 0)'s buffer
        third = cache.values()[0]
        assert id(third) == first and not third.flags.writeable
        assert np.array_equal(third, ref[20:30, 20:30])
        # a buffer someone still refers to is never reused
        for _ in range(4):
            assert z[35, 35] == ref[35, 35]      # evicts (2, 2), still referred to here
        for _ in range(4):
            assert z[5, 35] == ref[5, 35]
        assert np.array_equal(third, ref[20:30, 20:30])
        assert cache.values()[0] is not third


def test_point_reads_of_cached_chunks(cache):
    ref = np.arange(30 * 20, dtype="<i8").reshape(30, 20)
    z = czarr.array(ref, chunks=(8, 8))
    pts = [(0, 0), (29, 19), (-1, -1), (-30, 5), (np.int64(9), np.int32(17)), (8, 8)]
    for p in pts * 2:
        got = z[p]
        assert got == ref[p] and type(got) is type(ref[p])
    assert cache.info()["hits"] >= len(pts)
    for bad in [(30, 0), (0, -21)]:
        with pytest.raises(IndexError):
            z[bad]
    with pytest.raises(TypeError):
        z[True, 3]  # a bool is not an index (as with no cache)
    one = czarr.array(np.arange(50.0), chunks=10)
    assert one[7] == 7.0 and one[7] == 7.0 and one[-1] == 49.0
    uncached_meta = czarr.open_array(z.store, mode="r", cache_metadata=False)
    assert uncached_meta[3, 4] == ref[3, 4] and uncached_meta[3, 4] == ref[3, 4]


def test_cached_chunks_are_read_only(cache):
    ref = np.arange(100.0).reshape(10, 10)
    z = czarr.array(ref, chunks=(5, 5))
    got = z[1:3, 1:3]
    got[...] = -1                         # the caller's copy, not the cache's
    assert np.array_equal(z[1:3, 1:3], ref[1:3, 1:3])
    values = [v for v in cache.values() if v is not chunk_cache.ABSENT]
    assert values
    for v in values:
        assert not v.flags.writeable
        with pytest.raises(ValueError):
            v[0, 0] = 1


# ------------------------------------------------------------------- threads

def test_raced_decode_is_not_cached():
    """A write landing while a chunk is being decoded keeps the decode out of the cache,
    and later readers do not join the stale decode."""
    cache = chunk_cache.ChunkCache(2**20)
    store = czarr.MemoryStore()
    token = chunk_cache.store_token(store)
    key = (token, "0.0", -1, "cfg")
    value, flight, leader = cache.begin(key, 24)
    assert leader and value is None
    assert cache.begin(key, 24)[1] is flight  # a second reader waits for the same flight
    czarr.storage.setitems(store, {"0.0": b"new"})  # a write meanwhile
    value2, flight2, leader2 = cache.begin(key, 24)
    assert leader2 and flight2 is not flight  # a reader after the write fetches anew
    old = np.zeros(3)
    cache.finish(key, flight, old)
    assert flight.wait() == (True, old) and cache.info()["chunks"] == 0
    cache.finish(key, flight2, np.ones(3))
    assert cache.info()["chunks"] == 1
    cache.abandon(key, flight2)  # harmless once finished


def test_eight_threads_decode_a_chunk_once(cache, monkeypatch):
    ref = np.arange(256 * 256, dtype="f8").reshape(256, 256)
    z = czarr.array(ref, chunks=(256, 256))
    calls = []
    decode = ChunkPipeline.decode_into

    def slow_decode(self, cdata, out, key):
        calls.append(key)
        time.sleep(0.05)  # every thread arrives while the first decodes
        return decode(self, cdata, out, key)

    monkeypatch.setattr(ChunkPipeline, "decode_into", slow_decode)
    barrier = threading.Barrier(8)
    results, errors = {}, []

    def reader(t):
        try:
            barrier.wait()
            results[t] = z[t * 3, t * 5]
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert calls == ["0.0"]
    assert results == {t: ref[t * 3, t * 5] for t in range(8)}
    assert cache.info()["misses"] == 1 and cache.info()["hits"] == 0


def test_a_failed_leader_releases_its_waiters(cache, monkeypatch):
    ref = np.arange(256 * 256, dtype="f8").reshape(256, 256)
    z = czarr.array(ref, chunks=(256, 256))
    decode = ChunkPipeline.decode_into
    calls = []

    def flaky(self, cdata, out, key):
        calls.append(key)
        time.sleep(0.05)
        if len(calls) == 1:
            raise RuntimeError("the first decode fails")
        return decode(self, cdata, out, key)

    monkeypatch.setattr(ChunkPipeline, "decode_into", flaky)
    barrier = threading.Barrier(6)
    results, errors = {}, []

    def reader(t):
        barrier.wait()
        try:
            results[t] = z[t, t + 1]
        except RuntimeError as e:
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert len(errors) == 1 and len(results) == 5
    assert all(v == ref[t, t + 1] for t, v in results.items())
    assert len(calls) == 2  # the failed decode, then one for all the waiters
    assert z[7, 8] == ref[7, 8] and len(calls) == 2


@pytest.mark.parametrize("fmt", ["v2", "sharded"])
def test_concurrent_readers_and_writers(cache, fmt, tmp_path):
    """Writers own a row of chunks each and write increasing values, reading each write
    back; readers check no point ever goes back to an older value."""
    n, c = 32, 8
    z = _make(fmt, np.zeros((n, n), dtype="i8"), (c, c), (16, 16),
              store=czarr.DirectoryStore(str(tmp_path / "rw.zarr")))
    rounds = 30
    stop = threading.Event()
    errors: list = []

    def writer(w):
        rng = np.random.default_rng(w)
        try:
            for v in range(1, rounds + 1):
                i, j = w * c + int(rng.integers(0, c)), int(rng.integers(0, n))
                z[w * c:(w + 1) * c, j] = v          # the column of this writer's chunk row
                if z[i, j] != v or z[w * c, j] != v:  # read your writes
                    errors.append(("stale", w, i, j, v, z[i, j]))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def reader(r):
        rng = np.random.default_rng(100 + r)
        seen = np.zeros((n, n), dtype="i8")
        try:
            while not stop.is_set():
                i, j = (int(v) for v in rng.integers(0, n, 2))
                v = z[i, j]
                if v < seen[i, j]:
                    errors.append(("backwards", i, j, seen[i, j], v))
                seen[i, j] = v
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    with config.set(threads=2):
        readers = [threading.Thread(target=reader, args=(r,)) for r in range(3)]
        writers = [threading.Thread(target=writer, args=(w,)) for w in range(n // c)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join()
        stop.set()
        for t in readers:
            t.join()
    assert not errors, errors[:5]
    uncached = czarr.open_array(z.store, mode="r", cache_chunks=False)
    assert np.array_equal(z[...], uncached[...])
    for i in range(0, n, 3):
        for j in range(0, n, 5):
            assert z[i, j] == uncached[i, j]
    assert cache.info()["hits"] > 0


# ------------------------------------------------------------------- the suite, cache on

@pytest.mark.slow
def test_suite_reading_tests_pass_with_the_cache_on():
    """A representative part of the suite, run with CZARR_CHUNK_CACHE set (the whole
    suite can run so too: ``CZARR_CHUNK_CACHE=256MiB pytest tests/``)."""
    files = ["tests/test_engine.py", "tests/test_sharding.py", "tests/test_resize.py",
             "tests/test_core.py", "tests/test_selections.py", "tests/test_hierarchy.py",
             "tests/v3/test_sharding.py", "tests/v3/test_codec_chain.py",
             "tests/test_objects.py", "tests/test_consolidated.py"]
    code = ("import sys, pytest\n"
            f"rc = pytest.main(['-q', '-x', '-m', 'not slow', '-p', 'no:cacheprovider', "
            f"*{files!r}])\n"
            "from czarr import chunk_cache\n"
            "print('CACHE', chunk_cache.shared().info()['max_bytes'])\n"
            "sys.exit(rc)\n")
    env = dict(os.environ, CZARR_CHUNK_CACHE="256MiB", PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"CACHE {256 * 2**20}" in out.stdout
