"""DirectoryStore: one file per key in a folder on the local filesystem.

A key ``'a/b/0.0'`` is the file ``<root>/a/b/0.0``: '/' in a key makes sub-folders, which
is also how the nested chunk layout of ``dimension_separator='/'`` arrives on disk. This
is the file layout zarr-python's local stores read and write, so either library opens the
other's folders. Writes are atomic (a temporary file in the same folder, then
``os.replace``; ``fsync=True`` makes them durable too), so readers never see half a
value, and keys that would leave the root are refused, as are writes through a
symbolic link that leads out of it. Reads go straight through
``os.open``/``os.read``, because reading thousands of small chunk files is a hot path
and the buffered-file machinery would double its cost.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import stat
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from czarr._core.fileio import read_files, read_ranges
from czarr.errors import BadKeyError, NotAFileError, StoreWriteError
from czarr.storage.base import (
    Store,
    _check_rename,
    _check_separator,
    _is_canonical,
    _normalize_path,
    _slice_range,
    as_buffer,
    naming_keys,
)

__all__ = ["DirectoryStore", "NestedDirectoryStore", "TempStore"]

# O_NONBLOCK: opening a FIFO where a chunk should be must not wait for a writer
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_MAX_IO = 1 << 30  # bytes per os.read/os.write call; some platforms cap single calls

# Temporary files are '<name>.<hex>.partial', which is also the pattern zarr-python 2
# uses; both kinds are skipped when listing. The hex is unique per write: a random token
# per process start (threads share it), the pid (differs after fork) and a counter.
_TEMP_RE = re.compile(r"\.[0-9a-f]{16,}\.partial$")
_TOKEN = os.urandom(4).hex()
_COUNTER = itertools.count()


def _temp_suffix() -> str:
    return f".{_TOKEN}{os.getpid():08x}{next(_COUNTER):08x}.partial"


def _is_temp(name: str) -> bool:
    return name.endswith(".partial") and _TEMP_RE.search(name) is not None


# a drive letter ('C:x') would let a key leave the root on Windows
_DRIVE_CHAR = ":" if os.name == "nt" else ""


def _key_error_message(key: str) -> str:
    return (
        f"invalid key {key!r} for a DirectoryStore: keys are relative '/'-separated "
        "paths without empty, '.' or '..' segments or backslashes"
    )


def _check_no_link_out(root: str, rel: str, key: str, include_last: bool = False) -> None:
    """Refuse to change anything at ``root/rel`` when one of its folders (and ``rel``
    itself, with ``include_last``) is a symbolic link whose target lies outside ``root``.

    ``rel`` is a checked relative path with ``os.sep`` between its parts. One ``lstat``
    per folder on the way: paths without a folder cost nothing. Links that stay inside
    the root are followed. A link made between this check and the write is not caught;
    whoever can make links inside the root can replace the folder itself as well.
    """
    end = len(rel) if include_last else rel.rfind(os.sep)
    if end <= 0:
        return
    base = root.rstrip(os.sep)
    pos = 0
    while pos < end:
        nxt = rel.find(os.sep, pos)
        if nxt < 0 or nxt > end:
            nxt = end
        try:
            st = os.lstat(f"{base}{os.sep}{rel[:nxt]}")
        except (FileNotFoundError, NotADirectoryError):
            return  # nothing further exists: it will be made as real folders
        if stat.S_ISLNK(st.st_mode):
            real_root = os.path.realpath(base)
            target = os.path.realpath(f"{base}{os.sep}{rel[:end]}")
            if target != real_root and not target.startswith(real_root.rstrip(os.sep) + os.sep):
                raise BadKeyError(
                    f"cannot change {key!r}: {rel[:nxt]!r} is a symbolic link that leads out "
                    f"of the store's root {base!r}")
            return
        pos = nxt + 1


def _read_fd(fd: int, size: int) -> bytes:
    if size <= _MAX_IO:
        data = os.read(fd, size)
        if len(data) == size:
            return data
        parts = [data]
        got = len(data)
    else:
        parts, got = [], 0
    while got < size:
        part = os.read(fd, min(size - got, _MAX_IO))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _open_file(path: str, key: str) -> tuple[int, int] | None:
    """``(fd, size)`` of the regular file at ``path``; None when there is no file there
    (missing, a folder); NotAFileError naming ``key`` for a FIFO, socket or device."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    try:
        st = os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise
    if stat.S_ISREG(st.st_mode):
        return fd, st.st_size
    os.close(fd)
    if stat.S_ISDIR(st.st_mode):
        return None
    raise NotAFileError(
        f"{key!r} is not a regular file ({path!r} is a FIFO, socket or device); "
        "a store value must be a file")


