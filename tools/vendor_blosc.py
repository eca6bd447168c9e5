"""Vendor c-blosc 1.x at build time: fetch a pinned sdist from PyPI, check its sha256 and
unpack its ``c-blosc/`` tree (Blosc with its internal lz4, zstd and zlib) into ``c-blosc/``
at the top of the checkout, which git ignores. The pin plays the part of a submodule commit.

The source is the numcodecs sdist: numcodecs builds its Blosc, Zstd and LZ4 codecs from
this very tree, so czarr compiled from it writes the same bytes as numcodecs of the pinned
version. Run ``python tools/vendor_blosc.py`` (``make vendor``); it does nothing when
``c-blosc/`` already holds the pinned tree. ``--sdist PATH`` (or ``CZARR_BLOSC_SDIST``)
uses a downloaded archive instead of pip, for offline builds; its sha256 is checked alike.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "numcodecs"
VERSION = "0.16.6"
SHA256 = "5e446928af7c40b4dc8f51e960b4c9fb14f617846577d2fcf35ae2f92738f00f"
# the versions inside that tree (checked after unpacking: a wrong pin fails loudly)
BLOSC_VERSION = "1.21.7.dev"
COMPLIBS = ("lz4-1.10.0", "zstd-1.5.6", "zlib-1.3.1")
# what is unpacked from the sdist's c-blosc/ (the build needs blosc/ and internal-complibs/)
KEEP = ("blosc/", "internal-complibs/", "LICENSE.txt", "LICENSES/", "README.md")
STAMP = ".czarr-vendor"

ROOT = Path(__file__).resolve().parents[1]


def stamp_text() -> str:
    return f"{PACKAGE}=={VERSION} sha256={SHA256}\n"


def is_vendored(dest: Path) -> bool:
    """Whether ``dest`` holds the tree of the pinned sdist."""
    stamp = dest / STAMP
    return stamp.is_file() and stamp.read_text() == stamp_text()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(workdir: Path) -> Path:
    """The pinned sdist, fetched with pip (no build, no dependencies)."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
           "--no-binary", PACKAGE, "--dest", str(workdir), f"{PACKAGE}=={VERSION}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    archives = sorted(workdir.glob(f"{PACKAGE}-{VERSION}.tar.gz"))
    if result.returncode != 0 or not archives:
        raise SystemExit(f"czarr: could not download the {PACKAGE} {VERSION} sdist with pip "
                         f"({' '.join(cmd)}):\n{result.stderr.strip()}\nDownload it yourself "
                         "and pass it with --sdist PATH (or CZARR_BLOSC_SDIST=PATH).")
    return archives[0]


def unpack(archive: Path, dest: Path) -> None:
    """Extract the kept parts of ``<sdist>/c-blosc/`` into ``dest`` (replacing it)."""
    prefix = f"{PACKAGE}-{VERSION}/c-blosc/"
    tmp = Path(tempfile.mkdtemp(prefix="c-blosc-", dir=dest.parent))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = []
            for member in tar.getmembers():
                if not member.name.startswith(prefix):
                    continue
                rel = member.name[len(prefix):]
                if rel.startswith("/") or ".." in Path(rel).parts:
                    raise SystemExit(f"czarr: unsafe path in the sdist: {member.name}")
                if not any(rel == k or rel.startswith(k) for k in KEEP):
                    continue
                if not (member.isfile() or member.isdir()):
                    raise SystemExit(f"czarr: unexpected entry in the sdist: {member.name}")
                member.name = rel
                members.append(member)
            # the "data" filter (Python >= 3.11.4) refuses links and absolute paths too
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(tmp, members=members, **safe)
        missing = [p for p in ["blosc/blosc.h", *(f"internal-complibs/{c}" for c in COMPLIBS)]
                   if not (tmp / p).exists()]
        if missing:
            raise SystemExit(f"czarr: the {PACKAGE} {VERSION} sdist lacks {missing}")
        header = (tmp / "blosc" / "blosc.h").read_text()
        if f'"{BLOSC_VERSION}"' not in header:
            raise SystemExit(f"czarr: the vendored blosc.h is not c-blosc {BLOSC_VERSION}")
        (tmp / STAMP).write_text(stamp_text())
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def vendor(dest: Path = ROOT / "c-blosc", sdist: str | None = None, force: bool = False) -> Path:
    """Make ``dest`` hold c-blosc from the pinned sdist; return ``dest``."""
    if is_vendored(dest) and not force:
        return dest
    sdist = sdist or os.environ.get("CZARR_BLOSC_SDIST")
    with tempfile.TemporaryDirectory(prefix="czarr-vendor-") as workdir:
        archive = Path(sdist) if sdist else download(Path(workdir))
        actual = sha256_of(archive)
        if actual != SHA256:
            raise SystemExit(f"czarr: {archive} has sha256 {actual}, expected {SHA256} "
                             f"({PACKAGE} {VERSION}): refusing to build from it")
        unpack(archive, dest)
    print(f"czarr: vendored c-blosc {BLOSC_VERSION} ({', '.join(COMPLIBS)}) from "
          f"{PACKAGE} {VERSION} into {dest}")
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", help="a downloaded numcodecs sdist to unpack")
    parser.add_argument("--dest", default=str(ROOT / "c-blosc"), help="target folder")
    parser.add_argument("--force", action="store_true", help="unpack even when up to date")
    args = parser.parse_args(argv)
    vendor(Path(args.dest), args.sdist, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
