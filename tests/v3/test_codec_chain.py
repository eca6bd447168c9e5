"""Zarr v3 codec chains beyond the common ones: transpose with any axis order, and
numcodecs' codecs under their ``numcodecs.<id>`` names, read and written both ways with
zarr-python 3."""

from __future__ import annotations

import json
import warnings

import numcodecs.zarr3 as nz
import numpy as np
import pytest
import zarr

import czarr
from czarr.errors import MetadataError


@pytest.mark.parametrize("order", [(1, 2, 0), (2, 0, 1), (0, 2, 1)])
@pytest.mark.parametrize("sharded", [False, True])
def test_transpose_with_any_axis_order(tmp_path, order, sharded):
    path = str(tmp_path / "t.zarr")
    ref = np.arange(5 * 7 * 9, dtype="<i2").reshape(5, 7, 9)
    z = zarr.create_array(path, shape=ref.shape, chunks=(2, 3, 4), dtype="i2",
                          shards=(4, 6, 8) if sharded else None,
                          filters=[zarr.codecs.TransposeCodec(order=order)], compressors=None)
    z[...] = ref
    ours = czarr.open_array(path, mode="r+")
    np.testing.assert_array_equal(ours[...], ref)
    np.testing.assert_array_equal(ours[1:4, 2:6, ::3], ref[1:4, 2:6, ::3])
    ours[0:3, 1:5, 2:7] = -1  # written through the permuted layout, read by zarr-python
    ref[0:3, 1:5, 2:7] = -1
    np.testing.assert_array_equal(zarr.open_array(path, mode="r")[...], ref)


def test_numcodecs_codecs_both_ways(tmp_path):
    theirs_path, ours_path = str(tmp_path / "theirs.zarr"), str(tmp_path / "ours.zarr")
    ref = (np.arange(100) * 3).astype("<i4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numcodecs.zarr3's "unstable" warnings
        z = zarr.create_array(theirs_path, shape=(100,), chunks=(30,), dtype="i4",
                              filters=[nz.Delta(dtype="i4")],
                              compressors=[nz.Zlib(level=1), nz.CRC32()])
        z[...] = ref
    np.testing.assert_array_equal(czarr.open_array(theirs_path, mode="r")[...], ref)
    ours = czarr.create(100, chunks=30, dtype="i4", filters=[czarr.Delta(dtype="i4")],
                        compressor=[czarr.Zlib(1), czarr.CRC32()], zarr_format=3,
                        store=ours_path)
    ours[...] = ref
    codecs = json.loads(open(f"{ours_path}/zarr.json").read())["codecs"]
    assert [c["name"] for c in codecs] == ["numcodecs.delta", "bytes", "numcodecs.zlib",
                                          "numcodecs.crc32"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(zarr.open_array(ours_path, mode="r")[...], ref)
    # and the chunks are the bytes zarr-python wrote for the same data
    for key in ("c/0", "c/3"):
        assert open(f"{ours_path}/{key}", "rb").read() == open(f"{theirs_path}/{key}",
                                                               "rb").read()


def test_bad_transpose_and_unknown_codecs_are_refused(tmp_path):
    store = {}
    czarr.create((4, 4), chunks=2, dtype="i1", zarr_format=3, store=store)
    doc = json.loads(store["zarr.json"])
    doc["codecs"] = [{"name": "transpose", "configuration": {"order": [0, 0]}}] + doc["codecs"]
    store["zarr.json"] = json.dumps(doc).encode()
    with pytest.raises(MetadataError, match="not a permutation"):
        czarr.open_array(store, mode="r")
    doc["codecs"] = [{"name": "no-such-codec"}]
    store["zarr.json"] = json.dumps(doc).encode()
    with pytest.raises(MetadataError, match="no-such-codec"):
        czarr.open_array(store, mode="r")