def _read_file(path: str, key: str) -> bytes | None:
    """The contents of the regular file at ``path``; None when there is none."""
    opened = _open_file(path, key)
    if opened is None:
        return None
    fd, size = opened
    try:
        return _read_fd(fd, size)
    finally:
        os.close(fd)


def fsync_folder(folder: str) -> bool:
    """``fsync`` a folder, so the names in it (a rename, a new file) are on disk; False
    when there is no such folder. Does nothing on Windows, where folders cannot be
    opened (NTFS journals its metadata)."""
    if os.name == "nt":  # pragma: no cover
        return True
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        return False
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _write_fd(fd: int, buf: bytes | memoryview) -> None:
    size = len(buf)
    written = os.write(fd, buf if size <= _MAX_IO else memoryview(buf)[:_MAX_IO])
    if written == size:
        return
    view = memoryview(buf)
    while written < size:
        written += os.write(fd, view[written:written + _MAX_IO])


class DirectoryStore(Store):
    """A store keeping each value in its own file under a root folder.

    Parameters
    ----------
    path : str or os.PathLike
        The root folder; created on the first write.
    normalize_keys : bool
        Lower-case every key (for case-insensitive filesystems), as zarr-python 2's
        option of the same name.
    dimension_separator : {'.', '/'}, optional
        Separator of chunk keys for arrays created in this store without one (and for
        arrays whose ``.zarray`` does not say), as in zarr-python 2.
    fsync : bool
        Make every write, rename and delete durable before it returns: a written file is
        ``fsync``-ed before it is renamed into place, then its folder after the rename
        (and new folders up to the root). Off by default, as in zarr-python 2: a crash
        of the program loses nothing either way; only a power cut or a kernel crash can.

    Notes
    -----
    Keys are relative '/'-separated paths; empty, ``'.'`` and ``'..'`` segments,
    backslashes, NUL characters and absolute paths are refused with
    :class:`czarr.errors.BadKeyError`, so no key reaches outside the root.

    Symbolic links inside the root: reads follow them (a root may link in data kept
    elsewhere, and whoever made the link chose that). Writes, deletes, ``rmdir`` and
    ``rename`` refuse, with a ``BadKeyError`` naming the link, a path that goes through
    a link to a folder outside the root (or, for ``rmdir`` and ``rename``, that is a
    link leading outside). A key that is itself a link to a file is replaced by a
    regular file when written, and deleting it removes the link, never its target.
    Links are checked just before each change; one made inside the root at the same
    moment can still win that race.

    A key cannot be both a file and a folder: writing ``'a'`` while
    ``'a/b'`` exists (or the other way round) raises ``BadKeyError``. Deleting the last
    key of a sub-folder removes the folder. Iteration order is the filesystem's.
    Picklable (by path); equal when the roots are equal.

    Guarantees
    ----------
    - One key's write is atomic: the value is written to a temporary file beside the
      key (``<name>.<hex>.partial``), which is then renamed over it (``os.replace``),
      so a reader sees the old value or the new one, never part of one. A batch
      (``setitems``) is atomic key by key, not as a whole.
    - After a crash of the writing process (even ``SIGKILL``) every key holds its old
      or its new value. A temporary file may be left behind; listings, iteration,
      ``len`` and ``getsize`` never show one, and it can be deleted. A power cut may
      undo recent writes unless ``fsync=True``; then a write that returned is on disk.
    - A write that fails (disk full, I/O error) raises
      :class:`czarr.errors.StoreWriteError` naming the key (errno kept); the key keeps
      its old value and the temporary file is removed.
    - Any number of threads and processes may read and write at once; of two writes of
      one key, the last rename wins.
    """

    def __init__(self, path: str | os.PathLike, normalize_keys: bool = False,
                 dimension_separator: str | None = None, fsync: bool = False) -> None:
        self._dimension_separator = _check_separator(dimension_separator)
        path = os.path.abspath(os.fspath(path))
        if os.path.exists(path) and not os.path.isdir(path):
            raise NotADirectoryError(f"DirectoryStore root {path!r} exists and is not a folder")
        self.path = path
        self.normalize_keys = normalize_keys
        self.fsync = bool(fsync)
        self._root = path if path.endswith(os.sep) else path + os.sep

    # -- pickling and comparison ------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "normalize_keys": self.normalize_keys,
                "dimension_separator": self._dimension_separator, "fsync": self.fsync}

    def __setstate__(self, state: dict[str, Any]) -> None:
        DirectoryStore.__init__(self, state["path"], normalize_keys=state["normalize_keys"],
                                dimension_separator=state.get("dimension_separator"),
                                fsync=state.get("fsync", False))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DirectoryStore):
            return NotImplemented
        return self.path == other.path

    def __hash__(self) -> int:
        return hash((DirectoryStore, self.path))

    def __repr__(self) -> str:
        return f"DirectoryStore({self.path!r})"

    # -- keys to filesystem paths -----------------------------------------------------

    def _file_path(self, key: str) -> str:
        """The file of ``key``; BadKeyError for keys that would escape the root."""
        if type(key) is not str:
            raise TypeError(f"store keys are str, not {type(key).__name__}")
        if self.normalize_keys:
            key = key.lower()
        if not _is_canonical(key) or (_DRIVE_CHAR and _DRIVE_CHAR in key):
            raise BadKeyError(_key_error_message(key))
        if os.sep != "/":
            key = key.replace("/", os.sep)
        return self._root + key

    def _change_path(self, key: str, include_last: bool = False) -> str:
        """The file of ``key`` for a write, delete or rename: BadKeyError also when a
        folder on the way (or ``key`` itself, with ``include_last``) is a symbolic link
        leading out of the root."""
        path = self._file_path(key)
        _check_no_link_out(self._root, path[len(self._root):], key, include_last)
        return path

    def _dir_path(self, path: str) -> str:
        """The folder of a (normalized) store path; the root for ``''``."""
        if not path:
            return self.path
        return self._file_path(path)

    def _prune(self, folder: str) -> None:
        """Remove ``folder`` and its ancestors while they are empty, up to the root."""
        root = self.path
        while len(folder) > len(root) and folder.startswith(self._root):
            try:
                os.rmdir(folder)
            except OSError:
                return
            folder = os.path.dirname(folder)

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        data = _read_file(self._file_path(key), key)
        if data is None:
            raise KeyError(key)
        return data

    def __contains__(self, key: object) -> bool:
        try:
            path = self._file_path(key)  # type: ignore[arg-type]
        except (KeyError, TypeError):
            return False
        return os.path.isfile(path)

    def __setitem__(self, key: str, value: Any) -> None:
        self._write(key, self._change_path(key), as_buffer(value))

    def _write(self, key: str, path: str, buf: bytes | memoryview) -> None:
        try:
            made_folders = self._write_file(key, path, buf)
            if self.fsync:
                self._sync_folder(os.path.dirname(path), up_to_root=made_folders)
        except OSError as exc:
            if type(exc) is not OSError:  # BadKeyError, PermissionError... say enough
                raise
            raise StoreWriteError.from_cause(key, self, exc) from exc

    def _write_file(self, key: str, path: str, buf: bytes | memoryview) -> bool:
        """Write ``buf`` to a temporary file and rename it to ``path``; True when
        folders had to be made for it."""
        temp = path + _temp_suffix()
        made_folders = False
        for _ in range(3):
            try:
                fd = os.open(temp, _WRITE_FLAGS, 0o666)
                break
            except FileNotFoundError:
                # the folder does not exist (yet, or any more: a concurrent delete of
                # its last key removed it): create it and try again
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                except (FileExistsError, NotADirectoryError):
                    raise BadKeyError(
                        f"cannot store key {key!r}: a part of its path is a key (a file) "
                        "in this DirectoryStore"
                    ) from None
                made_folders = True
            except NotADirectoryError:
                raise BadKeyError(
                    f"cannot store key {key!r}: a part of its path is a key (a file) "
                    "in this DirectoryStore"
                ) from None
        else:  # pragma: no cover - the folder vanished three times in a row
            fd = os.open(temp, _WRITE_FLAGS, 0o666)
        try:
            try:
                _write_fd(fd, buf)
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)
        except BaseException as exc:
            try:
                os.unlink(temp)
            except OSError:
                pass
            if isinstance(exc, OSError) and os.path.isdir(path):
                raise BadKeyError(
                    f"cannot store key {key!r}: it is a folder holding other keys in this "
                    "DirectoryStore (rmdir it first)"
                ) from None
            raise
        return made_folders

    def _sync_folder(self, folder: str, up_to_root: bool = False) -> None:
        """``fsync`` ``folder`` (its nearest existing ancestor under the root when it is
        gone), so the names in it are on disk; with ``up_to_root``, its ancestors too
        (new folders are names in their parents)."""
        root = self.path
        while True:
            if fsync_folder(folder) and not up_to_root:
                return
            if len(folder) <= len(root) or not folder.startswith(root):
                return
            folder = os.path.dirname(folder)

    def _unlink(self, key: str) -> str | None:
        """Remove ``key``'s file; its path, or None when there is no such key."""
        path = self._change_path(key)
        with naming_keys(key, self, action="delete"):
            try:
                os.unlink(path)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError,
                    PermissionError):
                # PermissionError: what Windows (and macOS for folders) raise for unlink(dir)
                if os.path.isfile(path):
                    raise
                return None
        return path

    def __delitem__(self, key: str) -> None:
        path = self._unlink(key)
        if path is None:
            raise KeyError(key)
        with naming_keys(key, self, action="delete"):
            if "/" in key:
                self._prune(os.path.dirname(path))
            if self.fsync:
                self._sync_folder(os.path.dirname(path))

    def __iter__(self) -> Iterator[str]:
        return self._iter_files(self.path, "")

    def _iter_files(self, folder: str, prefix: str) -> Iterator[str]:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        subfolders = []
        for entry in entries:
            name = entry.name
            if entry.is_file():
                if not _is_temp(name):
                    yield prefix + name
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append(entry)
        for entry in subfolders:
            yield from self._iter_files(entry.path, prefix + entry.name + "/")

    def __len__(self) -> int:
        return sum(1 for _ in self._iter_files(self.path, ""))

    def clear(self) -> None:
        self.rmdir("")

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        # one compiled batch: open/stat and read every file with the GIL released
        keys = list(keys)
        file_path = self._file_path
        datas = read_files([file_path(key) for key in keys], keys)
        return {key: data for key, data in zip(keys, datas) if data is not None}

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        change_path = self._change_path
        for key, value in mapping.items():
            self._write(key, change_path(key), as_buffer(value))

    def delitems(self, keys: Iterable[str]) -> None:
        folders = set()
        for key in keys:
            path = self._unlink(key)
            if path is not None:
                folders.add(os.path.dirname(path))
        for folder in sorted(folders, key=len, reverse=True):
            self._prune(folder)
        if self.fsync:
            for folder in folders:
                self._sync_folder(folder)

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        opened = _open_file(self._file_path(key), key)
        if opened is None:
            raise KeyError(key)
        fd, size = opened
        try:
            offset, count = _slice_range(size, start, length)
            if offset:
                os.lseek(fd, offset, os.SEEK_SET)
            return _read_fd(fd, count)
        finally:
            os.close(fd)

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        """Byte ranges of one file, read with ``pread`` in one compiled call."""
        try:
            return read_ranges(self._file_path(key), list(ranges), key)
        except FileNotFoundError:
            raise KeyError(key) from None

    def listdir(self, path: str = "") -> list[str]:
        path = self._norm_path(path)
        try:
            names = os.listdir(self._dir_path(path))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(name for name in names if not _is_temp(name))

    def rmdir(self, path: str = "") -> None:
        path = self._norm_path(path)
        if not path:
            try:
                entries = list(os.scandir(self.path))
            except FileNotFoundError:
                return
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            return
        folder = self._change_path(path, include_last=True)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
            self._prune(os.path.dirname(folder))

    def getsize(self, path: str = "") -> int:
        path = self._norm_path(path)
        target = self._dir_path(path)
        try:
            st = os.stat(target)
        except (FileNotFoundError, NotADirectoryError):
            return 0
        if stat.S_ISREG(st.st_mode):
            return st.st_size
        size = 0
        pending = [target]
        while pending:
            try:
                entries = list(os.scandir(pending.pop()))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.is_file():
                    if not _is_temp(entry.name):
                        size += entry.stat().st_size
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
        return size

    def rename(self, src: str, dst: str) -> None:
        src = self._norm_path(src)
        dst = self._norm_path(dst)
        _check_rename(src, dst)
        src_path = self._change_path(src, include_last=True)
        dst_path = self._change_path(dst, include_last=True)
        src_is_dir = os.path.isdir(src_path)
        if not src_is_dir and not os.path.isfile(src_path):
            raise KeyError(src)
        changed = {os.path.dirname(dst_path)}  # folders whose entries change
        if not os.path.lexists(dst_path):
            os.makedirs(os.path.dirname(dst_path), exist_ok=True)
            os.rename(src_path, dst_path)
        elif src_is_dir != os.path.isdir(dst_path):
            raise BadKeyError(
                f"cannot rename {src!r} to {dst!r}: one is a key and the other a folder "
                "of keys in this DirectoryStore"
            )
        elif not src_is_dir:
            os.replace(src_path, dst_path)
        else:
            # merge into the existing folder, file by file, replacing what collides
            for key in list(self._iter_files(src_path, "")):
                target = self._change_path(dst + "/" + key)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(self._file_path(src + "/" + key), target)
                changed.add(os.path.dirname(target))
            shutil.rmtree(src_path)
        self._prune(os.path.dirname(src_path))
        if self.fsync:
            for folder in changed:
                self._sync_folder(folder, up_to_root=True)
            self._sync_folder(os.path.dirname(src_path))

    def _norm_path(self, path: str) -> str:
        path = _normalize_path(path)
        return path.lower() if self.normalize_keys else path


