"""Object arrays (``dtype=object`` with an object codec, ``dtype=str``) through the
whole stack, and interop with zarr-python 3."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest

import czarr
from czarr import config


@pytest.mark.parametrize("threads", [1, 3])
def test_vlen_utf8_round_trip(threads):
    data = np.array([f"s{i}" * (i % 4) for i in range(37)], dtype=object).reshape(37)
    with config.set(threads=threads):
        z = czarr.array(data, chunks=5, dtype=object, object_codec=numcodecs.VLenUTF8(),
                        fill_value="")
        assert z[...].tolist() == data.tolist()
        assert z[3:20:4].tolist() == data[3:20:4].tolist()
        z[::3] = "x"
        data[::3] = "x"
        assert z[...].tolist() == data.tolist()
        assert z[7] == data[7]


def test_object_2d_fill_and_empty_chunks():
    z = czarr.empty((6, 4), chunks=(4, 3), dtype=object, object_codec=numcodecs.JSON())
    z[1, 1] = {"a": 1}
    assert z[1, 1] == {"a": 1} and z[0, 0] is None
    assert z.nchunks_initialized == 1


def test_missing_object_codec_is_clear():
    with pytest.raises(ValueError, match="object_codec"):
        czarr.zeros((3,), dtype=object)


def test_object_interop_with_zarr(tmp_path):
    import zarr

    path = str(tmp_path / "o.zarr")
    data = np.array(["α", "", "long string " * 3, "z"], dtype=object)
    z = czarr.open_array(path, mode="w", shape=4, chunks=3, dtype=object,
                         object_codec=numcodecs.VLenUTF8())
    z[...] = data
    ref = zarr.open_array(path, mode="r", zarr_format=2)
    assert [str(v) for v in ref[...]] == data.tolist()


def test_str_bytes_array_shorthands():
    z = czarr.empty(3, dtype=str, chunks=2)
    z[:] = ["a", "bb", "c"]
    assert z[...].tolist() == ["a", "bb", "c"] and z.filters[0].codec_id == "vlen-utf8"
    b = czarr.empty(3, dtype=bytes, chunks=2)
    b[:] = [b"a", b"", b"c"]
    assert b[...].tolist() == [b"a", b"", b"c"] and b.filters[0].codec_id == "vlen-bytes"
    a = czarr.empty(2, dtype="array:i4", chunks=1)
    a[0] = np.array([1, 2, 3], dtype="i4")
    a[1] = np.array([4], dtype="i4")
    assert [x.tolist() for x in a[...]] == [[1, 2, 3], [4]]
