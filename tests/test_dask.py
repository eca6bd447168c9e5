"""Dask and czarr: ``czarr.to_dask`` / ``czarr.from_dask``, czarr arrays inside
``da.from_array`` and ``da.store`` (threads and processes), small pickles of arrays,
groups and stores, the talk's example against NumPy, and a ``dask.distributed`` cluster
of two worker processes reading from a folder and from S3 (moto on loopback) and
writing results back."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import uuid

import numpy as np
import pytest

import czarr
from czarr.storage import (
    DirectoryStore,
    FSStore,
    LMDBStore,
    MemoryStore,
    RedisStore,
    SQLiteStore,
    ZipStore,
)
from tests.storage.moto_server import moto_s3  # noqa: F401  (the session fixture)
from tests.storage.servers import redis_server

da = pytest.importorskip("dask.array", reason="dask is in czarr's test extra")
import dask  # noqa: E402
from dask.delayed import Delayed  # noqa: E402

WORKTREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def data(shape=(2000, 500), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def stored(tmp_path, values, chunks=(200, 100), name="x", **kwargs):
    return czarr.array(values, chunks=chunks, store=DirectoryStore(tmp_path / name), **kwargs)


class LockPerKey:
    """zarr-python 2's synchronizer protocol: ``sync[key]`` is a lock for that key."""

    def __init__(self):
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __getitem__(self, key):
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


# ---------------------------------------------------------------------------------------
# imports
# ---------------------------------------------------------------------------------------


