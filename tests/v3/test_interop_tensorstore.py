"""Zarr v3 interop with tensorstore's ``zarr3`` driver over a ``file`` kvstore: arrays czarr
writes open in tensorstore with every value, fill value, chunk and shard shape as written,
and arrays tensorstore writes (from a full ``zarr.json`` spec: codecs, chunk key encoding,
shards, dimension names, attributes) open in czarr, which then writes into them for
tensorstore to read back. tensorstore's zarr3 driver has numeric data types only, so the
numeric rows of the matrix run here."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tensorstore as ts  # a test dependency: a missing tensorstore fails, never skips

import czarr
from tests.v3 import interop_cases as m
from tests.v3.interop_cases import NUMERIC_CASES, Case

_IDS = [c.id for c in NUMERIC_CASES]


def _kvstore(path: str) -> dict:
    return {"driver": "file", "path": path}


def _fill_json(case: Case) -> object:
    """The fill value as ``zarr.json`` spells it."""
    def one(x: float) -> object:
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return x
    if case.dtype == "bool":
        return bool(case.fill)
    if case.dtype.startswith("complex"):
        return [one(complex(case.fill).real), one(complex(case.fill).imag)]
    if case.dtype.startswith("float"):
        return one(float(case.fill))
    return int(case.fill)


def _metadata(case: Case) -> dict:
    """The ``zarr.json`` tensorstore creates for ``case`` (czarr's codecs, same spelling)."""
    np_dtype = np.dtype(case.dtype)
    ndim = len(case.shape)
    chain: list[dict] = []
    if case.codec == "transpose":
        chain.append({"name": "transpose", "configuration": {"order": list(range(ndim))[::-1]}})
    chain.append({"name": "bytes", "configuration": {"endian": "little"}}
                 if np_dtype.itemsize > 1 else {"name": "bytes"})
    chain += m.bytes_codecs_json(case.codec, np_dtype.itemsize)
    grid = case.chunks
    if case.shards is not None:
        chain = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(case.chunks), "codecs": chain,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                             {"name": "crc32c"}], "index_location": "end"}}]
        grid = case.shards
    name, sep = case.key
    return {
        "shape": list(case.shape), "data_type": case.dtype,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(grid)}},
        "chunk_key_encoding": {"name": name, "configuration": {"separator": sep}},
        "fill_value": _fill_json(case), "codecs": chain,
        "attributes": {"case": case.id},
        "dimension_names": [f"d{i}" for i in range(ndim)],
    }


def _ts_open(path: str, **kwargs: object) -> ts.TensorStore:
    return ts.open({"driver": "zarr3", "kvstore": _kvstore(path), **kwargs}).result()


# -- czarr writes, tensorstore reads -----------------------------------------------------

@pytest.mark.parametrize("case", NUMERIC_CASES, ids=_IDS)
def test_czarr_writes_tensorstore_reads(tmp_path, case):
    path = str(tmp_path / "czarr.zarr")
    m.czarr_create(case, path, dimension_names=[f"d{i}" for i in range(len(case.shape))],
                   attributes={"case": case.id})
    store = _ts_open(path, open=True)
    want = m.expected(case)
    m.assert_values(store.read().result(), want)
    if case.shape:
        m.assert_values(store[1:].read().result(), want[1:])
    assert tuple(store.domain.shape) == case.shape
    assert store.dtype.numpy_dtype == np.dtype(case.dtype)
    m.assert_values(store.fill_value, np.asarray(case.fill, dtype=case.dtype))
    if case.shape:  # a 0-d array's chunk layout has no shape in tensorstore
        assert tuple(store.chunk_layout.read_chunk.shape) == case.chunks
        assert tuple(store.chunk_layout.write_chunk.shape) == (case.shards or case.chunks)
    assert list(store.domain.labels) == [f"d{i}" for i in range(len(case.shape))]


# -- tensorstore writes, czarr reads (and writes back) -----------------------------------

@pytest.mark.parametrize("case", NUMERIC_CASES, ids=_IDS)
def test_tensorstore_writes_czarr_reads(tmp_path, case):
    path = str(tmp_path / "ts.zarr")
    store = _ts_open(path, create=True, metadata=_metadata(case))
    store[m.region(case)].write(m.data(case)[m.region(case)]).result()
    with open(f"{path}/zarr.json") as f:  # tensorstore's own spelling of the document
        doc = json.load(f)
    assert doc["attributes"] == {"case": case.id}
    want = m.expected(case)

    mine = czarr.open_array(path, mode="r")
    m.assert_values(mine[...], want)
    assert mine.shape == case.shape
    assert mine.chunks == case.chunks
    assert mine.dtype == np.dtype(case.dtype)
    m.assert_values(np.asarray(mine.fill_value, dtype=case.dtype),
                    np.asarray(case.fill, dtype=case.dtype))
    assert mine.attrs.asdict() == {"case": case.id}

    # czarr writes into tensorstore's array (its key encoding, its shards) and
    # tensorstore reads it
    writer = czarr.open_array(path, mode="r+")
    new = m.data(case)[::-1].copy() if case.shape else m.data(case) * 2
    sel = (slice(m.region(case)[0].stop - 1, None),) if case.shape else ()
    writer[sel] = new[sel]
    want[sel] = new[sel]
    m.assert_values(_ts_open(path, open=True).read().result(), want)


# -- byte identity -----------------------------------------------------------------------

# Unsharded chunks through bytes, zstd and blosc are tensorstore's byte for byte. Not
# compared: gzip (tensorstore writes a zero timestamp and OS byte 3 in the header, czarr
# and zarr-python the current time and 255, and its deflate stream differs too, though
# it holds the same bytes) and whole shards (tensorstore lays inner chunks out in another
# order than zarr-python's Morton order, which czarr follows; the inner chunks are equal).
BYTE_CASES = [c for c in NUMERIC_CASES if c.shards is None
              and c.codec in ("bytes", "zstd", "blosc", "crc32c")]


@pytest.mark.parametrize("case", BYTE_CASES, ids=[c.id for c in BYTE_CASES])
def test_chunks_match_tensorstore_bytes(tmp_path, case):
    mine, theirs = str(tmp_path / "czarr.zarr"), str(tmp_path / "ts.zarr")
    case = Case(case.dtype, case.fill, case.codec, ("default", case.key[1]), case.shape,
                case.chunks)  # czarr creates the default key encoding only
    m.czarr_create(case, mine)
    store = _ts_open(theirs, create=True, metadata=_metadata(case))
    store[m.region(case)].write(m.data(case)[m.region(case)]).result()
    a, b = m.chunk_files(mine), m.chunk_files(theirs)
    assert sorted(a) == sorted(b)
    assert all(a[k] == b[k] for k in a)
