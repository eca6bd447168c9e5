"""Byte identity with the C libraries czarr links: for every Zstd, LZ4 and Blosc parameter
the numcodecs comparison covers, czarr's encoding equals, byte for byte, what the linked
libzstd, liblz4 and c-blosc produce when called as numcodecs calls them (through ctypes,
see linked_reference.py). This holds whatever library versions numcodecs bundles, so a
codec that drops a parameter (Zstd's checksum, Blosc's block size...) fails here even
where test_codecs_compat.py can only check that the frames decode."""

from __future__ import annotations

import ctypes

import linked_reference as ref
import numpy as np
import pytest
from codec_testdata import BLOSC_PARAMS, DTYPES, LZ4_PARAMS, ZSTD_PARAMS, sample

import czarr.codecs as cc
from czarr._core import blosc as core_blosc
from czarr._core import lz4 as core_lz4
from czarr._core import zstd as core_zstd

TINY = [b"", b"x", np.zeros(0, "f8"), np.array([7], "u1")]


@pytest.mark.parametrize("module,load,symbol", [
    (core_zstd, ref.libzstd, "ZSTD_compress2"), (core_lz4, ref.liblz4, "LZ4_compress_fast"),
    (core_blosc, ref.libblosc, "blosc_compress_ctx")])
def test_references_call_the_linked_libraries(module, load, symbol):
    """The reference's function is the very one the extension resolves (same library
    instance in this process; loading also compared the version strings)."""
    extension = ctypes.CDLL(module.__file__)
    assert (ctypes.cast(getattr(extension, symbol), ctypes.c_void_p).value
            == ctypes.cast(getattr(load(), symbol), ctypes.c_void_p).value)


def test_references_honour_their_parameters():
    """The references themselves are not blind to what the tests below compare."""
    data = sample("i4").tobytes()
    assert ref.zstd_encode(data, 3, True)[:-4] != ref.zstd_encode(data, 3, False)
    assert len(ref.zstd_encode(data, 3, True)) == len(ref.zstd_encode(data, 3, False)) + 4
    assert ref.zstd_encode(data, 1, False) != ref.zstd_encode(data, 19, False)
    assert ref.lz4_encode(data, 1) != ref.lz4_encode(data, 64)
    for cname in ("zstd", "lz4hc"):
        assert (ref.blosc_encode(data, 4, cname, 5, 1, 0)
                != ref.blosc_encode(data, 4, cname, 5, 1, 256))
        assert (ref.blosc_encode(data, 4, cname, 5, 1, 0)
                != ref.blosc_encode(data, 4, cname, 5, 2, 0))
    # and what they write decodes to the input
    assert cc.Zstd().decode(ref.zstd_encode(data, 3, True)) == data
    assert cc.LZ4().decode(ref.lz4_encode(data, 8)) == data
    assert cc.Blosc().decode(ref.blosc_encode(data, 4, "zstd", 5, -1, 256)) == data


@pytest.mark.parametrize("cname,shuffle,clevel,blocksize", BLOSC_PARAMS)
def test_blosc_equals_linked_cblosc(cname, shuffle, clevel, blocksize):
    # the reference takes the test's parameters, not the codec's config: a codec that
    # dropped one would otherwise be compared with a reference dropping it too
    config = dict(id="blosc", cname=cname, clevel=clevel, shuffle=shuffle, blocksize=blocksize)
    codec = cc.Blosc(cname=cname, clevel=clevel, shuffle=shuffle, blocksize=blocksize)
    for data in [sample(dtype) for dtype in DTYPES] + TINY:
        assert codec.encode(data) == ref.encode(config, data)


@pytest.mark.parametrize("cname,clevel,blocksize", sorted(
    {(c, lv, bs) for c, _, lv, bs in BLOSC_PARAMS if lv > 0 and bs > 0}))
