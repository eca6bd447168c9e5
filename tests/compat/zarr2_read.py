"""Read back what tests/compat/zarr2_usage.py wrote in WORKDIR, with ``import zarr``
(real zarr-python 2.18, or czarr standing in for it with the ``czarr`` argument), and
print the values as JSON: each library reads the other's files."""

import json
import os
import sys

if len(sys.argv) > 2 and sys.argv[2] == "czarr":
    import czarr

    sys.modules["zarr"] = czarr

import zarr  # noqa: E402

work = sys.argv[1]
out = {}
g = zarr.open_group(os.path.join(work, "dir.zarr"), mode="r")
out["dir"] = g["x"][...].tolist()
out["nested"] = zarr.open_array(zarr.NestedDirectoryStore(os.path.join(work, "nested.zarr")),
                                mode="r")[...].tolist()
store = zarr.ZipStore(os.path.join(work, "data.zip"), mode="r")
out["zip"] = zarr.open_array(store, mode="r")[...].tolist()
store.close()
out["one"] = zarr.load(os.path.join(work, "one.zarr")).tolist()
many = zarr.load(os.path.join(work, "many.zarr"))
out["many"] = {k: many[k].tolist() for k in sorted(many)}
out["consolidated"] = zarr.open_consolidated(os.path.join(work, "dir.zarr"), mode="r"
                                             )["x"][...].tolist()
print(json.dumps(out, sort_keys=True))
