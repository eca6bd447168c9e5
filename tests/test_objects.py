"""Object arrays (``dtype=object`` with an object codec, ``dtype=str``) through the
whole stack, and interop with zarr-python 3."""

from __future__ import annotations

import json

import numcodecs
import numpy as np
import pytest

import czarr
from czarr import config
from czarr.errors import MetadataError


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


OBJECT_CASES = [
    ("vlen-utf8", lambda: numcodecs.VLenUTF8(), lambda: czarr.VLenUTF8(), str,
     np.array(["a", "", "ñandú", "x" * 40, "b"], dtype=object)),
    # zarr-python 3 cannot create dtype=bytes arrays (its bytes dtype needs a length)
    ("vlen-bytes", lambda: numcodecs.VLenBytes(), lambda: czarr.VLenBytes(), None,
     np.array([b"a", b"", b"\x00\xff", b"x" * 40, b"b"], dtype=object)),
    ("vlen-array", lambda: numcodecs.VLenArray("<i4"), lambda: czarr.VLenArray("<i4"), None,
     np.array([np.arange(n, dtype="<i4") for n in (0, 1, 5, 2, 3)] + [None], dtype=object)[:5]),
    ("json2", lambda: numcodecs.JSON(), lambda: czarr.JSON(), None,
     np.array([{"a": 1}, [1, 2], "s", 3.5, None], dtype=object)),
]


def _same(got, expected):
    """``got`` holds exactly the (non-empty) ``expected`` objects, of the same types."""
    assert len(expected) > 0
    assert len(got) == len(expected)
    for x, y in zip(got, expected):
        assert type(x) is type(y)
        if isinstance(y, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y)
        else:
            assert x == y


@pytest.mark.parametrize("name,theirs,mine,zdtype,data", OBJECT_CASES,
                         ids=[c[0] for c in OBJECT_CASES])
def test_object_codecs_interop_both_ways(tmp_path, name, theirs, mine, zdtype, data):
    import zarr

    # czarr writes; numcodecs decodes every chunk file to the same objects
    path = str(tmp_path / "c.zarr")
    z = czarr.open_array(path, mode="w", shape=len(data), chunks=2, dtype=object,
                         object_codec=mine(), compressor=czarr.Blosc())
    z[...] = data
    blosc = numcodecs.Blosc()
    for c in range(3):
        with open(f"{path}/{c}", "rb") as f:
            objs = theirs().decode(blosc.decode(f.read()))
        assert len(objs) == 2  # the last chunk too: it is stored whole
        _same(objs[:len(data[2 * c:2 * c + 2])], data[2 * c:2 * c + 2])
    # numcodecs encodes chunk files; czarr reads them
    for c in range(3):
        part = np.empty(2, dtype=object)
        part[:len(data[2 * c:2 * c + 2])] = data[2 * c:2 * c + 2]
        if len(data[2 * c:]) < 2:
            part[1] = "" if name == "vlen-utf8" else (b"" if name == "vlen-bytes" else
                                                      part[0])
        with open(f"{path}/{c}", "wb") as f:
            f.write(blosc.encode(theirs().encode(part)))
    _same(czarr.open_array(path, mode="r")[...], data)
    if zdtype is None:
        return  # zarr-python 3 has no v2 data type for these object codecs
    # zarr-python 3 (dtype=str / bytes for v2) both ways
    ref = zarr.create(shape=len(data), chunks=2, dtype=zdtype, store=str(tmp_path / "z.zarr"),
                      zarr_format=2)
    ref[...] = data
    got = czarr.open_array(str(tmp_path / "z.zarr"), mode="r")
    assert got.filters[0].codec_id == name
    _same(got[...], data)
    _same(zarr.open_array(path, mode="r", zarr_format=2)[...], data)


@pytest.mark.parametrize("filters,compressor", [
    (None, None), (None, {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1,
                          "blocksize": 0}),
    ([{"id": "zstd", "level": 1}], None), ([], None)])
def test_object_dtype_without_object_codec_is_refused_at_open(filters, compressor):
    """A crafted or foreign .zarray with dtype |O and no object codec used to open: then
    writes stored each object's address (id(obj)) and reads returned those 8 bytes."""
    store = {}
    czarr.zeros(4, chunks=2, dtype=str, store=store, path="s")
    doc = json.loads(store["s/.zarray"])
    doc["filters"], doc["compressor"] = filters, compressor
    store["s/.zarray"] = json.dumps(doc).encode()
    for open_ in (lambda: czarr.open_array(store, path="s", mode="r"),
                  lambda: czarr.open(store, mode="r")["s"],
                  lambda: czarr.open_array(store, path="s", mode="r+")):
        with pytest.raises(MetadataError, match=r"\.zarray at 's': field 'filters' must "
                           "start with an object codec"):
            open_()
    assert sorted(k for k in store if k.startswith("s/")) == ["s/.zarray"]  # no chunk
    with pytest.raises(ValueError, match="object codec"), pytest.warns(
            FutureWarning, match="missing object_codec"):  # zarr-python 2 warns first
        czarr.zeros(4, chunks=2, dtype=object, store={}, filters=[czarr.Zstd()])
