"""copy_store, copy and copy_all: every if_exists mode, dry runs, log lines, exact
counts, attributes, shallow copies, and copies across MemoryStore, DirectoryStore and
ZipStore, dimension separators, compressors and chunk shapes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr
from czarr.codecs import Zlib, Zstd
from czarr.convenience import CopyError, _blocks, copy, copy_all, copy_store
from czarr.storage import DirectoryStore, MemoryStore, ZipStore


def build_source(store=None):
    """root{attrs} / foo{attrs} / bar / baz (100,) int64 ; root / spam (7, 5) float32."""
    root = czarr.group(store=MemoryStore() if store is None else store)
    root.attrs["title"] = "root"
    foo = root.create_group("foo")
    foo.attrs["level"] = 1
    bar = foo.create_group("bar")
    baz = bar.create_dataset("baz", shape=100, chunks=30, dtype="i8", compressor=Zlib(1))
    baz[:] = np.arange(100)
    baz.attrs["unit"] = "m"
    spam = root.create_dataset("spam", shape=(7, 5), chunks=(3, 2), dtype="f4",
                               fill_value=-1)
    spam[:4] = np.arange(20, dtype="f4").reshape(4, 5)
    return root


class Lines(list):
    def __call__(self, message):
        self.append(message)


def nbytes_stored(store, keys):
    return sum(len(bytes(store[k])) for k in keys)


# ---------------------------------------------------------------------------------------
# copy_store
# ---------------------------------------------------------------------------------------


def test_copy_store_everything_counts_and_log():
    source = build_source().store
    dest = {}
    log = Lines()
    keys = sorted(source.keys())
    n = copy_store(source, dest, log=log)
    assert n == (len(keys), 0, nbytes_stored(source, keys))
    assert sorted(dest) == keys
    assert all(bytes(dest[k]) == bytes(source[k]) for k in keys)
    assert log[:-1] == [f"copy {k}" for k in keys]
    assert log[-1] == f"all done: {len(keys):,} copied, 0 skipped, {n[2]:,} bytes copied"
    np.testing.assert_array_equal(czarr.open_group(store=dest)["foo/bar/baz"][:],
                                  np.arange(100))


def test_copy_store_paths_excludes_includes():
    source = build_source().store
    dest = MemoryStore()
    log = Lines()
    n_copied, n_skipped, _ = copy_store(source, dest, source_path="foo", dest_path="new/x",
                                        excludes=["baz/[0-9]"], includes="baz/1$", log=log)
    assert sorted(dest) == ["new/x/.zattrs", "new/x/.zgroup", "new/x/bar/.zgroup",
                            "new/x/bar/baz/.zarray", "new/x/bar/baz/.zattrs",
                            "new/x/bar/baz/1"]
    assert (n_copied, n_skipped) == (6, 0)
    assert "copy foo/bar/baz/1 -> new/x/bar/baz/1" in log
    # a path prefix is a folder, not a string prefix
    source["foobar/.zgroup"] = b"{}"
    assert copy_store(source, {}, source_path="foo", dry_run=True)[0] == 6 + 3


def test_copy_store_if_exists_modes():
    source = build_source().store
    keys = sorted(source.keys())
    dest = {"foo/.zgroup": b"old", "spam/.zarray": b"old"}
    with pytest.raises(CopyError, match="foo/.zgroup"):
        copy_store(source, dest)
    # 'raise' stops at the first existing key; keys before it may have been copied
    assert dest["foo/.zgroup"] == b"old"

    dest = {"foo/.zgroup": b"old", "spam/.zarray": b"old"}
    log = Lines()
    n = copy_store(source, dest, if_exists="skip", log=log)
    assert n[:2] == (len(keys) - 2, 2)
    assert n[2] == nbytes_stored(source, set(keys) - {"foo/.zgroup", "spam/.zarray"})
    assert dest["foo/.zgroup"] == b"old" and "skip spam/.zarray" in log

    n = copy_store(source, dest, if_exists="replace")
    assert n == (len(keys), 0, nbytes_stored(source, keys))
    assert bytes(dest["spam/.zarray"]) == bytes(source["spam/.zarray"])

    with pytest.raises(ValueError, match="if_exists"):
        copy_store(source, {}, if_exists="skip_initialized")


def test_copy_store_dry_run_writes_nothing():
    source = build_source().store
    keys = sorted(source.keys())
    dest = {"foo/.zgroup": b"old"}
    log = Lines()
    assert copy_store(source, dest, if_exists="skip", dry_run=True, log=log) == (
        len(keys) - 1, 1, 0)
    assert dest == {"foo/.zgroup": b"old"}
    assert log[-1] == f"dry run: {len(keys) - 1:,} copied, 1 skipped"


def test_copy_store_batches(monkeypatch):
    import czarr.convenience as convenience

    monkeypatch.setattr(convenience, "_KEY_BATCH", 3)
    source = build_source().store
    dest = MemoryStore()
    n = copy_store(source, dest)
    assert n[0] == len(source) and dict(dest.items()).keys() == dict(source.items()).keys()


def test_copy_store_log_to_file_path_and_file_like(tmp_path):
    source = build_source().store
    path = tmp_path / "log.txt"
    copy_store(source, {}, log=str(path))
    lines = path.read_text().splitlines()
    assert lines[0] == "copy .zattrs" and lines[-1].startswith("all done: ")
    buf = io.StringIO()
    copy_store(source, {}, log=buf, dry_run=True)
    assert buf.getvalue().splitlines()[-1].startswith("dry run: ")
    with pytest.raises(TypeError):
        copy_store(source, {}, log=42)


def test_copy_store_memory_directory_zip(tmp_path):
    source = build_source()
    directory = DirectoryStore(str(tmp_path / "d.zarr"))
    n_dir = copy_store(source.store, directory)
    zpath = str(tmp_path / "z.zip")
    with ZipStore(zpath, mode="w") as zstore:
        n_zip = copy_store(directory, zstore)
    assert n_dir == n_zip
    back = MemoryStore()
    with ZipStore(zpath, mode="r") as zstore:
        assert copy_store(zstore, back) == n_dir
    g = czarr.open_group(store=back)
    np.testing.assert_array_equal(g["spam"][:], source["spam"][:])
    assert g.attrs["title"] == "root"


# ---------------------------------------------------------------------------------------
# copy
# ---------------------------------------------------------------------------------------


def test_copy_group_log_counts_and_data():
    source = build_source()
    dest = czarr.group()
    log = Lines()
    n = copy(source["foo"], dest, log=log)
    assert n == (3, 0, 800)
    assert log == ["copy /foo", "copy /foo/bar", "copy /foo/bar/baz (100,) int64",
                   "all done: 3 copied, 0 skipped, 800 bytes copied"]
    baz = dest["foo/bar/baz"]
    np.testing.assert_array_equal(baz[:], np.arange(100))
    assert baz.chunks == (30,) and baz.compressor == Zlib(1)
    assert dest["foo"].attrs.asdict() == {"level": 1} and baz.attrs["unit"] == "m"
    assert "spam" not in dest


def test_copy_array_keeps_configuration_and_renames():
    source = build_source()
    dest = czarr.group()
    assert copy(source["spam"], dest, name="eggs") == (1, 0, 7 * 5 * 4)
    eggs = dest["eggs"]
    assert (eggs.shape, eggs.chunks, eggs.dtype, eggs.fill_value) == (
        (7, 5), (3, 2), np.dtype("f4"), -1)
    assert eggs.compressor == source["spam"].compressor
    np.testing.assert_array_equal(eggs[:], source["spam"][:])
    # as zarr-python 2, a copy writes every chunk (write_empty_chunks=True by default)
    assert eggs.nchunks_initialized == eggs.nchunks == 9
    copy(source["spam"], dest, name="lean", write_empty_chunks=False)
    assert dest["lean"].nchunks_initialized == source["spam"].nchunks_initialized == 6


def test_copy_root_needs_a_name_and_dest_must_be_a_group():
    source = build_source()
    with pytest.raises(TypeError, match="name"):
        copy(source, czarr.group())
    dest = czarr.group()
    assert copy(source, dest, name="all")[0] == 5
    np.testing.assert_array_equal(dest["all/spam"][:], source["spam"][:])
    with pytest.raises(ValueError, match="group"):
        copy(source["spam"], source["spam"])
    with pytest.raises(ValueError, match="if_exists"):
        copy(source["spam"], dest, if_exists="bogus")


def test_copy_if_exists_modes():
    source = build_source()
    dest = czarr.group()
    dest.create_dataset("foo/spam", shape=3, dtype="i1")          # not in the source
    existing = dest.create_dataset("foo/bar/baz", shape=100, chunks=50, dtype="i8")
    existing[:50] = 7                                            # 1 of 2 chunks written

    with pytest.raises(CopyError, match="'baz' already exists in destination '/foo/bar'"):
        copy(source["foo"], dest)
    log = Lines()
    assert copy(source["foo"], dest, if_exists="skip", log=log) == (2, 1, 0)
    assert "skip /foo/bar/baz (100,) int64" in log
    assert dest["foo/bar/baz"][0] == 7

    assert copy(source["foo"], dest, if_exists="skip_initialized") == (3, 0, 800)
    np.testing.assert_array_equal(dest["foo/bar/baz"][:], np.arange(100))
    assert dest["foo/bar/baz"].chunks == (30,)
    # now fully initialized: skipped
    assert copy(source["foo"], dest, if_exists="skip_initialized") == (2, 1, 0)

    dest["foo/bar/baz"][:] = 0
    assert copy(source["foo"], dest, if_exists="replace") == (3, 0, 800)
    np.testing.assert_array_equal(dest["foo/bar/baz"][:], np.arange(100))
    assert "spam" in dest["foo"]                                 # groups are merged


def test_copy_group_onto_array():
    source = build_source()
    dest = czarr.group()
    dest.create_dataset("foo", shape=2, dtype="i1")
    with pytest.raises(CopyError, match="an array 'foo'"):
        copy(source["foo"], dest)
    log = Lines()
    assert copy(source["foo"], dest, if_exists="skip", log=log) == (0, 1, 0)
    assert log[0] == "skip /foo"
    assert copy(source["foo"], dest, if_exists="replace", dry_run=True) == (3, 0, 0)
    assert hasattr(dest["foo"], "shape")
    assert copy(source["foo"], dest, if_exists="replace") == (3, 0, 800)
    np.testing.assert_array_equal(dest["foo/bar/baz"][:], np.arange(100))


def test_copy_dry_run_writes_nothing():
    source = build_source()
    dest = czarr.group()
    dest.create_dataset("foo/bar/baz", shape=1, dtype="i1")
    before = dict(dest.store.items())
    log = Lines()
    with pytest.raises(CopyError):
        copy(source["foo"], dest, dry_run=True)
    assert copy(source["foo"], dest, dry_run=True, if_exists="skip", log=log) == (2, 1, 0)
    assert log == ["copy /foo", "copy /foo/bar", "skip /foo/bar/baz (100,) int64",
                   "dry run: 2 copied, 1 skipped"]
    assert copy(source, dest, name="new", dry_run=True) == (5, 0, 0)
    assert dict(dest.store.items()) == before


def test_copy_without_attrs_and_shallow():
    source = build_source()
    dest = czarr.group()
    copy(source["foo"], dest, without_attrs=True)
    assert dict(dest["foo"].attrs) == {} and dict(dest["foo/bar/baz"].attrs) == {}
    shallow = czarr.group()
    log = Lines()
    assert copy(source, shallow, name="top", shallow=True, log=log) == (2, 0, 140)
    assert sorted(shallow["top"]) == ["spam"]                    # foo's group not copied
    assert log[:2] == ["copy /", "copy /spam (7, 5) float32"]


@pytest.mark.parametrize("dest_kind", ["memory", "directory", "zip"])
@pytest.mark.parametrize("create_kws", [
    {},
    {"dimension_separator": "/"},
    {"compressor": Zstd(3), "chunks": (2, 4)},
    {"compressor": None, "chunks": (7, 5), "order": "F", "dimension_separator": "/"},
])
def test_copy_across_stores_separators_compressors(tmp_path, dest_kind, create_kws):
    source = build_source()
    if dest_kind == "memory":
        store = MemoryStore()
    elif dest_kind == "directory":
        store = DirectoryStore(str(tmp_path / "d.zarr"))
    else:
        store = ZipStore(str(tmp_path / "z.zip"), mode="w")
    dest = czarr.group(store=store)
    n = copy(source["spam"], dest, **create_kws)
    assert n == (1, 0, 140)
    spam = dest["spam"]
    np.testing.assert_array_equal(spam[:], source["spam"][:])
    assert spam.chunks == create_kws.get("chunks", (3, 2))
    assert spam.dimension_separator == create_kws.get("dimension_separator", ".")
    if "compressor" in create_kws:
        assert spam.compressor == create_kws["compressor"]
    keys = [k for k in store if k.startswith("spam/") and not k.endswith((".zarray",
                                                                           ".zattrs"))]
    if spam.dimension_separator == "/":
        assert keys and all(k.count("/") == 2 for k in keys)
    else:
        assert keys and all(k.count("/") == 1 for k in keys)
    if dest_kind == "zip":
        store.close()
        with ZipStore(str(tmp_path / "z.zip"), mode="r") as reopened:
            np.testing.assert_array_equal(czarr.open_group(store=reopened, mode="r")
                                          ["spam"][:], source["spam"][:])


def test_copy_from_directory_with_slash_separator(tmp_path):
    root = czarr.group(store=DirectoryStore(str(tmp_path / "src")))
    a = root.create_dataset("a", shape=(10, 10), chunks=(3, 4), dtype="u2",
                            dimension_separator="/")
    a[:] = np.arange(100, dtype="u2").reshape(10, 10)
    dest = czarr.group()
    copy(a, dest)
    assert dest["a"].dimension_separator == "/"
    copy(a, dest, name="dotted", dimension_separator=".")
    assert dest["dotted"].dimension_separator == "."
    assert "dotted/3.2" in dest.store
    np.testing.assert_array_equal(dest["dotted"][:], a[:])


def test_copy_0d_and_empty_arrays():
    source = czarr.group()
    scalar = source.create_dataset("s", shape=(), dtype="f8")
    scalar[()] = 2.5
    source.create_dataset("e", shape=(0, 4), chunks=(2, 2), dtype="i4")
    dest = czarr.group()
    assert copy_all(source, dest) == (2, 0, 8)
    assert dest["s"][()] == 2.5 and dest["e"].shape == (0, 4)


def test_copy_is_bounded_in_memory(monkeypatch):
    import czarr.convenience as convenience

    monkeypatch.setattr(convenience, "_BLOCK_BYTES", 64)
    source = czarr.group()
    a = source.create_dataset("a", shape=(9, 10, 11), chunks=(2, 3, 4), dtype="i8")
    a[:] = np.arange(990).reshape(9, 10, 11)
    dest = czarr.group()
    copy(a, dest, chunks=(4, 5, 3))
    np.testing.assert_array_equal(dest["a"][:], a[:])


def test_blocks_are_chunk_rows_within_budget():
    # a whole chunk-row when it fits
    blocks = list(_blocks((10, 20, 30), (3, 4, 5), itemsize=8))
    assert blocks[0] == (slice(0, 3), slice(0, 20), slice(0, 30)) and len(blocks) == 4
    # a row split along the second dimension when it does not
    blocks = list(_blocks((10, 1000, 1000), (3, 100, 100), itemsize=1 << 20))
    assert all((b[0].stop - b[0].start) * (b[1].stop - b[1].start)
               * (b[2].stop - b[2].start) <= 3 * 100 * 1000 for b in blocks)
    covered = np.zeros((10, 20, 30), dtype=int)
    for b in _blocks((10, 20, 30), (3, 4, 5), itemsize=1 << 20):
        covered[b] += 1
    assert (covered == 1).all()
    assert list(_blocks((), (), 8)) == [()]


# ---------------------------------------------------------------------------------------
# copy_all
# ---------------------------------------------------------------------------------------


def test_copy_all_children_attrs_and_counts():
    source = build_source()
    dest = czarr.group()
    log = Lines()
    n = copy_all(source, dest, log=log)
    assert n == (4, 0, 800 + 140)
    assert log == ["copy /foo", "copy /foo/bar", "copy /foo/bar/baz (100,) int64",
                   "copy /spam (7, 5) float32",
                   "all done: 4 copied, 0 skipped, 940 bytes copied"]
    assert dest.attrs["title"] == "root"
    np.testing.assert_array_equal(dest["spam"][:], source["spam"][:])

    again = czarr.group()
    assert copy_all(source, again, without_attrs=True, shallow=True) == (1, 0, 140)
    assert dict(again.attrs) == {} and sorted(again) == ["spam"]


def test_copy_all_if_exists_and_dry_run():
    source = build_source()
    dest = czarr.group()
    copy_all(source, dest, write_empty_chunks=False)  # spam's fill-only chunks left out
    with pytest.raises(CopyError):
        copy_all(source, dest)
    assert copy_all(source, dest, if_exists="skip") == (2, 2, 0)
    assert copy_all(source, dest, if_exists="skip_initialized") == (3, 1, 140)
    assert copy_all(source, dest, if_exists="replace") == (4, 0, 940)
    fresh = czarr.group()
    log = Lines()
    assert copy_all(source, fresh, dry_run=True, log=log) == (4, 0, 0)
    assert len(fresh) == 0 and dict(fresh.attrs) == {}
    assert log[-1] == "dry run: 4 copied, 0 skipped"
    with pytest.raises(ValueError):
        copy_all(source, source["spam"])


def test_copy_all_between_directory_and_zip(tmp_path):
    source = build_source(DirectoryStore(str(tmp_path / "src.zarr")))
    zpath = str(tmp_path / "out.zip")
    with ZipStore(zpath, mode="w") as zstore:
        assert copy_all(source, czarr.group(store=zstore), compressor=Zstd(1)) == (
            4, 0, 940)
    with ZipStore(zpath, mode="r") as zstore:
        g = czarr.open_group(store=zstore, mode="r")
        np.testing.assert_array_equal(g["foo/bar/baz"][:], np.arange(100))
        assert g["foo/bar/baz"].compressor == Zstd(1)
        back = czarr.group(store=DirectoryStore(str(tmp_path / "back.zarr")))
        copy_all(g, back)
    np.testing.assert_array_equal(back["spam"][:], source["spam"][:])


def test_copy_object_array_keeps_its_object_codec():
    from czarr.codecs import VLenUTF8

    source = czarr.group()
    values = np.array(["a", "bb", "", "é", "x"], dtype=object)
    a = source.create_dataset("s", shape=5, chunks=2, dtype=object, object_codec=VLenUTF8())
    a[:] = values
    dest = czarr.group()
    assert copy(a, dest, chunks=3) == (1, 0, 5 * np.dtype(object).itemsize)
    assert dest["s"].filters == [VLenUTF8()] and dest["s"].chunks == (3,)
    assert dest["s"][:].tolist() == values.tolist()
    copy_store(source.store, raw := {})
    assert czarr.open_group(store=raw)["s"][:].tolist() == values.tolist()


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_rechunking_copy_preserves_data(data):
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(0, 9), min_size=ndim, max_size=ndim)))
    chunks = tuple(data.draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    new_chunks = tuple(data.draw(st.lists(st.integers(1, 5), min_size=ndim,
                                          max_size=ndim)))
    separator = data.draw(st.sampled_from([".", "/"]))
    source = czarr.group()
    a = source.create_dataset("a", shape=shape, chunks=chunks, dtype="i4", fill_value=-3)
    values = np.arange(int(np.prod(shape)), dtype="i4").reshape(shape)
    a[:] = values
    dest = czarr.group()
    assert copy(a, dest, chunks=new_chunks, dimension_separator=separator) == (
        1, 0, values.nbytes)
    np.testing.assert_array_equal(dest["a"][:], values)
    assert dest["a"].chunks == new_chunks and dest["a"].fill_value == -3
