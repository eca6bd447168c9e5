"""FSStore: a store over any fsspec filesystem (S3, GCS, Azure, HTTP, local, memory...).

A key ``'a/b/0.0'`` is the object (or file) ``<root>/a/b/0.0`` of an fsspec filesystem,
the layout zarr-python's FSStore reads and writes, so either library opens the other's
data. The constructor matches zarr-python 2.18's ``FSStore`` argument for argument. Bulk
operations go through fsspec's own bulk calls, which asynchronous filesystems (s3fs,
gcsfs, adlfs, HTTP) run concurrently on their event loop: ``getitems`` is one
``fs.cat([...])``, ``setitems`` one ``fs.pipe({...})``, ``delitems`` one ``fs.rm([...])``
(S3 deletes a thousand keys per request); ``get_partial`` is a ranged read. Object stores
write each value whole or not at all; on filesystems with real folders (local disks) a
value is written beside its destination and renamed into place, so a reader never sees
half a value there either. fsspec, and s3fs for ``s3://``, are imported only when a
store is made (``pip install 'czarr[s3]'``).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from czarr.errors import BadKeyError, MissingDependencyError, ReadOnlyError, StoreWriteError
from czarr.storage.base import (
    Store,
    _check_canonical,
    _check_rename,
    _is_canonical,
    _normalize_path,
    _slice_range,
    as_buffer,
    import_optional,
    naming_keys,
)
from czarr.storage.directory import _check_no_link_out, _is_temp, _temp_suffix

__all__ = ["FSStore"]

_MODES = ("r", "r+", "a", "w", "w-", "x")
_META_KEYS = frozenset((".zarray", ".zgroup", ".zattrs"))
# a chunk key's last segment with '.' between the chunk coordinates, and a coordinate
_DOTTED_CHUNK = re.compile(r"\d+(\.\d+)+")
_NUMBER = re.compile(r"\d+")
# fsspec's FSMap counts these as "no such key" unless told otherwise
_DEFAULT_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)
# characters fsspec reads as a glob pattern in a list of paths
_GLOB_CHARS = frozenset("*?[")
# protocols whose filesystems need packages czarr's 's3' extra installs
_S3_PROTOCOLS = frozenset(("s3", "s3a"))
_HTTP_PROTOCOLS = frozenset(("http", "https"))


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _import_fsspec(url: Any) -> Any:
    """fsspec, plus s3fs when ``url`` (possibly a ``a::b`` chain) names S3."""
    fsspec = import_optional("fsspec", "s3", "FSStore")
    if isinstance(url, str):
        for part in url.split("::"):
            protocol = fsspec.core.split_protocol(part)[0]
            if protocol in _S3_PROTOCOLS:
                import_optional("s3fs", "s3", f"FSStore for {protocol}:// URLs")
    return fsspec


class FSStore(Store):
    """A store over an fsspec filesystem: ``s3://``, ``gs://``, ``abfs://``, ``http(s)://``
    (read-only), ``file://``, ``memory://`` and ``a::b`` chains such as
    ``simplecache::s3://``.

    Parameters
    ----------
    url : str
        The root of the store: a URL (``'s3://bucket/data.zarr'``), or a path inside
        ``fs`` when ``fs`` is given.
    normalize_keys : bool
        Lower-case every key (for case-insensitive backends).
    key_separator : {'.', '/'}, optional
        The older name of ``dimension_separator``; wins when both are given.
    mode : {'w', 'r', 'r+', 'a', 'w-', 'x'}
        ``'r'`` makes the store read-only (writes raise
        :class:`czarr.errors.ReadOnlyError`); any other mode is writable, except over
        HTTP(S), which fsspec only reads.
    exceptions : tuple of exception classes
        Errors from the filesystem that mean "no value at this key" on reads (a
        ``KeyError`` for one key, left out of ``getitems``' result). zarr-python 2's
        default, kept here, counts every ``OSError`` and ``PermissionError`` (S3 answers
        403 for a missing key when the caller may not list the bucket); pass
        ``(KeyError,)`` to see other errors raised.
    dimension_separator : {'.', '/'}, optional
        Separator between chunk coordinates for arrays created in this store. With
        ``'/'``, a dotted chunk key such as ``'0.1'`` is read and written as ``'0/1'``
        (nested folders) as zarr-python 2's FSStore does.
    fs : fsspec.AbstractFileSystem, optional
        A filesystem to use; ``storage_options`` must then be empty.
    check : bool
        Touch and remove a file at the root first, to fail early without write access.
    create : bool
        Make the root folder first (for filesystems with folders).
    missing_exceptions : tuple of exception classes, optional
        More errors that mean "no value at this key" (fsspec's ``FSMap`` option;
        ``FileNotFoundError``, ``IsADirectoryError`` and ``NotADirectoryError`` always do).
    **storage_options
        Passed to the fsspec filesystem: credentials, ``client_kwargs`` (e.g.
        ``{'endpoint_url': ...}`` for S3-compatible servers), ``anon=True``...

    Notes
    -----
    Concurrency: ``getitems``, ``setitems``, ``delitems`` and ``rename`` hand the whole
    batch to fsspec, which runs it on the filesystem's event loop for asynchronous
    filesystems, at most ``batch_size`` requests at a time. ``batch_size`` is taken out
    of the storage options by FSStore itself (s3fs refuses it as a constructor
    argument) and given to each of fsspec's batch calls; without it fsspec's default
    applies (``fsspec.config.conf['nofiles_gather_batch_size']``, 1280). S3's connection
    pool (``config_kwargs={'max_pool_connections': N}``, 10 by default) also bounds how
    many requests are in flight. Synchronous filesystems (local, memory) handle a batch
    one key at a time.

    Listings (``listdir``, iteration, ``getsize``) always ask the backend, never a
    cached listing, so they see what other processes wrote. A key may be both a value
    and a folder on object stores (S3 allows it) but not on local disks.

    Guarantees
    ----------
    - One key's write is atomic where the backend makes it so: an object store (S3,
      GCS, Azure) stores an object whole with one request, and on a local disk
      (``file://``) the value is written to a temporary file beside the key
      (``<name>.<hex>.partial``) and renamed over it, as in :class:`DirectoryStore`.
      A reader sees the old value or the new one. A batch (``setitems``) is atomic key
      by key, not as a whole. Other filesystems are only as atomic as their
      ``pipe_file``.
    - After a crash of the writer, each key holds its old or its new value; on a local
      disk a temporary file may be left behind, never listed as a key.
    - A write that fails with an ``OSError`` (disk full, I/O error) raises
      :class:`czarr.errors.StoreWriteError` naming the key(s) (the batch, for an object
      store's concurrent batch); on a local disk the key keeps its old value.
    - Concurrency is the backend's: object stores take any number of readers and
      writers (the last write of a key wins).

    Attributes ``fs`` (the filesystem), ``map`` (an ``fsspec.FSMap`` over the root),
    ``path`` (the root, without protocol), ``mode``, ``exceptions`` and
    ``key_separator`` are those of zarr-python 2's FSStore. Picklable when the
    filesystem is; two FSStores are equal when they have the same filesystem, root and
    mode.
    """

    def __init__(
        self,
        url: str,
        normalize_keys: bool = False,
        key_separator: str | None = None,
        mode: str = "w",
        exceptions: tuple[type[BaseException], ...] = (KeyError, PermissionError, IOError),
        dimension_separator: str | None = None,
        fs: Any = None,
        check: bool = False,
        create: bool = False,
        missing_exceptions: tuple[type[BaseException], ...] | None = None,
        **storage_options: Any,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"invalid FSStore mode {mode!r}: expected one of {', '.join(_MODES)}")
        if key_separator is not None:
            dimension_separator = key_separator
        if dimension_separator not in (None, ".", "/"):
            raise ValueError(
                f"dimension_separator must be '.', '/' or None, not {dimension_separator!r}")
        batch_size = storage_options.pop("batch_size", None)
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size == 0
                                       or batch_size < -1):
            raise ValueError(f"batch_size must be a positive int or -1, not {batch_size!r}")
        fsspec = _import_fsspec(url)
        mapper_options: dict[str, Any] = {"check": check, "create": create}
        if missing_exceptions is not None:
            mapper_options["missing_exceptions"] = missing_exceptions
        if fs is None:
            protocol = fsspec.core.split_protocol(url)[0]
            if protocol in (None, "file", "local"):
                # local folders are made as keys arrive, as DirectoryStore does
                storage_options.setdefault("auto_mkdir", True)
            try:
                self.map = fsspec.get_mapper(url, **mapper_options, **storage_options)
            except ImportError as e:
                raise MissingDependencyError(
                    f"FSStore({url!r}) needs a package that is not installed ({e}); "
                    "S3 comes with pip install 'czarr[s3]'"
                ) from e
            self.fs = self.map.fs
        else:
            if storage_options:
                raise ValueError("FSStore takes either fs= or storage options, not both")
            self.fs = fs
            self.map = fs.get_mapper(fs._strip_protocol(url), **mapper_options)
        self.path: str = self.map.root
        self.url = url
        self.normalize_keys = normalize_keys
        self.mode = mode
        protocols = _protocols(self.fs)
        # fsspec's HTTP filesystem cannot write: such a store is read-only in any mode
        self._http = not _HTTP_PROTOCOLS.isdisjoint(protocols)
        self.read_only = mode == "r" or self._http
        self.exceptions = tuple(exceptions)
        self.missing_exceptions = missing_exceptions
        self._missing = _DEFAULT_MISSING + tuple(missing_exceptions or ()) + self.exceptions
        self.key_separator = dimension_separator or "."
        self._dimension_separator = dimension_separator
        # the full path of key k is self._prefix + k (fsspec's own way to find it)
        self._prefix: str = self.fs._strip_protocol(posixpath.join(self.path, "x"))[:-1]
        self._local = "file" in protocols or "local" in protocols
        # s3fs asks for an object's size (one more request, one more round trip) before
        # each whole-object read, to split values past 50 MiB into ranges; chunks are
        # smaller than that, so whole reads are single GETs
        self._whole = _single_request_option(self.fs)
        # batches go out concurrently: the chunk engine hands over larger batches
        self.fetches_concurrently = bool(getattr(self.fs, "async_impl", False))
        self.batch_size = batch_size
        self._batch = ({"batch_size": batch_size}
                       if batch_size is not None and self.fetches_concurrently else {})

    # -- pickling and comparison ------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FSStore):
            return NotImplemented
        return (type(self) is type(other) and self.fs == other.fs
                and self.path == other.path and self.mode == other.mode)

    def __hash__(self) -> int:
        return hash((type(self), self.path, self.mode))

    def __repr__(self) -> str:
        return f"FSStore({self.url!r}, mode={self.mode!r})"

    # -- keys to filesystem paths -----------------------------------------------------

    def _store_key(self, key: str) -> str:
        """How ``key`` (canonical) is named in the filesystem: lower-cased when asked, a
        dotted chunk key nested when the separator is '/'."""
        if self.normalize_keys:
            key = key.lower()
        if self.key_separator == "/":
            head, _, last = key.rpartition("/")
            if last not in _META_KEYS and _DOTTED_CHUNK.fullmatch(last):
                last = last.replace(".", "/")
                key = f"{head}/{last}" if head else last
        return key

    def _read_path(self, key: Any) -> str:
        """The full path of ``key`` for a read; KeyError for keys no value can have."""
        if type(key) is not str:
            raise KeyError(key)
        if not _is_canonical(key):
            raise KeyError(key)
        return self._prefix + self._store_key(key)

    def _write_path(self, key: str) -> str:
        """The full path of ``key`` for a write; BadKeyError/TypeError for bad keys."""
        self._check_writable()
        _check_canonical(key)
        path = self._prefix + self._store_key(key)
        self._check_links(path)
        return path

    def dir_path(self, path: str | None = None) -> str:
        """The full filesystem path of a store path (the root for ``None`` or ``''``)."""
        path = _normalize_path(path or "")
        if self.normalize_keys:
            path = path.lower()
        return self._prefix + path if path else self._prefix.rstrip("/")

    def _key_of(self, path: str) -> str:
        return path[len(self._prefix):]

    def _check_links(self, path: str, include_last: bool = False) -> None:
        """On a local disk, refuse to change ``path`` (a full path under the root) when a
        folder on the way (or ``path`` itself, with ``include_last``) is a symbolic link
        leading out of the root, as DirectoryStore does."""
        if self._local:
            key = self._key_of(path)
            _check_no_link_out(self._prefix, key.replace("/", os.sep), key, include_last)

    def _check_writable(self) -> None:
        if self.read_only:
            why = "HTTP is read-only" if self._http else "mode='r'"
            raise ReadOnlyError(f"{self!r} is read-only ({why})")

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        path = self._read_path(key)
        try:
            return bytes(self.fs.cat_file(path, **self._whole))
        except self._missing as e:
            raise KeyError(key) from e

    def __contains__(self, key: object) -> bool:
        try:
            path = self._read_path(key)
        except KeyError:
            return False
        return self.fs.isfile(path)

    def __setitem__(self, key: str, value: Any) -> None:
        path = self._write_path(key)
        self._write({path: _to_bytes(value)})

    def __delitem__(self, key: str) -> None:
        self._check_writable()
        path = self._read_path(key)
        self._check_links(path)
        if not self.fs.isfile(path):
            raise KeyError(key)
        self.fs.rm_file(path)
        if self._local:
            self._prune(posixpath.dirname(path))

    def __iter__(self) -> Iterator[str]:
        return iter(self._files_under(""))

    def __len__(self) -> int:
        return len(self._files_under(""))

    def clear(self) -> None:
        self.rmdir("")

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str], *, contexts: Any = None) -> dict[str, bytes]:
        # contexts: zarr-python 2.18's per-key hints, accepted and unused
        wanted: dict[str, str] = {}
        for key in keys:
            try:
                wanted[self._read_path(key)] = key
            except KeyError:
                continue
        if not wanted:
            return {}
        plain = [p for p in wanted if _GLOB_CHARS.isdisjoint(p)]
        # one call for the whole batch: concurrent on asynchronous filesystems. Errors
        # come back per path so that one missing key costs nothing to the others.
        results: dict[str, Any] = (
            dict(self.fs.cat(plain, on_error="return", **self._batch, **self._whole))
            if plain else {})
        for path in wanted:
            if path not in results:  # a glob character, which fs.cat would expand
                try:
                    results[path] = self.fs.cat_file(path, **self._whole)
                except Exception as e:
                    results[path] = e
        out = {}
        for path, key in wanted.items():
            value = results[path]
            if isinstance(value, BaseException):
                if isinstance(value, self._missing):
                    continue
                raise value
            out[key] = bytes(value)
        return out

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        self._check_writable()
        # every key and value is checked before anything is written
        values = {self._write_path(key): _to_bytes(value) for key, value in mapping.items()}
        if values:
            self._write(values)

    def delitems(self, keys: Iterable[str]) -> None:
        self._check_writable()
        paths = []
        for key in keys:
            _check_canonical(key)  # a bad key is an error, as for every other change
            try:
                paths.append(self._read_path(key))
            except KeyError:
                continue
            self._check_links(paths[-1])
        if not paths:
            return
        if self.fs.async_impl and not self._local:
            # one bulk call; object stores ignore keys that are not there, but a
            # filesystem may refuse the batch for one of them: then key by key
            try:
                self.fs.rm(paths)
                return
            except FileNotFoundError:
                pass
        for path in paths:
            if self.fs.isfile(path):
                try:
                    self.fs.rm_file(path)
                except FileNotFoundError:  # removed meanwhile
                    pass
        if self._local:
            for folder in sorted({posixpath.dirname(p) for p in paths}, key=len, reverse=True):
                self._prune(folder)

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        """Byte ranges of one value, requested together (concurrently on an
        asynchronous filesystem) with ``fs.cat_ranges``."""
        if not ranges:
            return []
        # an empty range has no HTTP form (a server answers it with the whole value)
        asked = [(s, n) for s, n in ranges if n > 0]
        if self._http or len(asked) <= 1:
            return [self.get_partial(key, s, n) for s, n in ranges]
        path = self._read_path(key)
        try:
            got = iter(self.fs.cat_ranges([path] * len(asked), [s for s, _ in asked],
                                          [s + n for s, n in asked], on_error="return"))
        except self._missing as e:
            raise KeyError(key) from e
        out = []
        for start, length in ranges:
            if length <= 0:
                out.append(b"")
                continue
            data = next(got)
            if isinstance(data, BaseException):
                if isinstance(data, OSError):
                    # a range past the end (HTTP 416; an OSError, which the default
                    # `exceptions` count as missing), or a missing key: get_partial
                    # answers b'' for the first and KeyError for the second
                    out.append(self.get_partial(key, start, length))
                    continue
                if isinstance(data, self._missing):
                    raise KeyError(key) from data
                raise data
            if len(data) > length:  # the server ignored the range: cut it out here
                data = data[start:start + length]
            out.append(bytes(data))
        return out

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0 or None, not {length}")
        path = self._read_path(key)
        fs = self.fs
        try:
            if start == 0 and length is None:
                return bytes(fs.cat_file(path, **self._whole))
            if (length == 0 or (start < 0 and length is not None)
                    or (self._http and length is None)):
                # an empty range has no HTTP form, a range from the end needs the size,
                # and an HTTP server that ignores ranges must be caught (see below)
                offset, count = _slice_range(fs.size(path), start, length)
                if count == 0:
                    return b""
                start, length = offset, count
            end = None if length is None else start + length
            try:
                data = fs.cat_file(path, start=start, end=end)
            except FileNotFoundError:
                raise
            except OSError:
                # an object store refuses a range that starts past the end (HTTP 416)
                if start >= 0 and start >= fs.size(path):
                    return b""
                raise
            if length is not None and len(data) > length:
                # the server ignored the range and sent the whole value (plain HTTP
                # servers may): cut the range out here
                offset, count = _slice_range(len(data), start, length)
                data = data[offset:offset + count]
            return bytes(data)
        except self._missing as e:
            raise KeyError(key) from e

    def listdir(self, path: str = "") -> list[str]:
        path = _normalize_path(path)
        folder = self.dir_path(path)
        try:
            entries = self.fs.ls(folder, detail=False, refresh=True)
        except OSError:
            return []
        finally:
            self.fs.invalidate_cache(folder)
        prefix = folder + "/"
        n = len(prefix)
        children = set()
        for entry in entries:
            entry = entry.rstrip("/")
            if entry.startswith(prefix) and "/" not in entry[n:] and len(entry) > n:
                name = entry[n:]
                if not (self._local and _is_temp(name)):
                    children.add(name)
        if self.key_separator == "/" and ".zarray" in children:
            children = self._dotted_chunk_names(folder, children)
        return sorted(children)

    def _dotted_chunk_names(self, folder: str, children: set[str]) -> set[str]:
        """An array folder's children with nested chunk folders (``0/1``) named by the
        dotted chunk keys (``0.1``) that read them, as zarr-python 2 lists them."""
        out = set()
        for name in children:
            if not _NUMBER.fullmatch(name):
                out.add(name)
                continue
            below = self._files_under_path(f"{folder}/{name}")
            if not below:  # a file, not a folder
                out.add(name)
                continue
            for rel in below:
                out.add(f"{name}/{rel}".replace("/", "."))
        return out

    def rmdir(self, path: str = "") -> None:
        self._check_writable()
        path = _normalize_path(path)
        folder = self.dir_path(path)
        if self._local:
            if path:
                self._check_links(folder, include_last=True)
            self._rmdir_local(folder, path)
            return
        files = [self._prefix + k for k in self._files_under(path)]
        if files:
            self.fs.rm(files)

    def getsize(self, path: str = "") -> int:
        path = _normalize_path(path)
        target = self.dir_path(path)
        try:
            found = self.fs.find(target, detail=True)
        except OSError:
            return 0
        finally:
            self.fs.invalidate_cache(target)
        if path and target in found and found[target].get("type") == "file":
            return _size(found[target])
        prefix = target + "/"
        total = 0
        for name, info in found.items():
            if name.startswith(prefix) and info.get("type") == "file":
                if self._local and _is_temp(posixpath.basename(name)):
                    continue
                size = _size(info)
                if size < 0:
                    return -1
                total += size
        return total

    def rename(self, src: str, dst: str) -> None:
        self._check_writable()
        src = _normalize_path(src)
        dst = _normalize_path(dst)
        _check_rename(src, dst)
        src_full = self.dir_path(src)
        dst_full = self.dir_path(dst)
        self._check_links(src_full, include_last=True)
        self._check_links(dst_full, include_last=True)
        moves = {}
        if self.fs.isfile(src_full):
            moves[src_full] = dst_full
        for key in self._files_under(src):
            moves[self._prefix + key] = dst_full + "/" + key[len(src) + 1:]
        if not moves:
            raise KeyError(src)
        sources, targets = list(moves), list(moves.values())
        if self._local:
            for path in sources + targets:  # nothing moves when any of them is refused
                self._check_links(path)
            for source, target in zip(sources, targets):  # renames: each lands whole
                self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
                self.fs.mv(source, target)
            self._rmdir_local(src_full, src)
            self._prune(posixpath.dirname(src_full))
            return
        # object stores copy on the server, concurrently, then remove the sources
        self.fs.copy(sources, targets, **self._batch)
        self.fs.rm(sources)

    # -- helpers ----------------------------------------------------------------------

    def _files_under(self, path: str) -> list[str]:
        """Keys of every value under the folder ``path`` ('' for all), as listed now."""
        n = len(self._prefix)
        folder = self.dir_path(path)
        return [f[n:] for f in self._files_in(folder, folder + "/" if path else self._prefix)]

    def _files_under_path(self, folder: str) -> list[str]:
        """Paths, relative to the folder ``folder`` (a full path), of every value under it."""
        n = len(folder) + 1
        return [f[n:] for f in self._files_in(folder, folder + "/")]

    def _files_in(self, folder: str, prefix: str) -> list[str]:
        """Full paths of the files under ``folder`` that start with ``prefix`` (so not
        ``folder`` itself), temporary files left out."""
        try:
            found = self.fs.find(folder)
        except OSError:
            return []
        finally:
            self.fs.invalidate_cache(folder)
        local = self._local
        return [name for name in found if name.startswith(prefix)
                and not (local and _is_temp(posixpath.basename(name)))]

    def _write(self, values: dict[str, bytes]) -> None:
        """Write ``{full path: bytes}``; each value lands whole or not at all."""
        fs = self.fs
        if not self._local:
            with naming_keys([self._key_of(p) for p in values], self):
                if len(values) == 1:
                    (path, data), = values.items()
                    fs.pipe_file(path, data)
                else:
                    fs.pipe(values, **self._batch)  # concurrent on asynchronous filesystems
            return
        # a local disk: beside the destination, then renamed into place (atomic)
        for path, data in values.items():
            temp = path + _temp_suffix()
            try:
                fs.pipe_file(temp, data)
                os.replace(temp, path)
            except BaseException as exc:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
                if isinstance(exc, (IsADirectoryError, NotADirectoryError, FileExistsError)):
                    raise BadKeyError(
                        f"cannot store key {self._key_of(path)!r}: on a local disk a key "
                        "cannot also be a folder of other keys, nor lie under a key"
                    ) from None
                if type(exc) is OSError:
                    raise StoreWriteError.from_cause(self._key_of(path), self, exc) from exc
                raise

    def _rmdir_local(self, folder: str, path: str) -> None:
        fs = self.fs
        if path:
            if fs.isdir(folder):
                fs.rm(folder, recursive=True)
                self._prune(posixpath.dirname(folder))
            return
        try:
            entries = fs.ls(folder, detail=False)
        except OSError:
            return
        if entries:
            fs.rm(entries, recursive=True)

    def _prune(self, folder: str) -> None:
        """Remove ``folder`` and its parents while they are empty, up to the root."""
        root = self._prefix.rstrip("/")
        while len(folder) > len(root) and folder.startswith(self._prefix):
            try:
                if self.fs.ls(folder, detail=False):
                    return
                self.fs.rmdir(folder)
            except OSError:
                return
            folder = posixpath.dirname(folder)


def _single_request_option(fs: Any) -> dict[str, Any]:
    """``{'max_concurrency': 1}`` when ``fs.cat_file`` takes it (s3fs), else ``{}``."""
    import inspect

    try:
        params = inspect.signature(type(fs)._cat_file).parameters
    except (AttributeError, TypeError, ValueError):
        return {}
    return {"max_concurrency": 1} if "max_concurrency" in params else {}


def _to_bytes(value: Any) -> bytes:
    buf = as_buffer(value)
    return buf if type(buf) is bytes else bytes(buf)


def _size(info: Mapping[str, Any]) -> int:
    size = info.get("size")
    return size if isinstance(size, int) else -1

