"""ABSStore, in two kinds of tests that must not be confused.

**Against a real Azure Blob service** (``TestABSStoreRealService``,
``test_real_service_*``): the conformance suite, the blob names and a czarr hierarchy
round trip through azure-storage-blob's real ``ContainerClient``. They run when the
environment variable ``CZARR_TEST_AZURE_CONNECTION_STRING`` holds a connection string
(each test makes and deletes a container of its own), or when Azurite (``azurite-blob``
or ``azurite``) is on PATH, which a session fixture then starts on 127.0.0.1. Azurite is
an npm package, in neither PyPI nor Debian, and no Python package implements the Blob
REST API, so on this project's machines these tests are skipped with the reason
"no Azure Blob service reachable (Azurite is not in PyPI/Debian)".

**Store logic with a fake container client** (every test whose name contains
``with_fake_container``): ``tests/storage/fake_azure.py`` is an in-process FAKE of the
``ContainerClient`` object, a dict behind the client methods the store calls, NOT the
Blob service. These tests check the store's own logic: the blob names zarr-python 2.18's
ABSStore uses, batching, ranges, errors, pickling, the deprecated arguments. They say
nothing about how the real service answers.
"""

from __future__ import annotations

import inspect
import os
import pickle
import shutil
import sys
import uuid
import warnings

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

from .servers import azurite_server
from .store_tests import StoreTests

if os.environ.get("CI"):  # the test extra installs it: never skip there
    import azure.storage.blob as azure_blob
else:
    azure_blob = pytest.importorskip(
        "azure.storage.blob", reason="azure-storage-blob is in czarr's test extra")
from azure.core.exceptions import HttpResponseError  # noqa: E402

from czarr.storage import ABSStore  # noqa: E402

from .fake_azure import FakeContainerClient, _FakeBlobClient, reset_fake_service  # noqa: E402

NO_SERVICE = "no Azure Blob service reachable (Azurite is not in PyPI/Debian)"
ACCOUNT_URL = "https://fakeaccount.blob.core.windows.net"

# The blobs zarr-python 2.18.7's ABSStore(prefix='data/example.zarr', client=c) holds after
#   g = zarr.group(store); g.create_dataset('foo', shape=(4,), chunks=(2,), dtype='i4')[:] = ...
#   g.attrs['x'] = 1
#   g.create_group('sub').create_dataset('bar', shape=(2, 2), chunks=(1, 2), dtype='u1',
#                                        dimension_separator='/')[:] = 1
# (its source names blob prefix + '/' + key; observed once, with the fake client below).
ZARR2_BLOBS = [
    "data/example.zarr/.zattrs", "data/example.zarr/.zgroup", "data/example.zarr/foo/.zarray",
    "data/example.zarr/foo/0", "data/example.zarr/foo/1", "data/example.zarr/sub/.zgroup",
    "data/example.zarr/sub/bar/.zarray", "data/example.zarr/sub/bar/0/0",
    "data/example.zarr/sub/bar/1/0",
]
ZARR2_ZGROUP = b'{\n    "zarr_format": 2\n}'


def write_example(store):
    """The hierarchy of ZARR2_BLOBS, written by czarr."""
    g = czarr.group(store=store)
    g.create_dataset("foo", shape=(4,), chunks=(2,), dtype="i4")[:] = np.arange(4)
    g.attrs["x"] = 1
    g.create_group("sub").create_dataset(
        "bar", shape=(2, 2), chunks=(1, 2), dtype="u1", dimension_separator="/")[:] = 1


def write_hierarchy(store):
    """A group with attributes holding two arrays, one of them compressed."""
    rng = np.random.default_rng(7)
    temps = rng.normal(size=(40, 30)).astype("<f4")
    counts = rng.integers(0, 1000, size=(1000,), dtype="<i8")
    root = czarr.group(store=store)
    root.attrs.update(title="run 7", tags=["a", "b"])
    grid = root.create_group("grid")
    grid.attrs["units"] = "K"
    grid.create_dataset("temps", data=temps, chunks=(16, 16), compressor=None)
    grid.create_dataset("counts", data=counts, chunks=(128,),
                        compressor=czarr.Blosc(cname="zstd", clevel=3))
    return temps, counts


def check_hierarchy(store, temps, counts):
    root = czarr.open_group(store, mode="r")
    assert root.attrs.asdict() == {"title": "run 7", "tags": ["a", "b"]}
    assert root["grid"].attrs["units"] == "K"
    assert sorted(root["grid"].array_keys()) == ["counts", "temps"]
    np.testing.assert_array_equal(root["grid/temps"][:], temps)
    np.testing.assert_array_equal(root["grid/counts"][:], counts)
    assert root["grid/temps"].compressor is None
    assert root["grid/counts"].compressor.get_config()["cname"] == "zstd"
    assert getsize(store, "grid/counts") < counts.nbytes


