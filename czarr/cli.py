"""The ``czarr`` command line (also ``python -m czarr``): look at Zarr data and reshape it.

Sub-commands: ``info``, ``tree``, ``ls``, ``cat``, ``copy``, ``convert`` and ``bench``; each
has ``--help``. A PATH is a local folder, a ``.zip`` file or a URL (``s3://...``, with
``--storage-option key=value``), optionally followed by the path of a node inside it
(``data.zarr/group/array``, ``data.zip/group/array``).

Exit codes, stable so that scripts can test them:

- ``0``: done;
- ``1``: the command could not be carried out (nothing at PATH, destination exists, I/O
  error, missing optional dependency...);
- ``2``: the command line is wrong (unknown option, bad slice, bad codec spec, bad size,
  ``--max-mem`` too small for one chunk);
- ``130``: interrupted (Ctrl-C); ``convert`` resumes where it stopped when rerun.

Errors print one line, ``czarr: error: ...``, on stderr; ``--traceback`` shows the
traceback instead. Arguments are parsed with :mod:`argparse` (the standard library: no
dependency for a package whose only requirement is NumPy, and sub-commands with their own
``--help``); the progress bar is ``tqdm``'s when it is installed (extra ``cli``), else a
one-line bar of czarr's own, both on stderr and only on a terminal (``--progress`` forces).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["main", "parse_codec", "parse_selection", "parse_shape"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_MARKERS = (".zgroup", ".zarray", "zarr.json")


class UsageError(Exception):
    """A mistake in the command line (exit code 2)."""


# ------------------------------------------------------------------------------ parsing

def parse_selection(text: str) -> tuple[Any, ...]:
    """``'0:10,5'`` -> ``(slice(0, 10), 5)``; ``...`` and ``::2`` work as in NumPy."""
    out: list[Any] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if part == "...":
                out.append(Ellipsis)
            elif ":" in part:
                bits = part.split(":")
                if len(bits) > 3:
                    raise ValueError
                out.append(slice(*[int(b) if b.strip() else None for b in bits]))
            else:
                out.append(int(part))
        except ValueError:
            raise UsageError(f"bad slice {text!r}: write e.g. '0:10,5' or '...,::2'") from None
    return tuple(out)


def parse_shape(text: str, what: str) -> tuple[int, ...]:
    """``'1000,1000'`` -> ``(1000, 1000)`` (``-1``: the whole extent)."""
    try:
        shape = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise UsageError(f"bad {what} {text!r}: write e.g. 1000,1000") from None
    if any(c == 0 or c < -1 for c in shape):
        raise UsageError(f"bad {what} {text!r}: sizes are positive (or -1 for whole)")
    return shape


_SHUFFLES = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}
_BLOSC_NAMES = ("blosclz", "lz4", "lz4hc", "zstd", "zlib")


def parse_codec(spec: str) -> Any:
    """A compressor from a short spec.

    ``none``; ``zstd[:LEVEL]``, ``lz4[:ACCEL]``, ``zlib|gzip|bz2[:LEVEL]``, ``lzma[:PRESET]``;
    ``CNAME:LEVEL:SHUFFLE`` (Blosc, e.g. ``zstd:3:bitshuffle``);
    ``blosc[:CNAME[:LEVEL[:SHUFFLE]]]``; or a JSON codec config (``{"id": "zstd", "level": 3}``).
    """
    import czarr

    spec = spec.strip()
    try:
        if spec.startswith("{"):
            return czarr.get_codec(json.loads(spec))
        parts = spec.lower().split(":")
        name, args = parts[0], parts[1:]
        if name == "none" and not args:
            return None
        if name == "blosc" or (len(args) == 2 and name in _BLOSC_NAMES):
            if name == "blosc":
                name, args = (args[0] if args else "lz4"), args[1:]
            if name not in _BLOSC_NAMES or len(args) > 2:
                raise ValueError
            level = int(args[0]) if args else 5
            shuffle = _SHUFFLES[args[1]] if len(args) > 1 else 1
            return czarr.Blosc(cname=name, clevel=level, shuffle=shuffle)
        if len(args) > 1:
            raise ValueError
        level = [int(args[0])] if args else []
        makers = {"zstd": czarr.Zstd, "lz4": czarr.LZ4, "zlib": czarr.Zlib,
                  "gzip": czarr.GZip, "bz2": czarr.BZ2, "lzma": czarr.LZMA}
        if name not in makers:
            raise ValueError
        return makers[name](*level)
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"bad codec spec {spec!r}: try zstd:3, zstd:3:bitshuffle, "
                         "blosc:lz4:5:shuffle, gzip:6, none") from None


def _storage_options(pairs: Sequence[str] | None) -> dict[str, Any] | None:
    if not pairs:
        return None
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"bad --storage-option {pair!r}: write key=value")
        try:
            out[key] = json.loads(value)  # numbers, true/false, {...}
        except ValueError:
            out[key] = value
    return out


# ------------------------------------------------------------------------------ paths

def _is_url(path: str) -> bool:
    return "://" in path or "::" in path


def _split_local(path: str) -> tuple[str, str]:
    """``data.zarr/g/a`` -> (``data.zarr``, ``g/a``): the store is the topmost folder of
    the hierarchy (or the ``.zip`` file), the rest the node's path inside it."""
    parts = os.path.normpath(path).split(os.sep)
    for i in range(1, len(parts) + 1):
        head = os.sep.join(parts[:i]) or os.sep
        if head.lower().endswith(".zip") and os.path.isfile(head):
            return head, "/".join(parts[i:])
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file or folder: {path}")
    root = os.path.abspath(path)
    while True:
        parent = os.path.dirname(root)
        if parent == root or not any(os.path.exists(os.path.join(parent, m))
                                     for m in _MARKERS):
            break
        root = parent
    inner = os.path.relpath(os.path.abspath(path), root)
    return root, "" if inner == "." else inner.replace(os.sep, "/")


