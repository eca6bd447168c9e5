"""Byte compatibility with numcodecs, both ways: for every codec and parameter, czarr's
encoding equals numcodecs' byte for byte, and each decodes the other's output.

Where the bytes depend on the version of a C library (Zstd; Blosc's zstd and lz4hc) and
numcodecs bundles another version than czarr links, numcodecs' bytes cannot be expected:
those cases assert decoding both ways instead, and test_codecs_linked.py enforces byte
identity against the library czarr links."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
from codec_testdata import (
    BLOSC_PARAMS,
    DTYPES,
    LZ4_PARAMS,
    ZSTD_PARAMS,
    library_dependent,
    same_library,
    sample,
)

import czarr.codecs as cc


def _both(params: dict, cls_name: str):
    ours = getattr(cc, cls_name)(**params)
    theirs = numcodecs.get_codec(ours.get_config())
    assert ours.get_config() == theirs.get_config()
    return ours, theirs


def _check_identical(ours, theirs, data):
    assert ours.encode(data) == theirs.encode(data)


def _check_cross(ours, theirs, data):
    expected = np.ascontiguousarray(data).tobytes()
    ours_enc, theirs_enc = ours.encode(data), theirs.encode(data)
    assert bytes(ours.decode(theirs_enc)) == expected
    if len(expected):  # numcodecs cannot decode its own empty Blosc/Zstd/LZ4 frames
        assert bytes(theirs.decode(ours_enc)) == expected
    out = np.empty_like(data)
    assert ours.decode(theirs_enc, out=out) is out
    assert out.tobytes() == expected


def _check_identical_or_cross(ours, theirs, data):
    """Byte identity with numcodecs, unless the bytes depend on a library version that
    differs between numcodecs and czarr: then each decodes the other's output (byte
    identity is enforced against the linked library in test_codecs_linked.py)."""
    if same_library(library_dependent(ours.get_config())):
        _check_identical(ours, theirs, data)
    else:
        _check_cross(ours, theirs, data)


# ---- Blosc -------------------------------------------------------------------------

@pytest.mark.parametrize("cname,shuffle,clevel,blocksize", BLOSC_PARAMS)
def test_blosc_bytes_identical(cname, shuffle, clevel, blocksize):
    ours, theirs = _both(dict(cname=cname, clevel=clevel, shuffle=shuffle,
                              blocksize=blocksize), "Blosc")
    for dtype in DTYPES:
        if clevel == 0:  # a plain copy: identical whatever the library versions
            _check_identical(ours, theirs, sample(dtype))
        else:
            _check_identical_or_cross(ours, theirs, sample(dtype))


@pytest.mark.parametrize("cname,shuffle,clevel,blocksize", BLOSC_PARAMS)
def test_blosc_cross_decode(cname, shuffle, clevel, blocksize):
    ours, theirs = _both(dict(cname=cname, clevel=clevel, shuffle=shuffle,
                              blocksize=blocksize), "Blosc")
    for dtype in DTYPES[::3]:
        _check_cross(ours, theirs, sample(dtype))


# ---- the other codecs ----------------------------------------------------------------

OTHER_PARAMS = (
    [("Zstd", p) for p in ZSTD_PARAMS]
    + [("LZ4", p) for p in LZ4_PARAMS]
    + [("Zlib", dict(level=lv)) for lv in range(-1, 10)]
    + [("GZip", dict(level=lv)) for lv in range(0, 10)]
    + [("BZ2", dict(level=lv)) for lv in range(1, 10)]
    + [("LZMA", dict(format=f, preset=p)) for f in (1, 2) for p in (None, 0, 1, 6)]
    + [("LZMA", dict(format=1, check=c)) for c in (0, 1, 4, 10)]
    + [("LZMA", dict(format=3, filters=[{"id": numcodecs.lzma._lzma.FILTER_DELTA,
                                         "dist": 4},
                                        {"id": numcodecs.lzma._lzma.FILTER_LZMA2,
                                         "preset": 1}]))]
)


@pytest.fixture(autouse=True)
def _deterministic_numcodecs(monkeypatch):
    # gzip headers hold the time of encoding: freeze it so both sides write the same
    monkeypatch.setattr("time.time", lambda: 1_700_000_000.0)
    # with internal threads, c-blosc stores blocks in the order they finish; czarr uses
    # one thread unless asked, so compare with numcodecs' single-threaded output
    monkeypatch.setattr(numcodecs.blosc, "use_threads", False)


@pytest.mark.parametrize("cls_name,params",
                         [pytest.param(c, p, id=f"{c}-{p}") for c, p in OTHER_PARAMS])
def test_bytes_identical(cls_name, params):
    ours, theirs = _both(params, cls_name)
    for dtype in DTYPES[::2] if cls_name in ("BZ2", "LZMA") else DTYPES:
        _check_identical_or_cross(ours, theirs, sample(dtype, n=2048))


@pytest.mark.parametrize("cls_name,params",
                         [pytest.param(c, p, id=f"{c}-{p}") for c, p in OTHER_PARAMS])
def test_cross_decode(cls_name, params):
    ours, theirs = _both(params, cls_name)
    for dtype in DTYPES[::4]:
        _check_cross(ours, theirs, sample(dtype, n=2048))


# ---- edge sizes ----------------------------------------------------------------------

ALL_DEFAULTS = ["Blosc", "Zstd", "LZ4", "Zlib", "GZip", "BZ2", "LZMA"]


@pytest.mark.parametrize("cls_name", ALL_DEFAULTS)
@pytest.mark.parametrize("data", [b"", b"x", np.zeros(0, "f8"), np.array([7], "u1")],
                         ids=["empty", "one-byte", "empty-f8", "one-u1"])
def test_tiny_inputs(cls_name, data):
    ours, theirs = _both({}, cls_name)
    if cls_name == "Blosc":  # numcodecs' defaults differ only in shuffle
        ours, theirs = _both({"shuffle": 1}, cls_name)
    enc = ours.encode(data)
    assert enc == theirs.encode(data)
    expected = bytes(memoryview(data).cast("B"))
    assert bytes(ours.decode(enc)) == expected
    assert bytes(ours.decode(theirs.encode(data))) == expected
    if expected or cls_name in ("Zlib", "GZip", "BZ2", "LZMA"):
        assert bytes(theirs.decode(enc)) == expected


@pytest.mark.slow
@pytest.mark.parametrize("cls_name,params,mib", [
    ("Blosc", {"cname": "lz4", "shuffle": 1}, 64), ("Blosc", {"cname": "blosclz"}, 64),
    ("Blosc", {"cname": "zlib", "clevel": 1}, 64), ("Zstd", {}, 64), ("LZ4", {}, 64),
    ("Zlib", {}, 64), ("GZip", {}, 64), ("BZ2", {}, 8), ("LZMA", {"preset": 1}, 8)])
def test_large_input(cls_name, params, mib):
    """64 MiB (8 MiB for the slow BZ2 and LZMA) of smooth float64 data."""
    n = mib * (1 << 20) // 8
    data = np.sin(np.linspace(0, 200, n)) + np.arange(n) % 7 * 1e-3
    ours, theirs = _both(params, cls_name)
    enc = ours.encode(data)
    assert enc == theirs.encode(data)
    out = np.empty_like(data)
    ours.decode(enc, out=out)
    assert np.array_equal(out, data)
    assert np.array_equal(np.frombuffer(theirs.decode(enc), "f8"), data)
