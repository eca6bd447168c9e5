"""xarray on czarr: Datasets written by xarray through zarr-python read with
``engine="czarr"``, Datasets written by ``czarr.xarray.to_czarr`` read by ``xarray.open_zarr``
through zarr-python, in Zarr v2 and v3; lazy (dask) and lazily indexed reads; consolidated
metadata; groups and DataTree."""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import tomllib

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import czarr
from czarr.errors import ContainsGroupError, GroupNotFoundError
from czarr.storage import MemoryStore
from czarr.xarray import CzarrBackendEntrypoint, decode_fill_attr, encode_fill_attr, to_czarr

ENGINE = CzarrBackendEntrypoint
FORMATS = [2, 3]

pytestmark = [
    # zarr-python 3's own notices about v3 text arrays and consolidated metadata
    pytest.mark.filterwarnings("ignore:The data type .* does not have a Zarr V3 specification"),
    pytest.mark.filterwarnings("ignore:Consolidated metadata is currently not part"),
]


def make_dataset() -> xr.Dataset:
    """Coordinates, attributes, a time axis, NaNs, text, a masked integer and a chunked
    2-D variable: what a typical CF dataset holds."""
    time = pd.date_range("2021-03-01", periods=6, freq="6h")
    temp = np.arange(24, dtype="f8").reshape(6, 4) / 4
    temp[1, 2] = temp[4, 0] = np.nan
    ds = xr.Dataset(
        {
            "temp": (("time", "x"), temp, {"units": "K", "long_name": "air temperature"}),
            "count": (("x",), np.array([1, 2, 3, 4], dtype="i4")),
            "station": (("x",), np.array(["alpha", "b", "gamma", "de"])),
            "label": (("x",), np.array(["one", "two", "three", "four"], dtype=object)),
            "flag": (("time",), np.array([True, False, True, True, False, False])),
            "level": (("time",), np.array([1.5, np.nan, 2.5, 3.5, np.nan, 0.5])),
        },
        coords={
            "time": time,
            "x": np.array([10.0, 20.0, 30.0, 40.0]),
            "lat": (("x",), np.linspace(-45.0, 45.0, 4), {"units": "degrees_north"}),
        },
        attrs={"title": "czarr test", "version": 3, "history": ["made", "tested"]},
    )
    ds["temp"].encoding = {"chunks": (2, 2)}
    ds["time"].encoding = {"units": "hours since 2021-01-01", "calendar": "standard"}
    # a float stored as scaled int16 with a _FillValue for its NaNs
    ds["level"].encoding = {"dtype": "int16", "scale_factor": 0.5, "_FillValue": -999}
    return ds


@pytest.fixture
def ds() -> xr.Dataset:
    return make_dataset()


