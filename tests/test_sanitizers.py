"""The compiled extensions under AddressSanitizer and UndefinedBehaviorSanitizer.

``tools/sanitize.py`` copies the source tree into a temporary folder, builds every
extension there with ``-fsanitize=address,undefined -O1`` (the checkout's own extensions
are untouched), checks that the runtime catches a canary overflow, and runs the codec,
copy, indexing, engine and fuzz tests (its ``TESTS``) under it in two processes, with
hypothesis seeded. Every test must pass with no sanitizer report at all.

Slow: 3.5 to 5.5 minutes on two cores shared with other work (1 to 1.5 of building).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "sanitize.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gcc's sanitizers on Linux"),
]


def _runtimes_or_skip() -> None:
    """Skip without the compiler's sanitizer runtimes, unless in CI (where .ci/sysdeps.sh
    installs the compiler, and so libasan and libubsan, and a skip would hide a failure)."""
    spec = importlib.util.spec_from_file_location("czarr_sanitize", SCRIPT)
    sanitize = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sanitize)
    try:
        sanitize.runtime_libraries(os.environ.get("CC") or "gcc")
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no sanitizer runtimes: {exc}")


def test_extensions_are_memory_safe_under_asan_and_ubsan(tmp_path):
    _runtimes_or_skip()
    result = subprocess.run([sys.executable, str(SCRIPT), "--workdir", str(tmp_path)],
                            capture_output=True, text=True, timeout=1800)
    lines = [line for line in result.stdout.splitlines() if line.startswith("sanitize: ")]
    assert lines, result.stdout[-4000:] + result.stderr[-4000:]
    summary = json.loads(lines[-1][len("sanitize: "):])
    print(summary)
    assert summary["reports"] == 0, result.stderr[-20000:]
    assert summary["returncode"] == 0, result.stdout[-8000:]
    assert result.returncode == 0
    # the core of the list ran (files added by later work join when they exist)
    for path in ("tests/codecs", "tests/_core", "tests/test_selections.py"):
        assert path in summary["tests"]
    assert summary["outcomes"].get("passed", 0) >= 1200, summary
    assert not summary["outcomes"].get("failed") and not summary["outcomes"].get("error")
