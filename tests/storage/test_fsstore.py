"""FSStore: the conformance suite over fsspec's memory and local filesystems and over a
real S3 endpoint (moto's server on loopback), then what the cloud adds: URLs and
``storage_options`` through ``czarr.open*``, read-only modes, zarr-python 3 reading and
writing the same bucket, and batched reads that go out concurrently."""

from __future__ import annotations

import asyncio
import functools
import http.server
import inspect
import os
import pickle
import sys
import threading
import time
import uuid

import numcodecs
import numpy as np
import pytest
import zarr

import czarr
from czarr.errors import BadKeyError, MissingDependencyError, ReadOnlyError
from czarr.storage import (
    DirectoryStore,
    FSStore,
    get_partial,
    getsize,
    listdir,
    normalize_store_arg,
    rmdir,
    setitems,
)

from .moto_server import moto_s3  # noqa: F401  (the session fixture)
from .store_tests import NESTED, StoreTests

try:
    import fsspec
except ImportError:  # pragma: no cover - the test extra installs it
    if os.environ.get("CI"):
        raise  # CI runs these tests, never skips them
    pytest.skip("FSStore needs fsspec (pip install 'czarr[test]')", allow_module_level=True)


def memory_url() -> str:
    return f"memory://czarr-{uuid.uuid4().hex}"


def forget_memory(url: str) -> None:
    fs = fsspec.filesystem("memory")
    root = fs._strip_protocol(url)
    if fs.exists(root):
        fs.rm(root, recursive=True)


# ---------------------------------------------------------------------------------------
# the conformance suite, three ways
# ---------------------------------------------------------------------------------------


class TestFSStoreMemory(StoreTests):
    @pytest.fixture
    def create_store(self):
        url = memory_url()
        yield FSStore(url)
        forget_memory(url)  # the memory filesystem is global; the 64 MiB values go

    def reopen(self, store, read_only=False):
        return FSStore(store.url, mode="r" if read_only else "w")


class TestFSStoreLocal(StoreTests):
    @pytest.fixture
    def create_store(self, tmp_path):
        return FSStore(f"file://{tmp_path}/store")

    def reopen(self, store, read_only=False):
        return FSStore(store.url, mode="r" if read_only else "w")


class TestFSStoreS3(StoreTests):
    @pytest.fixture
    def create_store(self, moto_s3):  # noqa: F811
        bucket = moto_s3.new_bucket()
        yield FSStore(f"s3://{bucket}/root.zarr", **moto_s3.storage_options)
        moto_s3.reset()  # moto keeps every value in memory

    def reopen(self, store, read_only=False):
        return FSStore(store.url, mode="r" if read_only else "w", **store.fs.storage_options)


# ---------------------------------------------------------------------------------------
# the constructor, as zarr-python 2.18's
# ---------------------------------------------------------------------------------------


def test_signature_is_zarr_python_2s():
    params = inspect.signature(FSStore).parameters
    assert list(params) == [
        "url", "normalize_keys", "key_separator", "mode", "exceptions", "dimension_separator",
        "fs", "check", "create", "missing_exceptions", "storage_options",
    ]
    defaults = {name: p.default for name, p in params.items()}
    assert defaults["normalize_keys"] is False and defaults["key_separator"] is None
    assert defaults["mode"] == "w"
    assert defaults["exceptions"] == (KeyError, PermissionError, IOError)
    assert defaults["dimension_separator"] is None and defaults["fs"] is None
    assert defaults["check"] is False and defaults["create"] is False
    assert defaults["missing_exceptions"] is None
    assert params["storage_options"].kind is inspect.Parameter.VAR_KEYWORD


def test_attributes_and_fs_argument():
    url = memory_url()
    store = FSStore(url)
    assert store.mode == "w" and not store.read_only
    assert store.key_separator == "." and store._dimension_separator is None
    assert store.path == fsspec.filesystem("memory")._strip_protocol(url)
    assert isinstance(store.map, fsspec.FSMap)
    store["a/b"] = b"1"
    same = FSStore(store.path, fs=store.fs)
    assert same == store and same["a/b"] == b"1"
    with pytest.raises(ValueError, match="storage options"):
        FSStore(store.path, fs=store.fs, anon=True)
    with pytest.raises(ValueError, match="mode"):
        FSStore(url, mode="rw")
    with pytest.raises(ValueError, match="separator"):
        FSStore(url, dimension_separator=":")
    assert FSStore(url, mode="r") != store  # modes differ
    forget_memory(url)


