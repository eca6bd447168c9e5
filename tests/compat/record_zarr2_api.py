"""Record zarr-python 2's public names and signatures as tests/compat/zarr2_api.json.

Run with zarr-python 2 installed (2.18.7 and numcodecs 0.15.2 recorded the committed
file): ``python record_zarr2_api.py``. For each module czarr mirrors, every public
name (its ``__all__``, else what ``dir`` shows that does not start with ``_``; only
zarr's and numcodecs' own objects and constants, not what a module imports from the
standard library or typing) with, for callables, each parameter's name, kind and
default (as ``repr``).
"""

import importlib
import inspect
import json
import os

import zarr

MODULES = ["", ".storage", ".creation", ".convenience", ".hierarchy", ".core", ".attrs",
           ".errors", ".codecs"]


def is_public(obj):
    """zarr's or numcodecs' own objects and plain constants, not the standard library's
    or typing's names that a module happens to import."""
    if inspect.ismodule(obj):
        return False
    if isinstance(obj, (str, int, float, bool)):
        return True
    owner = getattr(obj, "__module__", None) or type(obj).__module__ or ""
    return owner.startswith(("zarr", "numcodecs"))


def describe(obj):
    if not callable(obj):
        return {"kind": "value"}
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return {"kind": "callable"}
    params = [[p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
              for p in sig.parameters.values()]
    return {"kind": "class" if inspect.isclass(obj) else "function", "params": params}


def main():
    api = {}
    for suffix in MODULES:
        mod = importlib.import_module("zarr" + suffix)
        names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
        api[suffix] = {n: describe(getattr(mod, n)) for n in sorted(names)
                       if is_public(getattr(mod, n, None))}
    api["__version__"] = zarr.__version__
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zarr2_api.json")
    with open(path, "w") as f:
        json.dump(api, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
