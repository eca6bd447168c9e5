"""Zarr v3 interop with zarr-python 3: arrays czarr writes open in zarr-python with every
value, fill value, chunk and shard shape, dimension name and attribute as written, and the
other way round (then czarr writes into zarr-python's array and zarr-python reads it);
unsharded chunks and the inner chunks of shards are compared byte for byte with the ones
zarr-python writes for the same data; groups, nested arrays and zarr-python 3's
consolidated metadata (inside ``zarr.json``) read in both directions."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from packaging.version import Version

import czarr
from tests.v3 import interop_cases as m
from tests.v3.interop_cases import CASES, Case

zarr = pytest.importorskip("zarr", minversion="3.0")
from zarr.codecs import (  # noqa: E402
    BloscCodec,
    Crc32cCodec,
    GzipCodec,
    TransposeCodec,
    ZstdCodec,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::zarr.errors.UnstableSpecificationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore:Consolidated metadata is currently not part"),
]


def _zarr_compressors(case: Case) -> list | None:
    return {
        "bytes": None,
        "blosc": [BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")],
        "zstd": [ZstdCodec(level=3)],
        "gzip": [GzipCodec(level=5)],
        "crc32c": [ZstdCodec(level=1), Crc32cCodec()],
        "transpose": [GzipCodec(level=1)],
    }[case.codec]


def zarr_create(case: Case, path: str, key: tuple[str, str] | None = None,
                **extra: object) -> zarr.Array:
    """zarr-python 3's array for ``case`` at ``path`` with ``region`` written."""
    name, sep = key or case.key
    ndim = len(case.shape)
    filters = ([TransposeCodec(order=tuple(range(ndim))[::-1])]
               if case.codec == "transpose" else None)
    arr = zarr.create_array(
        path, shape=case.shape, chunks=case.chunks, shards=case.shards,
        dtype=str if case.dtype == "str" else case.dtype,
        compressors=_zarr_compressors(case), filters=filters, fill_value=case.fill,
        zarr_format=3, chunk_key_encoding={"name": name, "separator": sep}, **extra)
    arr[m.region(case)] = m.data(case)[m.region(case)]
    return arr


def _same_fill(a: object, b: object) -> bool:
    if isinstance(b, float | complex) and not isinstance(b, bool):
        a, b = complex(a), complex(b)
        return all(x == y or (math.isnan(x) and math.isnan(y))
                   for x, y in ((a.real, b.real), (a.imag, b.imag)))
    if isinstance(a, bytes | np.bytes_):
        return bytes(a) == b
    return a == b


def _ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]


# zarr-python <= 3.1.6 stores the strings of a chunk that went through ``transpose`` in
# memory order, so their order does not follow the chunk (numcodecs flattens with
# order='A'; zarr-python issue #3558, fixed by zarr-python pull request #4116): it does
# not even read back its own array. Its reads are right: it reads czarr's arrays.
_ZARR_VLEN_TRANSPOSE = pytest.mark.xfail(
    Version(zarr.__version__) <= Version("3.1.6"), strict=True,
    reason="zarr-python <= 3.1.6 writes transposed vlen-utf8 chunks in memory order "
           "(zarr-python#3558)")


def _with_peer_bugs(cases: list[Case]) -> list:
    return [pytest.param(c, id=c.id, marks=[_ZARR_VLEN_TRANSPOSE])
            if c.dtype == "str" and c.codec == "transpose" else pytest.param(c, id=c.id)
            for c in cases]


# -- czarr writes, zarr-python reads -----------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_czarr_writes_zarr_reads(tmp_path, case):
    path = str(tmp_path / "czarr.zarr")
    names = [f"d{i}" for i in range(len(case.shape))]
    mine = m.czarr_create(case, path, dimension_names=names, attributes={"case": case.id})
    want = m.expected(case)
    m.assert_values(mine[...], want)

    ref = zarr.open_array(path, mode="r")
    m.assert_values(ref[...], want)
    if case.shape:  # a selection across chunks (and shards), edge chunk included
        sel = (slice(1, None), -1) + (slice(None),) * (len(case.shape) - 2) \
            if len(case.shape) > 1 else (slice(3, None, 2),)
        m.assert_values(ref[sel], want[sel])
    assert _same_fill(ref.fill_value, case.fill)
    assert ref.shape == case.shape
    assert ref.chunks == case.chunks
    assert ref.shards == case.shards
    assert ref.metadata.dimension_names == tuple(names)
    assert ref.attrs.asdict() == {"case": case.id}
    assert ref.metadata.chunk_key_encoding.to_dict() == {
        "name": "default", "configuration": {"separator": case.key[1]}}

    # the chunk (or shard) files are the ones zarr-python writes for the same data
    other = str(tmp_path / "zarr.zarr")
    zarr_create(case, other, key=("default", case.key[1]))
    assert sorted(m.chunk_files(path)) == sorted(m.chunk_files(other))