# ---------------------------------------------------------------------------------------
# against a real Blob service (skipped without one: Azurite is not in PyPI or Debian)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def azure_connection_string(tmp_path_factory):
    """A connection string of a real Blob service: the environment's, or Azurite's."""
    given = os.environ.get("CZARR_TEST_AZURE_CONNECTION_STRING")
    if given:
        yield given
        return
    exe = shutil.which("azurite-blob") or shutil.which("azurite")
    if exe is None:
        pytest.skip(NO_SERVICE)
    with azurite_server(tmp_path_factory.mktemp("azurite"), exe) as connection_string:
        yield connection_string


@pytest.fixture
def real_container(azure_connection_string):
    """A new container of the real service (deleted afterwards): its name."""
    name = f"czarr-test-{uuid.uuid4().hex[:12]}"
    client = azure_blob.ContainerClient.from_connection_string(azure_connection_string, name)
    client.create_container()
    yield name
    client.delete_container()
    client.close()


def real_client(connection_string, name):
    return azure_blob.ContainerClient.from_connection_string(connection_string, name)


class TestABSStoreRealService(StoreTests):
    @pytest.fixture
    def create_store(self, azure_connection_string, real_container):
        client = real_client(azure_connection_string, real_container)
        store = ABSStore(prefix="tests/run", client=client)
        store.connection_string = azure_connection_string  # for reopen
        yield store
        store.close()
        client.close()

    def reopen(self, store, read_only=False):
        client = real_client(store.connection_string, store.client.container_name)
        again = ABSStore(prefix=store.prefix, client=client, read_only=read_only)
        again.connection_string = store.connection_string
        return again


def test_real_service_blob_names_and_round_trip(azure_connection_string, real_container):
    with real_client(azure_connection_string, real_container) as client:
        write_example(ABSStore(prefix="data/example.zarr", client=client))
        assert sorted(b.name for b in client.list_blobs()) == ZARR2_BLOBS
        assert client.download_blob("data/example.zarr/.zgroup").readall() == ZARR2_ZGROUP
        store = ABSStore(prefix="h", client=client)
        temps, counts = write_hierarchy(store)
    with real_client(azure_connection_string, real_container) as client:
        check_hierarchy(ABSStore(prefix="h", client=client), temps, counts)


def test_real_service_batches_and_ranges(azure_connection_string, real_container):
    with real_client(azure_connection_string, real_container) as client:
        store = ABSStore(client=client)
        values = {f"arr/{i}": bytes([i % 256]) * 10 for i in range(600)}
        setitems(store, values)
        assert getitems(store, [*values, "arr/missing"]) == values
        delitems(store, [*list(values)[:300], "arr/missing"])  # two batch requests
        assert len(store) == 300
        assert get_partial(store, "arr/400", 8) == bytes([400 % 256]) * 2
        assert get_partial(store, "arr/400", 20, 5) == b""  # the service's 416
        assert get_partial(store, "arr/400", -3) == bytes([400 % 256]) * 3
        rmdir(store, "arr")
        assert len(store) == 0


# ---------------------------------------------------------------------------------------
# store logic with a fake ContainerClient (in-process, not the service)
# ---------------------------------------------------------------------------------------


@pytest.fixture
def fake_client():
    """A fake ContainerClient over a new, empty in-memory container."""
    reset_fake_service()
    yield FakeContainerClient(ACCOUNT_URL, "zarr-data")
    reset_fake_service()


def blob_names(client):
    return sorted(client._blobs)


class TestABSStore_with_fake_container(StoreTests):
    prefix = "some/prefix"

    @pytest.fixture
    def create_store(self, fake_client):
        store = ABSStore(prefix=self.prefix, client=fake_client)
        yield store
        store.close()

    def reopen(self, store, read_only=False):
        client = FakeContainerClient(store.client.account_url, store.client.container_name)
        return ABSStore(prefix=store.prefix, client=client, read_only=read_only)


class TestABSStoreAtRoot_with_fake_container(TestABSStore_with_fake_container):
    prefix = ""


