"""RedisStore against a real redis-server (started by the ``redis_port`` fixture): the
conformance suite, the Redis key layout of zarr-python 2.18's RedisStore, bulk operations
that are single round trips, and a czarr hierarchy written and read back."""

from __future__ import annotations

import os
import pickle
import sys
import time
import uuid

import numpy as np
import pytest

import czarr
from czarr.errors import MissingDependencyError, ReadOnlyError
from czarr.storage import (
    delitems,
    get_partial,
    getitems,
    getsize,
    listdir,
    rename,
    rmdir,
    setitems,
)

from .store_tests import StoreTests

if os.environ.get("CI"):  # the test extra installs it: never skip there
    import redis
else:
    redis = pytest.importorskip("redis", reason="the redis package is in czarr's test extra")
from czarr.storage import RedisStore  # noqa: E402


@pytest.fixture
def server(redis_port):
    """A redis-py client of the test server; the database is emptied after each test."""
    client = redis.Redis(port=redis_port)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def prefix():
    return f"czarr-test-{uuid.uuid4().hex[:8]}"


class TestRedisStore(StoreTests):
    @pytest.fixture
    def create_store(self, server, redis_port, prefix):
        store = RedisStore(prefix, port=redis_port)
        yield store
        store.close()

    def reopen(self, store, read_only=False):
        return RedisStore(store.prefix, port=store.client.connection_pool.connection_kwargs[
            "port"], read_only=read_only)


# ---------------------------------------------------------------------------------------
# the layout zarr-python 2 reads and writes
# ---------------------------------------------------------------------------------------

# What zarr-python 2.18.7's RedisStore(port=...) holds after
#   g = zarr.group(store); g.create_dataset('foo', shape=(4,), chunks=(2,), dtype='i4')[:] = ...
#   g.attrs['x'] = 1
#   g.create_group('sub').create_dataset('bar', shape=(2, 2), chunks=(1, 2), dtype='u1',
#                                        dimension_separator='/')[:] = 1
# (observed once with redis-py's KEYS against a redis-server).
ZARR2_REDIS_KEYS = [
    b"zarr:.zattrs", b"zarr:.zgroup", b"zarr:foo/.zarray", b"zarr:foo/0", b"zarr:foo/1",
    b"zarr:sub/.zgroup", b"zarr:sub/bar/.zarray", b"zarr:sub/bar/0/0", b"zarr:sub/bar/1/0",
]
ZARR2_ZGROUP = b'{\n    "zarr_format": 2\n}'


def test_writes_the_redis_keys_zarr_python_2_writes(server, redis_port):
    store = RedisStore(port=redis_port)  # default prefix 'zarr', as zarr-python 2's
    g = czarr.group(store=store)
    g.create_dataset("foo", shape=(4,), chunks=(2,), dtype="i4")[:] = np.arange(4)
    g.attrs["x"] = 1
    g.create_group("sub").create_dataset(
        "bar", shape=(2, 2), chunks=(1, 2), dtype="u1", dimension_separator="/")[:] = 1
    assert sorted(server.keys("*")) == ZARR2_REDIS_KEYS
    assert server.get("zarr:.zgroup") == ZARR2_ZGROUP
    store.close()


def test_reads_values_stored_under_zarr_python_2_keys(server, redis_port):
    """Bytes put straight into Redis under zarr-python 2's keys read back as an array."""
    chunk = np.arange(3, dtype="<i4").tobytes()
    zarray = (b'{"chunks": [3], "compressor": null, "dtype": "<i4", "fill_value": 7, '
              b'"filters": null, "order": "C", "shape": [5], "zarr_format": 2}')
    server.set("zarr:.zgroup", ZARR2_ZGROUP)
    server.set("zarr:a/.zarray", zarray)
    server.set("zarr:a/0", chunk)  # the second chunk was never written
    store = RedisStore(port=redis_port)
    arr = czarr.open_group(store, mode="r")["a"]
    np.testing.assert_array_equal(arr[:], [0, 1, 2, 7, 7])
    assert listdir(store) == [".zgroup", "a"]
    store.close()


