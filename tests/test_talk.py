"""The SciPy 2019 Zarr talk, end to end, with ``import czarr as zarr``."""

from __future__ import annotations

import os
import zipfile

import numpy as np

import czarr as zarr


def test_talk_sequence(tmp_path):
    path = str(tmp_path / "example.zarr")
    store = zarr.DirectoryStore(path)
    root = zarr.group(store)
    assert repr(root) == "<czarr.Group '/'>"

    hello = root.zeros("hello", shape=(10000, 10000), chunks=(1000, 1000), dtype="<i4")
    assert repr(hello) == "<czarr.Array '/hello' (10000, 10000) int32>"
    compressor = zarr.Blosc(cname="zstd", clevel=1, shuffle=zarr.Blosc.BITSHUFFLE)
    big = root.create_dataset(
        "big", shape=(100_000_000, 100_000_000), chunks=(10_000, 10_000), dtype="i4",
        compressor=compressor,
    )
    assert repr(big) == "<czarr.Array '/big' (100000000, 100000000) int32>"
    assert big.nchunks == 100_000_000
    assert big.nchunks_initialized == 0
    assert "Chunks initialized : 0/100000000" in repr(big.info)

    # writes along row 0 and column 0 touch 3 chunks
    big[0, 0:20000] = np.arange(20000)
    big[0:20000, 0] = np.arange(20000)
    assert big.nchunks_initialized == 3
    info = repr(big.info)
    for line in [
        "Name               : /big",
        "Type               : czarr.core.Array",
        "Data type          : int32",
        "Shape              : (100000000, 100000000)",
        "Chunk shape        : (10000, 10000)",
        "Order              : C",
        "Read-only          : False",
        # long values wrap as in zarr-python 2's report
        "Compressor         : Blosc(cname='zstd', clevel=1, shuffle=BITSHUFFLE,\n"
        "                   : blocksize=0)",
        "Store type         : czarr.storage.DirectoryStore",
        "No. bytes          : 40000000000000000 (35.5P)",
        "Chunks initialized : 3/100000000",
    ]:
        assert line in info, (line, info)
    assert "No. bytes stored" in info and "Storage ratio" in info

    assert np.array_equal(big[0, 0:20000], np.arange(20000))
    assert np.array_equal(big[0:20000, 0], np.arange(20000))
    assert big[0, 0] == 0 and big[1, 0] == 1 and big[0, 19999] == 19999
    # unwritten regions read as the fill value without touching storage
    assert not big[-10:, -10:].any()
    assert np.array_equal(big[5000:5003, 5000:5003], np.zeros((3, 3), "i4"))

    # the files on disk
    assert sorted(os.listdir(path)) == [".zgroup", "big", "hello"]
    assert sorted(os.listdir(os.path.join(path, "big"))) == [".zarray", "0.0", "0.1", "1.0"]
    assert os.listdir(os.path.join(path, "hello")) == [".zarray"]

    # zip the directory and reopen it with ZipStore
    zpath = str(tmp_path / "example.zip")
    with zipfile.ZipFile(zpath, "w") as zf:
        for dirpath, _, files in os.walk(path):
            for f in files:
                full = os.path.join(dirpath, f)
                zf.write(full, os.path.relpath(full, path))
    zstore = zarr.ZipStore(zpath, mode="r")
    zroot = zarr.group(zstore) if False else zarr.open_group(zstore, mode="r")
    zbig = zroot["big"]
    assert zbig.read_only
    assert np.array_equal(zbig[0, 0:20000], np.arange(20000))
    assert zbig.nchunks_initialized == 3
    assert "Store type         : czarr.storage.ZipStore" in repr(zbig.info)
    zstore.close()


def test_tree_and_info_of_group(tmp_path):
    root = zarr.group(str(tmp_path / "t.zarr"))
    foo = root.create_group("foo")
    foo.zeros("bar", shape=(100,), chunks=10, dtype="f8")
    root.create_group("baz")
    assert str(root.tree()) == "/\n ├── baz\n └── foo\n     └── bar (100,) float64"
    info = repr(root.info)
    assert "No. members : 2" in info and "Groups      : baz, foo" in info
