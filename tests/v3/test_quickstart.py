"""zarr-python 3's quick-start, written once for ``import zarr`` and run twice: with czarr
standing in for zarr, and with real zarr-python 3, on stores each then reads back with
the other library."""

from __future__ import annotations

import numpy as np
import pytest
import zarr as real_zarr

import czarr


def quickstart(zarr, path):
    """The quick-start: create, write, read, groups, attributes, sharding, consolidated
    metadata. Returns what it observed."""
    out = {}
    z = zarr.create_array(store=f"{path}/data.zarr", shape=(100, 100), chunks=(10, 10),
                          dtype="f4")
    z[:, :] = np.random.default_rng(0).random((100, 100), dtype="f4")
    out["read"] = float(z[0:10, 0:10].sum())
    root = zarr.create_group(store=f"{path}/group.zarr")
    foo = root.create_group(name="foo")
    bar = root.create_array(name="bar", shape=(100, 10), chunks=(10, 10), dtype="f4")
    spam = foo.create_array(name="spam", shape=(10,), dtype="i4")
    bar[...] = np.arange(1000, dtype="f4").reshape(100, 10)
    spam[:] = np.arange(10)
    out["tree_members"] = sorted(k for k, _ in root.members(max_depth=None)) \
        if hasattr(root, "members") else None
    root.attrs["foo"] = "bar"
    bar.attrs.update({"unit": "m"})
    out["attrs"] = [dict(root.attrs), dict(bar.attrs)]
    sharded = zarr.create_array(store=f"{path}/sharded.zarr", shape=(1000, 1000),
                                shards=(250, 250), chunks=(50, 50), dtype="uint8")
    sharded[:] = (np.arange(1000 * 1000) % 251).astype("u1").reshape(1000, 1000)
    out["sharded"] = [int(sharded[123:456, 7:901].sum()), list(sharded.shards or ()),
                      list(sharded.chunks)]
    comp = zarr.create_array(store=f"{path}/comp.zarr", shape=(40,), chunks=(10,),
                             dtype="i8", compressors=zarr.codecs.BloscCodec(
                                 cname="zstd", clevel=3, shuffle="bitshuffle"))
    comp[:] = np.arange(40)
    out["blosc"] = int(comp[...].sum())
    zarr.consolidate_metadata(f"{path}/group.zarr")
    cons = zarr.open_group(f"{path}/group.zarr", mode="r", use_consolidated=True)
    out["consolidated"] = [sorted(cons.array_keys()), float(cons["bar"][3, 4])]
    return out


class _CzarrAsZarr:
    """czarr under zarr-python 3's names (zarr.codecs comes from zarr-python 3: its codec
    objects are what users pass)."""

    def __getattr__(self, name):
        if name == "codecs":
            return real_zarr.codecs
        return getattr(czarr, name)


def test_the_quickstart_gives_the_same_results(tmp_path):
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    ours = quickstart(_CzarrAsZarr(), str(tmp_path / "ours"))
    theirs = quickstart(real_zarr, str(tmp_path / "theirs"))
    ours.pop("tree_members")
    theirs.pop("tree_members")
    assert ours == theirs


@pytest.mark.parametrize("writer,reader", [("ours", real_zarr), ("theirs", czarr)])
def test_each_reads_the_others_quickstart(tmp_path, writer, reader):
    quickstart(_CzarrAsZarr() if writer == "ours" else real_zarr, str(tmp_path))
    g = reader.open_group(str(tmp_path / "group.zarr"), mode="r")
    np.testing.assert_array_equal(g["bar"][...], np.arange(1000, dtype="f4").reshape(100, 10))
    assert g["foo/spam"][...].tolist() == list(range(10))
    assert dict(g.attrs) == {"foo": "bar"} and dict(g["bar"].attrs) == {"unit": "m"}
    s = reader.open_array(str(tmp_path / "sharded.zarr"), mode="r")
    np.testing.assert_array_equal(
        s[...], (np.arange(1000 * 1000) % 251).astype("u1").reshape(1000, 1000))
    assert reader.open_array(str(tmp_path / "comp.zarr"), mode="r")[...].tolist() == list(
        range(40))
