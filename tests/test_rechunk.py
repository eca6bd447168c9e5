"""czarr.rechunk: plans, data, formats, bounded memory, and resuming after a SIGKILL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import czarr
from czarr.rechunk import PROGRESS_KEY, MaxMemError, parse_bytes, plan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(code: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def source(tmp_path):
    data = np.arange(300 * 400, dtype="f8").reshape(300, 400)
    arr = czarr.open_array(str(tmp_path / "src.zarr"), mode="w", shape=data.shape,
                           chunks=(1, 400), dtype="f8")
    arr[:] = data
    arr.attrs["units"] = "m"
    return arr, data


def test_parse_bytes():
    assert parse_bytes("2GiB") == 2 * 2**30
    assert parse_bytes("256MB") == 256 * 10**6
    assert parse_bytes("1.5k") == 1500
    assert parse_bytes(1000) == 1000
    with pytest.raises(ValueError, match="not a size"):
        parse_bytes("lots")


def test_plan_crossed_chunks_go_through_an_intermediate():
    p = plan((32768, 32768), (1, 32768), (32768, 1), 1, 128 * 2**20)
    assert p.intermediate == (1024, 1024)
    assert p.blocks == ((1024, 32768), (32768, 1024))


def test_plan_aligned_chunks_copy_directly():
    p = plan((2000, 3000), (100, 100), (200, 300), 4, 40 * 2**20)
    assert p.intermediate is None
    assert all(b % t == 0 or b == s for b, t, s in zip(p.blocks[0], (200, 300), (2000, 3000)))


def test_plan_refuses_a_budget_below_one_chunk():
    with pytest.raises(MaxMemError, match="max_mem too small"):
        plan((1000, 1000), (1000, 1000), (10, 10), 8, 1000)


@pytest.mark.parametrize("max_mem", ["200KiB", "4MiB", "1GiB"])
def test_rechunk_gives_identical_data(tmp_path, source, max_mem):
    src, data = source
    events = []
    out = czarr.rechunk(src, (300, 1), str(tmp_path / "dst.zarr"), max_mem=max_mem,
                        progress=events.append)
    assert out.chunks == (300, 1)
    np.testing.assert_array_equal(out[:], data)
    assert out.attrs["units"] == "m"
    assert out.compressor == src.compressor
    last = events[-1]
    assert last.bytes_done == last.bytes_total == data.nbytes * last.nstages
    assert last.blocks_done == last.blocks_total
    # nothing left behind: no progress document, no intermediate array
    assert not any(".czarr" in f for _, dirs, files in os.walk(tmp_path / "dst.zarr")
                   for f in dirs + files)


def test_rechunk_small_budget_uses_two_stages(tmp_path, source):
    src, data = source
    events = []
    czarr.rechunk(src, (300, 1), str(tmp_path / "dst.zarr"), max_mem="200KiB",
                  progress=events.append, workers=1)
    assert {e.nstages for e in events} == {2}
    assert {e.stage for e in events} == {1, 2}


def test_rechunk_to_sharded_v3_with_new_codec(tmp_path, source):
    src, data = source
    out = czarr.rechunk(src, (50, 40), str(tmp_path / "v3.zarr"), zarr_format=3,
                        shards=(100, 200), compressor=czarr.Zstd(level=3), max_mem="8MiB")
    assert (out.zarr_format, out.shards, out.chunks) == (3, (100, 200), (50, 40))
    np.testing.assert_array_equal(out[:], data)
    import zarr  # the peer reads it

    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "v3.zarr"), mode="r")[:],
                                  data)


def test_rechunk_into_a_zip_and_a_group_path(tmp_path, source):
    src, data = source
    store = czarr.ZipStore(str(tmp_path / "out.zip"), mode="w")
    czarr.rechunk(src, (-1, 7), store, target_path="g/a", max_mem="300KiB")
    store.close()
    out = czarr.open_array(str(tmp_path / "out.zip"), mode="r", path="g/a")
    assert out.chunks == (300, 7)
    np.testing.assert_array_equal(out[:], data)


def test_rechunk_edge_shapes(tmp_path):
    empty = czarr.zeros((0, 5), chunks=(2, 2))
    assert czarr.rechunk(empty, (3, 3), czarr.MemoryStore()).shape == (0, 5)
    scalar = czarr.full((), 7.5)
    assert czarr.rechunk(scalar, (), czarr.MemoryStore())[()] == 7.5


def test_rechunk_refuses_an_existing_array_unless_overwrite(tmp_path, source):
    src, data = source
    czarr.rechunk(src, (10, 10), str(tmp_path / "dst.zarr"))
    with pytest.raises(czarr.errors.ContainsArrayError, match="overwrite"):
        czarr.rechunk(src, (20, 20), str(tmp_path / "dst.zarr"))
    out = czarr.rechunk(src, (20, 20), str(tmp_path / "dst.zarr"), overwrite=True)
    assert out.chunks == (20, 20)
    np.testing.assert_array_equal(out[:], data)


def test_rechunk_bad_arguments(source):
    src, _ = source
    with pytest.raises(ValueError, match="dimensions"):
        czarr.rechunk(src, (10,), czarr.MemoryStore())
    with pytest.raises(MaxMemError):
        czarr.rechunk(src, (300, 400), czarr.MemoryStore(), max_mem="10KiB")


KILL_AFTER = """
    import os, signal, sys
    import czarr
    src = czarr.open_array(sys.argv[1], mode="r")
    def progress(p):
        if p.stage == p.nstages and p.blocks_done >= 3:
            os.kill(os.getpid(), signal.SIGKILL)
    czarr.rechunk(src, (300, 1), sys.argv[2], max_mem="200KiB", workers=1, progress=progress)