def test_importing_czarr_does_not_import_dask():
    code = ("import sys, czarr; assert callable(czarr.to_dask) and callable(czarr.from_dask);"
            "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=WORKTREE, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------------------
# to_dask
# ---------------------------------------------------------------------------------------


def test_to_dask_blocks_are_the_stored_chunks(tmp_path):
    values = data()
    a = stored(tmp_path, values)
    x = czarr.to_dask(a)
    assert x.chunks == ((200,) * 10, (100,) * 5)
    assert x.dtype == values.dtype
    np.testing.assert_array_equal(x.compute(), values)
    # one task per block, each a read of its own region
    assert len(x.__dask_graph__()) >= x.npartitions


@pytest.mark.parametrize("chunks, expected", [
    ((400, 500), ((400,) * 5, (500,))),
    ((-1, 200), ((2000,), (200, 200, 100))),
    (((200, 600, 1200), (100, 400)), ((200, 600, 1200), (100, 400))),
    (1000, ((1000, 1000), (500,))),  # 500 is the whole axis
])
def test_to_dask_takes_multiples_of_the_stored_chunks(tmp_path, chunks, expected):
    values = data()
    x = czarr.to_dask(stored(tmp_path, values), chunks=chunks)
    assert x.chunks == expected
    np.testing.assert_array_equal(x.compute(), values)


@pytest.mark.parametrize("chunks", [(300, 100), (200, 150), ((100, 1900), (500,))])
def test_to_dask_refuses_blocks_that_cut_stored_chunks(tmp_path, chunks):
    a = stored(tmp_path, data())
    with pytest.raises(ValueError, match=r"cuts the stored chunks \(200, 100\).*multiple of"):
        czarr.to_dask(a, chunks=chunks)


def test_to_dask_opens_paths_urls_and_groups(tmp_path):
    values = data((300, 40))
    g = czarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    g.array("sub/v", values, chunks=(100, 40))
    x = czarr.to_dask(str(tmp_path / "g.zarr"), path="sub/v")
    np.testing.assert_array_equal(x.compute(), values)
    y = czarr.to_dask("file://" + str(tmp_path / "g.zarr"), path="sub/v", chunks=(200, 40))
    assert y.chunks == ((200, 100), (40,))
    np.testing.assert_array_equal(y.compute(), values)
    with pytest.raises(TypeError, match="open arguments"):
        czarr.to_dask(g["sub/v"], path="sub/v")


def test_to_dask_of_a_sharded_array_reads_whole_shards(tmp_path):
    values = data((400, 300))
    a = czarr.create(values.shape, chunks=(50, 30), shards=(200, 150), zarr_format=3,
                     dtype="f8", store=DirectoryStore(tmp_path / "s"))
    a[:] = values
    x = czarr.to_dask(a)
    assert x.chunksize == (200, 150)
    np.testing.assert_array_equal(x.compute(), values)
    # inner chunk multiples read parts of shards
    y = czarr.to_dask(a, chunks=(100, 90))
    np.testing.assert_array_equal(y.compute(), values)
    with pytest.raises(ValueError, match="multiple of 50"):
        czarr.to_dask(a, chunks=(75, 150))


def test_to_dask_of_fill_values_and_0d(tmp_path):
    a = czarr.full((30, 7), 3.5, chunks=(10, 7), store=DirectoryStore(tmp_path / "f"))
    np.testing.assert_array_equal(czarr.to_dask(a).compute(), np.full((30, 7), 3.5))
    s = czarr.array(np.float32(2.5), store=DirectoryStore(tmp_path / "0d"))
    x = czarr.to_dask(s)
    assert x.shape == () and x.compute() == np.float32(2.5)


# ---------------------------------------------------------------------------------------
# from_dask
# ---------------------------------------------------------------------------------------


def test_from_dask_chunks_are_the_dask_blocks(tmp_path):
    values = data((500, 70))
    x = da.from_array(values, chunks=(120, 30))
    z = czarr.from_dask(x, str(tmp_path / "out"))
    assert isinstance(z, czarr.Array)
    assert z.chunks == (120, 30)
    back = czarr.open_array(str(tmp_path / "out"), mode="r")
    np.testing.assert_array_equal(back[:], values)
    assert back.compressor.get_config()["id"] == "blosc"


def test_from_dask_passes_creation_arguments(tmp_path):
    values = np.arange(1000, dtype="i4").reshape(100, 10)
    x = da.from_array(values, chunks=(25, 10))
    z = czarr.from_dask(x, str(tmp_path / "o"), path="a/b", compressor=None, fill_value=-1,
                        dimension_separator="/", attributes={"units": "m"})
    assert z.path == "a/b" and z.compressor is None and z.fill_value == -1
    assert os.path.exists(tmp_path / "o" / "a" / "b" / "3" / "0")
    np.testing.assert_array_equal(czarr.open_array(str(tmp_path / "o"), path="a/b")[:], values)
    assert czarr.open_array(str(tmp_path / "o"), path="a/b").attrs["units"] == "m"
    with pytest.raises(czarr.errors.ContainsArrayError):
        czarr.from_dask(x, str(tmp_path / "o"), path="a/b")
    z2 = czarr.from_dask(x + 1, str(tmp_path / "o"), path="a/b", overwrite=True)
    np.testing.assert_array_equal(z2[:], values + 1)


def test_from_dask_refuses_irregular_blocks_unless_chunks_given(tmp_path):
    x = da.from_array(data((300, 10)), chunks=((100, 50, 150), (10,)))
    with pytest.raises(ValueError, match="irregular.*rechunk"):
        czarr.from_dask(x, str(tmp_path / "o"))
    assert not os.path.exists(tmp_path / "o" / ".zarray")
    z = czarr.from_dask(x, str(tmp_path / "o"), chunks=(50, 10))  # aligned: fine
    np.testing.assert_array_equal(z[:], x.compute())


def test_from_dask_refuses_unknown_chunk_sizes(tmp_path):
    x = da.arange(100, chunks=10)
    y = x[x > 50]  # sizes known only after computing
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        czarr.from_dask(y, str(tmp_path / "o"))
    z = czarr.from_dask(y.compute_chunk_sizes().rechunk(7), str(tmp_path / "o"))
    np.testing.assert_array_equal(z[:], np.arange(51, 100))


def test_from_dask_refuses_blocks_that_cut_chunks(tmp_path):
    x = da.from_array(data((300, 10)), chunks=(100, 10))
    with pytest.raises(ValueError, match=r"not aligned to the chunk shape \(75, 10\).*"
                                         r"synchronizer="):
        czarr.from_dask(x, str(tmp_path / "o"), chunks=(75, 10))
    assert not os.path.exists(tmp_path / "o")  # nothing created


def test_from_dask_with_a_synchronizer_writes_unaligned_blocks(tmp_path):
    values = data((300, 10))
    x = da.from_array(values, chunks=(100, 10))
    sync = LockPerKey()
    with dask.config.set(scheduler="sync"):  # the locking itself is the synchronizer's job
        z = czarr.from_dask(x, str(tmp_path / "o"), chunks=(75, 10), synchronizer=sync)
    assert z.chunks == (75, 10) and z.synchronizer is sync
    np.testing.assert_array_equal(czarr.open_array(str(tmp_path / "o"))[:], values)


def test_from_dask_compute_false_is_the_delayed_store(tmp_path):
    values = data((200, 20))
    delayed = czarr.from_dask(da.from_array(values, chunks=(50, 20)), str(tmp_path / "o"),
                              compute=False, fill_value=7.0)
    assert isinstance(delayed, Delayed)
    a = czarr.open_array(str(tmp_path / "o"), mode="r")
    np.testing.assert_array_equal(a[:], np.full((200, 20), 7.0))  # created, not yet written
    written = delayed.compute()
    assert isinstance(written, czarr.Array) and written.path == a.path
    np.testing.assert_array_equal(a[:], values)


def test_from_dask_into_an_existing_array(tmp_path):
    target = czarr.zeros((200, 20), chunks=(50, 20), store=DirectoryStore(tmp_path / "t"))
    values = data((200, 20))
    out = czarr.from_dask(da.from_array(values, chunks=(100, 20)), target)
    assert out is target
    np.testing.assert_array_equal(target[:], values)
    with pytest.raises(ValueError, match="not aligned"):
        czarr.from_dask(da.from_array(values, chunks=(30, 20)), target)
    with pytest.raises(ValueError, match="shape"):
        czarr.from_dask(da.zeros((10, 20), chunks=5), target)
    with pytest.raises(TypeError, match="creation arguments"):
        czarr.from_dask(da.from_array(values, chunks=(100, 20)), target, fill_value=3)


def test_sharded_v3_round_trip(tmp_path):
    values = data((400, 300))
    x = da.from_array(values, chunks=(200, 150))
    with pytest.raises(ValueError, match=r"shard shape \(200, 300\)"):
        czarr.from_dask(x, str(tmp_path / "s"), chunks=(50, 50), shards=(200, 300),
                        zarr_format=3)
    z = czarr.from_dask(x, str(tmp_path / "s"), chunks=(50, 50), shards=(200, 150),
                        zarr_format=3, dimension_names=["y", "x"])
    assert z.shards == (200, 150) and z.chunks == (50, 50)
    back = czarr.open_array(str(tmp_path / "s"), mode="r")
    assert back.shards == (200, 150)
    np.testing.assert_array_equal(back[:], values)
    y = czarr.to_dask(back)
    assert y.chunks == x.chunks
    np.testing.assert_array_equal((y * 2).compute(), values * 2)
    # zarr-python 3 reads what went through dask
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "s"), mode="r")[:], values)


