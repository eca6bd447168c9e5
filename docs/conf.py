"""Sphinx configuration of czarr's documentation site (``make docs``).

The API reference is written from the code at each build (``docs/apigen.py``); the
Markdown files of the repository (ARCHITECTURE.md, CHANGELOG.md, docs/zarr2-compat.md)
are included through myst-parser, so each text lives in one place.

Intersphinx: links into the documentation of NumPy, zarr-python, numcodecs, dask, xarray
and Python need their ``objects.inv`` inventories, fetched from the projects' sites. No
package ships them (Debian has inventories of dask and xarray only, as parts of large
documentation packages), so czarr does not copy them: online, the build fetches them; when
the sites cannot be reached (a machine without network, such as CI's), the build leaves
those names as plain text rather than failing, and says so on its first line.
``CZARR_DOCS_INTERSPHINX=1`` insists on the inventories (a failure to fetch one is then an
error under ``-W``), ``=0`` never fetches them; unset, the build probes the network once.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the czarr of this checkout (its extensions built in place)
sys.path.insert(0, str(DOCS))

import apigen  # noqa: E402

import czarr  # noqa: E402

project = "czarr"
author = "the czarr developers"
copyright = "the czarr developers"
release = version = czarr.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "myst_parser",
    "sphinx_copybutton",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# zarr2-compat.md is included by migration.md, not a page of its own
exclude_patterns = ["_build", "_generated", "zarr2-compat.md", "**/.ipynb_checkpoints"]
templates_path: list[str] = []

# ---------------------------------------------------------------- API reference
apigen.write_api_pages(DOCS / "api")
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# docstrings speak of their types in words (``MutableMapping[str, bytes]``, "array-like")
napoleon_preprocess_types = False
add_module_names = False

# ---------------------------------------------------------------- performance page
# the ratios table and the run's description, from the results file the plot was drawn from
_spec = importlib.util.spec_from_file_location("czarr_bench_plot", ROOT / "benchmarks" / "plot.py")
bench_plot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_plot)
_rows, _run = bench_plot.load_json(DOCS / "_static" / "compare.json")
apigen.write_if_changed(DOCS / "_generated" / "compare_table.rst", bench_plot.rst_table(_rows))
apigen.write_if_changed(DOCS / "_generated" / "compare_run.rst", "".join(
    f":{field}: ``{_run[key]}``\n" for field, key in
    (("Versions", "versions"), ("Machine", "machine"), ("Command", "command"))))

# ---------------------------------------------------------------- doctests
# every >>> block of the pages is a test (sphinx-build -b doctest; tests/test_docs.py)
doctest_global_setup = """
import numpy as np
np.set_printoptions(legacy=False)
"""

# the copy button copies the code of a >>> block without its prompts and output
copybutton_prompt_text = r">>> |\.\.\. "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True

# ---------------------------------------------------------------- intersphinx
INVENTORIES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "zarr": "https://zarr.readthedocs.io/en/stable/",
    "numcodecs": "https://numcodecs.readthedocs.io/en/stable/",
    "dask": "https://docs.dask.org/en/stable/",
    "xarray": "https://docs.xarray.dev/en/stable/",
}


def _online(host: str = "numpy.org", timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


_want = os.environ.get("CZARR_DOCS_INTERSPHINX", "")
if _want == "":
    _want = "1" if _online() else "0"
    os.environ["CZARR_DOCS_INTERSPHINX"] = _want  # Sphinx reads this file twice: probe once
    if _want == "0":
        print("czarr docs: no network, so no intersphinx inventories: NumPy, zarr-python, "
              "numcodecs, dask and xarray names stay plain text")
if _want == "1":
    intersphinx_mapping = {name: (url, None) for name, url in INVENTORIES.items()}
else:
    intersphinx_mapping = {}
intersphinx_timeout = 10

# ---------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"czarr {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# the section navigation lists the API reference's pages; the other pages stand alone
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_sidebars.update({page: [] for page in (
    "index", "tutorial", "stores", "codecs", "migration", "performance", "capi",
    "architecture", "changelog")})
html_show_sourcelink = False
html_copy_source = False

myst_heading_anchors = 3
