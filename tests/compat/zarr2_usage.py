"""Everyday zarr-python 2.18 code, written for ``import zarr``.

Run as ``python zarr2_usage.py WORKDIR [czarr]``: with real zarr-python 2.18, or with
czarr standing in for it (the ``czarr`` argument maps ``zarr`` and its submodules to
czarr's before this code imports them). It prints one JSON object of everything the code
observed; tests/test_zarr2_compat.py runs it both ways and compares. Nothing here knows
which library it runs on.
"""

import json
import os
import sys
import warnings

if len(sys.argv) > 2 and sys.argv[2] == "czarr":
    import czarr

    sys.modules["zarr"] = czarr
    for _name in ("storage", "creation", "convenience", "hierarchy", "core", "attrs",
                  "errors", "codecs"):
        sys.modules["zarr." + _name] = getattr(__import__("czarr." + _name), _name)

import numpy as np  # noqa: E402
import zarr  # noqa: E402
import zarr.errors  # noqa: E402
import zarr.storage  # noqa: E402
from zarr.storage import (  # noqa: E402
    DirectoryStore,
    KVStore,
    LRUStoreCache,
    MemoryStore,
    NestedDirectoryStore,
    ZipStore,
    contains_array,
    contains_group,
    init_array,
    init_group,
)

work = sys.argv[1]
out = {}


def record(name, value):
    if isinstance(value, np.ndarray):
        value = {"dtype": value.dtype.str, "shape": list(value.shape),
                 "values": value.tolist()}
    elif isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, tuple):
        value = list(value)
    out[name] = value


