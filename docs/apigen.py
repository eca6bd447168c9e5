"""The API reference's pages, written from the code at each build.

``write_api_pages(outdir)`` writes ``api/index.rst``, one page for the top-level ``czarr``
namespace (``czarr.__all__``, grouped by what the user does) and one page per public
module (its docstring and every name of its ``__all__`` that the top level does not
already export). autosummary then writes one stub per name. So a name added to an
``__all__`` is in the reference at the next build, and a name documented once is never
documented twice. ``PUBLIC_MODULES`` is also what ``tests/test_docs.py`` walks to check
that every public name has a docstring.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

# the modules a user imports, in the order the reference lists them
PUBLIC_MODULES = [
    "czarr.creation", "czarr.core", "czarr.hierarchy", "czarr.attrs", "czarr.v3api",
    "czarr.storage", "czarr.codecs", "czarr.convenience", "czarr.consolidated",
    "czarr.rechunk", "czarr.config", "czarr.chunk_cache", "czarr.sync", "czarr.dask",
    "czarr.xarray", "czarr.errors", "czarr.cli", "czarr.capi",
]

# top-level groups: the module a name is defined in decides where it is listed
TOP_GROUPS = [
    ("Arrays and groups", ("czarr.core", "czarr.creation", "czarr.hierarchy", "czarr.v3api",
                           "czarr.attrs")),
    ("Stores", ("czarr.storage",)),
    ("Codecs", ("czarr.codecs",)),
    ("Copying, saving, converting", ("czarr.convenience", "czarr.consolidated",
                                     "czarr.rechunk")),
    ("Dask and concurrency", ("czarr.dask", "czarr.sync")),
    ("Errors", ("czarr.errors",)),
]

# values (not functions or classes) have no docstring of their own: they are described here
DATA = {
    "czarr.__version__": "The version of czarr, a string.",
    "czarr.v3_api_available": "False: zarr-python 2.18's experimental v3 API is not in czarr "
                              "(Zarr v3 itself is: ``zarr_format=3``).",
    "czarr.ncores": "Number of CPU cores (``os.cpu_count()``), as numcodecs exports it.",
    "czarr.codec_registry": "The codec classes czarr builds from a configuration, by "
                            "``codec_id`` (see :func:`czarr.register_codec`).",
    "czarr.codecs.codec_registry": None,
    "czarr.suppress": ":class:`contextlib.suppress`, as numcodecs exports it.",
    "czarr.codecs.suppress": None,  # the same object as czarr.codec_registry
    "czarr.consolidated.CONSOLIDATED_KEY": "The key of the consolidated metadata document: "
                                           "``'.zmetadata'``.",
    "czarr.chunk_cache.DEFAULT_SIZE": "Bytes of an array's own cache when it asks for "
                                      "``cache_chunks=True`` while the process-wide one "
                                      "is off: 256 MiB.",
    "czarr.rechunk.PROGRESS_KEY": "The key, under the target array, of the JSON document "
                                  "that records the blocks a rechunk has finished.",
    "czarr.capi.CAPI_VERSION": "The version of the C-level API this czarr provides "
                               "(``CZARR_CAPI_VERSION`` in ``czarr/capi.pxd``).",
    "czarr.capi.MAX_NDIM": "The most dimensions the C-level copy and fill functions take.",
    "czarr.capi.STATUS": "The C-level API's status codes, by value, with their names.",
    "czarr.capi.CODEC_IDS": "The codec kinds of ``czarr_codec_t``, by codec id.",
}


def module_names(mod: ModuleType) -> list[str]:
    """The public names of a module: its ``__all__``, or (without one) the functions and
    classes it defines whose names do not start with an underscore, and its values that
    ``DATA`` describes."""
    names = getattr(mod, "__all__", None)
    if names is not None:
        return list(names)
    return [n for n, v in vars(mod).items()
            if not n.startswith("_") and (inspect.isclass(v) or callable(v))
            and getattr(v, "__module__", None) == mod.__name__
            or f"{mod.__name__}.{n}" in DATA]


def is_documented_object(obj: Any) -> bool:
    """czarr's own functions, classes and other callables get a page and need a
    docstring; plain values (numbers, strings, dicts) and objects of other packages that
    czarr re-exports are described in ``DATA``."""
    return ((inspect.isclass(obj) or callable(obj))
            and (getattr(obj, "__module__", None) or "").startswith("czarr"))


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _autosummary(module: str, names: list[str]) -> str:
    if not names:
        return ""
    lines = ["", f".. currentmodule:: {module}", "", ".. autosummary::", "   :toctree: generated",
             "   :nosignatures:", ""]
    lines += [f"   {n.removeprefix(module + '.')}" for n in names]
    return "\n".join(lines) + "\n"


def _data(names: list[str]) -> str:
    out = []
    for n in names:
        text = DATA.get(n)
        if text is None:
            raise KeyError(f"{n} is a public value without a description in docs/apigen.py DATA")
        out.append(f"\n.. py:data:: {n}\n\n   {text}\n")
    return "".join(out)


def _split(qualname_prefix: str, mod: ModuleType, names: list[str],
           top: dict[int, str]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(objects, values, modules, names exported at the top level) of ``names``."""
    objects, values, modules, elsewhere = [], [], [], []
    for n in names:
        obj = getattr(mod, n)
        full = f"{qualname_prefix}.{n}"
        if inspect.ismodule(obj):
            modules.append(obj.__name__)
        elif top.get(id(obj)) and top[id(obj)] != full and is_documented_object(obj):
            elsewhere.append(top[id(obj)])
        elif not is_documented_object(obj):
            if DATA.get(full, "") is None:   # an alias of a value described elsewhere
                continue
            values.append(full)
        else:
            objects.append(full)
    return objects, values, modules, elsewhere


