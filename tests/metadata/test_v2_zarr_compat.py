"""czarr's .zarray documents against what zarr-python writes and reads.

For a matrix of dtypes, fill values, orders, separators, compressors and filters, the
document czarr encodes parses to the same JSON as the one zarr-python 3 writes with
``zarr_format=2``, and zarr-python 3 opens czarr's document with the same metadata.
Where zarr-python 3 departs from zarr-python 2 (and so from the v2 format as zarr-python 2
wrote it), czarr follows zarr-python 2; each such case is marked ``DIFFERENCE`` below.
"""

from __future__ import annotations

import json
import warnings

import numcodecs
import numpy as np
import pytest
import zarr

from czarr.layout import build_array_metadata
from czarr.metadata.v2 import decode_array_metadata, encode_array_metadata

BYTE_ORDERS = ("<", ">")
NUMERIC = ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"]
DTYPES = (
    ["|b1", "|i1", "|u1", "|S5", "|V3"]
    + [bo + code for bo in BYTE_ORDERS for code in NUMERIC if code not in ("i1", "u1")]
    + [bo + code for bo in BYTE_ORDERS for code in ("U3", "M8[ns]", "M8[D]", "m8[s]", "m8[ms]")]
)


def _fill_values(dtype: np.dtype) -> list:
    kind = dtype.kind
    if kind == "b":
        return [None, True, False]
    if kind in "iu":
        return [None, 0, 42, int(np.iinfo(dtype).max), int(np.iinfo(dtype).min)]
    if kind == "f":
        return [None, 0.0, 1.5, -2.25, np.nan, np.inf, -np.inf]
    if kind == "c":
        return [None, 0, complex(1.5, -2.0), complex(np.nan, 1.0), complex(np.inf, -np.inf)]
    if kind == "S":
        return [None, b"", b"ab", b"hello"]
    if kind == "V":
        return [None, b"\x00\x01\x02", b"xyz"]
    if kind == "U":
        return [None, "", "ab", "\u00e9t\u00e9"]
    if kind in "mM":
        unit = np.datetime_data(dtype)[0]
        nat = np.datetime64("NaT") if kind == "M" else np.timedelta64("NaT")
        return [None, np.array(7, dtype=dtype)[()], nat] + ([] if unit != "D" else [
            np.datetime64("2020-01-02")])
    raise AssertionError(kind)


CASES = [(d, fv) for d in DTYPES for fv in _fill_values(np.dtype(d))]


def _zarr3_zarray(tmp_store: dict, **kwargs) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(store=tmp_store, zarr_format=2, **kwargs)
    return json.loads(tmp_store[".zarray"].to_bytes())


def _czarr_zarray(**kwargs) -> tuple[dict, bytes]:
    data = encode_array_metadata(build_array_metadata(**kwargs))
    return json.loads(data), data


def _same_float(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b))


def _open_in_zarr3(tmp_path, data: bytes):
    (tmp_path / ".zarray").write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zarr.open_array(str(tmp_path), mode="r", zarr_format=2)


@pytest.mark.parametrize(("dtype", "fill_value"), CASES, ids=[f"{d}-{f!r}" for d, f in CASES])
def test_zarray_matches_zarr3(dtype, fill_value, tmp_path):
    dtype = np.dtype(dtype)
    kwargs = dict(shape=(20, 7), chunks=(6, 7), dtype=dtype, fill_value=fill_value)
    expected = _zarr3_zarray({}, compressors=None, **kwargs)
    got, data = _czarr_zarray(compressor=None, **kwargs)
    assert got == expected

    # zarr-python 3 reads it back as the same array
    z = _open_in_zarr3(tmp_path, data)
    assert z.shape == (20, 7)
    assert z.chunks == (6, 7)
    assert z.dtype == dtype
    meta = decode_array_metadata(data)
    if fill_value is None:
        assert z.metadata.fill_value is None
    elif dtype.kind in "fc":
        np.testing.assert_array_equal(np.asarray(z.fill_value), np.asarray(meta.fill_value))
    else:
        assert np.asarray(z.fill_value).tobytes() == np.asarray(meta.fill_value).tobytes()


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("separator", [".", "/"])
@pytest.mark.parametrize(
    "compressor",
    [
        None,
        numcodecs.Blosc(),
        numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE),
        numcodecs.Zstd(level=3),
        numcodecs.Zlib(level=1),
    ],
    ids=["none", "blosc-default", "blosc-zstd", "zstd", "zlib"],
)
@pytest.mark.parametrize(
    "filters",
    [None, [numcodecs.Delta(dtype="<i4")], [numcodecs.Delta(dtype="<i4"), numcodecs.Shuffle(4)]],
    ids=["nofilters", "delta", "delta-shuffle"],
)
def test_zarray_codecs_order_separator(order, separator, compressor, filters, tmp_path):
    kwargs = dict(shape=(100, 33), chunks=(10, 11), dtype="<i4", fill_value=3, order=order)
    z3_kwargs = dict(
        compressors=compressor,
        filters=filters,
        chunk_key_encoding={"name": "v2", "separator": separator},
    )
    expected = _zarr3_zarray({}, **kwargs, **z3_kwargs)
    got, data = _czarr_zarray(
        compressor=compressor, filters=filters, dimension_separator=separator, **kwargs
    )
    if compressor is not None and compressor.codec_id == "zstd":
        # DIFFERENCE: zarr-python 3 drops "checksum": false from Zstd configs (its issue
        # 2647 hotfix); zarr-python 2 stores get_config() as is, and so does czarr.
        assert got["compressor"].pop("checksum") is False
    assert got == expected

    z = _open_in_zarr3(tmp_path, data)
    assert z.order == order
    assert z.metadata.dimension_separator == separator
    assert z.metadata.to_dict()["compressor"] == expected["compressor"]
    assert z.metadata.to_dict()["filters"] == expected["filters"]


