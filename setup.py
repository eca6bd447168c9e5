"""Build the czarr Cython extensions, with the compression libraries bundled or from the system.

``CZARR_BLOSC`` picks where c-blosc 1.x, zstd, lz4 and zlib come from:

- ``bundled``: the c-blosc tree in ``c-blosc/`` (its internal lz4, zstd and zlib included)
  is compiled into static libraries that the codec extensions link, so the built modules
  depend on no system compression library. ``c-blosc/`` is vendored at build time from a
  pinned, sha256-checked sdist (``tools/vendor_blosc.py``, ``make vendor``); this happens
  here when it is missing. Wheels and the sdist (which ships ``c-blosc/``) build this way.
- ``system``: the libraries are found with pkg-config. Set ``CZARR_LIB_PREFIX=/some/prefix``
  to use an install under ``prefix/include`` and ``prefix/lib`` instead (searched first,
  with its pkg-config files). The Makefile's developer build uses this mode.

Unset, it is ``bundled`` when ``c-blosc/`` exists (an sdist, or after ``make vendor``) and
``system`` otherwise. ``CZARR_EXTENSIONS=blosc,copy`` limits a development build to some
extensions; ``CZARR_OPTIMIZE=-O1`` replaces the extensions' ``-O3`` (the sanitizer build,
``tools/sanitize.py``, compiles faster so).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from glob import glob

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

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
    "blosc_blocks": [],  # Blosc frames walked by czarr, through the modules above
    "indexing": [],
    "copy": [],
    "fancy": [],
    "fileio": [],
    "filters": [],
    "vlen": [],
    "hugepages": [],  # large outputs on 2 MiB-aligned huge pages (a NumPy memory handler)
    "capi": [],  # czarr.capi: the public C-level API, forwarding to the modules above
}
# extensions outside czarr/_core
MODULES = {"capi": "czarr.capi"}

PREFIX = os.environ.get("CZARR_LIB_PREFIX")
ROOT = os.path.dirname(os.path.abspath(__file__))
VENDOR = "c-blosc"
MODE = os.environ.get("CZARR_BLOSC") or (
    "bundled" if os.path.isdir(os.path.join(ROOT, VENDOR)) else "system")
if MODE not in ("bundled", "system"):
    sys.exit(f"czarr: CZARR_BLOSC must be 'bundled' or 'system', not {MODE!r}")


# ------------------------------------------------------------------ system libraries

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
            f"{', '.join(search)}). Install it (Debian/Ubuntu: apt-get install {deb}), "
            "set CZARR_LIB_PREFIX to the prefix where it is installed, or build with the "
            "bundled c-blosc: CZARR_BLOSC=bundled."
        )
    return {
        "include_dirs": include_dirs,
        "library_dirs": [d for d in library_dirs if os.path.isdir(d)],
        "libraries": [lib],
    }


# ------------------------------------------------------------------ bundled libraries

X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def _one(pattern: str) -> str:
    found = sorted(glob(os.path.join(VENDOR, pattern)))
    if len(found) != 1:
        sys.exit(f"czarr: expected one {pattern} in {VENDOR}/, found {found}")
    return found[0]


def _vendored() -> dict[str, dict]:
    """The static libraries compiled from c-blosc/: name -> sources, macros, includes."""
    if not os.path.isfile(os.path.join(ROOT, VENDOR, "blosc", "blosc.h")):
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        from vendor_blosc import vendor

        vendor()
    lz4, zlib, zstd = (_one(f"internal-complibs/{n}-*") for n in ("lz4", "zlib", "zstd"))
    zstd_sources = [f for d in ("common", "compress", "decompress")
                    for f in sorted(glob(os.path.join(zstd, d, "*.c")))]
    zstd_macros = []
    if X86 and sys.platform != "win32":  # zstd's Huffman decoding loop in assembly
        zstd_sources += glob(os.path.join(zstd, "decompress", "*_amd64.S"))
    else:
        zstd_macros.append(("ZSTD_DISABLE_ASM", "1"))
    blosc_sources = sorted(f for f in glob(os.path.join(VENDOR, "blosc", "*.c"))
                           if ("sse2" not in f and "avx2" not in f) or X86)
    if sys.platform == "win32":  # c-blosc's own pthread shim (MSVC has no pthreads)
        blosc_sources.append(os.path.join(VENDOR, "blosc", "win32", "pthread.c"))
    blosc_macros = [("HAVE_LZ4", "1"), ("HAVE_ZLIB", "1"), ("HAVE_ZSTD", "1")]
    if X86:  # SIMD shuffles, picked at run time from the CPU's features
        blosc_macros += [("SHUFFLE_SSE2_ENABLED", "1"), ("SHUFFLE_AVX2_ENABLED", "1")]
    zlib_macros = [] if sys.platform == "win32" else [("HAVE_UNISTD_H", "1")]
    return {
        # gz*.c (gzFile I/O) is left out: neither Blosc nor czarr calls it
        "czarr_zlib": dict(sources=sorted(f for f in glob(os.path.join(zlib, "*.c"))
                                          if not os.path.basename(f).startswith("gz")),
                           macros=zlib_macros, include_dirs=[zlib]),
        "czarr_lz4": dict(sources=sorted(glob(os.path.join(lz4, "*.c"))), macros=[],
                          include_dirs=[lz4]),
        "czarr_zstd": dict(sources=zstd_sources, macros=zstd_macros,
                           include_dirs=[zstd, os.path.join(zstd, "common")]),
        "czarr_blosc": dict(sources=blosc_sources, macros=blosc_macros,
                            include_dirs=[os.path.join(VENDOR, "blosc"), lz4, zlib, zstd]),
    }


# extension -> the static libraries it links, the first ones depending on the later ones
BUNDLED = {"blosc": ["czarr_blosc", "czarr_zstd", "czarr_lz4", "czarr_zlib"],
           "zstd": ["czarr_zstd"], "lz4": ["czarr_lz4"], "zlib": ["czarr_zlib"]}


class BuildExt(build_ext):
    """build_ext that first compiles the vendored C libraries (bundled mode) into static
    libraries, in parallel, recompiling only the objects older than their source."""

    def build_extensions(self) -> None:
        # extensions built in the other mode into the same place are all rebuilt
        outdir = os.path.dirname(self.get_ext_fullpath(self.extensions[0].name))
        modes_file = os.path.join(self.build_temp, "czarr-blosc-modes.json")
        try:
            with open(modes_file) as f:
                modes = json.load(f)
        except (OSError, ValueError):
            modes = {}
        forced = self.force  # the vendored objects are the same in both modes
        if modes.get(os.path.abspath(outdir)) != MODE:
            self.force = True
        if MODE == "bundled":
            self._build_vendored(forced)
        super().build_extensions()
        modes[os.path.abspath(outdir)] = MODE
        os.makedirs(self.build_temp, exist_ok=True)
        with open(modes_file, "w") as f:
            json.dump(modes, f)

    def _flags(self, source: str) -> list[str]:
        unix = self.compiler.compiler_type == "unix"
        flags = ["-O3", "-g0", "-pthread"] if unix else []
        if X86 and "avx2" in os.path.basename(source):
            flags.append("-mavx2" if unix else "/arch:AVX2")
        elif X86 and unix and "sse2" in os.path.basename(source):
            flags.append("-msse2")
        return flags

    def _build_vendored(self, force: bool) -> None:
        if ".S" not in self.compiler.src_extensions:  # an instance copy, not the class list
            self.compiler.src_extensions = [*self.compiler.src_extensions, ".S"]
        libs = _vendored()
        wanted = {lib for ext in self.extensions for lib in BUNDLED.get(ext.name.split(".")[-1],
                                                                         [])}
        out = os.path.join(self.build_temp, "czarr-vendor")
        stamp = os.path.join(VENDOR, ".czarr-vendor")
        since = os.path.getmtime(stamp) if os.path.exists(stamp) else 0.0

        def compile_one(job: tuple[str, str, dict]) -> str:
            name, source, info = job
            obj = self.compiler.object_filenames([source], output_dir=os.path.join(out, name))[0]
            if (force or not os.path.exists(obj)
                    or os.path.getmtime(obj) < max(os.path.getmtime(source), since)):
                self.compiler.compile([source], output_dir=os.path.join(out, name),
                                      macros=info["macros"], include_dirs=info["include_dirs"],
                                      extra_postargs=self._flags(source))
            return obj

        jobs = [(n, s, libs[n]) for n in sorted(wanted) for s in libs[n]["sources"]]
        with ThreadPoolExecutor(self.parallel or os.cpu_count() or 1) as pool:
            objects = list(pool.map(compile_one, jobs))
        for name in sorted(wanted):
            mine = [o for (n, _, _), o in zip(jobs, objects) if n == name]
            self.compiler.create_static_lib(mine, name, output_dir=out, debug=self.debug)
        for ext in self.extensions:
            if ext.name.split(".")[-1] in BUNDLED:
                ext.library_dirs.append(out)


def extensions() -> list[Extension]:
    wanted = os.environ.get("CZARR_EXTENSIONS")
    names = list(EXTENSIONS) if not wanted else [n.strip() for n in wanted.split(",")]
    bundled = _vendored() if MODE == "bundled" else {}
    exts = []
    for name in names:
        kwargs: dict[str, list] = {"include_dirs": [np.get_include()], "library_dirs": [],
                                   "libraries": [], "extra_link_args": []}
        if MODE == "bundled" and name in BUNDLED:
            kwargs["libraries"] = list(BUNDLED[name])
            kwargs["include_dirs"] += bundled[BUNDLED[name][0]]["include_dirs"]
            if sys.platform.startswith("linux"):
                # the extension calls its own copy, even if a libzstd/liblz4/libz is
                # already loaded in the process's global scope
                kwargs["extra_link_args"] = ["-pthread", "-Wl,-Bsymbolic"]
        else:
            for key in EXTENSIONS[name]:
                for k, v in _library_flags(key).items():
                    kwargs[k] += v
        module = MODULES.get(name, f"czarr._core.{name}")
        exts.append(
            Extension(
                module,
                [module.replace(".", "/") + ".pyx"],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                               # NumPy's memory handlers (hugepages.pyx) are API 1.22
                               ("NPY_TARGET_VERSION", "NPY_1_22_API_VERSION")],
                extra_compile_args=[os.environ.get("CZARR_OPTIMIZE", "-O3")],
                **kwargs,
            )
        )
    return exts


if any(cmd.startswith(("build", "bdist", "install", "develop", "editable"))
       for cmd in sys.argv[1:]):
    print(f"czarr: building with CZARR_BLOSC={MODE}", file=sys.stderr)

setup(
    ext_modules=cythonize(
        extensions(),
        language_level=3,
        compiler_directives={"embedsignature": True},
    ),
    cmdclass={"build_ext": BuildExt},
)