def error_of(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return [c.__name__ for c in type(e).__mro__
                if c.__name__ in ("KeyError", "ValueError", "IndexError", "TypeError",
                                  "PermissionError", "ContainsArrayError",
                                  "ContainsGroupError", "ArrayNotFoundError",
                                  "GroupNotFoundError", "PathNotFoundError",
                                  "BoundsCheckError", "ReadOnlyError")]
    return None


def warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return sorted({w.category.__name__ for w in caught})


# -- creation and basic selections ------------------------------------------------------
z = zarr.zeros((10, 10), chunks=(4, 4), dtype="i4")
z[2:5, 3] = 7
z[0] = np.arange(10)
record("basic", z[...])
record("shape_chunks_dtype", [list(z.shape), list(z.chunks), z.dtype.str, z.fill_value])
record("nchunks", [z.nchunks, z.nchunks_initialized, list(z.cdata_shape)])
record("oindex", z.oindex[[0, 2], [1, 3, 5]])
record("vindex", z.vindex[[0, 2, 4], [1, 3, 3]])
record("mask", z.get_mask_selection(z[...] > 5))
record("blocks", z.blocks[0, 1])
record("len_iter", [len(z), [int(r.sum()) for r in z]])
record("islice", [int(r.sum()) for r in z.islice(2, 5)])
record("astype", z.astype("f8")[0, :4])
record("view", z.view(dtype="u4")[0, :3])

a = zarr.array(np.arange(20, dtype="f4").reshape(4, 5), chunks=(2, 2))
a.resize(5, 6)
a.append(np.ones((1, 6), dtype="f4"))
record("resize_append", a[...])
f = zarr.full((3,), fill_value=2.5, chunks=2)
e = zarr.empty_like(f)
record("full_like", [f[...].tolist(), list(e.shape), e.dtype.str, zarr.ones_like(f)[...].tolist()])

# h5py-style keywords zarr-python 2 takes
h = zarr.create((4,), chunks=2, dtype="i2", compression="zlib", compression_opts=3,
                fillvalue=5)
record("h5py_kwargs", [h.compressor.get_config(), int(h[0])])
record("ignored_kwarg_warns", warnings_of(lambda: zarr.create(3, chunks=2, nonsense=1)))
record("warnings", [
    warnings_of(lambda: zarr.storage.DictStore()),
    warnings_of(lambda: zarr.create(3, compressor=None, compression="zlib")),
    warnings_of(lambda: zarr.zeros((3.0, 2), chunks=2)),
    warnings_of(lambda: zarr.zeros(3).attrs.update({1: "x"})),
    warnings_of(lambda: zarr.zeros(3, dtype=object, filters=[zarr.codecs.VLenUTF8()])),
    warnings_of(lambda: zarr.zeros(3, dtype="i4", object_codec=zarr.codecs.VLenUTF8())),
    warnings_of(lambda: zarr.Array(zarr.zeros(3).store, partial_decompress=True)),
])

# -- groups ------------------------------------------------------------------------------
root = zarr.group()
foo = root.create_group("foo")
bar = foo.create_dataset("bar", shape=(6,), chunks=(3,), dtype="i8")
bar[:] = np.arange(6)
root.zeros("baz", shape=(2, 2), chunks=(1, 1))
root.require_dataset("baz", shape=(2, 2), dtype="f8")
root.attrs["title"] = "experiment"
bar.attrs.update({"unit": "m", "scale": 2})
record("members", [sorted(root.group_keys()), sorted(root.array_keys()),
                   sorted(foo.array_keys())])
record("contains", ["foo/bar" in root, "foo/nope" in root, "baz" in root])
record("attrs", [dict(root.attrs), dict(bar.attrs)])
record("root_bar_name", [root["foo/bar"].name, root.foo.bar.basename, foo.path])
record("tree", str(root.tree()))
record("visit", sorted(list(root.group_keys()) + [k for k, _ in root.arrays()]))

# -- errors ------------------------------------------------------------------------------
record("err_contains_group", error_of(lambda: zarr.open_array(root.store, mode="w-")))
record("err_array_not_found", error_of(lambda: zarr.open_array(MemoryStore(), mode="r")))
record("err_group_exists", error_of(lambda: root.create_group("foo")))
record("err_bounds", error_of(lambda: z[10, 0]))
record("err_read_only", error_of(
    lambda: zarr.open_array(root.store, path="baz", mode="r").__setitem__(0, 1)))
record("err_missing_key", error_of(lambda: MemoryStore()["x"]))
record("err_path_not_found", error_of(lambda: zarr.open(MemoryStore(), mode="r")))

# -- stores --------------------------------------------------------------------------------
d = os.path.join(work, "dir.zarr")
g = zarr.open_group(d, mode="w")
g.create_dataset("x", data=np.arange(12).reshape(3, 4), chunks=(2, 2))
record("dir_listing", sorted(os.listdir(os.path.join(d, "x"))))
n = os.path.join(work, "nested.zarr")
nz = zarr.zeros((4, 4), chunks=(2, 2), store=NestedDirectoryStore(n), dtype="u1")
nz[...] = 1
record("nested_listing", sorted(os.listdir(os.path.join(n))))
zp = os.path.join(work, "data.zip")
zs = ZipStore(zp, mode="w")
zz = zarr.zeros((5,), chunks=(2,), store=zs, dtype="i2")
zz[:] = [1, 2, 3, 4, 5]
zs.close()
zs = ZipStore(zp, 0, True, "r")  # positional: compression, allowZip64, mode
record("zip", zarr.open_array(zs, mode="r")[...])
zs.close()
kv = KVStore(dict())
zarr.zeros((2,), chunks=1, store=kv)
record("kvstore_keys", sorted(kv))
cache = LRUStoreCache(DirectoryStore(d), max_size=2**20)
cg = zarr.open_group(cache, mode="r")
cg["x"][...]
cg["x"][...]
record("lru", [cg["x"][1, 1].item(), cache.hits > 0, cache.misses > 0])
s = MemoryStore()
init_group(s)
init_array(s, path="arr", shape=(3,), chunks=(2,), dtype="i1")
record("init", [contains_group(s), contains_array(s, "arr"),
                zarr.storage.listdir(s), sorted(zarr.storage.listdir(s, "arr"))])

# -- consolidated metadata ---------------------------------------------------------------------
cons = zarr.consolidate_metadata(d)
record("consolidated", [sorted(json.loads(open(os.path.join(d, ".zmetadata")).read())
                               ["metadata"]), cons["x"][2, 3].item()])
oc = zarr.open_consolidated(d, mode="r")
record("open_consolidated", oc["x"][...])

# -- save and load --------------------------------------------------------------------------
zarr.save(os.path.join(work, "one.zarr"), np.arange(5))
record("load_array", zarr.load(os.path.join(work, "one.zarr")))
zarr.save(os.path.join(work, "many.zarr"), np.arange(3), b=np.ones(2))
loaded = zarr.load(os.path.join(work, "many.zarr"))
record("load_group", [sorted(loaded), loaded["arr_0"].tolist(), loaded["b"].tolist()])

# -- copy -------------------------------------------------------------------------------------
dest = zarr.group()
record("copy_all", list(zarr.copy_all(root, dest)))
record("copied", [sorted(dest.array_keys()), dest["foo/bar"][...].tolist()])
dst_store = {}
record("copy_store", list(zarr.copy_store(root.store, dst_store))[:2])

# -- codecs ---------------------------------------------------------------------------------
c = zarr.zeros((100,), chunks=10, dtype="f8",
               compressor=zarr.Blosc(cname="zstd", clevel=1, shuffle=zarr.Blosc.BITSHUFFLE),
               filters=[zarr.Delta(dtype="f8")])
c[:] = np.linspace(0, 1, 100)
record("codecs", [c.compressor.get_config(), [f.get_config() for f in c.filters],
                  round(float(c[...].sum()), 6)])
record("zstd_default", zarr.Zstd().get_config())
zo = zarr.zeros(3, chunks=2, dtype=object, object_codec=zarr.codecs.VLenUTF8())
zo[:] = np.array(["a", "bb", "ccc"], dtype=object)
record("objects", zo[...].tolist())
record("digest_equal", zarr.array(np.arange(10), chunks=3).hexdigest() ==
       zarr.array(np.arange(10), chunks=3).hexdigest())

# -- synchronizers -----------------------------------------------------------------------
ts = zarr.zeros(20, chunks=7, dtype="i2", synchronizer=zarr.ThreadSynchronizer())
ts[3:9] = 4
ps = zarr.open_array(os.path.join(work, "sync.zarr"), mode="w", shape=(20,), chunks=(7,),
                     dtype="i2", synchronizer=zarr.ProcessSynchronizer(
                         os.path.join(work, "sync.locks")))
ps[5:15] = 2
ps.attrs["k"] = 1
record("synchronized", [ts[...].tolist(), ps[...].tolist(), dict(ps.attrs)])

print(json.dumps(out, sort_keys=True, default=lambda o: o.item() if hasattr(o, "item")
                 else repr(o)))