# ---------------------------------------------------------------------------------------
# the talk's example, against NumPy
# ---------------------------------------------------------------------------------------


def test_talk_example_against_numpy(tmp_path):
    rng = np.random.default_rng(42)  # rank 10 plus noise: the top 20 is well defined
    values = (rng.standard_normal((2000, 10)) @ rng.standard_normal((10, 500))
              + 0.01 * rng.standard_normal((2000, 500)))
    a = stored(tmp_path, values)
    x = czarr.to_dask(a)
    y = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    expected = (values - values.mean(axis=1, keepdims=True)) / values.std(axis=1, keepdims=True)
    np.testing.assert_allclose(y.compute(), expected, rtol=1e-12, atol=1e-12)

    ref = da.from_array(values, chunks=(200, 100))
    ref_y = (ref - ref.mean(axis=1, keepdims=True)) / ref.std(axis=1, keepdims=True)
    u, s, v = da.linalg.svd_compressed(y, 20, seed=1234)
    ru, rs, rv = da.linalg.svd_compressed(ref_y, 20, seed=1234)
    u, s, v, ru, rs, rv = dask.compute(u, s, v, ru, rs, rv)
    np.testing.assert_array_equal(s, rs)  # same blocks, same seed: the same numbers
    np.testing.assert_array_equal(u, ru)
    np.testing.assert_array_equal(v, rv)
    # and the singular values are those of the full matrix (a randomised top 20)
    top = np.linalg.svd(expected, compute_uv=False)[:20]
    np.testing.assert_allclose(s[:10], top[:10], rtol=1e-4)
    np.testing.assert_allclose(u * s @ v, expected, atol=0.05)

    # a computed output back into czarr, reopened and compared
    out = czarr.from_dask(y, str(tmp_path / "y"))
    assert out.chunks == (200, 100)
    np.testing.assert_allclose(czarr.open_array(str(tmp_path / "y"), mode="r")[:], expected,
                               rtol=1e-12, atol=1e-12)
    ud = da.from_array(u, chunks=(200, 20))
    czarr.from_dask(ud, str(tmp_path / "u"))
    np.testing.assert_array_equal(czarr.open_array(str(tmp_path / "u"), mode="r")[:], u)


