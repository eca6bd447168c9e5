"""The public C-level API (czarr.capi) as an outside package uses it: tests/capi_ext is
built in a temporary directory against ``czarr.get_include()`` alone, with setuptools and
Cython in a subprocess of this interpreter, and cimports nothing but ``czarr.capi``. It
decodes chunks czarr wrote with the GIL released and assembles selections from several
chunks with the projection, copy and fill functions; both are checked against czarr."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import czarr
from czarr import capi
from czarr.errors import CodecError

EXT_SOURCES = Path(__file__).parent / "capi_ext"


@pytest.fixture(scope="module")
def ext(tmp_path_factory):
    pytest.importorskip("Cython")
    build = tmp_path_factory.mktemp("capi_ext")
    for name in ("setup.py", "capi_user.pyx"):
        shutil.copy(EXT_SOURCES / name, build / name)
    # the build imports the czarr under test (for get_include) and nothing else of it
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(czarr.__file__)))
    proc = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=build, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    sys.path.insert(0, str(build))
    try:
        yield importlib.import_module("capi_user")
    finally:
        sys.path.remove(str(build))
        sys.modules.pop("capi_user", None)


def test_get_include_holds_the_public_pxd():
    inc = Path(czarr.get_include())
    assert (inc / "czarr" / "capi.pxd").is_file()
    assert "CZARR_CAPI_VERSION" in (inc / "czarr" / "capi.pxd").read_text()


def test_versions(ext):
    assert ext.versions() == (capi.CAPI_VERSION, capi.CAPI_VERSION)
    assert capi.CAPI_VERSION >= 1


COMPRESSORS = {
    "blosc-lz4": czarr.Blosc("lz4", 5, czarr.Blosc.SHUFFLE),
    "blosc-zstd-bitshuffle": czarr.Blosc("zstd", 3, czarr.Blosc.BITSHUFFLE),
    "zstd": czarr.Zstd(3),
    "lz4": czarr.LZ4(),
    "zlib": czarr.Zlib(5),
    "gzip": czarr.GZip(5),
    "none": None,
}


def _written_array(compressor, dtype="i4"):
    """A (37, 45) array in (10, 8) chunks, written only over [:25, :30]: the other
    chunks are never stored and read as the fill value."""
    store: dict = {}
    a = czarr.create((37, 45), chunks=(10, 8), dtype=dtype, store=store,
                     compressor=compressor, fill_value=-7)
    a[:25, :30] = np.arange(25 * 30, dtype=dtype).reshape(25, 30) * 3 - 100
    return store, a


@pytest.mark.parametrize("name", COMPRESSORS)
def test_decode_chunks_czarr_wrote(ext, name):
    store, a = _written_array(COMPRESSORS[name])
    keys = sorted(k for k in store if not k.startswith("."))
    assert len(keys) == 3 * 4  # chunks 0..2 x 0..3 touch [:25, :30]
    nbytes = 10 * 8 * 4
    raw = ext.decode_all([store[k] for k in keys], a.compressor, 4, nbytes)
    decoded = np.frombuffer(raw, dtype="i4").reshape(len(keys), 10, 8)
    full = a[:]
    for key, chunk in zip(keys, decoded):
        i, j = map(int, key.split("."))
        expect = full[i * 10:(i + 1) * 10, j * 8:(j + 1) * 8]
        np.testing.assert_array_equal(chunk[:expect.shape[0], :expect.shape[1]], expect)


SELECTIONS = [
    (slice(0, 37), slice(0, 45)),
    (slice(3, 33), slice(5, 41)),
    (slice(2, 31, 4), slice(1, 44, 7)),
    (slice(30, 2, -3), slice(None, None, -1)),
    (slice(36, None, -11), slice(44, 0, -9)),
    (slice(12, 13), slice(7, 40)),          # the integer index 12, as a slice
    (slice(20, 20), slice(0, 45)),          # empty
]


@pytest.mark.parametrize("name", ["blosc-lz4", "zstd", "gzip", "none"])
@pytest.mark.parametrize("sel", SELECTIONS, ids=range(len(SELECTIONS)))
def test_read_region_matches_czarr(ext, name, sel):
    store, a = _written_array(COMPRESSORS[name])
    norm = tuple(s.indices(n) for s, n in zip(sel, a.shape))
    fill = np.array(-7, dtype="i4").tobytes()
    raw = ext.read_region(store, "", a.compressor, a.shape, a.chunks, 4, fill, norm)
    expect = a[sel]
    got = np.frombuffer(raw, dtype="i4").reshape(expect.shape)
    np.testing.assert_array_equal(got, expect)


def test_read_region_float_3d(ext):
    store: dict = {}
    data = np.random.default_rng(0).standard_normal((9, 11, 13))
    a = czarr.array(data, chunks=(4, 5, 3), store=store, compressor=czarr.Blosc("zstd", 1))
    sel = (slice(8, 0, -2), slice(1, 11, 3), slice(0, 13))
    norm = tuple(s.indices(n) for s, n in zip(sel, a.shape))
    raw = ext.read_region(store, "", a.compressor, a.shape, a.chunks, 8,
                          np.zeros(1).tobytes(), norm)
    np.testing.assert_array_equal(np.frombuffer(raw).reshape(4, 4, 13), data[sel])


@pytest.mark.parametrize("extent,chunk", [(0, 3), (1, 1), (10, 3), (17, 17), (100, 7)])
@pytest.mark.parametrize("step", [1, 2, 3, 50, -1, -4, -101])
def test_project_matches_slices(ext, extent, chunk, step):
    for start in (None, 0, 1, 5, -1, -3):
        for stop in (None, 0, 2, 9, -2, 1000):
            s = slice(start, stop, step)
            norm = s.indices(extent)
            elements = list(range(*norm))
            assert ext.slice_length(extent, *norm) == len(elements)
            k, rows = ext.project(extent, chunk, *norm)
            assert k == len(rows)
            got = [None] * len(elements)
            for ci, cs, cn, out in rows:
                assert 0 <= cs < chunk and cn >= 1
                for i in range(cn):
                    got[out + (i if step > 0 else -i)] = ci * chunk + cs + i * abs(step)
            assert got == elements, (s, extent, chunk, rows)
            assert [r[0] for r in rows] == sorted({e // chunk for e in elements})


def test_project_errors(ext):
    assert ext.project(10, 3, 0, 10, 1, cap=3)[0] == -3        # CZARR_ESPACE
    assert ext.project(10, 3, 0, 10, 1, cap=4)[0] == 4
    assert ext.project(10, 3, 0, 11, 1)[0] == -4               # stop past the extent
    assert ext.project(10, 3, -1, 5, 1)[0] == -4               # not normalised
    assert ext.project(10, 3, 10, 0, -1)[0] == -4              # start past the end
    assert ext.project(10, 0, 0, 5, 1, cap=4)[0] == -4          # chunk 0
    assert ext.project(10, 3, 0, 5, 0)[0] == -4                # step 0
    assert ext.project(2**63 - 1, 2**62, 0, 2, 1, cap=2)[0] == -4  # grid past int64
    assert ext.slice_length(5, 0, 5, 0) == -4


@pytest.mark.parametrize("name", [n for n in COMPRESSORS if n != "gzip"])
def test_encode_is_byte_identical_to_czarr(ext, name):
    compressor = COMPRESSORS[name]
    data = (np.arange(5000, dtype="i4") // 7).tobytes()
    status, encoded = ext.encode(data, compressor, 4)
    assert status == len(encoded) > 0
    expect = data if compressor is None else compressor.encode(
        np.frombuffer(data, dtype="i4"))
    assert encoded == bytes(expect)


def test_gzip_encode_round_trips_through_czarr(ext):
    data = bytes(range(256)) * 40
    status, encoded = ext.encode(data, {"id": "gzip", "level": 6})
    assert status == len(encoded) and encoded[:2] == b"\x1f\x8b"
    assert czarr.GZip(6).decode(encoded) == data
    assert ext.decode(encoded, {"id": "gzip"}, len(data)) == (len(data), data)


def test_codec_errors(ext):
    data = bytes(1000)
    status, blosc = ext.encode(data, czarr.Blosc())
    assert ext.decoded_size(blosc, czarr.Blosc()) == 1000
    assert ext.decode(blosc, czarr.Blosc(), 999)[0] == -2        # CZARR_ESIZE
    assert ext.decode(blosc[:20], czarr.Blosc(), 1000)[0] == -1  # CZARR_ECORRUPT
    assert ext.decode(b"\x00" * 40, czarr.Zstd(), 1000)[0] == -1
    status, zs = ext.encode(data, czarr.Zstd())
    assert ext.decoded_size(zs, czarr.Zstd()) == 1000
    assert ext.decode(zs, czarr.Zstd(), 1001)[0] == -2
    _, zl = ext.encode(data, czarr.Zlib())
    assert ext.decoded_size(zl, czarr.Zlib()) == -6              # CZARR_EUNKNOWN
    assert ext.decode(zl, czarr.Zlib(), 1001)[0] == -2
    assert ext.decode(zl[:-3], czarr.Zlib(), 1000)[0] == -1
    assert ext.encode(data, czarr.LZ4(), destsize=100)[0] == -3  # CZARR_ESPACE
    assert ext.decode(b"abc", None, 4)[0] == -2
    assert ext.init_codec(99) == (-4, None)
    assert ext.init_codec(2)[1]["level"] == 0                    # numcodecs' Zstd default


def test_codec_from_config():
    assert capi.parse_codec(None)["id"] == capi.CODEC_IDS["none"]
    blosc = capi.parse_codec(czarr.Blosc("zstd", 3, czarr.Blosc.BITSHUFFLE, 256), 8)
    assert (blosc["id"], blosc["cname"], blosc["level"], blosc["shuffle"],
            blosc["blocksize"], blosc["typesize"]) == (1, b"zstd", 3, 2, 256, 8)
    v3 = capi.parse_codec({"name": "blosc", "configuration": {
        "cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 4, "blocksize": 0}})
    assert (v3["shuffle"], v3["typesize"]) == (1, 4)
    assert capi.parse_codec({"id": "zstd", "level": 7, "checksum": True})["checksum"] == 1
    assert capi.parse_codec(czarr.LZ4(9))["level"] == 9
    with pytest.raises(CodecError, match="bz2"):
        capi.parse_codec({"id": "bz2"})
    with pytest.raises(CodecError, match="cname"):
        capi.parse_codec({"id": "blosc", "cname": "x" * 20})
    with pytest.raises(CodecError):
        capi.parse_codec({"id": "zlib", "level": 12})