"""


def test_rechunk_killed_then_rerun_finishes_without_redoing_blocks(tmp_path, source):
    src, data = source
    dst = str(tmp_path / "dst.zarr")
    r = _child(KILL_AFTER, str(tmp_path / "src.zarr"), dst)
    assert r.returncode == -9, r.stderr
    doc = json.loads(open(os.path.join(dst, PROGRESS_KEY), "rb").read())
    assert doc["intermediate"] is not None  # it was killed in the second stage
    block = doc["blocks"][1]
    done_cols = 3 * block[1]
    stamps = {f: os.stat(os.path.join(dst, f)).st_mtime_ns
              for f in os.listdir(dst) if f.startswith("0.") and int(f[2:]) < done_cols}
    assert len(stamps) == done_cols

    events = []
    out = czarr.rechunk(src, (300, 1), dst, max_mem="200KiB", workers=1,
                        progress=events.append)
    np.testing.assert_array_equal(out[:], data)
    stage2 = [e for e in events if e.stage == 2]
    assert stage2[0].blocks_done == 4  # the rerun starts after the three finished blocks
    assert len(stage2) == stage2[0].blocks_total - 3
    assert not [e for e in events if e.stage == 1]  # stage 1 had finished: not redone
    assert all(os.stat(os.path.join(dst, f)).st_mtime_ns == t for f, t in stamps.items())
    assert not os.path.exists(os.path.join(dst, PROGRESS_KEY))
    assert not os.path.exists(os.path.join(dst, ".czarr_rechunk_tmp"))


GEN = """
    import sys, numpy as np, czarr
    n = int(sys.argv[2])
    a = czarr.open_array(sys.argv[1], mode="w", shape=(n, n), chunks=(1, n), dtype="u1",
                         compressor=czarr.Blosc(cname="lz4", clevel=1))
    for i in range(0, n, 1024):
        rows = np.arange(i, min(i + 1024, n))[:, None]
        a[i:i + 1024] = (rows * 7 + np.arange(n)[None, :] * 3).astype("u1")
"""

# VmHWM is this process's own peak (ru_maxrss would carry over the RSS of the process
# that forked it, e.g. a long pytest run, since Linux keeps the high-water mark across exec)
MEASURE = """
    import sys
    from czarr.cli import main
    rc = main(sys.argv[1:])
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    print(rc, peak * 1024)
"""


@pytest.mark.slow
def test_convert_1gib_crossed_chunks_under_256mib_peak_rss(tmp_path):
    n = 32768  # 1 GiB of uint8 in (1, n) chunks, to (n, 1) chunks
    src, dst = str(tmp_path / "src.zarr"), str(tmp_path / "dst.zarr")
    r = _child(GEN, src, str(n))
    assert r.returncode == 0, r.stderr
    r = _child(MEASURE, "convert", src, dst, "--chunks", f"{n},1", "--max-mem", "256MiB")
    assert r.returncode == 0, r.stderr
    rc, peak = r.stdout.split()[-2:]
    assert int(rc) == 0
    assert int(peak) < 256 * 2**20, f"peak RSS {int(peak) / 2**20:.0f} MiB"
    out = czarr.open_array(dst, mode="r")
    assert out.chunks == (n, 1)
    for j in range(0, n, 2048):  # column bands: each reads only its own chunks
        cols = np.arange(j, j + 2048)[None, :]
        want = (np.arange(n)[:, None] * 7 + cols * 3).astype("u1")
        np.testing.assert_array_equal(out[:, j:j + 2048], want)


def test_rechunk_killed_before_the_target_was_made(tmp_path, source):
    src, data = source
    dst = str(tmp_path / "dst.zarr")
    (tmp_path / "dst.zarr").mkdir()
    doc = {"format": 1, "shape": [300, 400], "dtype": "float64", "target_chunks": [30, 40],
           "workers": 1, "blocks": [[300, 400]], "intermediate": None,
           "stages": [{"done": "AA=="}]}
    (tmp_path / "dst.zarr" / PROGRESS_KEY).write_text(json.dumps(doc))
    out = czarr.rechunk(src, (30, 40), dst)
    assert out.chunks == (30, 40)
    np.testing.assert_array_equal(out[:], data)
    assert out.attrs["units"] == "m"
