"""The czarr command line, run as a user runs it (``python -m czarr`` in a subprocess):
output, exit codes (0 ok, 1 failure, 2 usage) and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import czarr
from czarr.cli import UsageError, parse_codec, parse_selection

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "czarr", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def one_line_error(r: subprocess.CompletedProcess, code: int, fragment: str) -> None:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("czarr: error:"), r.stderr
    assert "Traceback" not in r.stderr
    assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    path = str(tmp / "d.zarr")
    root = czarr.open_group(path, mode="w")
    root.attrs["title"] = "demo"
    a = root.create_group("g").create_dataset("a", shape=(100, 200), chunks=(10, 200),
                                              dtype="i4")
    a[:] = np.arange(20000).reshape(100, 200)
    root.zeros("z", shape=(5,), chunks=2)
    return tmp, path


def test_parsers():
    assert parse_selection("0:10,5") == (slice(0, 10), 5)
    assert parse_selection("...,::2") == (Ellipsis, slice(None, None, 2))
    blosc = parse_codec("zstd:3:bitshuffle")
    assert (blosc.cname, blosc.clevel, blosc.shuffle) == ("zstd", 3, 2)
    assert parse_codec("zstd:5") == czarr.Zstd(level=5)
    assert parse_codec("none") is None
    assert parse_codec('{"id": "gzip", "level": 4}') == czarr.GZip(4)
    for bad in ("zstd:3:sideways", "nope", "gzip:x"):
        with pytest.raises(UsageError, match="bad codec spec"):
            parse_codec(bad)


def test_help_for_every_command():
    r = run("--help")
    assert r.returncode == 0 and "Exit codes" in r.stdout
    for cmd in ("info", "tree", "ls", "cat", "copy", "convert", "bench"):
        r = run(cmd, "--help")
        assert r.returncode == 0 and f"usage: czarr {cmd}" in r.stdout


def test_info(data):
    _, path = data
    r = run("info", path + "/g/a")
    assert r.returncode == 0, r.stderr
    assert "Name               : /g/a" in r.stdout
    assert "Chunks initialized : 10/10" in r.stdout


def test_tree(data):
    _, path = data
    r = run("tree", path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "/"
    assert lines[2].startswith(" │   └── a (100, 200) int32 chunks=(10, 200) 10/10 chunks ")
    assert lines[2].endswith(" stored")
    assert lines[3].startswith(" └── z (5,) float64 chunks=(2,) 0/3 chunks")


def test_ls(data):
    _, path = data
    assert run("ls", path).stdout.splitlines() == ["g/  group", "z  array  (5,) float64"]
    assert run("ls", path + "/g").stdout.splitlines() == ["a  array  (100, 200) int32"]


def test_cat(data):
    _, path = data
    r = run("cat", path + "/g/a", "--slice", "0:3,5")
    assert (r.returncode, r.stdout.strip()) == (0, "[  5 205 405]")
    assert run("cat", path + "/g/a", "-s", "99,-1").stdout.strip() == "19999"


def test_user_mistakes_print_one_line(data):
    tmp, path = data
    one_line_error(run("cat", path + "/g/a", "--slice", "0:3,x"), 2, "bad slice")
    one_line_error(run("cat", path + "/g/a", "--slice", "1000"), 2, "out of bounds")
    one_line_error(run("cat", path + "/g"), 2, "is a group")
    one_line_error(run("info", str(tmp / "missing.zarr")), 1, "no such file or folder")
    one_line_error(run("info", path + "/g/nothing"), 1, "no such file or folder")
    one_line_error(run("convert", path, str(tmp / "x.zarr"), "-c", "zstd:3:bogus"), 2,
                   "bad codec spec")
    one_line_error(run("convert", path, str(tmp / "x.zarr"), "--chunks", "10,zz"), 2,
                   "bad --chunks")
    one_line_error(run("convert", path, str(tmp / "x.zarr"), "--max-mem", "lots"), 2,
                   "not a size")
    one_line_error(run("convert", path, str(tmp / "x.zarr"), "--max-mem", "10MiB"), 2,
                   "--max-mem")
    one_line_error(run("info", path, "-o", "anon"), 2, "key=value")
    one_line_error(run("frobnicate"), 2, "invalid choice")


def test_max_mem_too_small_for_one_chunk(tmp_path):
    big = czarr.open_array(str(tmp_path / "big.zarr"), mode="w", shape=(4096, 4096),
                           chunks=(4096, 4096), dtype="f8")  # one 128 MiB chunk
    big[0, 0] = 1
    one_line_error(run("convert", str(tmp_path / "big.zarr"), str(tmp_path / "o.zarr"),
                       "--chunks", "64,64", "--max-mem", "200MiB"), 2, "max_mem too small")


def test_convert_rechunks_reencodes_and_resumes_nothing_twice(data):
    tmp, path = data
    dst = str(tmp / "v3.zarr")
    r = run("convert", path, dst, "--chunks", "100,1", "--compressor", "zstd:3:bitshuffle",
            "--format", "3", "--max-mem", "512MiB")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"converted {path} -> {dst}: ")
    assert r.stderr == ""  # no progress bar when stderr is not a terminal
    out = czarr.open_group(dst, mode="r")
    a = out["g/a"]
    assert (a.zarr_format, a.chunks, a.compressor.cname) == (3, (100, 1), "zstd")
    np.testing.assert_array_equal(a[:], np.arange(20000).reshape(100, 200))
    assert out.attrs["title"] == "demo"
    assert out["z"].nchunks_initialized == 0  # empty chunks stay unwritten
    # the destination exists now: refused, then replaced with --overwrite
    one_line_error(run("convert", path, dst), 1, "--overwrite")
    r = run("convert", path, dst, "--overwrite", "--shards", "100,20", "--chunks", "50,10",
            "--format", "3", "--progress")
    assert r.returncode == 0, r.stderr
    assert "blocks" in r.stderr  # the forced progress bar
    assert czarr.open_array(dst, mode="r", path="g/a").shards == (100, 20)


def test_copy_to_zip_and_read_inside_it(data):
    tmp, path = data
    dst = str(tmp / "copy.zip")
    r = run("copy", path, dst)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("copied ")
    assert run("cat", dst + "/g/a", "-s", "1,0:3").stdout.strip() == "[200 201 202]"
    r = run("copy", path, str(tmp / "c.zarr"))
    assert r.returncode == 0
    one_line_error(run("copy", path, str(tmp / "c.zarr")), 1, "--overwrite")
    assert run("copy", path, str(tmp / "c.zarr"), "--overwrite").returncode == 0


def test_bench_small():
    r = run("bench", "--size", "2MiB")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == ["array", "stored", "write", "read"]
    assert float(lines[2].split()[1]) > 0 and lines[3].endswith("MiB/s")


def test_url_with_storage_options(data):
    pytest.importorskip("fsspec")
    _, path = data
    r = run("ls", "file://" + path, "--storage-option", "auto_mkdir=true")
    assert r.returncode == 0, r.stderr
    assert "g/  group" in r.stdout


def test_console_script_entry_point():
    from czarr.cli import main

    assert main(["ls", "/definitely/not/here"]) == 1
    assert main(["cat"]) == 2


def test_tree_text_details_and_notebook_repr(data):
    _, path = data
    root = czarr.open_group(path, mode="r")
    assert str(root.tree()).splitlines()[2] == " │   └── a (100, 200) int32"  # unchanged
    detailed = str(root.tree(details=True)).splitlines()[2]
    assert "chunks=(10, 200) 10/10 chunks" in detailed
    html = root._repr_html_()
    assert html.startswith('<div class="czarr-tree"><details open>')
    assert "<summary><b>g/</b></summary>" in html
    assert "<code>a</code> <span>(100, 200) int32</span>" in html
    assert html.count("<details") == 2  # the root and g fold open and shut