def test_writes_the_blob_names_zarr_python_2_writes_with_fake_container(fake_client):
    write_example(ABSStore(prefix="data/example.zarr", client=fake_client))
    assert blob_names(fake_client) == ZARR2_BLOBS
    assert fake_client._blobs["data/example.zarr/.zgroup"][0] == ZARR2_ZGROUP
    reset_fake_service()
    root = FakeContainerClient(ACCOUNT_URL, "zarr-data")
    write_example(ABSStore(client=root))  # no prefix: the keys are the blob names
    assert blob_names(root) == [name[len("data/example.zarr/"):] for name in ZARR2_BLOBS]


def test_reads_blobs_under_zarr_python_2_names_with_fake_container(fake_client):
    zarray = (b'{"chunks": [3], "compressor": null, "dtype": "<i4", "fill_value": 7, '
              b'"filters": null, "order": "C", "shape": [5], "zarr_format": 2}')
    fake_client.upload_blob("p/.zgroup", ZARR2_ZGROUP)
    fake_client.upload_blob("p/a/.zarray", zarray)
    fake_client.upload_blob("p/a/0", np.arange(3, dtype="<i4").tobytes())
    fake_client.upload_blob("pp/.zgroup", ZARR2_ZGROUP)  # a neighbour sharing the prefix
    store = ABSStore(prefix="p", client=fake_client)
    np.testing.assert_array_equal(czarr.open_group(store, mode="r")["a"][:], [0, 1, 2, 7, 7])
    assert listdir(store) == [".zgroup", "a"]
    assert sorted(store) == [".zgroup", "a/.zarray", "a/0"]


def test_hierarchy_round_trip_through_a_new_store_with_fake_container(fake_client):
    with ABSStore(prefix="runs/7.zarr", client=fake_client) as store:
        temps, counts = write_hierarchy(store)
    again = ABSStore(prefix="runs/7.zarr",
                     client=FakeContainerClient(ACCOUNT_URL, "zarr-data"))
    check_hierarchy(again, temps, counts)
    chunks = [n for n in blob_names(fake_client) if n.startswith("runs/7.zarr/grid/temps/")]
    assert len(chunks) == 3 * 2 + 1  # 6 chunks + .zarray


def test_store_dimension_separator_with_fake_container(fake_client):
    store = ABSStore(prefix="n", dimension_separator="/", client=fake_client)
    czarr.zeros((4, 4), chunks=(2, 2), store=store, dtype="u1")[:] = 1
    assert listdir(store) == [".zarray", "0", "1"]
    assert blob_names(fake_client) == ["n/.zarray", "n/0/0", "n/0/1", "n/1/0", "n/1/1"]
    with pytest.raises(ValueError, match="dimension_separator"):
        ABSStore(dimension_separator="-", client=fake_client)


def test_prefix_is_normalized_and_separates_stores_with_fake_container(fake_client):
    a = ABSStore(prefix="/a//b/", client=fake_client)
    assert a.prefix == "a/b"
    ab = ABSStore(prefix="a/bb", client=fake_client)
    a["k"] = b"1"
    ab["k"] = b"2"
    fake_client.upload_blob("elsewhere", b"x")
    assert blob_names(fake_client) == ["a/b/k", "a/bb/k", "elsewhere"]
    assert list(a) == ["k"] and list(ab) == ["k"] and a["k"] == b"1"
    a.clear()
    assert blob_names(fake_client) == ["a/bb/k", "elsewhere"]
    with pytest.raises(TypeError, match="prefix"):
        ABSStore(prefix=b"a", client=fake_client)
    with pytest.raises(czarr.errors.BadKeyError):
        ABSStore(prefix="a/../..", client=fake_client)


def test_delete_uses_batches_of_256_with_fake_container(fake_client):
    store = ABSStore(prefix="p", client=fake_client)
    setitems(store, {f"arr/{i}": b"x" for i in range(600)})
    fake_client.calls.clear()
    delitems(store, [f"arr/{i}" for i in range(300)] + ["arr/missing", "arr/missing"])
    assert fake_client.calls["delete_blobs"] == 2 and fake_client.calls["delete_blob"] == 0
    assert len(store) == 300
    fake_client.calls.clear()
    rmdir(store, "arr")
    assert fake_client.calls["delete_blobs"] == 2  # 300 blobs, listed once
    assert fake_client.calls["list_blobs"] == 1
    assert len(store) == 0
    fake_client.calls.clear()
    delitems(store, [])
    rmdir(store, "nothing")
    assert fake_client.calls["delete_blobs"] == 0