def test_read_only_mode_refuses_every_write():
    url = memory_url()
    FSStore(url).setitems(NESTED)
    ro = FSStore(url, mode="r")
    assert ro.read_only
    for write in [lambda: ro.__setitem__("a", b"x"), lambda: setitems(ro, {"n": b"x"}),
                  lambda: ro.__delitem__("a"), lambda: ro.delitems(["a"]),
                  lambda: rmdir(ro, "b"), lambda: ro.rename("b", "z"), ro.clear]:
        with pytest.raises(ReadOnlyError):
            write()
    assert {k: ro[k] for k in ro} == NESTED
    forget_memory(url)


def test_pickled_store_reads_the_same_data():
    url = memory_url()
    store = FSStore(url, mode="r+", key_separator="/")
    store["x/0.0"] = b"chunk"
    copy = pickle.loads(pickle.dumps(store))
    assert copy == store and copy.key_separator == "/" and copy["x/0.0"] == b"chunk"
    forget_memory(url)


def test_normalize_keys_lower_cases():
    url = memory_url()
    store = FSStore(url, normalize_keys=True)
    store["Foo/BAR"] = b"1"
    assert store["foo/bar"] == b"1" and "FOO/bar" in store
    assert list(store) == ["foo/bar"]
    assert listdir(store, "FOO") == ["bar"]
    forget_memory(url)


def test_nested_separator_stores_dotted_chunk_keys_in_folders():
    url = memory_url()
    store = FSStore(url, key_separator="/")
    store.setitems({"arr/.zarray": b"{}", "arr/0.0": b"a", "arr/1.2": b"b", "arr/x.y": b"c",
                    "arr/7": b"d"})
    fs = store.fs
    assert fs.cat_file(store.path + "/arr/0/0") == b"a"
    assert fs.cat_file(store.path + "/arr/1/2") == b"b"
    assert fs.cat_file(store.path + "/arr/x.y") == b"c"  # not a chunk key: left alone
    assert store["arr/1.2"] == b"b" and store.getitems(["arr/0.0"]) == {"arr/0.0": b"a"}
    # an array's folder lists its chunks by the keys that read them, as zarr-python 2
    assert listdir(store, "arr") == [".zarray", "0.0", "1.2", "7", "x.y"]
    forget_memory(url)


def test_nested_separator_array_round_trip():
    url = memory_url()
    z = czarr.zeros((4, 6), chunks=(2, 3), dtype="i4", store=FSStore(url, key_separator="/"))
    z[:] = np.arange(24).reshape(4, 6)
    assert z.dimension_separator == "/"
    assert sorted(FSStore(url))[:2] == [".zarray", "0/0"]
    again = czarr.open_array(url, mode="r")
    np.testing.assert_array_equal(again[:], np.arange(24).reshape(4, 6))
    assert again.nchunks_initialized == 4
    forget_memory(url)


def test_getitems_raises_errors_that_are_not_missing_keys(monkeypatch):
    url = memory_url()
    store = FSStore(url, exceptions=(KeyError,))
    store["a"] = b"1"

    def broken(path, **kwargs):
        if path.endswith("/boom"):
            raise ConnectionResetError("the network went away")
        return original(path, **kwargs)

    original = store.fs.cat_file
    monkeypatch.setattr(store.fs, "cat_file", broken)
    assert store.getitems(["a", "missing"]) == {"a": b"1"}  # not found is still missing
    with pytest.raises(ConnectionResetError):
        store.getitems(["a", "boom"])
    with pytest.raises(ConnectionResetError):
        store["boom"]
    # zarr-python 2's default counts every OSError as "no such key"
    lenient = FSStore(url)
    assert lenient.getitems(["a", "boom"]) == {"a": b"1"}
    forget_memory(url)


