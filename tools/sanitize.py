"""Run czarr's memory-safety tests under AddressSanitizer and UndefinedBehaviorSanitizer.

The source tree is copied into a private folder (the checkout's own extensions are never
touched), the extensions are built there with ``-fsanitize=address,undefined`` against the
system compression libraries (``CZARR_BLOSC=system``: only czarr's own code is
instrumented). A canary overflow must be caught first (the runtime is live); then the
tests of the files in ``TESTS`` are dealt round-robin to ``--jobs`` pytest processes of the
ordinary interpreter with the sanitizer runtimes preloaded (``LD_PRELOAD``; the interpreter
is not built with ASan) and Python's allocator switched to malloc (``PYTHONMALLOC=malloc``),
so that an overflow of a ``bytes`` object is seen too. pytest captures only Python's
``sys.stdout``/``sys.stderr``, so a report (written by the runtime straight to file
descriptor 2) reaches this script, which counts them; the first one aborts the test
process (a report in a test's own child process fails that test). The run passes only
with every test passed and no report at all. ``make asan`` and
``tests/test_sanitizers.py`` run it.

The last line printed is ``sanitize: {json}``: the tests run and passed, the reports found
(``reports``), and the seconds spent building and testing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The tests run under the sanitizers: the codecs and their fuzzing, the compiled copy,
# projection and read/write loops, and the hostile-input fuzzing. Paths that do not exist
# in the tree being checked are left out (and named in the output). Add files here.
TESTS = (
    "tests/codecs",
    "tests/_core",
    "tests/test_selections.py",
    "tests/test_engine.py",
    "tests/test_strided_chunks.py",
    "tests/test_filters_interop.py",
    "tests/test_hostile_input.py",
    "tests/fuzz",
)
# files under TESTS left out: byte identity with the linked c-blosc library runs the same
# compression paths as test_codecs_compat, at 40 s under ASan
IGNORED = ("tests/codecs/test_codecs_linked.py",)
# stress tests (``slow``) are left out: they repeat the fast tests' code paths on large
# inputs, which under ASan costs minutes and finds nothing the fast ones do not
PYTEST_ARGS = ("-q", "-p", "no:cacheprovider", "-m", "not slow", "--capture=sys")
# hypothesis draws the same examples on every run, so a report can be replayed
HYPOTHESIS_SEED = 13
SANITIZERS = "-fsanitize=address,undefined -fno-omit-frame-pointer"
# tests that ask for impossible sizes expect a MemoryError, not a report
ASAN_OPTIONS = ("detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1"
                ":print_summary=1")
UBSAN_OPTIONS = "halt_on_error=1:print_stacktrace=1:print_summary=1"
# a heap overflow the preloaded runtime must report
CANARY = ("import ctypes; b = ctypes.create_string_buffer(64); "
          "ctypes.memmove(b, bytes(128), 128)")
# what starts a report in a sanitizer's output
REPORT = re.compile(r"ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer")


def runtime_libraries(cc: str) -> list[str]:
    """The ASan and UBSan runtimes of compiler ``cc``, to preload into the interpreter.

    Raises
    ------
    RuntimeError
        If the compiler does not know them (no libasan/libubsan installed).
    """
    libs = []
    for name in ("libasan.so", "libubsan.so"):
        found = subprocess.run([cc, f"-print-file-name={name}"], capture_output=True,
                               text=True, check=True).stdout.strip()
        if not os.path.isabs(found) or not os.path.exists(found):
            raise RuntimeError(f"{cc} has no {name} (install the compiler's sanitizer "
                               f"runtimes, e.g. Debian's libasan8 and libubsan1)")
        libs.append(os.path.realpath(found))
    return libs


def copy_tree(source: Path, dest: Path) -> None:
    """Copy what a build and the tests need; generated C files are kept (with their
    times, so Cython skips the up-to-date ones), built extensions are not."""
    ignore = shutil.ignore_patterns("*.so", "__pycache__", "*.pyc", "*.html", ".hypothesis")
    for name in ("czarr", "tests"):
        shutil.copytree(source / name, dest / name, ignore=ignore)
    for name in ("setup.py", "pyproject.toml"):
        shutil.copy2(source / name, dest / name)


def build(tree: Path, cc: str, optimize: str, jobs: int) -> None:
    """Cythonize (in parallel) and compile every extension of ``tree`` in place."""
    sources = sorted(str(p.relative_to(tree)) for p in (tree / "czarr").rglob("*.pyx"))
    # the options setup.py gives cythonize(), which then finds these .c files up to date
    _run([sys.executable, "-m", "Cython.Build.Cythonize", "-q", "-j", str(jobs), "-3",
          "--directive", "embedsignature=True", *sources], tree)
    flags = f"{SANITIZERS} {optimize}"
    env = dict(os.environ, CC=cc, CFLAGS=flags, LDFLAGS=SANITIZERS, CZARR_BLOSC="system",
               CZARR_OPTIMIZE=optimize)
    env.pop("CZARR_EXTENSIONS", None)
    env.pop("CZARR_LIB_PREFIX", None)
    _run([sys.executable, "setup.py", "-q", "build_ext", "--inplace", "-j", str(jobs)],
         tree, env)
    built = list((tree / "czarr").rglob("*.so"))
    if not built or not all(b"__asan_init" in p.read_bytes() for p in built):
        raise RuntimeError(f"the extensions in {tree} were not built with ASan: {built}")


def _run(cmd: list[str], cwd: Path, env: dict | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed ({result.returncode}):\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def run_tests(tree: Path, tests: list[str], preload: list[str], jobs: int,
              extra: list[str]) -> tuple[int, str, str]:
    """pytest over ``tests`` in ``tree`` under the sanitizers, the collected tests dealt
    round-robin to ``jobs`` processes running at once; returns the worst return code and
    the processes' stdout and stderr, one after the other."""
    env = dict(os.environ, LD_PRELOAD=":".join(preload), PYTHONMALLOC="malloc",
               ASAN_OPTIONS=ASAN_OPTIONS, UBSAN_OPTIONS=UBSAN_OPTIONS,
               PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    check = ("import czarr._core.copy as m, sys; "
             f"sys.exit(0 if m.__file__.startswith({str(tree)!r}) else 'not the private "
             "build: ' + m.__file__)")
    subprocess.run([sys.executable, "-c", check], cwd=tree, env=env, check=True)
    # the runtime is live: an overflow of a malloc'd buffer (through libc's memmove,
    # which ASan intercepts) is reported and stops the process
    canary = subprocess.run([sys.executable, "-c", CANARY], cwd=tree, env=env,
                            capture_output=True, text=True)
    if canary.returncode == 0 or not reports(canary.stderr):
        raise RuntimeError(f"the sanitizers did not catch an overflow:\n{canary.stderr}")
    pytest = [sys.executable, "-m", "pytest", *PYTEST_ARGS,
              f"--hypothesis-seed={HYPOTHESIS_SEED}", *(f"--ignore={p}" for p in IGNORED),
              *extra]
    collected = subprocess.run([*pytest, "--collect-only", *tests], cwd=tree, env=env,
                               capture_output=True, text=True)
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    if collected.returncode != 0 or not ids:
        return collected.returncode or 1, collected.stdout, collected.stderr
    shards = [ids[k::jobs] for k in range(max(1, min(jobs, len(ids))))]
    procs = [subprocess.Popen([*pytest, *shard], cwd=tree, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for shard in shards]
    outputs = [proc.communicate() for proc in procs]
    code = max(proc.returncode for proc in procs)
    return code, "".join(o for o, _ in outputs), "".join(e for _, e in outputs)


def reports(output: str) -> list[str]:
    """The first line of every sanitizer report in ``output``."""
    return [line for line in output.splitlines() if REPORT.search(line)]


def _counts(output: str) -> dict[str, int]:
    """Outcome counts summed over pytest's summary lines ('12 passed, 1 skipped in 3.2s')."""
    counts: dict[str, int] = {}
    for line in output.splitlines():
        if re.search(r" in [0-9.]+s", line) and re.match(r"^=*\s*\d+ \w+", line):
            for n, word in re.findall(r"(\d+) (\w+)", line.split(" in ")[0]):
                counts[word] = counts.get(word, 0) + int(n)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the source tree to check (default: this checkout)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the private copy is built (default: a new temporary "
                             "folder, removed afterwards)")
    parser.add_argument("--optimize", default="-O1", help="optimization flag (default -O1)")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--tests", nargs="*", default=None,
                        help="test paths (default: tools/sanitize.py's TESTS)")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC").split()[0]
    preload = runtime_libraries(cc)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="czarr-sanitize-"))
    tree = work / "src"
    try:
        if tree.exists():
            shutil.rmtree(tree)
        copy_tree(args.source.resolve(), tree)
        start = time.monotonic()
        build(tree, cc, args.optimize, args.jobs)
        built = time.monotonic()
        wanted = list(args.tests) if args.tests is not None else list(TESTS)
        tests = [t for t in wanted if (tree / t).exists()]
        missing = sorted(set(wanted) - set(tests))
        code, stdout, stderr = run_tests(tree, tests, preload, args.jobs, args.pytest_args)
        done = time.monotonic()
        found = reports(stdout + stderr)
        print(stdout[-8000:])
        print(stderr[-20000:], file=sys.stderr)
        summary = {"tests": tests, "missing": missing, "ignored": list(IGNORED),
                   "returncode": code,
                   "outcomes": _counts(stdout), "reports": len(found),
                   "build_seconds": round(built - start, 1),
                   "test_seconds": round(done - built, 1), "optimize": args.optimize,
                   "hypothesis_seed": HYPOTHESIS_SEED}
        print("sanitize: " + json.dumps(summary), flush=True)
        return 0 if code == 0 and not found else 1
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