# ---------------------------------------------------------------------------------------
# czarr arrays inside da.from_array and da.store, threads and processes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_from_array_and_store_with_czarr_arrays(tmp_path, scheduler):
    values = data((400, 60))
    src = stored(tmp_path, values, chunks=(100, 30), name="src")
    dst = czarr.zeros((400, 60), chunks=(100, 30), store=DirectoryStore(tmp_path / "dst"))
    x = da.from_array(src, chunks=(200, 30))
    with dask.config.set(scheduler=scheduler):
        np.testing.assert_array_equal(x.compute(), values)
        da.store(np.sqrt(abs(x)), dst, lock=False)
    np.testing.assert_array_equal(dst[:], np.sqrt(abs(values)))


# ---------------------------------------------------------------------------------------
# in-memory stores
# ---------------------------------------------------------------------------------------


def test_memory_store_works_with_threads():
    values = data((300, 40))
    a = czarr.array(values, chunks=(100, 40))  # a MemoryStore
    with dask.config.set(scheduler="threads"):
        x = czarr.to_dask(a)
        np.testing.assert_array_equal(x.compute(), values)
        out = czarr.from_dask(x * 3, MemoryStore())
    np.testing.assert_array_equal(out[:], values * 3)
    with dask.config.set(scheduler="sync"):
        out = czarr.from_dask(x + 1, {})
    np.testing.assert_array_equal(out[:], values + 1)


@pytest.mark.parametrize("store", [MemoryStore, dict,
                                   lambda: FSStore(f"memory://czarr-{uuid.uuid4().hex}")])
def test_memory_store_refused_when_the_scheduler_leaves_the_process(store):
    a = czarr.zeros((30, 4), chunks=(10, 4), store=store())
    x = da.zeros((30, 4), chunks=(10, 4))
    with dask.config.set(scheduler="processes"):
        with pytest.raises(ValueError, match="in-memory store.*other processes cannot see it"):
            czarr.to_dask(a)
        with pytest.raises(ValueError, match="in-memory store.*DirectoryStore, ZipStore"):
            czarr.from_dask(x, store())
        with pytest.raises(ValueError, match="in-memory store"):
            czarr.from_dask(x, a)


def test_memory_array_never_travels_by_value():
    """The pickle of a task's array over a MemoryStore is a token: in this process it is
    the same object again; elsewhere it fails clearly (tested on the cluster below)."""
    from czarr.dask import _Blocks, _Unreachable

    a = czarr.array(data((2000, 1000)), chunks=(500, 500))  # 16 MB in memory
    blocks = _Blocks(a)
    payload = pickle.dumps(blocks)
    assert len(payload) < 2048
    assert pickle.loads(payload) is blocks
    del blocks
    gone = pickle.loads(payload)
    assert isinstance(gone, _Unreachable)
    with pytest.raises(RuntimeError, match="in-memory store"):
        gone[0:1, 0:1]
    # plain pickling of the array keeps zarr-python 2's by-value behaviour
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(a))[:5, :5], a[:5, :5])


# ---------------------------------------------------------------------------------------
# pickles are small: where the data is, never the data
# ---------------------------------------------------------------------------------------

BIG = (12_800, 1024)  # float64: 100 MiB
BIG_CHUNKS = (1_280, 1024)


def big_values():
    return np.arange(BIG[0] * BIG[1], dtype="f8").reshape(BIG)


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    pytest.importorskip("redis", reason="the redis package is in czarr's test extra")
    with redis_server(tmp_path_factory.mktemp("redis")) as port:
        yield port