def test_hierarchy_round_trip_through_a_new_store_object(server, redis_port, prefix):
    rng = np.random.default_rng(42)
    temps = rng.normal(size=(40, 30)).astype("<f4")
    counts = rng.integers(0, 1000, size=(1000,), dtype="<i8")
    with RedisStore(prefix, port=redis_port) as store:
        root = czarr.group(store=store)
        root.attrs.update(title="run 7", tags=["a", "b"])
        grid = root.create_group("grid")
        grid.attrs["units"] = "K"
        grid.create_dataset("temps", data=temps, chunks=(16, 16), compressor=None)
        grid.create_dataset("counts", data=counts, chunks=(128,),
                            compressor=czarr.Blosc(cname="zstd", clevel=3))

    again = RedisStore(prefix, port=redis_port)
    root = czarr.open_group(again, mode="r")
    assert root.attrs.asdict() == {"title": "run 7", "tags": ["a", "b"]}
    assert root["grid"].attrs["units"] == "K"
    assert sorted(root["grid"].array_keys()) == ["counts", "temps"]
    np.testing.assert_array_equal(root["grid/temps"][:], temps)
    np.testing.assert_array_equal(root["grid/counts"][:], counts)
    assert root["grid/temps"].compressor is None
    assert root["grid/counts"].compressor.get_config()["cname"] == "zstd"
    # the compressed chunks are smaller than the raw ones, and every chunk is a Redis key
    assert getsize(again, "grid/counts") < counts.nbytes
    assert len(server.keys(f"{prefix}:grid/temps/*")) == 3 * 2 + 1  # 6 chunks + .zarray
    again.close()


def test_dimension_separator_of_the_store_is_the_default_for_new_arrays(server, redis_port):
    store = RedisStore("nested", "/", port=redis_port)
    czarr.zeros((4, 4), chunks=(2, 2), store=store, dtype="u1")[:] = 1
    assert listdir(store) == [".zarray", "0", "1"]
    assert sorted(k for k in store if not k.startswith(".")) == ["0/0", "0/1", "1/0", "1/1"]
    store.close()


# ---------------------------------------------------------------------------------------
# prefixes and glob characters
# ---------------------------------------------------------------------------------------


def test_prefixes_separate_stores(server, redis_port):
    a = RedisStore("a", port=redis_port)
    ab = RedisStore("ab", port=redis_port)
    a["k"] = b"1"
    ab["k"] = b"2"
    assert list(a) == ["k"] and list(ab) == ["k"]
    assert a["k"] == b"1" and ab["k"] == b"2"
    a.clear()
    assert len(a) == 0 and ab["k"] == b"2"


@pytest.mark.parametrize("glob_prefix", ["p*", "p?", "p[1]", "p\\x", "p[!a]"])
def test_glob_characters_in_the_prefix_are_literal(server, redis_port, glob_prefix):
    store = RedisStore(glob_prefix, port=redis_port)
    neighbours = ["p1:k", "px:k", "pa:k", "p\\\\x:k", "p:k"]
    for key in neighbours:
        server.set(key, b"not mine")
    store["k/x"] = b"mine"
    assert list(store) == ["k/x"]
    assert listdir(store) == ["k"] and getsize(store) == 4
    rmdir(store)
    assert sorted(server.keys("*")) == sorted(k.encode() for k in neighbours)


def test_glob_characters_in_keys_are_literal(server, redis_port, prefix):
    store = RedisStore(prefix, port=redis_port)
    setitems(store, {"x[1]/a": b"1", "x1/b": b"22", "x*/c": b"333", "x?/d": b"4444"})
    assert listdir(store, "x[1]") == ["a"]
    assert listdir(store, "x*") == ["c"]
    assert getsize(store, "x?") == 4
    rmdir(store, "x*")
    assert sorted(store) == ["x1/b", "x?/d", "x[1]/a"]


# ---------------------------------------------------------------------------------------
# bulk operations are single round trips
# ---------------------------------------------------------------------------------------


def command_calls(server) -> dict[str, int]:
    """Calls per command since the last CONFIG RESETSTAT, from INFO commandstats."""
    stats = server.info("commandstats")
    return {name[len("cmdstat_"):]: s["calls"] for name, s in stats.items()}


