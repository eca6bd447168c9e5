"""A missing compiled extension gives an ImportError that names the C library."""

from __future__ import annotations

import subprocess
import sys


def test_missing_extension_names_library(tmp_path):
    # a fake package dir where czarr._core.blosc cannot be found
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'czarr._core.blosc':\n"
        "            raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import czarr\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode != 0
    assert "czarr._core.blosc" in res.stderr and "c-blosc" in res.stderr
    assert "libblosc-dev" in res.stderr