def test_blosc_forced_blocksize_on_a_large_input(cname, clevel, blocksize):
    """1 MiB, more than the block size Blosc picks itself for any compressor and level
    (the small samples above are not, for lz4hc and zstd at 64 KiB): forcing a block size
    changes the frame, so a codec ignoring it cannot match."""
    data = sample("f8", n=1 << 17)
    config = dict(id="blosc", cname=cname, clevel=clevel, shuffle=1, blocksize=blocksize)
    expected = ref.encode(config, data)
    assert expected != ref.encode(dict(config, blocksize=0), data)
    assert cc.Blosc(cname, clevel, 1, blocksize).encode(data) == expected


@pytest.mark.parametrize("params", ZSTD_PARAMS, ids=str)
def test_zstd_equals_linked_libzstd(params):
    codec = cc.Zstd(**params)
    for data in [sample(dtype, n=2048) for dtype in DTYPES] + TINY:
        assert codec.encode(data) == ref.encode(dict(id="zstd", **params), data)


@pytest.mark.parametrize("params", LZ4_PARAMS, ids=str)
def test_lz4_equals_linked_liblz4(params):
    codec = cc.LZ4(**params)
    for data in [sample(dtype, n=2048) for dtype in DTYPES] + TINY:
        assert codec.encode(data) == ref.encode(dict(id="lz4", **params), data)


def _bundled() -> bool:
    """Whether czarr was built with CZARR_BLOSC=bundled: its codec extensions carry their
    compression libraries and link none (then the references above call the extensions'
    own exported functions)."""
    paths = [ref.linked_library(core_blosc, "libblosc.so", "blosc_get_version_string"),
             ref.linked_library(core_zstd, "libzstd.so", "ZSTD_versionString"),
             ref.linked_library(core_lz4, "liblz4.so", "LZ4_versionString")]
    bundled = [p == m.__file__ for p, m in zip(paths, (core_blosc, core_zstd, core_lz4))]
    assert all(bundled) or not any(bundled), f"a mixed build: {paths}"
    return all(bundled)


def test_bundled_build_is_numcodecs_byte_identical():
    """The bundled build compiles the c-blosc tree of the numcodecs sdist pinned in
    tools/vendor_blosc.py: with that numcodecs installed, every library version matches,
    so test_codecs_compat.py compares all Blosc, Zstd and LZ4 bytes strictly (no
    cross-decoding fallback), and here a Blosc-zstd and an LZ4HC chunk are identical."""
    import importlib.util
    from pathlib import Path

    import numcodecs
    from codec_testdata import SAME_LZ4, SAME_ZSTD
    from numcodecs import blosc as nc_blosc

    if not _bundled():
        pytest.skip("system build (CZARR_BLOSC=system): the system libraries' versions "
                    "differ from numcodecs'; the linked-library references above hold it")
    tool = Path(__file__).resolve().parents[2] / "tools" / "vendor_blosc.py"
    spec = importlib.util.spec_from_file_location("vendor_blosc", tool)
    pin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pin)
    assert core_blosc.VERSION_STRING == pin.BLOSC_VERSION
    assert f"zstd-{core_zstd.VERSION_STRING}" in pin.COMPLIBS
    assert f"lz4-{core_lz4.VERSION_STRING}" in pin.COMPLIBS
    if numcodecs.__version__ != pin.VERSION:
        pytest.skip(f"numcodecs {numcodecs.__version__} is installed, the bundled c-blosc "
                    f"comes from numcodecs {pin.VERSION}")
    assert nc_blosc.VERSION_STRING == core_blosc.VERSION_STRING
    assert SAME_ZSTD and SAME_LZ4
    data = sample("f8", n=1 << 16)
    for cname in ("zstd", "lz4hc"):
        ours = cc.Blosc(cname=cname, clevel=5, shuffle=2).encode(data)
        assert ours == numcodecs.Blosc(cname=cname, clevel=5, shuffle=2).encode(data)
    assert cc.Zstd(level=5).encode(data) == numcodecs.Zstd(level=5).encode(data)