# ---------------------------------------------------------------------- entry point
def test_entry_point_is_declared(monkeypatch):
    root = pathlib.Path(__file__).resolve().parents[1]
    with open(root / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    declared = project["entry-points"]["xarray.backends"]
    assert declared == {"czarr": "czarr.xarray:CzarrBackendEntrypoint"}
    assert project["optional-dependencies"]["xarray"] == ["xarray"]
    # what xarray builds from that declaration, and engine="czarr" resolving through it
    from xarray.backends import plugins

    point = importlib.metadata.EntryPoint(name="czarr", value=declared["czarr"],
                                          group="xarray.backends")
    engines = plugins.build_engines(importlib.metadata.EntryPoints([point]))
    assert isinstance(engines["czarr"], CzarrBackendEntrypoint)
    monkeypatch.setattr(plugins, "list_engines", lambda: engines)
    store = MemoryStore()
    small = xr.Dataset({"v": (("x",), np.arange(3.0))}, attrs={"a": 1})
    to_czarr(small, store)
    xr.testing.assert_identical(xr.open_dataset(store, engine="czarr"), small)
    # and, when this checkout is the installed one, the real entry point
    installed = importlib.metadata.entry_points(group="xarray.backends")
    if "czarr" in installed.names:
        monkeypatch.undo()
        assert type(plugins.get_backend("czarr")).__name__ == "CzarrBackendEntrypoint"
        assert installed["czarr"].value == "czarr.xarray:CzarrBackendEntrypoint"


def test_guess_can_open():
    entry = CzarrBackendEntrypoint()
    assert entry.guess_can_open("data/example.zarr")
    assert entry.guess_can_open(pathlib.Path("data/example.zarr/"))
    assert not entry.guess_can_open("data/example.nc")
    assert not entry.guess_can_open(MemoryStore())


# ---------------------------------------------------------------------- xarray -> czarr
@pytest.mark.parametrize("zarr_format", FORMATS)
def test_reads_what_xarray_writes(tmp_path, ds, zarr_format):
    path = tmp_path / "ds.zarr"
    ds.to_zarr(path, zarr_format=zarr_format, mode="w")
    got = xr.open_dataset(path, engine=ENGINE)
    xr.testing.assert_identical(got, ds)
    with xr.open_zarr(path) as ref:
        xr.testing.assert_identical(got, ref.load())
    # the raw (undecoded) variables are the same as xarray's zarr backend gives
    raw = xr.open_dataset(path, engine=ENGINE, decode_cf=False)
    with xr.open_zarr(path, decode_cf=False) as ref_raw:
        xr.testing.assert_identical(raw, ref_raw.load())
    assert got.temp.encoding["chunks"] == (2, 2)
    assert got.temp.encoding["preferred_chunks"] == {"time": 2, "x": 2}
    assert got.time.encoding["units"] == "hours since 2021-01-01"
    assert got.level.encoding["dtype"] == np.dtype("int16")
    assert got.level.encoding["_FillValue"] == -999
    assert "_ARRAY_DIMENSIONS" not in got.temp.attrs


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_lazy_open_with_chunks(tmp_path, ds, zarr_format):
    path = tmp_path / "ds.zarr"
    ds.to_zarr(path, zarr_format=zarr_format, mode="w")
    lazy = xr.open_dataset(path, engine=ENGINE, chunks={})
    assert isinstance(lazy.temp.data, da.Array)
    assert lazy.temp.data.chunks == ((2, 2, 2), (2, 2))  # czarr's chunks
    assert lazy.temp.variable.chunksizes == {"time": (2, 2, 2), "x": (2, 2)}
    xr.testing.assert_identical(lazy.compute(), ds)
    np.testing.assert_allclose(float(lazy.temp.mean()), float(ds.temp.mean()))
    # larger dask blocks that are multiples of the czarr chunks
    coarse = xr.open_dataset(path, engine=ENGINE, chunks={"time": 6})
    assert coarse.temp.data.chunks == ((6,), (2, 2))
    xr.testing.assert_identical(coarse.compute(), ds)


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_lazy_indexing_without_dask(tmp_path, ds, zarr_format):
    path = tmp_path / "ds.zarr"
    ds.to_zarr(path, zarr_format=zarr_format, mode="w")
    lazy = xr.open_dataset(path, engine=ENGINE)
    assert not isinstance(lazy.temp.variable._data, np.ndarray)  # nothing read yet
    selections = [
        {"time": 3, "x": 1},                                    # basic, scalar
        {"time": slice(1, 5), "x": slice(None, None, 2)},       # basic, strided
        {"time": [0, 2, 5], "x": [3, 1]},                       # outer
        {"time": xr.DataArray([0, 2, 5], dims="p"),             # vectorized (points)
         "x": xr.DataArray([1, 3, 0], dims="p")},
        {"time": xr.DataArray([[5, 0], [1, 1]], dims=("a", "b")),  # vectorized + slice
         "x": slice(1, 4)},
    ]
    for sel in selections:
        xr.testing.assert_identical(lazy.temp.isel(sel).load(), ds.temp.isel(sel))
    xr.testing.assert_identical(lazy.isel(x=[2, 0]).load(), ds.isel(x=[2, 0]))


# ---------------------------------------------------------------------- czarr -> xarray
@pytest.mark.parametrize("zarr_format", FORMATS)
def test_to_czarr_is_read_by_xarray_through_zarr_python(tmp_path, ds, zarr_format):
    path = tmp_path / "ds.zarr"
    to_czarr(ds, path, zarr_format=zarr_format)
    with xr.open_zarr(path, consolidated=True) as back:
        xr.testing.assert_identical(back.load(), ds)
        assert back.time.encoding["units"] == "hours since 2021-01-01"
        assert back.temp.encoding["chunks"] == (2, 2)
    xr.testing.assert_identical(xr.open_dataset(path, engine=ENGINE), ds)
    # the same raw layout xarray's zarr backend writes
    written = tmp_path / "ref.zarr"
    ds.to_zarr(written, zarr_format=zarr_format)
    with xr.open_zarr(path, decode_cf=False) as ours, \
            xr.open_zarr(written, decode_cf=False) as theirs:
        xr.testing.assert_identical(ours.load(), theirs.load())


def test_to_czarr_v2_layout(tmp_path, ds):
    path = tmp_path / "ds.zarr"
    to_czarr(ds, path)
    attrs = json.loads((path / "temp" / ".zattrs").read_text())
    assert attrs["_ARRAY_DIMENSIONS"] == ["time", "x"]
    assert attrs["coordinates"] == "lat"
    meta = json.loads((path / "temp" / ".zarray").read_text())
    assert meta["fill_value"] == "NaN" and meta["chunks"] == [2, 2]
    level = json.loads((path / "level" / ".zarray").read_text())
    assert level["dtype"] == "<i2" and level["fill_value"] == -999
    assert json.loads((path / "time" / ".zattrs").read_text())["units"] == \
        "hours since 2021-01-01"
    assert (path / ".zmetadata").exists()
    assert json.loads((path / ".zattrs").read_text())["history"] == ["made", "tested"]


def test_to_czarr_v3_layout(tmp_path, ds):
    path = tmp_path / "ds.zarr"
    to_czarr(ds, path, zarr_format=3)
    temp = json.loads((path / "temp" / "zarr.json").read_text())
    assert temp["dimension_names"] == ["time", "x"]
    assert "_ARRAY_DIMENSIONS" not in temp["attributes"]
    assert temp["fill_value"] == "NaN"
    assert np.isnan(decode_fill_attr(temp["attributes"]["_FillValue"], np.dtype("f8")))
    root = json.loads((path / "zarr.json").read_text())
    assert root["consolidated_metadata"]["kind"] == "inline"
    assert czarr.open_group(str(path), mode="r")["temp"].dimension_names == ("time", "x")


def test_fill_attr_coding():
    for value, dtype in [(np.nan, "f8"), (-1.5, "f4"), (np.inf, "f8"), (7, "i2"),
                         (True, "?"), (1 + 2j, "c16"), (b"\x00ab", "S3"), ("", "U2")]:
        dtype = np.dtype(dtype)
        encoded = encode_fill_attr(value, dtype)
        json.dumps(encoded)  # JSON can hold it
        back = decode_fill_attr(encoded, dtype)
        assert back == value or (np.isnan(back) and np.isnan(value))


@pytest.mark.filterwarnings("ignore:variable label has data in the form of a dask array")
@pytest.mark.parametrize("zarr_format", FORMATS)
def test_to_czarr_dask_dataset(tmp_path, ds, zarr_format):
    path = tmp_path / "ds.zarr"
    # dask blocks of 3 along time, czarr chunks of 2: would share chunks, so rechunked
    chunked = ds.chunk({"time": 3, "x": 4})
    chunked.temp.encoding["chunks"] = (2, 2)
    to_czarr(chunked, path, zarr_format=zarr_format)
    back = xr.open_dataset(path, engine=ENGINE, chunks={})
    assert back.temp.data.chunks == ((2, 2, 2), (2, 2))
    xr.testing.assert_identical(back.compute(), ds)
    # without an encoding, the czarr chunks are the dask blocks'
    other = tmp_path / "other.zarr"
    blocks = ds.chunk({"time": 3})
    del blocks.temp.encoding["chunks"]
    to_czarr(blocks, other, zarr_format=zarr_format)
    assert czarr.open_group(str(other), mode="r")["temp"].chunks == (3, 4)
    xr.testing.assert_identical(xr.open_zarr(other).load(), ds)


def test_to_czarr_modes_and_groups(tmp_path, ds):
    path = tmp_path / "ds.zarr"
    to_czarr(ds, path)
    with pytest.raises(ContainsGroupError):
        to_czarr(ds, path)  # mode 'w-'
    small = ds[["count"]].assign_attrs(title="small")
    to_czarr(small, path, mode="w")
    xr.testing.assert_identical(xr.open_zarr(path).load(), small)
    extra = xr.Dataset({"more": (("x",), np.arange(4.0))}, coords={"x": ds.x})
    to_czarr(extra, path, mode="a")
    with xr.open_zarr(path) as back:
        assert set(back.data_vars) == {"count", "more"}
        assert back.attrs["title"] == "small"
        np.testing.assert_array_equal(back.more.values, np.arange(4.0))
    with pytest.raises(ValueError, match="Zarr v2 group"):
        to_czarr(extra, path, mode="a", zarr_format=3)
    # into a group of a new store; consolidated at the root, as to_zarr does
    nested = tmp_path / "nested.zarr"
    to_czarr(ds, nested, group="sub/inner", zarr_format=3)
    with xr.open_zarr(nested, group="sub/inner", consolidated=True) as back:
        xr.testing.assert_identical(back.load(), ds)
    xr.testing.assert_identical(xr.open_dataset(nested, engine=ENGINE, group="sub/inner"), ds)


def test_to_czarr_memory_store_and_dataarray():
    store = MemoryStore()
    da_ = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("y", "x"), name=None,
                       attrs={"units": "m"})
    to_czarr(da_, store)
    back = xr.open_dataarray(store, engine=ENGINE)
    xr.testing.assert_identical(back, da_)


