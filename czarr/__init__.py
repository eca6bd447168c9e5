"""czarr: Zarr for Python, compiled.

Chunked, compressed N-dimensional arrays in any key/value store, in the Zarr v2
format, byte-compatible with zarr-python and numcodecs, with the hot paths in Cython.
"""

from __future__ import annotations

import os

from czarr import errors

__version__ = "0.1.0"


def get_include() -> str:
    """Directory holding czarr's ``.pxd`` files, for Cython packages that ``cimport czarr._core``."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


__all__ = ["errors", "get_include", "__version__"]
