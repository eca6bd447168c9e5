"""Batched file reads: contents, missing files, folders, errors, and the resources a batch
may hold (descriptors are bounded and never leak; special files are refused unread)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from czarr._core.fileio import WINDOW, read_files
from czarr.errors import NotAFileError


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _run(code: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (raising if it fails or takes too long)."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_read_files(tmp_path):
    (tmp_path / "a").write_bytes(b"hello")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "dir").mkdir()
    big = os.urandom(3 << 20)
    (tmp_path / "big").write_bytes(big)
    paths = [str(tmp_path / n) for n in ["a", "missing", "empty", "dir", "big", "a/under"]]
    assert read_files(paths) == [b"hello", None, b"", None, big, None]
    assert read_files([]) == []


def test_batches_larger_than_the_window(tmp_path):
    n = 5 * WINDOW + 3
    for i in range(n):
        if i % 7:
            (tmp_path / str(i)).write_bytes(str(i).encode() * (i % 50))
    got = read_files([str(tmp_path / str(i)) for i in range(n)])
    assert got == [str(i).encode() * (i % 50) if i % 7 else None for i in range(n)]


def test_names_must_match_paths():
    with pytest.raises(ValueError, match="2 names for 1 paths"):
        read_files(["x"], ["a", "b"])


def test_unreadable_file_raises_permission_error(tmp_path):
    p = tmp_path / "secret"
    p.write_bytes(b"x")
    p.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(PermissionError):
            read_files([str(p)])
        return
    # root reads any file: drop to an unprivileged user in a forked child, so the EACCES
    # path runs in CI (which runs as root) too
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 3
        try:
            os.setgid(65534)
            os.setuid(65534)
            read_files([str(p)])
            code = 1
        except PermissionError as e:
            code = 0 if e.filename == str(p) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_unreadable_file_raises_oserror_naming_path(tmp_path):
    # a path too long for the OS: an error other than "missing"
    long = str(tmp_path / ("x" * 5000))
    with pytest.raises(OSError) as info:
        read_files([long])
    assert info.value.filename == long


def test_fifo_is_refused_without_waiting(tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: it must not be opened
    that way (a child process, so a regression shows as a timeout, not a hung suite)."""
    fifo = tmp_path / "0.0"
    os.mkfifo(fifo)
    (tmp_path / "0.1").write_bytes(b"ok")
    proc = _run(f"""
        from czarr._core.fileio import read_files
        from czarr.errors import NotAFileError
        try:
            read_files([{str(tmp_path / "0.1")!r}, {str(fifo)!r}], ["a/0.1", "a/0.0"])
        except NotAFileError as e:
            print(e)
        """, timeout=60)
    assert "'a/0.0' is not a regular file" in proc.stdout


def test_no_descriptor_leaks_when_a_read_fails(tmp_path):
    """Files opened before a failure in the same window are closed: a FIFO, an
    unallocatable size (a sparse file larger than memory) or an error."""
    for i in range(4):
        (tmp_path / f"f{i}").write_bytes(b"x" * i)
    huge = tmp_path / "huge"
    with open(huge, "wb") as f:
        f.truncate(1 << 43)  # 8 TiB, sparse: opening and stat-ing it is cheap
    os.mkfifo(tmp_path / "fifo")
    before = _open_fds()
    files = [str(tmp_path / f"f{i}") for i in range(4)]
    with pytest.raises(MemoryError):
        read_files(files[:2] + [str(huge)] + files[2:])
    assert _open_fds() == before
    with pytest.raises(NotAFileError):
        read_files(files + [str(tmp_path / "fifo")])
    assert _open_fds() == before
    with pytest.raises(OSError):
        read_files(files + [str(tmp_path / ("x" * 5000))])
    assert _open_fds() == before


def test_descriptors_bounded_under_a_low_limit(tmp_path):
    """A batch of many more files than the per-process descriptor limit reads fine."""
    n = 600
    for i in range(n):
        (tmp_path / str(i)).write_bytes(i.to_bytes(4, "little"))
    proc = _run(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        from czarr._core.fileio import read_files
        got = read_files([{str(tmp_path)!r} + "/" + str(i) for i in range({n})])
        assert got == [i.to_bytes(4, "little") for i in range({n})]
        print("ok")
        """)
    assert proc.stdout.strip() == "ok"


@pytest.mark.slow
def test_array_of_ten_thousand_chunks_reads_under_ulimit_1024(tmp_path):
    """The reproducer: 1600x1600 int32 in 16x16 chunks (10,000 chunk files), read whole
    with 1, 2 and 8 threads under the usual limit of 1,024 open files (and 256, macOS's)."""
    proc = _run(f"""
        import resource
        import numpy as np
        import czarr
        path = {str(tmp_path / "a.zarr")!r}
        a = czarr.open(path, mode="w", shape=(1600, 1600), chunks=(16, 16), dtype="i4")
        expected = np.arange(1600 * 1600, dtype="i4").reshape(1600, 1600)
        a[...] = expected
        for limit in (1024, 256):
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
            for threads in (1, 2, 8):
                czarr.config.set(threads=threads)
                assert np.array_equal(czarr.open(path, mode="r")[...], expected)
        print("ok")
        """, timeout=600)
    assert proc.stdout.strip() == "ok"
