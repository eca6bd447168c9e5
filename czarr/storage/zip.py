"""ZipStore: a store inside a single zip file, one member per key.

Members are named by their keys with no leading folder (``.zgroup``, ``foo/.zarray``,
``foo/0.0``), which is the layout zarr-python reads and writes, so a DirectoryStore's
folder zipped from inside (``cd folder && zip -r ../data.zip .``) opens as a ZipStore.
It behaves as zarr-python 2's ZipStore: the zip format cannot remove or replace members,
so deleting raises ``NotImplementedError`` and writing a key again appends a second
member (with the standard library's "Duplicate name" warning; reads see the newest);
``close()`` must be called after writing (or use the store as a context manager), since
the zip's central directory is written then; one lock serialises every access to the
underlying ``zipfile.ZipFile``, which is not thread-safe. Unlike zarr-python 2, the zip
is never written in place: writes go to a temporary copy beside it, which replaces the
file on ``close()``/``flush()``, so a crash or a full disk never leaves a broken zip.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from czarr.errors import ReadOnlyError, StoreWriteError
from czarr.storage.base import (
    Store,
    _check_canonical,
    _check_separator,
    _normalize_path,
    _prefix,
    _slice_range,
    as_buffer,
)
from czarr.storage.directory import _temp_suffix, fsync_folder

__all__ = ["ZipStore"]

_MODES = ("r", "w", "a", "x")


class _TempFile(io.FileIO):
    """The temporary zip, unbuffered, whose ``write`` writes everything or raises.

    With no buffer, what a failed write leaves is exactly what reached the file, so a
    failed member can be cut off (truncate to where it began) and the zip goes on; a
    buffered file would keep the unwritten bytes and fail again on every later call.
    """

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            done += super().write(view[done:])
        return done


class ZipStore(Store):
    """A store inside a zip file.

    The parameters come in zarr-python 2's order (``ZipStore(path, compression,
    allowZip64, mode)``), so positional calls written for it work unchanged.

    Parameters
    ----------
    path : str or os.PathLike
        The zip file.
    compression : int
        ``zipfile.ZIP_STORED`` (default: chunks are usually compressed already),
        ``ZIP_DEFLATED``, ``ZIP_BZIP2`` or ``ZIP_LZMA``, for members written.
    allowZip64 : bool
        Allow ZIP64 extensions, needed past 2 GiB or 65,535 members.
    mode : {'r', 'w', 'a', 'x'}
        ``'r'`` reads an existing file (writes raise :class:`czarr.errors.ReadOnlyError`);
        ``'w'`` creates or truncates; ``'a'`` (default) appends to an existing file or
        creates it; ``'x'`` creates, failing if the file exists.
    dimension_separator : {'.', '/'}, optional
        Separator of chunk keys for arrays created in this store without one.

    Notes
    -----
    Call :meth:`close` after writing. Picklable: the pickle holds the path and options
    (pending writes are flushed first); a store opened with ``'w'`` or ``'x'`` reopens
    with ``'a'`` so unpickling does not truncate the file. ``getsize`` reports the bytes
    stored in the zip (compressed sizes).

    Guarantees
    ----------
    - The zip file changes only on :meth:`close` and :meth:`flush`, atomically: writes
      go to a temporary zip beside it (``<name>.<hex>.partial``; with ``'a'``, a copy
      of the file made at the first write), which is ``fsync``-ed and renamed over the
      file. Other readers of the file see it as it was before or after a close, whole.
      (zarr-python 2 writes the zip in place: until ``close`` it has no central
      directory, and with ``'a'`` the old one is overwritten by the first write, so a
      crash or a full disk leaves a zip that no longer opens.)
    - After a crash before ``close`` (even ``SIGKILL``) the file holds what the last
      ``close``/``flush`` left, or is absent if there was none; the writes since are
      lost and a temporary file is left beside it, which can be deleted.
    - A write that fails (disk full, I/O error) raises
      :class:`czarr.errors.StoreWriteError` naming the key; the failed member is cut
      off the temporary zip, so the key keeps its old value and the store goes on.
      When ``close``/``flush`` fails, the error names the keys written since the last
      one, which are lost; the file keeps its previous contents.
    - Safe to use from several threads (one lock); not from several processes writing
      at once (the last ``close`` wins). A forked child cannot add to the writes its
      parent has pending (``RuntimeError``), and its ``close`` leaves them alone.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        compression: int = zipfile.ZIP_STORED,
        allowZip64: bool = True,
        mode: str = "a",
        dimension_separator: str | None = None,
    ) -> None:
        self._dimension_separator = _check_separator(dimension_separator)
        if mode not in _MODES:
            raise ValueError(f"invalid ZipStore mode {mode!r}: expected one of r, w, a, x")
        self.path = os.path.abspath(os.fspath(path))
        self.mode = mode
        self.compression = compression
        self.allowZip64 = allowZip64
        self.read_only = mode == "r"
        # zipfile.ZipFile is not safe to share between threads, for reads either: one
        # file position serves every member
        self._lock = threading.RLock()
        self._zf: zipfile.ZipFile | None = None
        self._temp: str | None = None  # the temporary zip that takes the writes
        self._temp_file: _TempFile | None = None
        self._pid = os.getpid()
        self._pending: list[str] = []  # keys written since the last close/flush
        if mode == "x" and os.path.lexists(self.path):
            raise FileExistsError(f"ZipStore {self.path!r} exists (mode='x')")
        if mode in ("w", "x"):
            self._start_temp(copy=False)
        else:
            self._open_file(appending=mode == "a")

    # -- the file and the temporary zip -----------------------------------------------

    def _open_file(self, appending: bool) -> None:
        """Read the zip file itself (mode 'r'; when ``appending``, until the first write)."""
        if appending:
            try:
                empty = os.path.getsize(self.path) == 0
            except FileNotFoundError:
                empty = True
            if empty:  # a new zip: nothing to read, start writing one
                self._start_temp(copy=False)
                return
            try:
                self._zf = zipfile.ZipFile(self.path, mode="r")
            except zipfile.BadZipFile:
                # zipfile appends a zip to a file that is not one: so does 'a' here
                self._start_temp(copy=True)
            return
        self._zf = zipfile.ZipFile(self.path, mode="r", allowZip64=self.allowZip64)

    def _start_temp(self, copy: bool, keys: Any = ()) -> None:
        """Move the writes to a new temporary zip: a copy of the file when ``copy``,
        else an empty one."""
        temp = self.path + _temp_suffix()
        fp = None
        try:
            if copy:
                shutil.copyfile(self.path, temp)
            fp = _TempFile(temp, "r+" if copy else "w+")
            zf = zipfile.ZipFile(fp, mode="a" if copy else "w",
                                 compression=self.compression, allowZip64=self.allowZip64)
        except BaseException as exc:
            if fp is not None:
                fp.close()
            _unlink(temp)
            if type(exc) is OSError:
                raise StoreWriteError.from_cause(keys, self, exc) from exc
            raise
        if self._zf is not None:
            self._zf.close()
        self._zf, self._temp, self._temp_file = zf, temp, fp
        self._pid = os.getpid()

    def _drop_temp(self, unlink: bool = True) -> None:
        """Forget the temporary zip and what it holds (leaving the file to its owner
        when not ``unlink``: a forked child's is the parent's)."""
        zf, fp, temp = self._zf, self._temp_file, self._temp
        self._zf = self._temp = self._temp_file = None
        self._pending = []
        if fp is not None:
            fp.close()  # first: closing the ZipFile then cannot write its end record
        if zf is not None:
            try:
                zf.close()
            except (OSError, ValueError):
                pass
        if temp is not None and unlink:
            _unlink(temp)

    def _commit(self) -> None:
        """Finish the temporary zip and rename it over the file (the caller holds the
        lock); on failure it is dropped and the file keeps its previous contents."""
        zf, fp, temp = self._zf, self._temp_file, self._temp
        assert zf is not None and fp is not None and temp is not None
        try:
            zf.close()  # the central directory
            os.fsync(fp.fileno())
            fp.close()
            os.replace(temp, self.path)
        except BaseException as exc:
            pending = self._pending
            self._drop_temp()
            if type(exc) is OSError:
                raise StoreWriteError.from_cause(pending, self, exc, action="commit") from exc
            raise
        self._zf = self._temp = self._temp_file = None
        self._pending = []
        fsync_folder(os.path.dirname(self.path))

    def _check_open(self) -> zipfile.ZipFile:
        zf = self._zf
        if zf is None:
            raise ValueError(f"ZipStore {self.path!r} is closed")
        return zf

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Write the zip's central directory and put the zip in place (when written to),
        then close the file. Closing twice is fine."""
        with self._lock:
            if self._temp is not None:
                if self._pid != os.getpid():  # a forked child: the temp is the parent's
                    self._drop_temp(unlink=False)
                    return
                self._commit()
            elif self._zf is not None:
                self._zf.close()
                self._zf = None

    def flush(self) -> None:
        """Put everything written so far in place (as :meth:`close`), and go on."""
        if self.read_only:
            return
        with self._lock:
            self._check_open()
            if self._temp is None:
                return
            try:
                self._commit()
            finally:
                # append from now on, whatever the first mode was, so nothing is truncated
                self._open_file(appending=True)

    def __del__(self) -> None:
        # zipfile writes the end record when a ZipFile is collected unclosed; here that
        # means putting the temporary zip in place
        try:
            if self._temp is not None:
                self.close()
        except Exception:
            pass

    def __getstate__(self) -> dict[str, Any]:
        self.flush()
        return {
            "path": self.path,
            "mode": self.mode,
            "compression": self.compression,
            "allowZip64": self.allowZip64,
            "dimension_separator": self._dimension_separator,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        mode = "a" if state["mode"] in ("w", "x") else state["mode"]
        self.__init__(
            state["path"], mode=mode, compression=state["compression"],
            allowZip64=state["allowZip64"],
            dimension_separator=state.get("dimension_separator"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ZipStore):
            return NotImplemented
        return (
            self.path == other.path
            and self.compression == other.compression
            and self.allowZip64 == other.allowZip64
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ZipStore({self.path!r}, mode={self.mode!r})"

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        with self._lock:
            zf = self._check_open()
            try:
                info = zf.getinfo(key)
            except KeyError:
                raise KeyError(key) from None
            return zf.read(info)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or key.endswith("/"):
            return False
        with self._lock:
            try:
                self._check_open().getinfo(key)
            except KeyError:
                return False
        return True

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_writable()
        self._append([(self._zip_info(key), as_buffer(value))])

    def _append(self, items: list[tuple[zipfile.ZipInfo, Any]]) -> None:
        """Write members to the temporary zip (started here at the first write); a
        failed call is cut off, leaving the zip as it was before it."""
        keys = [info.filename for info, _ in items]
        with self._lock:
            self._check_open()
            if self._temp is not None and self._pid != os.getpid():
                raise RuntimeError(
                    f"ZipStore {self.path!r} has writes pending in the process it was "
                    "forked from: a child cannot add to them (close or flush it first)")
            if self._temp is None:
                self._start_temp(copy=True, keys=keys)
            zf, fp = self._zf, self._temp_file
            assert zf is not None and fp is not None
            start, count = zf.start_dir, len(zf.filelist)
            try:
                for info, buf in items:
                    zf.writestr(info, buf)
            except BaseException as exc:
                # zipfile may have listed the torn member: forget it, cut it off
                del zf.filelist[count:]
                zf.NameToInfo = {info.filename: info for info in zf.filelist}
                zf.start_dir = start
                fp.truncate(start)
                fp.seek(start)
                if type(exc) is OSError:
                    raise StoreWriteError.from_cause(keys, self, exc) from exc
                raise
            self._pending.extend(keys)

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"ZipStore {self.path!r} was opened read-only (mode='r')")

    def _zip_info(self, key: str) -> zipfile.ZipInfo:
        _check_canonical(key)
        # writestr(name, data) would give members mode 600; build the ZipInfo so they
        # come out rw-r--r-- like files written by zip tools
        info = zipfile.ZipInfo(filename=key, date_time=time.localtime(time.time())[:6])
        info.compress_type = self.compression
        info.external_attr = 0o644 << 16
        return info

    def __delitem__(self, key: str) -> None:
        self._check_writable()
        raise NotImplementedError(
            "a ZipStore cannot delete keys: the zip format has no way to remove members"
        )

    def _names(self) -> list[str]:
        """Every key, once each, in the order first written (folder entries left out)."""
        with self._lock:
            names = self._check_open().namelist()
        return [name for name in dict.fromkeys(names) if not name.endswith("/")]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names()))

    def __len__(self) -> int:
        return len(self._names())

    def clear(self) -> None:
        """Remove every key: the zip file is truncated (on :meth:`close`)."""
        self._check_writable()
        with self._lock:
            self._check_open()
            if self._temp is not None:
                self._drop_temp()
            self._start_temp(copy=False)

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        out = {}
        with self._lock:
            zf = self._check_open()
            for key in keys:
                try:
                    info = zf.getinfo(key)
                except KeyError:
                    continue
                out[key] = zf.read(info)
        return out

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        self._check_writable()
        items = [(self._zip_info(key), as_buffer(value)) for key, value in mapping.items()]
        if items:
            self._append(items)

    def delitems(self, keys: Iterable[str]) -> None:
        self._check_writable()
        keys = list(keys)
        for key in keys:
            _check_canonical(key)
        if any(key in self for key in keys):
            raise NotImplementedError(
                "a ZipStore cannot delete keys: the zip format has no way to remove members"
            )

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        with self._lock:
            zf = self._check_open()
            try:
                info = zf.getinfo(key)
            except KeyError:
                raise KeyError(key) from None
            offset, count = _slice_range(info.file_size, start, length)
            with zf.open(info) as member:
                if offset:
                    member.seek(offset)
                return member.read(count)

    def listdir(self, path: str = "") -> list[str]:
        prefix = _prefix(_normalize_path(path))
        n = len(prefix)
        with self._lock:
            names = self._check_open().namelist()
        children = set()
        for name in names:
            if name.startswith(prefix) and len(name) > n:
                children.add(name[n:].split("/", 1)[0])
        return sorted(children)

    def getsize(self, path: str = "") -> int:
        path = _normalize_path(path)
        with self._lock:
            zf = self._check_open()
            if path:
                try:
                    return zf.getinfo(path).compress_size
                except KeyError:
                    pass
            prefix = _prefix(path)
            # NameToInfo holds the newest member of each name, as reads do
            return sum(
                info.compress_size
                for name, info in zf.NameToInfo.items()
                if name.startswith(prefix) and not name.endswith("/")
            )

    def rmdir(self, path: str = "") -> None:
        self._check_writable()
        path = _normalize_path(path)
        if not path:
            self.clear()
            return
        prefix = _prefix(path)
        if any(name.startswith(prefix) for name in self._names()):
            raise NotImplementedError(
                f"a ZipStore cannot remove {path!r}: the zip format has no way to remove "
                "members"
            )

    def rename(self, src: str, dst: str) -> None:
        self._check_writable()
        raise NotImplementedError(
            "a ZipStore cannot rename keys: the zip format has no way to remove members"
        )


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