def test_a_failed_deletion_in_a_batch_raises_with_fake_container(fake_client, monkeypatch):
    from types import SimpleNamespace

    store = ABSStore(client=fake_client)
    setitems(store, {"a": b"1", "b": b"2"})
    monkeypatch.setattr(fake_client, "delete_blobs", lambda *names, **kw: iter(
        [SimpleNamespace(status_code=202, reason="Accepted"),
         SimpleNamespace(status_code=403, reason="AuthorizationPermissionMismatch")]))
    with pytest.raises(HttpResponseError, match="403"):
        delitems(store, ["a", "b"])


def test_getitems_runs_batch_size_downloads_at_once_with_fake_container(fake_client):
    store = ABSStore(client=fake_client, batch_size=4)
    values = {f"c/{i}": bytes([i]) * 100 for i in range(24)}
    setitems(store, values)
    assert fake_client.calls["upload_blob"] == 24
    fake_client.download_delay = 0.02
    assert getitems(store, [*values, "c/missing", "c/0"]) == values
    assert fake_client.calls["download_blob"] == 25  # each key once, the missing one too
    assert 1 < fake_client.peak_in_flight <= 4
    assert store.fetches_concurrently
    store.close()
    assert store._pool is None and not fake_client.closed  # the caller's client stays open
    assert getitems(store, ["c/1"]) == {"c/1": values["c/1"]}  # usable again
    with pytest.raises(ValueError, match="batch_size"):
        ABSStore(client=fake_client, batch_size=0)


def test_setitems_checks_every_value_before_writing_with_fake_container(fake_client):
    store = ABSStore(client=fake_client)
    with pytest.raises(TypeError):
        setitems(store, {"a": b"1", "b": "text"})
    with pytest.raises(ValueError):
        setitems(store, {"a": b"1", "b": np.arange(10)[::2]})
    with pytest.raises(czarr.errors.BadKeyError):
        setitems(store, {"a": b"1", "../b": b"2"})
    assert blob_names(fake_client) == []


def test_getsize_is_one_listing_with_fake_container(fake_client):
    store = ABSStore(prefix="p", client=fake_client)
    setitems(store, {"g/a/0": b"12", "g/a/1": b"345", "g/.zgroup": b"6", "gg": b"7777"})
    fake_client.calls.clear()
    assert getsize(store, "g") == 6  # recursive
    assert fake_client.calls == {"get_blob_properties": 1, "list_blobs": 1}
    assert getsize(store, "g/a/1") == 3
    assert getsize(store) == 10


def test_get_partial_reads_ranges_with_fake_container(fake_client, monkeypatch):
    store = ABSStore(client=fake_client)
    store["k"] = bytes(range(256)) * 64
    fake_client.calls.clear()
    assert get_partial(store, "k", 1000, 4) == bytes([232, 233, 234, 235])
    assert get_partial(store, "k", 1 << 20) == b""  # the service's 416
    assert fake_client.calls == {"download_blob": 2}  # ranged reads, no size asked
    assert get_partial(store, "k", -3) == bytes([253, 254, 255])

    # a value rewritten between asking its size and reading its end is asked again
    real = _FakeBlobClient.get_blob_properties
    rewrites = [b"0123456789"]

    def rewritten_once(self):
        props = real(self)
        if rewrites:
            fake_client.upload_blob("k", rewrites.pop(), overwrite=True)
        return props

    monkeypatch.setattr(_FakeBlobClient, "get_blob_properties", rewritten_once)
    fake_client.calls.clear()
    assert get_partial(store, "k", -4, 2) == b"67"
    assert fake_client.calls["download_blob"] == 2  # the first read was refused


def test_rename_moves_blobs_with_fake_container(fake_client):
    store = ABSStore(prefix="p", client=fake_client)
    setitems(store, {"src/a": b"1", "src/b/c": b"2", "srcx": b"3"})
    rename(store, "src", "dst")
    assert blob_names(fake_client) == ["p/dst/a", "p/dst/b/c", "p/srcx"]


