"""``python -m czarr``: the command line (see :mod:`czarr.cli`)."""

import sys

from czarr.cli import main

sys.exit(main())
