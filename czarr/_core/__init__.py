"""Compiled kernels: codecs calling the C libraries and the chunk engine.

The ``.pxd`` files beside these modules are private and free to change: other Cython
packages ``cimport czarr.capi``, the public, versioned facade over them (``czarr/capi.pxd``).
"""

import importlib

# extension -> the C library it links (named in the error when it is missing)
_EXTENSIONS = {
    "blosc": "c-blosc (Debian: libblosc-dev)",
    "zstd": "zstd (Debian: libzstd-dev)",
    "lz4": "lz4 (Debian: liblz4-dev)",
    "zlib": "zlib (Debian: zlib1g-dev)",
    "copy": None,
    "blosc_blocks": None,
    "indexing": None,
    "fancy": None,
    "fileio": None,
    "filters": None,
    "vlen": None,
    "hugepages": None,
}

for _name, _lib in _EXTENSIONS.items():
    try:
        importlib.import_module(f"czarr._core.{_name}")
    except ImportError as _e:
        _needs = f"; it links the C library {_lib}" if _lib else ""
        raise ImportError(
            f"czarr's compiled extension czarr._core.{_name} cannot be imported ({_e}){_needs}. "
            "Build czarr with `pip install -e .` (or `make setup`); the build needs the "
            "headers of c-blosc, zstd, lz4 and zlib (or CZARR_LIB_PREFIX pointing at them)."
        ) from _e
del _name, _lib