def test_keys_with_glob_characters_are_read_literally():
    url = memory_url()
    store = FSStore(url)
    store.setitems({"a*": b"star", "ab": b"AB", "a?": b"q", "[x]": b"br"})
    assert store.getitems(["a*", "a?", "[x]", "ab"]) == {
        "a*": b"star", "a?": b"q", "[x]": b"br", "ab": b"AB"}
    assert store.getitems(["b*"]) == {}
    forget_memory(url)


def test_missing_fsspec_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'czarr\[s3\]'"):
        FSStore("memory://x")


def test_missing_s3fs_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "s3fs", None)
    for url in ["s3://bucket/x", "simplecache::s3://bucket/x"]:
        with pytest.raises(MissingDependencyError, match=r"s3fs.*pip install 'czarr\[s3\]'"):
            FSStore(url)
        with pytest.raises(MissingDependencyError):
            czarr.open_group(url, mode="r")


def test_chained_url_reads_through_a_cache():
    url = memory_url()
    czarr.array(np.arange(10), chunks=5, store=FSStore(url))
    z = czarr.open_array("simplecache::" + url, mode="r")
    assert isinstance(z.store, FSStore)
    np.testing.assert_array_equal(z[:], np.arange(10))
    forget_memory(url)


# ---------------------------------------------------------------------------------------
# URLs through normalize_store_arg and czarr.open*
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["r", "r+", "a", "w", "w-", "x"])
def test_normalize_store_arg_url_gives_an_fsstore(mode):
    url = memory_url()
    store = normalize_store_arg(url, mode=mode)
    assert isinstance(store, FSStore) and store.mode == mode
    assert store.read_only is (mode == "r")


def test_normalize_store_arg_passes_storage_options():
    url = memory_url()
    store = normalize_store_arg(url, storage_options={"tag": "given"})
    assert isinstance(store, FSStore)
    assert store.fs.storage_options == {"tag": "given"}
    with pytest.raises(ValueError, match="storage_options"):
        normalize_store_arg("/some/path", storage_options={"anon": True})


def test_normalize_store_arg_wraps_fsspec_mappers():
    url = memory_url()
    mapper = fsspec.get_mapper(url)
    store = normalize_store_arg(mapper, mode="r")
    assert isinstance(store, FSStore) and store.read_only
    assert store.fs is mapper.fs and store.path == mapper.root


def test_local_disk_keys_and_folders_cannot_share_names(tmp_path):
    store = FSStore(f"file://{tmp_path}/s")
    store["a/b"] = b"1"
    store["c"] = b"2"
    with pytest.raises(BadKeyError):
        store["a"] = b"x"
    with pytest.raises(BadKeyError):
        store["c/d"] = b"x"
    assert sorted(store) == ["a/b", "c"] and store["c"] == b"2"
    assert sorted(p.name for p in (tmp_path / "s").rglob("*")) == ["a", "b", "c"]  # no temps