def _open(path: str, options: dict | None, mode: str = "r") -> Any:
    import czarr
    from czarr.errors import PathNotFoundError

    if _is_url(path):
        store, inner = path, ""
    else:
        if options:
            raise UsageError("--storage-option is for URLs, not local paths")
        store, inner = _split_local(path)
    try:
        return czarr.open(store, mode=mode, path=inner, storage_options=options)
    except PathNotFoundError:
        raise FileNotFoundError(f"no Zarr array or group at {path}") from None


def _array(node: Any, path: str) -> Any:
    import czarr

    if not isinstance(node, czarr.Array):
        raise UsageError(f"{path} is a group, not an array (try: czarr ls {path})")
    return node


# ------------------------------------------------------------------------------ progress

class _Bar:
    """Progress on stderr: tqdm's bar when installed, else one line rewritten in place."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self.total = total
        self.start = time.monotonic()
        self._tqdm = None
        self._last = 0.0
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._tqdm = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                          file=sys.stderr, dynamic_ncols=True)
        self._done = 0

    def update(self, p: Any) -> None:
        if not self.enabled:
            return
        desc = f"stage {p.stage}/{p.nstages} blocks {p.blocks_done}/{p.blocks_total}"
        if self._tqdm is not None:
            self._tqdm.set_description(desc, refresh=False)
            self._tqdm.update(p.bytes_done - self._done)
            self._done = p.bytes_done
            return
        now = time.monotonic()
        if now - self._last < 0.2 and p.bytes_done < p.bytes_total:
            return
        self._last = now
        rate = p.bytes_done / max(now - self.start, 1e-9)
        eta = (p.bytes_total - p.bytes_done) / rate if rate else 0
        pct = 100 * p.bytes_done / max(p.bytes_total, 1)
        sys.stderr.write(f"\r{desc} {pct:5.1f}% {rate / 1e6:8.1f} MB/s ETA {eta:6.1f}s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
        elif self.enabled:
            sys.stderr.write("\n")


def _process_rss() -> int:
    """Bytes this process has resident now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ------------------------------------------------------------------------------ commands

def cmd_info(args: argparse.Namespace) -> None:
    node = _open(args.path, args.storage_options)
    print(repr(node.info))


