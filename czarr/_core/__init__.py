"""Compiled kernels: codecs calling the C libraries and the chunk engine.

The ``.pxd`` files beside these modules are czarr's public C-level API: other Cython
packages can ``cimport czarr._core.blosc`` etc. (see ``czarr.get_include()``).
"""