def test_the_fake_accepts_only_what_the_real_client_accepts_with_fake_container(fake_client):
    """Every call the store made on the fake binds to the real ContainerClient's (or
    BlobClient's) signature, so the fake cannot drift from the API it stands for."""
    calls = []
    for name in ["download_blob", "upload_blob", "delete_blob", "delete_blobs",
                 "list_blobs", "walk_blobs", "get_blob_client", "close"]:
        method = getattr(fake_client, name)

        def record(*args, _name=name, _method=method, **kwargs):
            calls.append((azure_blob.ContainerClient, _name, args, kwargs))
            return _method(*args, **kwargs)

        setattr(fake_client, name, record)
    store = ABSStore(client=fake_client)
    write_example(store)
    store.getitems(["foo/0", "nope"])
    get_partial(store, "foo/0", 1, 2)
    get_partial(store, "foo/0", -1)
    listdir(store, "sub")
    getsize(store, "sub")
    rename(store, "sub", "moved")
    delitems(store, ["foo/0"])
    del store["foo/1"]
    assert "foo/.zarray" in store
    rmdir(store)
    assert {c[1] for c in calls} >= {"download_blob", "upload_blob", "delete_blob",
                                     "delete_blobs", "list_blobs", "walk_blobs",
                                     "get_blob_client"}
    for cls, name, args, kwargs in calls:
        inspect.signature(getattr(cls, name)).bind(None, *args, **kwargs)
    for name in ["exists", "get_blob_properties"]:
        inspect.signature(getattr(azure_blob.BlobClient, name)).bind(None)


def test_pickles_by_parameters_not_data_with_fake_container(fake_client):
    store = ABSStore(prefix="p", client=fake_client, read_only=True, batch_size=3)
    fake_client.upload_blob("p/big", bytes(1 << 20))
    payload = pickle.dumps(store)
    assert len(payload) < 2000
    copy = pickle.loads(payload)
    assert copy == store and hash(copy) == hash(store) and copy.client is not fake_client
    assert copy.prefix == "p" and copy.read_only and copy.batch_size == 3
    assert copy["big"] == bytes(1 << 20)
    assert copy != ABSStore(prefix="q", client=fake_client)
    assert copy != ABSStore(prefix="p", client=FakeContainerClient(ACCOUNT_URL, "other"))
    with pytest.raises(ReadOnlyError):
        copy["x"] = b"1"
    assert repr(store) == f"<czarr.ABSStore {ACCOUNT_URL}/zarr-data prefix='p'>"


def test_real_container_client_pickles_into_an_equal_store_with_fake_container():
    """No request is sent: a real ContainerClient only pickles and compares its URL."""
    client = azure_blob.ContainerClient(
        "https://acct.blob.core.windows.net/", "cont", credential="a2V5")
    store = ABSStore(prefix="x", client=client)
    copy = pickle.loads(pickle.dumps(store))
    assert copy == store and copy.client.url == "https://acct.blob.core.windows.net/cont"
    sas = azure_blob.ContainerClient.from_container_url(
        "https://acct.blob.core.windows.net/cont?sv=2020&sig=abc")
    assert ABSStore(prefix="x", client=sas) == store  # a SAS token is not part of where


def test_deprecated_account_arguments_with_fake_container(fake_client, monkeypatch):
    made = []

    class Recording(FakeContainerClient):
        def __init__(self, *args, **kwargs):
            made.append((args, kwargs))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(azure_blob, "ContainerClient", Recording)
    with pytest.warns(FutureWarning, match="deprecated"):
        store = ABSStore("zarr-data", "p", "fakeaccount", "secret",
                         {"max_single_put_size": 1 << 20})
    assert made == [(("https://fakeaccount.blob.core.windows.net/", "zarr-data"),
                     {"credential": "secret", "max_single_put_size": 1 << 20})]
    store["k"] = b"v"
    assert fake_client._blobs["p/k"][0] == b"v"  # the same (fake) container
    for name, value in [("container", "zarr-data"), ("account_name", "fakeaccount"),
                        ("account_key", "secret")]:
        with pytest.warns(FutureWarning, match=f"The {name} property is deprecated"):
            assert getattr(store, name) == value
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # unpickling does not warn again
        copy = pickle.loads(pickle.dumps(store))
    assert copy["k"] == b"v" and len(made) == 2  # made again from the account arguments
    store.close()
    assert store.client.closed  # the store made it, so the store closes it
    with pytest.raises(ValueError, match="client="):
        ABSStore()


def test_read_only_store_reads_with_fake_container(fake_client):
    ABSStore(client=fake_client)["a/b"] = b"1"
    ro = ABSStore(client=fake_client, read_only=True)
    assert ro["a/b"] == b"1" and listdir(ro, "a") == ["b"] and getsize(ro) == 1
    with pytest.raises(ReadOnlyError, match="read-only"):
        ro["a/b"] = b"2"
    with pytest.raises(ReadOnlyError):
        czarr.zeros(3, store=ro)


def test_missing_azure_package_names_the_extra_with_fake_container(monkeypatch, fake_client):
    monkeypatch.setitem(sys.modules, "azure.storage.blob", None)  # import now fails
    with pytest.raises(MissingDependencyError, match=r"czarr\[azure\]"):
        ABSStore(client=fake_client)