def cmd_tree(args: argparse.Namespace) -> None:
    import czarr

    node = _open(args.path, args.storage_options)
    if isinstance(node, czarr.Array):
        from czarr.hierarchy import _array_details

        print(f"{node.name} {node.shape} {node.dtype} {_array_details(node)}")
        return
    print(node.tree(level=args.level, details=True))


def cmd_ls(args: argparse.Namespace) -> None:
    import czarr

    node = _open(args.path, args.storage_options)
    if isinstance(node, czarr.Array):
        print(f"{node.basename or '/'}  array  {node.shape} {node.dtype}")
        return
    for name, member in sorted(node.items()):
        if isinstance(member, czarr.Array):
            print(f"{name}  array  {member.shape} {member.dtype}")
        else:
            print(f"{name}/  group")


def cmd_cat(args: argparse.Namespace) -> None:
    import numpy as np

    node = _array(_open(args.path, args.storage_options), args.path)
    selection = parse_selection(args.slice) if args.slice else Ellipsis
    try:
        values = node[selection]
    except IndexError as e:
        raise UsageError(f"bad slice {args.slice!r} for shape {node.shape}: {e}") from None
    if args.full:
        np.set_printoptions(threshold=sys.maxsize)
    print(values if np.ndim(values) else values[()])


def cmd_copy(args: argparse.Namespace) -> None:
    import czarr
    from czarr.storage import normalize_store_arg

    node = _open(args.src, args.storage_options)
    dst_options = _storage_options(args.dst_storage_option) or (
        args.storage_options if _is_url(args.dst) else None)
    dest = normalize_store_arg(args.dst, storage_options=dst_options, mode="a")
    try:
        n, _, nbytes = czarr.copy_store(node.store, dest, source_path=node.path,
                                        if_exists="replace" if args.overwrite else "raise")
    except czarr.CopyError as e:
        raise czarr.CopyError(f"{e} (pass --overwrite to replace)") from None
    finally:
        getattr(dest, "close", lambda: None)()
    print(f"copied {n} keys, {nbytes} bytes, {args.src} -> {args.dst}")


def cmd_convert(args: argparse.Namespace) -> None:
    import czarr
    from czarr.layout import contains_array
    from czarr.rechunk import PROGRESS_KEY, MaxMemError, parse_bytes, rechunk
    from czarr.storage import normalize_store_arg

    try:
        max_mem = parse_bytes(args.max_mem)
    except ValueError as e:
        raise UsageError(str(e)) from None
    compressor = parse_codec(args.compressor) if args.compressor is not None else "same"
    chunks = parse_shape(args.chunks, "--chunks") if args.chunks else None
    shards = parse_shape(args.shards, "--shards") if args.shards else None
    if shards and args.format != 3:
        raise UsageError("--shards needs --format 3")
    rss = _process_rss()
    budget = max_mem - rss - 16 * 2**20  # what the process holds already, plus headroom
    if budget <= 0:
        raise UsageError(f"--max-mem {args.max_mem} is below this process's own memory "
                         f"({rss / 2**20:.0f} MiB)")

    node = _open(args.src, args.storage_options)
    dst_options = _storage_options(args.dst_storage_option) or (
        args.storage_options if _is_url(args.dst) else None)
    dest = normalize_store_arg(args.dst, storage_options=dst_options, mode="a")
    arrays: list[tuple[str, Any]] = [("", node)]
    if not isinstance(node, czarr.Array):  # the root group, then every member, depth first
        arrays = [("", None)]
        node.visititems(lambda name, obj: arrays.append((name, obj)))
    resuming = PROGRESS_KEY in dest and not args.overwrite
    if not isinstance(node, czarr.Array) and not resuming:
        if not args.overwrite:  # refuse before writing anything
            for name, arr in arrays:
                if isinstance(arr, czarr.Array) and contains_array(dest, name):
                    raise czarr.errors.ContainsArrayError(
                        f"an array is already at {name!r} in {args.dst} (pass --overwrite "
                        "to replace it)")
        dest[PROGRESS_KEY] = b'{"convert": true}'  # arrays done are skipped on a rerun
    fmt = args.format or getattr(node, "zarr_format", None) or \
        getattr(node, "_zarr_format", None) or 2
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    t0 = time.monotonic()
    total = 0
    for name, arr in arrays:
        if arr is None:  # the root group (and its attributes)
            root = czarr.open_group(dest, mode="a", zarr_format=fmt)
            root.attrs.update(dict(node.attrs))
            continue
        if isinstance(arr, czarr.Group):
            czarr.open_group(dest, mode="a", path=name, zarr_format=fmt).attrs.update(
                dict(arr.attrs))
            continue
        done_before = resuming and contains_array(dest, name) and \
            f"{name}/{PROGRESS_KEY}".lstrip("/") not in dest
        if done_before:
            continue
        target_chunks = chunks if chunks and len(chunks) == arr.ndim else None
        bar = _Bar(arr.nbytes, show)
        try:
            rechunk(arr, target_chunks, dest, max_mem=budget, target_path=name,
                    compressor=compressor, zarr_format=fmt,
                    shards=shards if shards and len(shards) == arr.ndim else None,
                    overwrite=args.overwrite, progress=bar.update, workers=args.workers,
                    temp_store=args.temp)
        except MaxMemError as e:
            raise UsageError(f"{e} (raise --max-mem)") from None
        except czarr.errors.ContainsArrayError:
            raise czarr.errors.ContainsArrayError(
                f"an array is already at {name or '/'!r} in {args.dst} (pass --overwrite to "
                "replace it)") from None
        finally:
            bar.close()
        total += arr.nbytes
    if PROGRESS_KEY in dest:
        del dest[PROGRESS_KEY]
    getattr(dest, "close", lambda: None)()
    secs = time.monotonic() - t0
    print(f"converted {args.src} -> {args.dst}: {total / 2**20:.1f} MiB in {secs:.2f} s "
          f"({total / 2**20 / max(secs, 1e-9):.1f} MiB/s)")