# -- zarr-python writes, czarr reads (and writes back) -----------------------------------

def _czarr_region(case: Case) -> tuple[slice, ...]:
    """What czarr writes into zarr-python's array: the rows ``region`` left unwritten
    plus the last written row (so shards and chunks zarr-python wrote are updated)."""
    if not case.shape:
        return ()
    start = m.region(case)[0].stop - 1
    return (slice(start, None),) + tuple(slice(None) for _ in case.shape[1:])


@pytest.mark.parametrize("case", _with_peer_bugs(CASES))
def test_zarr_writes_czarr_reads(tmp_path, case):
    path = str(tmp_path / "zarr.zarr")
    names = [f"d{i}" for i in range(len(case.shape))]
    ref = zarr_create(case, path, dimension_names=names, attributes={"case": case.id})
    want = m.expected(case)

    mine = czarr.open_array(path, mode="r")
    m.assert_values(mine[...], want)
    assert mine.shape == case.shape
    assert mine.chunks == case.chunks  # the inner chunks when sharded
    assert mine.dtype == case.np_dtype
    assert _same_fill(mine.fill_value, case.fill)
    assert mine.attrs.asdict() == {"case": case.id}
    if case.shape:
        m.assert_values(mine[1:3], want[1:3])

    # czarr writes into zarr-python's array, keyed with its chunk key encoding
    writer = czarr.open_array(path, mode="r+")
    sel = _czarr_region(case)
    new = m.data(case)[::-1].copy() if case.shape else m.data(case)
    writer[sel] = new[sel]
    want[sel] = new[sel]
    m.assert_values(ref[...], want)
    m.assert_values(zarr.open_array(path, mode="r")[...], want)
    name, sep = case.key
    keys = sorted(m.chunk_files(path))
    if case.shape:
        assert all((k.startswith("c" + sep) if name == "default" else k[0].isdigit())
                   for k in keys), keys
        assert all(k.count(sep) == len(case.shape) - (name == "v2") for k in keys), keys


@pytest.mark.parametrize("dtype", [str, "U4", "S3"], ids=["str", "U4", "S3"])
def test_default_fill_of_text_dtypes_is_zarrs(tmp_path, dtype):
    """czarr.create's default fill value (0, zarr-python 2's default) stands for the empty
    value of a text dtype in v3 too, as it does in v2 and as zarr-python 3's default is."""
    mine, theirs = str(tmp_path / "czarr.zarr"), str(tmp_path / "zarr.zarr")
    czarr.create((5,), chunks=(2,), dtype=dtype, store=czarr.DirectoryStore(mine),
                 zarr_format=3)
    zarr.create_array(theirs, shape=(5,), chunks=(2,), dtype=dtype, zarr_format=3)
    assert m.read_json(mine)["fill_value"] == m.read_json(theirs)["fill_value"]
    assert zarr.open_array(mine, mode="r")[...].tolist() == \
        zarr.open_array(theirs, mode="r")[...].tolist()


# -- byte identity of what each library writes -------------------------------------------

# every codec over int32 and float64, and the unsharded rows of the matrix
BYTE_CASES = [Case(dt, 0, codec, m.D_SLASH) for dt in ("int32", "float64")
              for codec in m.CODECS] + [
    Case("U4", "", "blosc", m.D_DOT), Case("str", "", "blosc", m.D_DOT),
    Case("bool", True, "blosc", m.D_SLASH),
] + [c for c in CASES if c.shards is None]


