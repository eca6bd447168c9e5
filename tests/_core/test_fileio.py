"""Batched file reads: contents, missing files, folders, errors."""

from __future__ import annotations

import os

import pytest

from czarr._core.fileio import read_files


def test_read_files(tmp_path):
    (tmp_path / "a").write_bytes(b"hello")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "dir").mkdir()
    big = os.urandom(3 << 20)
    (tmp_path / "big").write_bytes(big)
    paths = [str(tmp_path / n) for n in ["a", "missing", "empty", "dir", "big", "a/under"]]
    assert read_files(paths) == [b"hello", None, b"", None, big, None]
    assert read_files([]) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without permission")
def test_unreadable_file_raises(tmp_path):
    p = tmp_path / "secret"
    p.write_bytes(b"x")
    p.chmod(0)
    with pytest.raises(PermissionError):
        read_files([str(p)])


def test_unreadable_file_raises_oserror_naming_path(tmp_path):
    # a path too long for the OS: an error other than "missing"
    long = str(tmp_path / ("x" * 5000))
    with pytest.raises(OSError) as info:
        read_files([long])
    assert info.value.filename == long
