"""Build the czarr Cython extensions against the system compression libraries.

The C libraries (c-blosc 1.x, zstd, lz4, zlib) are found with pkg-config. Set
``CZARR_LIB_PREFIX=/some/prefix`` to use an install under ``prefix/include`` and
``prefix/lib`` instead (it is searched first, and its pkg-config files are used).
``CZARR_EXTENSIONS=blosc,copy`` limits a development build to some extensions.
No third-party source is compiled here: every codec links the real library.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# extension -> (pkg-config name, header that must exist, library name, Debian package)
LIBRARIES = {
    "blosc": ("blosc", "blosc.h", "blosc", "libblosc-dev"),
    "zstd": ("libzstd", "zstd.h", "zstd", "libzstd-dev"),
    "lz4": ("liblz4", "lz4.h", "lz4", "liblz4-dev"),
    "zlib": ("zlib", "zlib.h", "z", "zlib1g-dev"),
}
# every extension module in czarr/_core and the libraries it links
EXTENSIONS = {
    "blosc": ["blosc"],
    "zstd": ["zstd"],
    "lz4": ["lz4"],
    "zlib": ["zlib"],
    "indexing": [],
    "copy": [],
    "fancy": [],
    "fileio": [],
    "filters": [],
    "vlen": [],
    "capi": [],  # czarr.capi: the public C-level API, forwarding to the modules above
}
# extensions outside czarr/_core
MODULES = {"capi": "czarr.capi"}

PREFIX = os.environ.get("CZARR_LIB_PREFIX")


def _pkg_config(name: str, flag: str) -> list[str]:
    if shutil.which("pkg-config") is None:
        return []
    env = dict(os.environ)
    if PREFIX:
        paths = [os.path.join(PREFIX, d, "pkgconfig") for d in ("lib", "lib64", "share")]
        env["PKG_CONFIG_PATH"] = os.pathsep.join(paths + [env.get("PKG_CONFIG_PATH", "")])
    try:
        out = subprocess.run(
            ["pkg-config", flag, name], env=env, capture_output=True, text=True, check=True
        ).stdout
    except subprocess.CalledProcessError:
        return []
    return [tok[2:] for tok in out.split() if len(tok) > 2]


def _library_flags(key: str) -> dict[str, list[str]]:
    pc_name, header, lib, deb = LIBRARIES[key]
    include_dirs = _pkg_config(pc_name, "--cflags-only-I")
    library_dirs = _pkg_config(pc_name, "--libs-only-L")
    if PREFIX:
        include_dirs.insert(0, os.path.join(PREFIX, "include"))
        library_dirs[:0] = [os.path.join(PREFIX, d) for d in ("lib", "lib64")]
    search = include_dirs + ["/usr/include", "/usr/local/include"]
    if not any(os.path.exists(os.path.join(d, header)) for d in search):
        sys.exit(
            f"czarr: cannot build: the C library {lib!r} was not found (no {header} in "
            f"{', '.join(search)}). Install it (Debian/Ubuntu: apt-get install {deb}) "
            "or set CZARR_LIB_PREFIX to the prefix where it is installed."
        )
    return {
        "include_dirs": include_dirs,
        "library_dirs": [d for d in library_dirs if os.path.isdir(d)],
        "libraries": [lib],
    }


def extensions() -> list[Extension]:
    wanted = os.environ.get("CZARR_EXTENSIONS")
    names = list(EXTENSIONS) if not wanted else [n.strip() for n in wanted.split(",")]
    exts = []
    for name in names:
        kwargs: dict[str, list] = {"include_dirs": [np.get_include()], "library_dirs": [],
                                   "libraries": []}
        for key in EXTENSIONS[name]:
            for k, v in _library_flags(key).items():
                kwargs[k] += v
        module = MODULES.get(name, f"czarr._core.{name}")
        exts.append(
            Extension(
                module,
                [module.replace(".", "/") + ".pyx"],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                extra_compile_args=["-O3"],
                **kwargs,
            )
        )
    return exts


setup(
    ext_modules=cythonize(
        extensions(),
        language_level=3,
        compiler_directives={"embedsignature": True},
    ),
)