def _store_factories():
    return {
        "directory": lambda tmp, _: DirectoryStore(tmp / "d"),
        "zip": lambda tmp, _: ZipStore(str(tmp / "z.zip"), mode="w"),
        "sqlite": lambda tmp, _: SQLiteStore(str(tmp / "s.db")),
        "lmdb": lambda tmp, _: LMDBStore(str(tmp / "l.lmdb")),
        "fsstore-s3": lambda tmp, req: FSStore(
            f"s3://{req.getfixturevalue('moto_s3').new_bucket()}/big.zarr",
            **req.getfixturevalue("moto_s3").storage_options),
        "redis": lambda tmp, req: RedisStore(
            prefix=f"czarr-{uuid.uuid4().hex}", port=req.getfixturevalue("redis_port")),
    }


@pytest.mark.parametrize("kind", list(_store_factories()))
def test_arrays_groups_and_stores_pickle_small(tmp_path, request, kind):
    store = _store_factories()[kind](tmp_path, request)
    root = czarr.group(store=store)
    a = root.create("big", shape=BIG, chunks=BIG_CHUNKS, dtype="f8")
    values = big_values()
    a[:] = values
    if kind == "zip":
        store.flush()
    for thing in (store, root, a):
        payload = pickle.dumps(thing)
        assert len(payload) < 2048, (kind, type(thing).__name__, len(payload))
    back = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(back[5000:5010, 100:120], values[5000:5010, 100:120])
    assert pickle.loads(pickle.dumps(root))["big"].shape == BIG
    # and through dask: the graph holds the array once, small
    x = czarr.to_dask(a)
    assert len(pickle.dumps(x)) < 64 * 1024
    np.testing.assert_array_equal(x[1280:1290, :5].compute(), values[1280:1290, :5])
    if kind == "redis":
        store.clear()
    close = getattr(store, "close", None)
    if close is not None:
        close()


# ---------------------------------------------------------------------------------------
# dask.distributed: two worker processes
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed", reason="in czarr's test extra")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, host="127.0.0.1")
    try:
        with distributed.Client(cluster) as c:
            yield c
    finally:
        cluster.close()


def _normalise_rows(x):
    return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)


def _expected(values):
    return ((values - values.mean(axis=1, keepdims=True))
            / values.std(axis=1, keepdims=True))


def test_cluster_workers_run_this_czarr(client):
    files = client.run(lambda: __import__("czarr").__file__)
    assert len(files) == 2
    assert set(files.values()) == {czarr.__file__}
    pids = client.run(os.getpid)
    assert os.getpid() not in pids.values()


def test_cluster_reads_and_writes_a_directory_store(client, tmp_path):
    values = data((2000, 500), seed=3)
    stored(tmp_path, values, name="in")
    x = czarr.to_dask(str(tmp_path / "in"))
    y = _normalise_rows(x)
    out = czarr.from_dask(y, str(tmp_path / "out"))
    assert out.chunks == (200, 100)
    np.testing.assert_allclose(czarr.open_array(str(tmp_path / "out"), mode="r")[:],
                               _expected(values), rtol=1e-12, atol=1e-12)


def test_cluster_reads_and_writes_s3(client, moto_s3):  # noqa: F811
    values = data((1200, 300), seed=4)
    url = f"s3://{moto_s3.new_bucket()}/data.zarr"
    opts = moto_s3.storage_options
    czarr.array(values, chunks=(200, 100), store=FSStore(url, **opts))
    x = czarr.to_dask(url, storage_options=opts)
    assert x.chunks == ((200,) * 6, (100,) * 3)
    result = czarr.from_dask(_normalise_rows(x), url + "/result", storage_options=opts,
                             chunks=(100, 100))  # each task writes two whole chunks
    back = czarr.open_array(url + "/result", mode="r", storage_options=opts)
    assert back.chunks == (100, 100) and result.chunks == (100, 100)
    np.testing.assert_allclose(back[:], _expected(values), rtol=1e-12, atol=1e-12)


def test_cluster_refuses_memory_stores(client):
    a = czarr.array(data((100, 10)), chunks=(50, 10))
    with pytest.raises(ValueError, match="in-memory store"):
        czarr.to_dask(a)
    with pytest.raises(ValueError, match="in-memory store"):
        czarr.from_dask(da.zeros((10, 10), chunks=5), MemoryStore())
    # a graph built for threads, computed on the cluster: the task fails, saying why
    with dask.config.set(scheduler="threads"):
        x = czarr.to_dask(a)
    with pytest.raises(RuntimeError, match="in-memory store"):
        x.sum().compute(scheduler=client)
