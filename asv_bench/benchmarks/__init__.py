"""asv benchmarks for czarr, grouped by what the user does (codecs, read, write...).

asv's ``existing`` environment runs the current Python; when czarr is built in place
(``setup.py build_ext --inplace``) rather than installed, import it from the checkout.
"""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("czarr") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