STRUCTURED = [
    np.dtype([("a", "<i4"), ("b", ">f8")]),
    np.dtype([("a", "|u1"), ("b", [("c", "<i2"), ("d", "|S3")])]),
    np.dtype([("x", ">u2"), ("y", "<c8"), ("when", "<M8[s]")]),
]


@pytest.mark.parametrize("dtype", STRUCTURED, ids=str)
@pytest.mark.parametrize("fill", ["none", "zero", "value"])
def test_structured_matches_zarr3(dtype, fill, tmp_path):
    if fill == "none":
        fill_value = None
    elif fill == "zero":
        fill_value = 0
    else:
        fill_value = np.frombuffer(bytes(range(1, dtype.itemsize + 1)), dtype=dtype)[0]
    kwargs = dict(shape=(9,), chunks=(4,), dtype=dtype)
    got, data = _czarr_zarray(compressor=None, fill_value=fill_value, **kwargs)
    if fill == "zero":
        # DIFFERENCE: zarr-python 3 casts 0 field by field, turning a bytes field into
        # b"0" (nested dtype case); zarr-python 2 means "all zero bytes". Compare with
        # the zero bytes given explicitly instead.
        fill_value = np.zeros((), dtype=dtype)[()]
        assert got["fill_value"] == _b64(bytes(dtype.itemsize))
    expected = _zarr3_zarray({}, compressors=None, fill_value=fill_value, **kwargs)
    assert got == expected
    assert decode_array_metadata(data).dtype == dtype
    if _is_nested(dtype):
        # LIMITATION of zarr-python 3: it writes nested structured dtypes but cannot read
        # them back (not even its own); zarr-python 2 reads them. Nothing to check there.
        return
    z = _open_in_zarr3(tmp_path, data)
    assert z.dtype == dtype
    if fill_value is not None:
        assert np.asarray(z.fill_value).tobytes() == np.asarray(fill_value).tobytes()


def _is_nested(dtype: np.dtype) -> bool:
    return any(dtype[name].fields is not None or dtype[name].shape for name in dtype.names)


def _b64(raw: bytes) -> str:
    import base64

    return base64.standard_b64encode(raw).decode("ascii")


def test_structured_subarray_field_follows_zarr2():
    dtype = np.dtype([("a", "<i4"), ("b", ">f8", (2, 3))])
    got, data = _czarr_zarray(shape=(5,), chunks=(5,), dtype=dtype, compressor=None)
    # DIFFERENCE: zarr-python 3 writes the subarray field as ["b", "|V48"], losing its
    # type; zarr-python 2 writes NumPy's descr, and so does czarr.
    # zarr-python 3 cannot read such a field back either (see _is_nested); NumPy can.
    assert got["dtype"] == [["a", "<i4"], ["b", ">f8", [2, 3]]]
    assert decode_array_metadata(data).dtype == dtype


def test_subarray_dtype_folds_into_shape():
    got, data = _czarr_zarray(shape=(10,), chunks=(5,), dtype="(2,3)<f4", compressor=None)
    assert got["shape"] == [10, 2, 3]
    assert got["chunks"] == [5, 2, 3]
    assert got["dtype"] == "<f4"


def test_object_dtype_with_vlen_utf8_opens_in_zarr3(tmp_path):
    got, data = _czarr_zarray(
        shape=(4,), chunks=(2,), dtype=str, compressor=None, object_codec=numcodecs.VLenUTF8()
    )
    assert got["dtype"] == "|O"
    assert got["filters"] == [{"id": "vlen-utf8"}]
    z = _open_in_zarr3(tmp_path, data)
    assert z.shape == (4,)


def test_default_compressor_matches_zarr2_default():
    got, _ = _czarr_zarray(shape=(100,), chunks=(10,), dtype="f8")
    assert got["compressor"] == numcodecs.Blosc(
        cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE, blocksize=0
    ).get_config()
    got, _ = _czarr_zarray(shape=(), chunks=(), dtype="f8")
    assert got["compressor"] is None  # zarr-python 2 never compresses 0-d arrays


def test_zarray_written_by_zarr3_decodes(tmp_path):
    store: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(
            store=store, zarr_format=2, shape=(30, 40), chunks=(7, 8), dtype=">f4",
            fill_value=np.nan, order="F", compressors=numcodecs.Zstd(level=5),
            filters=[numcodecs.Delta(dtype=">f4")],
            chunk_key_encoding={"name": "v2", "separator": "/"},
        )
    meta = decode_array_metadata(store[".zarray"].to_bytes())
    assert meta.shape == (30, 40)
    assert meta.chunks == (7, 8)
    assert meta.dtype == np.dtype(">f4")
    assert np.isnan(meta.fill_value)
    assert meta.order == "F"
    assert meta.dimension_separator == "/"
    assert meta.compressor == {"id": "zstd", "level": 5}
    assert meta.filters == ({"id": "delta", "dtype": ">f4", "astype": ">f4"},)