def test_to_czarr_rejects_bad_encoding(tmp_path, ds):
    with pytest.raises(ValueError, match="zlib"):
        to_czarr(ds, tmp_path / "a.zarr", encoding={"temp": {"zlib": True}})
    with pytest.raises(ValueError, match="_FillValue"):
        to_czarr(ds, tmp_path / "b.zarr", encoding={"temp": {"fill_value": 1.0}})
    with pytest.raises(ValueError, match="not in the dataset"):
        to_czarr(ds, tmp_path / "c.zarr", encoding={"nope": {}})
    with pytest.raises(ValueError, match="invalid mode"):
        to_czarr(ds, tmp_path / "d.zarr", mode="r")
    # array encoding is honoured
    path = tmp_path / "e.zarr"
    to_czarr(ds, path, encoding={"temp": {"chunks": (3, 1), "compressor": czarr.Zlib(1)}})
    arr = czarr.open_group(str(path), mode="r")["temp"]
    assert arr.chunks == (3, 1) and arr.compressor == czarr.Zlib(1)
    xr.testing.assert_identical(xr.open_zarr(path).load(), ds)


def test_missing_dimension_names_are_explained():
    store = MemoryStore()
    root = czarr.group(store)
    root.zeros("a", shape=(3,), chunks=(3,))
    with pytest.raises(KeyError, match="_ARRAY_DIMENSIONS"):
        xr.open_dataset(store, engine=ENGINE)


