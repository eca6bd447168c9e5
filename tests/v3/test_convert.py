"""czarr.copy/copy_all convert between Zarr v2 and v3 and can add sharding: the
destination group's format decides, ``shards=`` shards the copies."""

from __future__ import annotations

import numpy as np
import zarr

import czarr


def _source(zarr_format):
    src = czarr.group(zarr_format=zarr_format)
    src.attrs["title"] = "t"
    a = src.create_dataset("a", shape=(20, 30), chunks=(5, 7), dtype="f4",
                           compressor=czarr.Blosc(cname="zstd", clevel=3))
    a[...] = np.arange(600, dtype="f4").reshape(20, 30)
    a.attrs["unit"] = "m"
    b = src.create_group("g").create_dataset("b", shape=(9,), chunks=(4,), dtype="i2",
                                             fill_value=-1)
    b[:5] = np.arange(5)
    return src


def test_v2_to_sharded_v3_and_back(tmp_path):
    src = _source(2)
    path = str(tmp_path / "v3.zarr")
    dst = czarr.group(path, zarr_format=3)
    czarr.copy_all(src, dst, shards=None)
    czarr.copy(src["a"], dst, name="a_sharded", shards=(10, 14))
    theirs = zarr.open_group(path, mode="r")  # zarr-python 3 reads the converted data
    np.testing.assert_array_equal(theirs["a"][...], src["a"][...])
    np.testing.assert_array_equal(theirs["a_sharded"][...], src["a"][...])
    assert theirs["a_sharded"].shards == (10, 14) and theirs["a_sharded"].chunks == (5, 7)
    assert theirs["g/b"][...].tolist() == [0, 1, 2, 3, 4, -1, -1, -1, -1]
    assert dict(theirs.attrs) == {"title": "t"} and dict(theirs["a"].attrs) == {"unit": "m"}
    back = czarr.group(zarr_format=2)
    czarr.copy_all(czarr.open_group(path, mode="r"), back)
    assert back["a"].zarr_format == 2 and back["a"].compressor == czarr.Blosc(
        cname="zstd", clevel=3)
    np.testing.assert_array_equal(back["a_sharded"][...], src["a"][...])
    assert back["g/b"].fill_value == -1
