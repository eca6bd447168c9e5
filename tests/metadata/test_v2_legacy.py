"""Arrays as zarr-python 2 wrote them over the years, read as zarr-python 2.18 reads them.

The fixtures under ``fixtures/zarr2_legacy`` were written by zarr-python 2.18.7
(``fixtures/make_zarr2_legacy.py``); some ``.zarray`` documents hold spellings that older
2.x releases wrote (an int 0 as a string array's fill value, numbers as strings...).
Beside each is what zarr-python 2.18 itself reads back. Reading is lenient, as in
zarr-python 2; writing is strict: rewritten metadata holds the canonical spelling.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

import czarr
from czarr.errors import MetadataError
from czarr.metadata.v2 import decode_fill_value

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "zarr2_legacy")
CASES = sorted(os.listdir(FIXTURES))


def _same(got: np.ndarray, expected: np.ndarray) -> bool:
    if got.dtype != expected.dtype or got.shape != expected.shape:
        return False
    if expected.dtype.kind in "mM":
        return np.array_equal(got.view("i8"), expected.view("i8"))
    return np.array_equal(got, expected, equal_nan=expected.dtype.kind in "fc")


def test_every_case_is_there():
    assert len(CASES) == 13


@pytest.mark.parametrize("case", CASES)
def test_reads_what_zarr_python_2_reads(case):
    path = os.path.join(FIXTURES, case)
    expected = np.load(os.path.join(path, "expected.npy"))
    got = czarr.open_array(path, mode="r")[:]
    assert _same(got, expected), (got, expected)


@pytest.mark.parametrize("case", CASES)
def test_rewritten_metadata_is_canonical(tmp_path, case):
    """Opened for writing and resized, a legacy array writes canonical metadata, which
    zarr-python 3 reads with the same values."""
    import zarr

    path = str(tmp_path / case)
    shutil.copytree(os.path.join(FIXTURES, case), path)
    expected = np.load(os.path.join(path, "expected.npy"))
    a = czarr.open_array(path, mode="r+")
    a.resize(6)
    a.resize(4)
    with open(os.path.join(path, ".zarray")) as f:
        fill = json.load(f)["fill_value"]
    meta = a._meta
    assert decode_fill_value(fill, meta.dtype) is not None
    # canonical: decoding it strictly and encoding again gives it back
    from czarr.metadata.v2 import encode_fill_value

    assert encode_fill_value(decode_fill_value(fill, meta.dtype), meta.dtype) == fill
    assert _same(czarr.open_array(path, mode="r")[:], expected)
    assert _same(zarr.open_array(path, mode="r")[:], expected)


@pytest.mark.parametrize("value,dtype,expected", [
    (0, "<U4", "0"), (0.0, "<U2", "0."), ("1.5", "<f8", 1.5), ("-inf", "<f4", -np.inf),
    (1.5, "<i4", 1), ("7", "<u2", 7), (True, "<i8", 1), ("NaT", "<m8[s]", np.timedelta64("NaT")),
    (0, "|S3", b"0"), (3, "<U2", "3"), ("2020", "<M8[s]", np.datetime64("2020", "s")),
])
def test_legacy_spellings(value, dtype, expected):
    got = decode_fill_value(value, np.dtype(dtype))
    if isinstance(expected, np.timedelta64):
        assert np.isnat(got)
    else:
        assert got == expected and type(got) is not bool


@pytest.mark.parametrize("value,dtype", [
    ("abc", "<f8"), ("x", "<i4"), (2**40, "<i4"), ([1], "<f8"), ({"a": 1}, "<i4"),
    ("1+2j", "<c16"), (1.0, "<c8"), (5, "|V4"), ("nope", "<i4"),
])
def test_what_zarr_python_2_refuses_is_still_refused(value, dtype):
    with pytest.raises(MetadataError, match="bad fill value"):
        decode_fill_value(value, np.dtype(dtype))


def test_zero_size_string_dtypes_hold_one_character_as_in_numpy():
    """zarr-python 2 creates ``|S0``/``<U0`` arrays whose chunks hold one character per
    item (NumPy's ``np.empty(n, 'S0')`` is ``|S1``); czarr stores them as that."""
    for dt, want in (("S0", "|S1"), ("U0", "<U1"), ("S", "|S1"), (">U0", ">U1")):
        store = {}
        z = czarr.zeros(4, chunks=2, dtype=dt, store=store)
        assert z.dtype == np.dtype(want)
        assert json.loads(store[".zarray"])["dtype"] == want
    with pytest.raises(MetadataError, match="zero-size items"):
        czarr.zeros(4, chunks=2, dtype="V0", store={})
    store = {}
    czarr.zeros(4, chunks=2, dtype="V2", store=store)
    doc = json.loads(store[".zarray"])
    doc["dtype"], doc["fill_value"] = "|V0", None
    store[".zarray"] = json.dumps(doc).encode()
    with pytest.raises(MetadataError, match="zero-size items"):
        czarr.open_array(store, mode="r")
