"""An in-process FAKE of azure-storage-blob's ``ContainerClient``: NOT the Blob service.

``FakeContainerClient`` is a dict-backed object with exactly the ``ContainerClient``
methods (and signatures) that :class:`czarr.storage.ABSStore` calls, raising the same
exception classes from ``azure.core.exceptions`` that the real client raises for the same
service answers (404 -> ``ResourceNotFoundError``, a failed ``If-Match`` ->
``ResourceModifiedError``, a range past the end -> ``HttpResponseError`` with status
416). It checks what the service would refuse (more than 256 deletions in one batch, a
body that is not ``bytes``, an overwrite without ``overwrite=True``), counts calls per
method and the most downloads in flight at once. It tests the store's own logic only;
it says nothing about the real service's behaviour.

Clients made with the same account URL and container name share one in-memory
container (as two real clients of one container do), and a client pickles by those two
names, so a pickled store still sees its data.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)

__all__ = ["FakeContainerClient", "reset_fake_service"]

_CONTAINERS: dict[tuple[str, str], dict[str, tuple[bytes, str]]] = {}
_LOCK = threading.Lock()
_ETAGS = itertools.count(1)


def reset_fake_service() -> None:
    """Forget every fake container."""
    with _LOCK:
        _CONTAINERS.clear()


def _not_found(name: str) -> ResourceNotFoundError:
    return ResourceNotFoundError(message=f"The specified blob does not exist: {name}")


class _Downloader:
    """Stands for ``StorageStreamDownloader``: the store only calls ``readall()``."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readall(self) -> bytes:
        return self._data


class _FakeBlobClient:
    """Stands for ``BlobClient``: ``exists()`` and ``get_blob_properties()``."""

    def __init__(self, container: FakeContainerClient, name: str) -> None:
        self._container = container
        self.blob_name = name

    def exists(self) -> bool:
        self._container.calls["exists"] += 1
        with _LOCK:
            return self.blob_name in self._container._blobs

    def get_blob_properties(self) -> SimpleNamespace:
        self._container.calls["get_blob_properties"] += 1
        with _LOCK:
            entry = self._container._blobs.get(self.blob_name)
        if entry is None:
            raise _not_found(self.blob_name)
        return SimpleNamespace(name=self.blob_name, size=len(entry[0]), etag=entry[1])


class FakeContainerClient:
    """A dict-backed stand-in for ``azure.storage.blob.ContainerClient`` (see the module).

    Parameters
    ----------
    account_url : str
    container_name : str
    credential : any
        Accepted and ignored.
    """

    def __init__(self, account_url: str, container_name: str, credential: Any = None,
                 **kwargs: Any) -> None:
        if not container_name:
            raise ValueError("Please specify a container name.")
        self.account_url = account_url.rstrip("/")
        self.container_name = container_name
        self.credential = credential
        self.kwargs = kwargs
        with _LOCK:
            self._blobs = _CONTAINERS.setdefault((self.account_url, container_name), {})
        self.calls: Counter[str] = Counter()
        self.download_delay = 0.0  # seconds each download takes, to observe concurrency
        self.in_flight = 0
        self.peak_in_flight = 0
        self.closed = False

    def __reduce__(self) -> tuple:
        return (type(self), (self.account_url, self.container_name))

    @property
    def url(self) -> str:
        return f"{self.account_url}/{self.container_name}"

    # -- the ContainerClient methods the store calls ----------------------------------

    def download_blob(self, blob: str, offset: int | None = None, length: int | None = None,
                      *, etag: str | None = None, match_condition: Any = None,
                      **kwargs: Any) -> _Downloader:
        self.calls["download_blob"] += 1
        if length is not None and offset is None:
            raise ValueError("Offset value must not be None if length is set.")
        with _LOCK:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.download_delay:
                time.sleep(self.download_delay)
            with _LOCK:
                entry = self._blobs.get(blob)
            if entry is None:
                raise _not_found(blob)
            data, tag = entry
            if match_condition == MatchConditions.IfNotModified and etag != tag:
                raise ResourceModifiedError(message="The condition specified using HTTP "
                                                    "conditional header(s) is not met.")
            if offset is None:
                return _Downloader(data)
            if offset >= len(data):
                error = HttpResponseError(message="The range specified is invalid for the "
                                                  "current size of the resource.")
                error.status_code = 416
                raise error
            stop = len(data) if length is None else offset + length
            return _Downloader(data[offset:stop])
        finally:
            with _LOCK:
                self.in_flight -= 1

    def upload_blob(self, name: str, data: Any, blob_type: str = "BlockBlob",
                    length: int | None = None, metadata: Any = None,
                    **kwargs: Any) -> _FakeBlobClient:
        self.calls["upload_blob"] += 1
        # the real client streams bytes and iterates any other object item by item
        assert type(data) is bytes, f"upload_blob got {type(data).__name__}, not bytes"
        with _LOCK:
            if name in self._blobs and not kwargs.get("overwrite", False):
                raise ResourceExistsError(message="The specified blob already exists.")
            self._blobs[name] = (data, f'"0x{next(_ETAGS):X}"')
        return _FakeBlobClient(self, name)

    def delete_blob(self, blob: str, delete_snapshots: str | None = None,
                    **kwargs: Any) -> None:
        self.calls["delete_blob"] += 1
        with _LOCK:
            if self._blobs.pop(blob, None) is None:
                raise _not_found(blob)

    def delete_blobs(self, *blobs: str, **kwargs: Any) -> Any:
        self.calls["delete_blobs"] += 1
        if len(blobs) > 256:
            raise HttpResponseError(message="The batch operation exceeds the maximum "
                                            "number of sub-requests (256).")
        responses = []
        with _LOCK:
            for name in blobs:
                found = self._blobs.pop(name, None) is not None
                responses.append(SimpleNamespace(status_code=202 if found else 404,
                                                 reason="Accepted" if found else "Not Found"))
        if kwargs.get("raise_on_any_failure", True) and any(
                r.status_code == 404 for r in responses):
            raise HttpResponseError(message="There is a partial failure in the batch.")
        return iter(responses)

    def list_blobs(self, name_starts_with: str | None = None, include: Any = None,
                   **kwargs: Any) -> Any:
        self.calls["list_blobs"] += 1
        prefix = name_starts_with or ""
        with _LOCK:
            items = sorted((n, len(v[0])) for n, v in self._blobs.items()
                           if n.startswith(prefix))
        return iter([SimpleNamespace(name=n, size=s) for n, s in items])

    def walk_blobs(self, name_starts_with: str | None = None, include: Any = None,
                   delimiter: str = "/", **kwargs: Any) -> Any:
        """Blobs directly under the prefix, and one ``BlobPrefix``-like item (a name
        ending with the delimiter) for each deeper folder, in name order."""
        self.calls["walk_blobs"] += 1
        prefix = name_starts_with or ""
        n = len(prefix)
        names = set()
        with _LOCK:
            for name in self._blobs:
                if name.startswith(prefix):
                    head, sep, _ = name[n:].partition(delimiter)
                    names.add(prefix + head + sep)
        return iter([SimpleNamespace(name=name) for name in sorted(names)])

    def get_blob_client(self, blob: str, snapshot: str | None = None,
                        **kwargs: Any) -> _FakeBlobClient:
        return _FakeBlobClient(self, blob)

    def close(self) -> None:
        self.closed = True