class NestedDirectoryStore(DirectoryStore):
    """A :class:`DirectoryStore` whose arrays use ``'/'`` between the chunk indices, so
    the chunks of a 2-d array lie in one folder per row (``0/0``, ``0/1``...), as
    zarr-python 2's class of the same name.

    Parameters
    ----------
    path : str or os.PathLike
    normalize_keys : bool
    dimension_separator : {'/'}
        Only ``'/'`` (the default) is accepted.
    fsync : bool
        As :class:`DirectoryStore`, whose guarantees it shares.
    """

    def __init__(self, path: str | os.PathLike, normalize_keys: bool = False,
                 dimension_separator: str | None = "/", fsync: bool = False) -> None:
        if dimension_separator is None:
            dimension_separator = "/"
        elif dimension_separator != "/":
            raise ValueError("NestedDirectoryStore only supports '/' as dimension_separator")
        super().__init__(path, normalize_keys=normalize_keys, dimension_separator="/",
                         fsync=fsync)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NestedDirectoryStore) and self.path == other.path

    def __hash__(self) -> int:
        return hash((NestedDirectoryStore, self.path))

    def __repr__(self) -> str:
        return f"NestedDirectoryStore({self.path!r})"


class TempStore(DirectoryStore):
    """A :class:`DirectoryStore` in a new temporary folder, removed when Python exits.

    Parameters
    ----------
    suffix, prefix, dir : str, optional
        As :func:`tempfile.mkdtemp` (prefix ``'zarr'`` by default, as zarr-python 2).
    normalize_keys : bool
    dimension_separator : {'.', '/'}, optional
    fsync : bool
        As :class:`DirectoryStore`, whose guarantees it shares.
    """

    def __init__(self, suffix: str = "", prefix: str = "zarr", dir: str | None = None,
                 normalize_keys: bool = False, dimension_separator: str | None = None,
                 fsync: bool = False) -> None:
        import atexit
        import tempfile

        path = tempfile.mkdtemp(suffix=suffix, prefix=prefix, dir=dir)
        atexit.register(shutil.rmtree, path, True)
        super().__init__(path, normalize_keys=normalize_keys,
                         dimension_separator=dimension_separator, fsync=fsync)