def test_bulk_operations_are_batched_commands(server, redis_port, prefix):
    store = RedisStore(prefix, port=redis_port)
    values = {f"arr/{i}": bytes([i % 256]) * 10 for i in range(2500)}
    server.config_resetstat()
    setitems(store, values)
    calls = command_calls(server)
    assert calls.get("mset") == 3 and calls.get("multi") == 1 and calls.get("exec") == 1
    assert "set" not in calls

    server.config_resetstat()
    got = getitems(store, [*values, "arr/missing"])
    assert got == values
    calls = command_calls(server)
    assert calls.get("mget") == 3 and "get" not in calls

    server.config_resetstat()
    delitems(store, [f"arr/{i}" for i in range(500)])
    assert command_calls(server).get("del") == 1
    assert len(store) == 2000

    server.config_resetstat()
    rmdir(store, "arr")
    calls = command_calls(server)
    assert calls.get("del") == 2 and "keys" not in calls and calls.get("scan", 0) >= 1
    assert len(store) == 0


def test_setitems_checks_every_value_before_writing(server, redis_port, prefix):
    store = RedisStore(prefix, port=redis_port)
    with pytest.raises(TypeError):
        setitems(store, {"a": b"1", "b": "text"})
    with pytest.raises(ValueError):
        setitems(store, {"a": b"1", "b": np.arange(10)[::2]})
    assert len(store) == 0


def test_get_partial_reads_a_range_server_side(server, redis_port, prefix):
    store = RedisStore(prefix, port=redis_port)
    store["k"] = bytes(range(256)) * 64
    server.config_resetstat()
    assert get_partial(store, "k", 1000, 4) == bytes([232, 233, 234, 235])
    assert "get" not in command_calls(server)
    assert get_partial(store, "k", -3) == bytes([253, 254, 255])


def test_rename_moves_keys_with_redis_rename(server, redis_port, prefix):
    store = RedisStore(prefix, port=redis_port)
    setitems(store, {"src/a": b"1", "src/b/c": b"2"})
    server.config_resetstat()
    rename(store, "src", "dst")
    assert command_calls(server).get("rename") == 2
    assert sorted(store) == ["dst/a", "dst/b/c"]


# ---------------------------------------------------------------------------------------
# the store object: pickling, closing, options, missing package
# ---------------------------------------------------------------------------------------


def test_pickles_by_connection_parameters_not_data(server, redis_port, prefix):
    store = RedisStore(prefix, port=redis_port, db=0)
    store["big"] = bytes(1 << 20)
    payload = pickle.dumps(store)
    assert len(payload) < 1000
    copy = pickle.loads(payload)
    assert copy == store and copy.prefix == prefix
    assert copy.client.connection_pool.connection_kwargs["port"] == redis_port
    assert copy["big"] == bytes(1 << 20)
    assert copy != RedisStore(prefix + "x", port=redis_port)
    assert copy != RedisStore(prefix, port=redis_port, db=1)
    ro = pickle.loads(pickle.dumps(RedisStore(prefix, port=redis_port, read_only=True)))
    assert ro.read_only
    with pytest.raises(ReadOnlyError):
        ro["x"] = b"1"


def test_close_releases_the_connections(server, redis_port, prefix):
    def client_count(expected=None):
        # the server sees a closed socket a moment later
        for _ in range(100):
            n = len(server.client_list())
            if expected is None or n == expected:
                break
            time.sleep(0.02)
        return n

    before = client_count()
    store = RedisStore(prefix, port=redis_port)
    store["a"] = b"1"
    assert client_count(before + 1) == before + 1
    store.close()
    assert client_count(before) == before
    assert store["a"] == b"1"  # a closed store reconnects when used again
    store.close()
    assert client_count(before) == before
    with RedisStore(prefix, port=redis_port) as store:
        assert store["a"] == b"1"
    assert client_count(before) == before


def test_read_only_store_reads(server, redis_port, prefix):
    RedisStore(prefix, port=redis_port)["a/b"] = b"1"
    ro = RedisStore(prefix, port=redis_port, read_only=True)
    assert ro["a/b"] == b"1" and listdir(ro, "a") == ["b"] and getsize(ro) == 1
    with pytest.raises(ReadOnlyError, match="read-only"):
        ro["a/b"] = b"2"
    with pytest.raises(ReadOnlyError):
        czarr.zeros(3, store=ro)


def test_decode_responses_is_refused():
    with pytest.raises(ValueError, match="decode_responses"):
        RedisStore(decode_responses=True)


def test_prefix_must_be_a_str():
    with pytest.raises(TypeError, match="prefix"):
        RedisStore(b"zarr")


def test_missing_redis_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # `import redis` now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"czarr\[redis\]"):
        RedisStore()
