"""Build the test's external extension against czarr's C-level API: nothing from czarr but
``czarr.get_include()`` (where ``czarr/capi.pxd`` lives) is used at build time."""

from Cython.Build import cythonize
from setuptools import Extension, setup

import czarr

setup(
    name="capi_user",
    ext_modules=cythonize(
        [Extension("capi_user", ["capi_user.pyx"])],
        include_path=[czarr.get_include()],
        language_level=3,
    ),
)
