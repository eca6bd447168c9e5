"""The self-contained wheel: built from the sdist with the bundled c-blosc
(``tools/build_wheel.py --from-sdist``, what ``make wheel`` runs), repaired by auditwheel,
installed into a fresh venv and used there with the system compression libraries out of
reach: no extension links libblosc, libzstd, liblz4 or libz, none is loaded, the data
round-trips, a Blosc-zstd chunk equals numcodecs' byte for byte when the versions match,
and the codec test suite passes against the installed wheel (the bundled build mode in CI).

Slow (a full build from scratch, about two minutes on two cores) and Linux only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPRESSION_LIBS = ("libblosc", "libzstd", "liblz4", "libz.")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="auditwheel is Linux only"),
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("auditwheel", reason="a test dependency (pip install auditwheel)")
    out = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k != "CZARR_BLOSC"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_wheel.py"), "--from-sdist",
         "--dist", str(out / "dist"), "--wheelhouse", str(out / "wheelhouse")],
        capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "external_libs" not in result.stderr
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.is_file() and path.parent == out / "wheelhouse"
    return path


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel; numpy, numcodecs and pytest are reached through
    a .pth path entry placed after its own site-packages (no network, and the test
    environment's editable czarr stays out: a path entry runs none of its .pth files)."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    # without PYTHONPATH (importing benchmarks/compare.py puts this checkout on it), or
    # pip finds the checkout's czarr already installed and installs nothing
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, env=clean)
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def _run(venv: Path, args: list[str], cwd: Path, timeout: float = 600):
    """Run the venv's Python with the loader's search path pointing at an empty folder."""
    empty = cwd / "empty-libdir"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "CZARR_BLOSC", "PYTHONSTARTUP")}
    env.update(LD_LIBRARY_PATH=str(empty), PYTHONNOUSERSITE="1")
    return subprocess.run([str(venv / "bin" / "python"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


CHILD = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    import czarr
    from czarr._core import blosc, lz4, zlib, zstd

    report = {"czarr": czarr.__file__, "versions": {
        "blosc": blosc.VERSION_STRING, "zstd": zstd.VERSION_STRING,
        "lz4": lz4.VERSION_STRING, "zlib": zlib.VERSION_STRING}}
    data = (np.sin(np.arange(1_000_000) / 500.0) * 1000).round(2).reshape(1000, 1000)
    comp = czarr.Blosc(cname="zstd", clevel=5, shuffle=czarr.Blosc.BITSHUFFLE)
    arr = czarr.open_array("a.zarr", mode="w", shape=data.shape, chunks=(250, 250),
                           dtype="f8", compressor=comp)
    arr[...] = data
    report["roundtrip"] = bool(np.array_equal(czarr.open_array("a.zarr", mode="r")[...],
                                              data))
    for name in ("Zstd", "LZ4", "Zlib", "GZip"):
        codec = getattr(czarr, name)
        assert np.array_equal(np.frombuffer(codec().decode(codec().encode(data)), "f8"),
                              data.ravel()), name
    with open("/proc/self/maps") as f:
        report["mapped"] = sorted({line.split()[-1] for line in f if "/lib" in line
                                   and any(k in line.split()[-1] for k in
                                   ("libblosc", "libzstd", "liblz4"))})
    with open("a.zarr/1.2", "rb") as f:
        chunk = f.read()
    import numcodecs
    from numcodecs import blosc as ncb, lz4 as ncl, zstd as ncz
    report["numcodecs"] = {"version": numcodecs.__version__, "blosc": ncb.VERSION_STRING,
                           "zstd": f"{ncz.VERSION_NUMBER // 10000}."
                                   f"{ncz.VERSION_NUMBER // 100 % 100}.{ncz.VERSION_NUMBER % 100}",
                           "lz4": ncl.VERSION_STRING}
    theirs = numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE)
    block = np.ascontiguousarray(data[250:500, 500:750])
    report["identical"] = chunk == theirs.encode(block)
    report["decodes"] = bool(np.array_equal(
        np.frombuffer(theirs.decode(chunk), "f8").reshape(250, 250), block))
    print(json.dumps(report))
""")


@pytest.fixture(scope="module")
def child(venv, tmp_path_factory) -> dict:
    cwd = tmp_path_factory.mktemp("child")
    result = _run(venv, ["-c", CHILD], cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_wheel_is_tagged_manylinux_and_carries_no_library(wheel):
    assert "manylinux" in wheel.name and wheel.name.startswith("czarr-")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    extensions = [n for n in names if n.endswith(".so")]
    assert {Path(n).name.split(".")[0] for n in extensions} >= {"blosc", "zstd", "lz4", "zlib"}
    # czarr's own extension modules only (czarr/_core/*, czarr/capi): no library grafted
    # into a czarr.libs/ folder by auditwheel
    grafted = [n for n in extensions if not (n.startswith("czarr/_core/") or
                                             n.startswith("czarr/capi."))]
    assert grafted == [], extensions


def test_installed_extensions_link_no_compression_library(venv):
    files = sorted(venv.glob("lib/python*/site-packages/czarr/_core/*.so")) + sorted(
        venv.glob("lib/python*/site-packages/czarr/*.so"))
    assert len(files) >= 11
    for so in files:
        ldd = subprocess.run(["ldd", str(so)], capture_output=True, text=True,
                             check=True).stdout
        linked = [line.split()[0] for line in ldd.splitlines() if line.strip()]
        assert not [lib for lib in linked if lib.startswith(COMPRESSION_LIBS)], (so, ldd)


def test_child_uses_the_wheel_without_system_libraries(child, venv):
    assert child["czarr"].startswith(str(venv)), child["czarr"]
    assert child["roundtrip"]
    assert child["mapped"] == []  # no libblosc/libzstd/liblz4 in the process at all
    assert child["decodes"]


def test_blosc_zstd_chunk_is_numcodecs_byte_identical(child):
    ours, theirs = child["versions"], child["numcodecs"]
    if (ours["blosc"], ours["zstd"]) != (theirs["blosc"], theirs["zstd"]):
        pytest.skip(f"numcodecs {theirs['version']} bundles c-blosc {theirs['blosc']} and "
                    f"zstd {theirs['zstd']}; the wheel has {ours['blosc']}, {ours['zstd']}")
    assert child["identical"]


def test_codec_suite_passes_against_the_installed_wheel(venv, tmp_path):
    """The bundled build mode passes the codec tests (strict numcodecs byte identity where
    the library versions match); run from another folder, so the wheel's czarr is used."""
    args = ["-q", "-p", "no:cacheprovider", "-x", "--rootdir", str(ROOT),
            "-c", str(ROOT / "pyproject.toml"), str(ROOT / "tests" / "codecs")]
    script = (f"import sys, czarr, pytest; assert czarr.__file__.startswith({str(venv)!r}), "
              f"czarr.__file__; sys.exit(pytest.main({args!r}))")
    result = _run(venv, ["-c", script], tmp_path)
    tail = result.stdout[-2500:]
    assert result.returncode == 0, tail + result.stderr[-2000:]
    assert " passed" in tail and " failed" not in tail
    # the one allowed skip: an installed numcodecs other than the pinned one (then the
    # versions may differ and strict identity cannot be asked for)
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all("the bundled c-blosc comes from numcodecs" in line for line in skipped), skipped