def top_page(czarr: ModuleType) -> str:
    """The page of the ``czarr`` namespace."""
    groups: dict[str, list[str]] = {title: [] for title, _ in TOP_GROUPS}
    other: list[str] = []
    values: list[str] = []
    modules: list[str] = []
    for n in czarr.__all__:
        obj = getattr(czarr, n)
        if inspect.ismodule(obj):
            modules.append(obj.__name__)
            continue
        if not is_documented_object(obj):
            values.append(f"czarr.{n}")
            continue
        home = getattr(obj, "__module__", "") or ""
        # czarr.rechunk is a module and a function: one name, documented on the module's page
        entry = f"{home}.{n}" if f"czarr.{n}" in PUBLIC_MODULES else f"czarr.{n}"
        for title, prefixes in TOP_GROUPS:
            if any(home == p or home.startswith(p + ".") for p in prefixes):
                groups[title].append(entry)
                break
        else:
            other.append(entry)
    out = [_title("czarr"), "\n.. automodule:: czarr\n   :no-members:\n",
           "\n``import czarr`` (or ``import czarr as zarr``) gives these names.\n"]
    for title, names in groups.items():
        here = [n for n in names if n.count(".") == 1]
        if here:
            out += ["\n", _title(title, "-"), _autosummary("czarr", here)]
        for n in names:
            if n not in here:
                out.append(f"\n``czarr.{n.rsplit('.', 1)[1]}`` is :obj:`{n}`.\n")
    if other:
        out += ["\n", _title("Other functions", "-"), _autosummary("czarr", other)]
    out += ["\n", _title("Values and submodules", "-"), _data(values)]
    out.append("\n" + "\n".join(f"* :mod:`{m}`" for m in modules) + "\n")
    return "".join(out)


def module_page(name: str, top: dict[int, str]) -> str:
    """The page of one public module."""
    mod = importlib.import_module(name)
    objects, values, modules, elsewhere = _split(name, mod, module_names(mod), top)
    out = [_title(f"``{name}``"), f"\n.. automodule:: {name}\n   :no-members:\n"]
    out.append(_autosummary(name, objects))
    out.append(_data(values))
    if elsewhere:
        out.append("\nAlso here, documented with the top-level names: "
                   + ", ".join(f":obj:`{n}`" for n in elsewhere) + ".\n")
    if modules:
        out.append("\nSubmodules: " + ", ".join(f":mod:`{m}`" for m in modules) + ".\n")
    return "".join(out)


def write_api_pages(outdir: str | Path) -> list[Path]:
    """Write the reference's pages under ``outdir`` (only those whose text changed, so
    Sphinx rebuilds nothing it need not). Returns every page's path."""
    import czarr

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    top = {id(getattr(czarr, n)): f"czarr.{n}" for n in czarr.__all__
           if is_documented_object(getattr(czarr, n)) and f"czarr.{n}" not in PUBLIC_MODULES}
    pages = {"czarr": top_page(czarr)}
    pages.update({m: module_page(m, top) for m in PUBLIC_MODULES})
    index = [_title("API reference"),
             "\nEvery public name, from its docstring. The top-level ``czarr`` namespace "
             "holds what most code uses; each module's page adds the names only it has.\n",
             "\n.. toctree::\n   :maxdepth: 1\n\n"]
    index += [f"   {m}\n" for m in pages]
    pages["index"] = "".join(index)
    return [write_if_changed(outdir / f"{stem}.rst", text) for stem, text in pages.items()]


def write_if_changed(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` unless it holds it already (Sphinx rebuilds the pages
    whose sources are newer, so an unchanged page keeps its time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path