@pytest.mark.parametrize("case", BYTE_CASES, ids=_ids(BYTE_CASES))
def test_chunks_and_metadata_match_zarr_bytes(tmp_path, case):
    """Same data, same codecs: czarr's ``zarr.json`` and chunk files are zarr-python's,
    byte for byte. Every codec czarr writes is deterministic and configured as
    zarr-python configures it (Blosc's typesize is the dtype's itemsize, 1 after
    vlen-utf8), and both pad edge chunks with the fill value, so no row differs but for
    gzip's timestamp (see ``without_gzip_mtime``)."""
    mine, theirs = str(tmp_path / "czarr.zarr"), str(tmp_path / "zarr.zarr")
    key = ("default", case.key[1])  # czarr creates the default encoding only
    m.czarr_create(case, mine)
    zarr_create(case, theirs, key=key)
    assert m.read_json(mine) == m.read_json(theirs)
    a, b = m.chunk_files(mine), m.chunk_files(theirs)
    assert sorted(a) == sorted(b)
    for k in a:
        assert m.without_gzip_mtime(a[k]) == m.without_gzip_mtime(b[k]), k


SHARDED_CASES = [c for c in CASES if c.shards is not None]


@pytest.mark.parametrize("case", _with_peer_bugs(SHARDED_CASES))
def test_shards_match_zarr_bytes(tmp_path, case):
    """Sharded: the same shards, each with the same inner chunks at the same index
    positions, byte for byte, laid out in the same (Morton) order, so the same index; and
    the shard files themselves identical (but for gzip's timestamps)."""
    mine, theirs = str(tmp_path / "czarr.zarr"), str(tmp_path / "zarr.zarr")
    m.czarr_create(case, mine)
    zarr_create(case, theirs, key=("default", case.key[1]))
    assert m.read_json(mine) == m.read_json(theirs)
    a, b = m.chunk_files(mine), m.chunk_files(theirs)
    assert sorted(a) == sorted(b)
    n = math.prod(s // c for s, c in zip(case.shards, case.chunks))
    for k in a:
        assert [m.without_gzip_mtime(c) for c in m.shard_chunks(a[k], n)] == \
            [m.without_gzip_mtime(c) for c in m.shard_chunks(b[k], n)], k
        assert a[k][-16 * n - 4:] == b[k][-16 * n - 4:], k  # the index
        if "gzip" not in json.dumps(m.read_json(mine)["codecs"]):
            assert a[k] == b[k], k


@pytest.mark.parametrize("per_shard", [(2, 2), (3, 5), (4, 1, 3), (7,), (1,), (2, 3, 4),
                                       (5, 5, 5), (33, 2)])
def test_inner_chunk_layout_is_zarr_morton_order(per_shard):
    from zarr.core.indexing import morton_order_iter

    from czarr.sharding import morton_order

    mine = [tuple(int(x) for x in np.unravel_index(i, per_shard))
            for i in morton_order(per_shard)]
    assert mine == list(morton_order_iter(per_shard))


# -- groups ------------------------------------------------------------------------------

def _tree_values(case_a: Case, case_b: Case) -> dict[str, tuple[Case, np.ndarray]]:
    return {"a": (case_a, m.expected(case_a)), "sub/inner/b": (case_b, m.expected(case_b))}


GROUP_A = Case("int32", 7, "gzip", m.D_SLASH, shards=(8, 6))
GROUP_B = Case("str", "", "zstd", m.D_DOT)


def test_czarr_group_zarr_reads(tmp_path):
    path = str(tmp_path / "g.zarr")
    root = czarr.group(czarr.DirectoryStore(path), zarr_format=3)
    root.attrs.update({"title": "root", "nested": {"x": [1, 2]}})
    sub = root.create_group("sub")
    sub.attrs["level"] = 1
    inner = sub.create_group("inner")
    for name, (case, _) in _tree_values(GROUP_A, GROUP_B).items():
        where = inner if "/" in name else root
        arr = where.create_dataset(
            name.rsplit("/", 1)[-1], shape=case.shape, chunks=case.chunks,
            dtype=str if case.dtype == "str" else case.dtype, shards=case.shards,
            compressor=m.CODECS[case.codec](), fill_value=case.fill,
            dimension_separator=case.key[1])
        arr[m.region(case)] = m.data(case)[m.region(case)]
        arr.attrs["units"] = name

    ref = zarr.open_group(path, mode="r")
    assert ref.metadata.zarr_format == 3
    assert ref.attrs.asdict() == {"title": "root", "nested": {"x": [1, 2]}}
    assert ref["sub"].attrs.asdict() == {"level": 1}
    assert isinstance(ref["sub/inner"], zarr.Group)
    assert sorted(k for k, _ in ref.members(max_depth=None)) == [
        "a", "sub", "sub/inner", "sub/inner/b"]
    for name, (case, want) in _tree_values(GROUP_A, GROUP_B).items():
        arr = ref[name]
        m.assert_values(arr[...], want)
        assert arr.attrs.asdict() == {"units": name}
        assert arr.shards == case.shards


def _zarr_tree(path: str) -> None:
    root = zarr.open_group(path, mode="w", zarr_format=3,
                           attributes={"title": "root", "nested": {"x": [1, 2]}})
    sub = root.create_group("sub", attributes={"level": 1})
    sub.create_group("inner")
    for name, (case, _) in _tree_values(GROUP_A, GROUP_B).items():
        zarr_create(case, os.path.join(path, name), attributes={"units": name})


def _check_czarr_tree(root: czarr.Group) -> None:
    assert root.attrs.asdict() == {"title": "root", "nested": {"x": [1, 2]}}
    assert root["sub"].attrs.asdict() == {"level": 1}
    assert sorted(root.group_keys()) == ["sub"] and sorted(root.array_keys()) == ["a"]
    assert sorted(root["sub/inner"].array_keys()) == ["b"]
    for name, (case, want) in _tree_values(GROUP_A, GROUP_B).items():
        arr = root[name]
        m.assert_values(arr[...], want)
        assert arr.attrs.asdict() == {"units": name}
        assert arr.chunks == case.chunks


def test_zarr_group_czarr_reads(tmp_path):
    path = str(tmp_path / "g.zarr")
    _zarr_tree(path)
    _check_czarr_tree(czarr.open_group(path, mode="r"))
    _check_czarr_tree(czarr.open(path, mode="r"))
    # czarr adds to zarr-python's group; zarr-python sees it
    root = czarr.open_group(path, mode="r+")
    root["sub"].create_dataset("added", data=np.arange(5, dtype="u2"), chunks=(2,))
    root.attrs["added"] = True
    ref = zarr.open_group(path, mode="r")
    np.testing.assert_array_equal(ref["sub/added"][...], np.arange(5, dtype="u2"))
    assert ref.attrs["added"] is True


def test_zarr_consolidated_group_czarr_reads(tmp_path):
    path = str(tmp_path / "g.zarr")
    _zarr_tree(path)
    zarr.consolidate_metadata(path)
    doc = m.read_json(path)
    assert doc["consolidated_metadata"]["kind"] == "inline"
    assert sorted(doc["consolidated_metadata"]["metadata"]) == [
        "a", "sub", "sub/inner", "sub/inner/b"]
    _check_czarr_tree(czarr.open_group(path, mode="r"))
    _check_czarr_tree(czarr.open(path, mode="r"))
    # writing through czarr keeps a group document zarr-python still opens, consolidated
    root = czarr.open_group(path, mode="r+")
    root.attrs["after"] = 1
    ref = zarr.open_group(path, mode="r")
    assert ref.attrs["after"] == 1
    assert json.loads(json.dumps(ref.metadata.consolidated_metadata.to_dict()))["kind"] == \
        "inline"
    m.assert_values(ref["sub/inner/b"][...], m.expected(GROUP_B))


def _stale_consolidated_tree(path: str) -> None:
    """A consolidated tree whose array ``a`` then changes its attributes in its own
    ``zarr.json`` only: a reader through the consolidated metadata still sees the old."""
    _zarr_tree(path)
    zarr.consolidate_metadata(path)
    doc = m.read_json(os.path.join(path, "a"))
    doc["attributes"] = {"changed": True}
    with open(os.path.join(path, "a", "zarr.json"), "w") as f:
        json.dump(doc, f)
    assert zarr.open_group(path, mode="r")["a"].attrs.asdict() == {"units": "a"}


def test_czarr_reads_through_v3_consolidated_metadata(tmp_path):
    """In mode 'r', czarr reads a consolidated v3 group through its inline metadata, as
    zarr-python does (so a member changed after consolidating shows its old metadata)."""
    path = str(tmp_path / "g.zarr")
    _stale_consolidated_tree(path)
    assert czarr.open_group(path, mode="r")["a"].attrs.asdict() == {"units": "a"}


def test_use_consolidated_on_v3_group(tmp_path):
    path = str(tmp_path / "g.zarr")
    _stale_consolidated_tree(path)
    root = czarr.open_group(path, mode="r", use_consolidated=True)
    assert root["a"].attrs.asdict() == {"units": "a"}
