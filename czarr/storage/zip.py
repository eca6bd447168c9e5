"""ZipStore: a store inside a single zip file, one member per key.

Members are named by their keys with no leading folder (``.zgroup``, ``foo/.zarray``,
``foo/0.0``), which is the layout zarr-python reads and writes, so a DirectoryStore's
folder zipped from inside (``cd folder && zip -r ../data.zip .``) opens as a ZipStore.
It behaves as zarr-python 2's ZipStore: the zip format cannot remove or replace members,
so deleting raises ``NotImplementedError`` and writing a key again appends a second
member (with the standard library's "Duplicate name" warning; reads see the newest);
``close()`` must be called after writing (or use the store as a context manager), since
the zip's central directory is written then; one lock serialises every access to the
underlying ``zipfile.ZipFile``, which is not thread-safe.
"""

from __future__ import annotations

import os
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from czarr.errors import ReadOnlyError
from czarr.storage.base import (
    Store,
    _check_canonical,
    _check_separator,
    _normalize_path,
    _prefix,
    _slice_range,
    as_buffer,
)

__all__ = ["ZipStore"]

_MODES = ("r", "w", "a", "x")


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
    stored in the zip (compressed sizes). Safe to use from several threads, not from
    several processes writing at once.
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
        self._zf = zipfile.ZipFile(
            self.path, mode=mode, compression=compression, allowZip64=allowZip64
        )

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Write the zip's central directory (when writable) and close the file."""
        with self._lock:
            self._zf.close()

    def flush(self) -> None:
        """Write everything so far to the file (closing it), then reopen it to append."""
        if self.read_only:
            return
        with self._lock:
            self._zf.close()
            # append from now on, whatever the first mode was, so nothing is truncated
            self._zf = zipfile.ZipFile(
                self.path, mode="a", compression=self.compression, allowZip64=self.allowZip64
            )

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
            try:
                info = self._zf.getinfo(key)
            except KeyError:
                raise KeyError(key) from None
            return self._zf.read(info)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or key.endswith("/"):
            return False
        with self._lock:
            try:
                self._zf.getinfo(key)
            except KeyError:
                return False
        return True

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_writable()
        buf = as_buffer(value)
        info = self._zip_info(key)
        with self._lock:
            self._zf.writestr(info, buf)

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
            names = self._zf.namelist()
        return [name for name in dict.fromkeys(names) if not name.endswith("/")]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names()))

    def __len__(self) -> int:
        return len(self._names())

    def clear(self) -> None:
        """Remove every key: the zip file is truncated."""
        self._check_writable()
        with self._lock:
            self._zf.close()
            self._zf = zipfile.ZipFile(
                self.path, mode="w", compression=self.compression, allowZip64=self.allowZip64
            )

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        out = {}
        with self._lock:
            zf = self._zf
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
        with self._lock:
            for info, buf in items:
                self._zf.writestr(info, buf)

    def delitems(self, keys: Iterable[str]) -> None:
        self._check_writable()
        if any(key in self for key in keys):
            raise NotImplementedError(
                "a ZipStore cannot delete keys: the zip format has no way to remove members"
            )

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        with self._lock:
            try:
                info = self._zf.getinfo(key)
            except KeyError:
                raise KeyError(key) from None
            offset, count = _slice_range(info.file_size, start, length)
            with self._zf.open(info) as member:
                if offset:
                    member.seek(offset)
                return member.read(count)

    def listdir(self, path: str = "") -> list[str]:
        prefix = _prefix(_normalize_path(path))
        n = len(prefix)
        with self._lock:
            names = self._zf.namelist()
        children = set()
        for name in names:
            if name.startswith(prefix) and len(name) > n:
                children.add(name[n:].split("/", 1)[0])
        return sorted(children)

    def getsize(self, path: str = "") -> int:
        path = _normalize_path(path)
        with self._lock:
            if path:
                try:
                    return self._zf.getinfo(path).compress_size
                except KeyError:
                    pass
            prefix = _prefix(path)
            # NameToInfo holds the newest member of each name, as reads do
            return sum(
                info.compress_size
                for name, info in self._zf.NameToInfo.items()
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