# ---------------------------------------------------------------------- consolidated
class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def __getitem__(self, key):
        self.reads.append(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.reads.append(key)
        return super().__contains__(key)

    def getitems(self, keys):
        keys = list(keys)
        self.reads.extend(keys)
        return super().getitems(keys)


def _metadata_reads(store: CountingStore) -> list[str]:
    names = (".zarray", ".zattrs", ".zgroup", "zarr.json")
    return [k for k in store.reads if k.rpartition("/")[2] in names and "/" in k]


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_consolidated_metadata_is_used(zarr_format, ds):
    store = CountingStore()
    to_czarr(ds, store, zarr_format=zarr_format, consolidated=True)
    store.reads.clear()
    xr.testing.assert_identical(xr.open_dataset(store, engine=ENGINE), ds)
    assert _metadata_reads(store) == []  # every array's metadata came from one document
    store.reads.clear()
    xr.testing.assert_identical(xr.open_dataset(store, engine=ENGINE, consolidated=False), ds)
    assert _metadata_reads(store)  # each array's own documents


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_consolidated_metadata_from_xarray(tmp_path, ds, zarr_format):
    path = tmp_path / "ds.zarr"
    ds.to_zarr(path, zarr_format=zarr_format, consolidated=True)
    # change an attribute behind the consolidated document's back
    if zarr_format == 2:
        key = path / "temp" / ".zattrs"
        doc = json.loads(key.read_text())
        doc["units"] = "degC"
    else:
        key = path / "temp" / "zarr.json"
        doc = json.loads(key.read_text())
        doc["attributes"]["units"] = "degC"
    key.write_text(json.dumps(doc))
    assert xr.open_dataset(path, engine=ENGINE).temp.attrs["units"] == "K"
    assert xr.open_dataset(path, engine=ENGINE, consolidated=True).temp.attrs["units"] == "K"
    unconsolidated = xr.open_dataset(path, engine=ENGINE, consolidated=False)
    assert unconsolidated.temp.attrs["units"] == "degC"


def test_consolidated_true_needs_the_document(tmp_path, ds):
    path = tmp_path / "ds.zarr"
    to_czarr(ds, path, consolidated=False)
    assert not (path / ".zmetadata").exists()
    xr.testing.assert_identical(xr.open_dataset(path, engine=ENGINE), ds)
    with pytest.raises(KeyError, match="no consolidated metadata"):
        xr.open_dataset(path, engine=ENGINE, consolidated=True)


def test_missing_store_and_group_are_explained(tmp_path, ds):
    missing = tmp_path / "missing.zarr"
    with pytest.raises(GroupNotFoundError, match="no Zarr group"):
        xr.open_dataset(missing, engine=ENGINE)
    assert not missing.exists()  # reading never creates anything
    path = tmp_path / "ds.zarr"
    to_czarr(ds, path)
    for consolidated in (None, False):
        with pytest.raises(GroupNotFoundError, match="group 'nope'"):
            xr.open_dataset(path, engine=ENGINE, group="nope", consolidated=consolidated)
    with pytest.raises(GroupNotFoundError, match="is an array"):
        xr.open_dataset(path, engine=ENGINE, group="temp")
    with pytest.raises(ValueError, match="zarr_format=3"):
        xr.open_dataset(path, engine=ENGINE, zarr_format=3)


# ---------------------------------------------------------------------- groups, DataTree
def _tree() -> xr.DataTree:
    ds = make_dataset()
    child = xr.Dataset({"pressure": (("x",), np.array([1000.0, 850.0, 500.0, 250.0]))},
                       attrs={"kind": "child"})
    grandchild = xr.Dataset({"wind": (("y",), np.array([1.0, np.nan, 3.0]))})
    return xr.DataTree.from_dict({"/": ds, "/child": child, "/child/grand": grandchild})


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_open_datatree_and_groups(tmp_path, zarr_format):
    tree = _tree()
    path = tmp_path / "tree.zarr"
    tree.to_zarr(path, zarr_format=zarr_format)
    got = xr.open_datatree(path, engine=ENGINE)
    xr.testing.assert_identical(got, tree)
    groups = xr.open_groups(path, engine=ENGINE)
    assert sorted(groups) == ["/", "/child", "/child/grand"]
    xr.testing.assert_identical(groups["/child/grand"],
                                tree["child/grand"].to_dataset(inherit=False))
    sub = xr.open_datatree(path, engine=ENGINE, group="child")
    with xr.open_datatree(path, engine="zarr", group="child") as ref:
        xr.testing.assert_identical(sub, ref.load())
    assert list(sub.children) == ["grand"]
    child = xr.open_dataset(path, engine=ENGINE, group="child")
    xr.testing.assert_identical(child, tree["child"].to_dataset(inherit=False))
    lazy = xr.open_datatree(path, engine=ENGINE, chunks={})
    assert isinstance(lazy["child/grand"].wind.data, da.Array)
    xr.testing.assert_identical(lazy.compute(), tree)


def test_sharded_v3_and_scalars_both_ways(tmp_path):
    ds = xr.Dataset({"a": (("y", "x"), np.arange(64.0).reshape(8, 8)),
                     "s": ((), 3.5), "n": ((), np.int64(4))})
    ds.a.encoding = {"chunks": (2, 2), "shards": (4, 4)}
    path = tmp_path / "theirs.zarr"
    ds.to_zarr(path, zarr_format=3)
    got = xr.open_dataset(path, engine=ENGINE)
    xr.testing.assert_identical(got, ds)
    assert got.a.encoding["shards"] == (4, 4) and got.a.encoding["chunks"] == (2, 2)
    ours = tmp_path / "ours.zarr"
    to_czarr(got, ours, zarr_format=3)  # the encoding read is the encoding written
    with xr.open_zarr(ours) as back:
        xr.testing.assert_identical(back.load(), ds)
        assert back.a.encoding["shards"] == (4, 4) and back.a.encoding["chunks"] == (2, 2)