def cmd_bench(args: argparse.Namespace) -> None:
    import tempfile

    import numpy as np

    import czarr
    from czarr.rechunk import parse_bytes

    try:
        nbytes = parse_bytes(args.size)
    except ValueError as e:
        raise UsageError(str(e)) from None
    compressor = parse_codec(args.compressor)
    n = max(1, nbytes // 8)
    side = max(1, int(n ** 0.5))
    chunk = parse_shape(args.chunks, "--chunks") if args.chunks else (
        max(1, min(side, 512)),) * 2
    rng = np.random.default_rng(0)
    # smooth data with noise: compresses like measurements, not like zeros or random bytes
    data = (np.sin(np.arange(side * side) / 1e3) + rng.normal(0, 0.01, side * side))
    data = data.reshape(side, side)
    size = data.nbytes
    with tempfile.TemporaryDirectory(prefix="czarr-bench-", dir=args.dir) as tmp:
        arr = czarr.open_array(os.path.join(tmp, "bench.zarr"), mode="w", shape=data.shape,
                               chunks=chunk, dtype=data.dtype, compressor=compressor)
        t = time.perf_counter()
        arr[:] = data
        write = time.perf_counter() - t
        t = time.perf_counter()
        back = arr[:]
        read = time.perf_counter() - t
        if not np.array_equal(back, data):
            raise RuntimeError("bench: the data read back differs from what was written")
        stored = arr.nbytes_stored
    print(f"array      {data.shape} float64, chunks {chunk}, {size / 2**20:.1f} MiB, "
          f"compressor {compressor!r}, threads {czarr.config.get_threads()}")
    print(f"stored     {stored / 2**20:.1f} MiB (ratio {size / max(stored, 1):.2f})")
    print(f"write      {size / 2**20 / write:9.1f} MiB/s")
    print(f"read       {size / 2**20 / read:9.1f} MiB/s")


# ------------------------------------------------------------------------------ parser

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2 (argparse prints usage too)
        self.exit(EXIT_USAGE, f"czarr: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from czarr import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--storage-option", "-o", action="append", metavar="KEY=VALUE",
                        dest="storage_option",
                        help="fsspec option for a URL (repeatable; values parsed as JSON "
                             "when they can be)")
    common.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an error")

    p = _Parser(prog="czarr", description="Look at Zarr (v2 and v3) data and reshape it.",
                epilog="Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted.")
    p.add_argument("--version", action="version", version=f"czarr {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    s = sub.add_parser("info", parents=[common], help="print an array's or group's info",
                       description="Print the info report of PATH[/array].")
    s.add_argument("path", metavar="PATH")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("tree", parents=[common], help="print the hierarchy",
                       description="Print the hierarchy with shapes, dtypes, chunk counts "
                                   "and stored sizes.")
    s.add_argument("path", metavar="PATH")
    s.add_argument("--level", type=int, default=None, help="depth to show")
    s.set_defaults(func=cmd_tree)

    s = sub.add_parser("ls", parents=[common], help="list a group's members",
                       description="List the members of a group (name, kind, shape, dtype).")
    s.add_argument("path", metavar="PATH")
    s.set_defaults(func=cmd_ls)

    s = sub.add_parser("cat", parents=[common], help="print an array's values",
                       description="Print values of PATH/array, all or --slice.")
    s.add_argument("path", metavar="PATH")
    s.add_argument("--slice", "-s", default=None, help="NumPy-style, e.g. '0:10,5'")
    s.add_argument("--full", action="store_true", help="do not summarise long arrays")
    s.set_defaults(func=cmd_cat)

    s = sub.add_parser("copy", parents=[common], help="copy an array or group, bytes as is",
                       description="Copy SRC to DST key by key (no re-encoding).")
    s.add_argument("src", metavar="SRC")
    s.add_argument("dst", metavar="DST")
    s.add_argument("--dst-storage-option", action="append", metavar="KEY=VALUE")
    s.add_argument("--overwrite", action="store_true", help="replace keys in DST")
    s.set_defaults(func=cmd_copy)

    s = sub.add_parser("convert", parents=[common], help="re-encode and rechunk",
                       description="Copy SRC to DST with new chunks, codecs or format, out "
                                   "of core, in parallel; rerun after an interruption to "
                                   "resume.")
    s.add_argument("src", metavar="SRC")
    s.add_argument("dst", metavar="DST")
    s.add_argument("--compressor", "-c", default=None,
                   help="e.g. zstd:3, zstd:3:bitshuffle (Blosc), gzip:6, none (default: "
                        "the source's)")
    s.add_argument("--chunks", default=None,
                   help="e.g. 1000,1000 (-1: whole extent; arrays of other ndim keep theirs)")
    s.add_argument("--format", type=int, choices=(2, 3), default=None,
                   help="Zarr format of DST (default: the source's)")
    s.add_argument("--shards", default=None, help="Zarr v3 shard shape, e.g. 4000,4000")
    s.add_argument("--max-mem", default="2GiB", help="peak memory of the process "
                                                     "(default 2GiB)")
    s.add_argument("--workers", "-j", type=int, default=None,
                   help="blocks copied at once (default: czarr's threads)")
    s.add_argument("--temp", default=None,
                   help="store for the intermediate array, when one is needed")
    s.add_argument("--overwrite", action="store_true", help="replace arrays in DST")
    s.add_argument("--dst-storage-option", action="append", metavar="KEY=VALUE")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    s.set_defaults(func=cmd_convert)

    s = sub.add_parser("bench", parents=[common], help="quick read/write throughput check",
                       description="Write and read back a float64 array in a temporary "
                                   "folder and print the throughput.")
    s.add_argument("--size", default="64MiB", help="array size (default 64MiB)")
    s.add_argument("--chunks", default=None, help="chunk shape (default 512,512)")
    s.add_argument("--compressor", "-c", default="zstd:3:shuffle", help="codec spec")
    s.add_argument("--dir", default=None, help="folder for the temporary array")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return int(e.code or 0)
    try:
        args.storage_options = _storage_options(args.storage_option)
        args.func(args)
        return EXIT_OK
    except UsageError as e:
        if args.traceback:
            raise
        print(f"czarr: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("czarr: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `czarr cat ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:
        if args.traceback:
            raise
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, KeyError):
            message = f"not found: {e.args[0]!r}" if e.args else "not found"
        print(f"czarr: error: {message}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