def test_local_disk_write_is_atomic_and_a_failure_names_the_key(tmp_path, monkeypatch):
    import errno

    from czarr.errors import StoreWriteError

    store = FSStore(f"file://{tmp_path}/s")
    store["a/k"] = b"old"
    real_pipe = store.fs.pipe_file

    def half_then_full(path, data, **kwargs):  # half the value lands, then the disk is full
        real_pipe(path, data[: len(data) // 2], **kwargs)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store.fs, "pipe_file", half_then_full)
    with pytest.raises(StoreWriteError) as info:
        store["a/k"] = b"new value"
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC and info.value.keys == ("a/k",)
    assert store["a/k"] == b"old"  # the half value went to a temporary file, now removed
    assert sorted(p.name for p in (tmp_path / "s").rglob("*")) == ["a", "k"]


def test_object_store_batch_failure_names_the_keys(monkeypatch):
    import errno

    from czarr.errors import StoreWriteError

    url = memory_url()
    store = FSStore(url)

    def failing(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(store.fs, "pipe", failing)
    monkeypatch.setattr(store.fs, "pipe_file", failing)
    with pytest.raises(StoreWriteError) as info:
        store.setitems({"a": b"1", "b": b"2"})
    assert info.value.errno == errno.EIO and info.value.keys == ("a", "b")
    with pytest.raises(StoreWriteError, match="'c'"):
        store["c"] = b"3"
    forget_memory(url)


def test_getitems_accepts_zarr_python_2s_contexts():
    url = memory_url()
    store = FSStore(url)
    store["k"] = b"v"
    assert store.getitems(["k"], contexts={"k": {}}) == {"k": b"v"}
    forget_memory(url)


def test_file_urls_are_fsstores_over_the_local_folder(tmp_path):
    g = czarr.open_group(f"file://{tmp_path}/g.zarr", mode="w")
    assert isinstance(g.store, FSStore)
    g.array("x", np.arange(6), chunks=3)
    # the very files a DirectoryStore reads
    direct = czarr.open_group(DirectoryStore(tmp_path / "g.zarr"), mode="r")
    np.testing.assert_array_equal(direct["x"][:], np.arange(6))
    assert sorted(p.name for p in (tmp_path / "g.zarr" / "x").iterdir()) == [
        ".zarray", "0", "1"]


def test_open_functions_take_storage_options():
    url = memory_url()
    options = {"tag": uuid.uuid4().hex}
    g = czarr.group(url, storage_options=options)
    assert g.store.fs.storage_options == options
    g.zeros("z", shape=(4,), chunks=2)
    a = czarr.open_array(url, mode="r", path="z", storage_options=options)
    assert a.store.fs.storage_options == options and a.read_only
    assert czarr.open_group(url, mode="r", storage_options=options).store.read_only
    node = czarr.open(url, mode="r", path="z", storage_options=options)
    assert isinstance(node, czarr.Array) and node.store.fs.storage_options == options
    with pytest.raises(ReadOnlyError):
        node[:] = 1
    forget_memory(url)


# ---------------------------------------------------------------------------------------
# HTTP: read-only
# ---------------------------------------------------------------------------------------


@pytest.fixture
def http_root(tmp_path):
    """``tmp_path`` served over HTTP on loopback."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_reads_a_group_and_refuses_writes(http_root):
    folder, base = http_root
    g = czarr.open_group(DirectoryStore(folder / "g.zarr"), mode="w")
    g.attrs["title"] = "served"
    g.array("x", np.arange(20, dtype="i2"), chunks=6)
    store = FSStore(base + "/g.zarr")
    assert store.read_only  # HTTP has no writes, whatever the mode
    r = czarr.open_group(base + "/g.zarr", mode="r")
    assert isinstance(r.store, FSStore) and r.attrs["title"] == "served"
    np.testing.assert_array_equal(r["x"][:], np.arange(20, dtype="i2"))
    assert r["x"][3:14].tolist() == list(range(3, 14))
    assert store.getitems(["x/0", "x/3", "x/9"]).keys() == {"x/0", "x/3"}
    meta = (folder / "g.zarr" / "x" / ".zarray").read_bytes()
    # http.server ignores Range headers: the store cuts the range out itself
    assert get_partial(store, "x/.zarray", 0, 1) == b"{"
    assert get_partial(store, "x/.zarray", 5, 7) == meta[5:12]
    assert get_partial(store, "x/.zarray", 5) == meta[5:]
    assert get_partial(store, "x/.zarray", -3) == meta[-3:]
    assert get_partial(store, "x/.zarray", len(meta) + 2, 4) == b""
    with pytest.raises(ReadOnlyError):
        store["x/0"] = b"no"
    with pytest.raises(ReadOnlyError):
        r["x"][:] = 0


# ---------------------------------------------------------------------------------------
# S3: groups, zarr-python 3, concurrency
# ---------------------------------------------------------------------------------------


@pytest.fixture
def s3_url(moto_s3):  # noqa: F811
    yield f"s3://{moto_s3.new_bucket()}/data.zarr", moto_s3.storage_options
    moto_s3.reset()


def test_s3_group_write_read_list_delete(s3_url):
    url, options = s3_url
    g = czarr.open_group(url, mode="w", storage_options=options)
    g.attrs["owner"] = "czarr"
    a = g.array("a", np.arange(100, dtype="f8").reshape(10, 10), chunks=(4, 4))
    sub = g.create_group("sub")
    b = sub.zeros("b", shape=(7,), chunks=(3,), dtype="u2", write_empty_chunks=False)
    b[2:6] = 9
    assert a.nchunks_initialized == 9

    r = czarr.open_group(url, mode="r", storage_options=options)
    assert r.attrs["owner"] == "czarr"
    assert sorted(r.array_keys()) == ["a"] and sorted(r.group_keys()) == ["sub"]
    np.testing.assert_array_equal(r["a"][:], np.arange(100, dtype="f8").reshape(10, 10))
    np.testing.assert_array_equal(r["sub/b"][:], [0, 0, 9, 9, 9, 9, 0])
    assert listdir(r.store, "sub/b") == [".zarray", "0", "1"]
    assert getsize(r.store, "a") > 0
    with pytest.raises(ReadOnlyError):
        r["a"][0, 0] = 1

    del g["a"]
    assert "a" not in g and sorted(g) == ["sub"]
    fs = fsspec.filesystem("s3", **options)
    assert fs.find(url.removeprefix("s3://") + "/a") == []
    b[:] = 0  # chunks of fill values are removed, not stored
    assert listdir(g.store, "sub/b") == [".zarray"]


def test_zarr_python_3_reads_what_czarr_wrote_to_s3(s3_url):
    url, options = s3_url
    data = np.random.default_rng(1).random((30, 20)).astype("f4")
    g = czarr.open_group(url, mode="w", storage_options=options)
    g.array("x", data, chunks=(8, 8), compressor=czarr.Blosc(cname="lz4"))
    g.create_group("inner").attrs["k"] = [1, 2]
    z = zarr.open_group(url, mode="r", storage_options=options, zarr_format=2)
    np.testing.assert_array_equal(z["x"][:], data)
    assert dict(z["inner"].attrs) == {"k": [1, 2]}


def test_czarr_reads_what_zarr_python_3_wrote_to_s3(s3_url):
    url, options = s3_url
    data = np.arange(600, dtype="<i8").reshape(20, 30)
    z = zarr.open_group(url, mode="w", storage_options=options, zarr_format=2)
    arr = z.create_array("y", shape=data.shape, chunks=(7, 9), dtype=data.dtype,
                         compressors=numcodecs.Blosc(cname="zstd"), fill_value=-1)
    arr[:] = data
    z.create_group("g").attrs["made_by"] = "zarr-python 3"
    g = czarr.open_group(url, mode="r", storage_options=options)
    np.testing.assert_array_equal(g["y"][:], data)
    np.testing.assert_array_equal(g["y"][5:13, 2:29], data[5:13, 2:29])
    assert g["g"].attrs["made_by"] == "zarr-python 3"
    assert sorted(g) == ["g", "y"]


class _InFlight:
    """Wraps an async filesystem's ``_cat_file`` to record how many reads overlap."""

    def __init__(self, fs, monkeypatch, delay=0.05):
        self.now = self.most = self.reads = self.cat_calls = 0
        self.batches = []
        original = fs._cat_file
        original_cat = fs.cat

        async def cat_file(path, *args, **kwargs):
            self.reads += 1
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                await asyncio.sleep(delay)  # a round trip's worth of latency
                return await original(path, *args, **kwargs)
            finally:
                self.now -= 1

        def cat(paths, *args, **kwargs):
            self.cat_calls += 1
            self.batches.append(len(paths) if isinstance(paths, list) else 1)
            return original_cat(paths, *args, **kwargs)

        monkeypatch.setattr(fs, "_cat_file", cat_file)
        monkeypatch.setattr(fs, "cat", cat)


def test_getitems_sends_a_batch_concurrently(s3_url, monkeypatch):
    url, options = s3_url
    z = czarr.open_array(url, mode="w", shape=(64, 64), chunks=(16, 16), dtype="u1",
                         storage_options=options)
    z[:] = 7
    store = z.store
    keys = [f"{i}.{j}" for i in range(4) for j in range(4)]
    probe = _InFlight(store.fs, monkeypatch)
    start = time.perf_counter()
    got = store.getitems(keys + ["9.9"])
    elapsed = time.perf_counter() - start
    assert sorted(got) == sorted(keys)
    assert probe.cat_calls == 1 and probe.batches == [17]
    assert probe.reads == 17 and probe.most == 17  # all in flight at once
    assert elapsed < 17 * 0.05 / 2  # far from one round trip after another


@pytest.mark.parametrize("threads", [1, 2])
def test_array_read_of_16_chunks_is_one_concurrent_batch(s3_url, monkeypatch, threads):
    url, options = s3_url
    z = czarr.open_array(url, mode="w", shape=(64, 64), chunks=(16, 16), dtype="u1",
                         storage_options=options)
    z[:] = np.arange(64 * 64).reshape(64, 64) % 251
    r = czarr.open_array(url, mode="r", storage_options=options)
    assert r.store.fetches_concurrently
    probe = _InFlight(r.store.fs, monkeypatch)
    with czarr.config.set(threads=threads):
        np.testing.assert_array_equal(r[:], np.arange(64 * 64).reshape(64, 64) % 251)
    assert probe.batches == [16] and probe.most == 16


def test_engine_gives_concurrent_stores_large_batches():
    from czarr.engine import _CONCURRENT_BATCH, _batches

    with czarr.config.set(threads=2):
        assert len(_batches(16)[0]) == 8  # a local store: small batches keep threads busy
        assert _batches(16, _CONCURRENT_BATCH) == ([(0, 16)], 1)  # all 16 requests at once
        batches, threads = _batches(256, _CONCURRENT_BATCH)
        assert threads == 2 and [hi - lo for lo, hi in batches] == [32] * 8
        assert _batches(70, _CONCURRENT_BATCH) == ([(0, 35), (35, 70)], 2)


def test_each_chunk_is_one_request(s3_url, monkeypatch):
    """s3fs asks for the size before a whole-object read unless told not to split it."""
    url, options = s3_url
    z = czarr.open_array(url, mode="w", shape=(8, 8), chunks=(4, 4), dtype="f8",
                         storage_options=options)
    z[:] = 1.5
    calls = []
    original = z.store.fs._call_s3

    async def call_s3(method, *args, **kwargs):
        calls.append(method)
        return await original(method, *args, **kwargs)

    monkeypatch.setattr(z.store.fs, "_call_s3", call_s3)
    assert z.store.getitems(["0.0", "0.1", "1.1", "9.9"]).keys() == {"0.0", "0.1", "1.1"}
    assert calls == ["get_object"] * 4
    calls.clear()
    assert len(z.store["1.0"]) > 0 and calls == ["get_object"]
    calls.clear()
    z[:4, :4] = 2.5  # a whole chunk: one PUT, nothing read
    assert calls == ["put_object"]


def test_batch_size_bounds_the_requests_in_flight(s3_url, monkeypatch):
    url, options = s3_url
    z = czarr.open_array(url, mode="w", shape=(64, 64), chunks=(16, 16), dtype="u1",
                         storage_options=options)
    z[:] = 3
    # a storage option FSStore keeps for itself (s3fs would refuse it)
    limited = czarr.open_array(url, mode="r", storage_options={**options, "batch_size": 4})
    assert limited.store.batch_size == 4 and "batch_size" not in limited.store.fs.storage_options
    probe = _InFlight(limited.store.fs, monkeypatch)
    assert (limited[:] == 3).all()
    assert probe.reads == 16 and probe.most == 4
    writer = FSStore(url, batch_size=2, **options)
    pipe = _Recorder(writer.fs.pipe)
    monkeypatch.setattr(writer.fs, "pipe", pipe)
    writer.setitems({"x/a": b"1", "x/b": b"2", "x/c": b"3"})
    assert pipe.kwargs[-1] == {"batch_size": 2}
    assert writer.getitems(["x/a", "x/b", "x/c"]) == {"x/a": b"1", "x/b": b"2", "x/c": b"3"}
    with pytest.raises(ValueError, match="batch_size"):
        FSStore(url, batch_size=0, **options)


class _Recorder:
    def __init__(self, fn):
        self.fn, self.kwargs = fn, []

    def __call__(self, *args, **kwargs):
        self.kwargs.append(kwargs)
        return self.fn(*args, **kwargs)
