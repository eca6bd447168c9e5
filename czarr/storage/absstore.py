"""ABSStore: a store whose values are blobs of an Azure Blob Storage container.

Each store key ``k`` is the block blob ``prefix + '/' + k`` (``k`` itself without a
prefix) of one container, exactly the blob names zarr-python 2.18's ``ABSStore`` reads
and writes, so either library opens what the other wrote. The store talks to the service
through an ``azure.storage.blob.ContainerClient`` (azure-storage-blob v12, imported when
a store is made: ``pip install 'czarr[azure]'``). Azure has no request that reads many
blobs, so ``getitems`` and ``setitems`` send one request per key from a small thread pool
the store owns (the synchronous client is thread-safe and its HTTP calls release the
GIL; the asynchronous client would need aiohttp and an event loop of its own).
``delitems`` and ``rmdir`` use the Blob batch API, 256 deletions a request. An upload is
committed whole by the service, so a reader never sees half a value.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from czarr.errors import ReadOnlyError
from czarr.metadata.normalize import normalize_dimension_separator
from czarr.storage.base import (
    Store,
    _check_canonical,
    _check_rename,
    _is_canonical,
    _normalize_path,
    _slice_range,
    as_buffer,
    import_optional,
)

__all__ = ["ABSStore"]

# the Blob batch API takes at most 256 sub-requests
_DELETE_BATCH = 256
# azure-core's requests transport keeps 10 connections per host: more threads than that
# would open connections only to throw them away
_DEFAULT_BATCH_SIZE = 10
# keys moved per round of rename (values held in memory at once)
_RENAME_BATCH = 64
# a blob rewritten between the two requests of a read from its end: tries before giving up
_RANGE_TRIES = 10
_DEPRECATED_ARGS = (
    "Providing 'container', 'account_name', 'account_key', and 'blob_service_kwargs'"
    "is deprecated. Provide and instance of 'azure.storage.blob.ContainerClient' "
    "'client' instead."
)


class ABSStore(Store):
    """A store keeping each value as a block blob of an Azure Blob Storage container.

    Parameters
    ----------
    container : str, optional
        Name of the container (deprecated, as in zarr-python 2.8.3+: pass ``client``).
    prefix : str
        Folder of the container holding the store: key ``k`` is the blob
        ``prefix + '/' + k``; ``''`` (the default) is the container's root.
    account_name : str, optional
        Storage account name (deprecated: pass ``client``).
    account_key : str, optional
        Storage account key (deprecated: pass ``client``).
    blob_service_kwargs : dict, optional
        More arguments for the ``ContainerClient`` made from the three above (deprecated:
        pass ``client``).
    dimension_separator : {'.', '/'}, optional
        Chunk key separator that arrays created in this store use unless told otherwise.
    client : azure.storage.blob.ContainerClient, optional
        The container to use, e.g. ``ContainerClient.from_connection_string(conn, name)``
        or ``ContainerClient(account_url, name, credential=...)``.
    read_only : bool
        Refuse every write with :class:`czarr.errors.ReadOnlyError` (keyword only).
    batch_size : int
        Requests in flight at once for ``getitems``, ``setitems`` and ``rename``
        (keyword only). The default, 10, is the size of azure-core's connection pool.

    Raises
    ------
    MissingDependencyError
        azure-storage-blob is not installed.
    ValueError
        Neither ``client`` nor ``container`` is given, or ``batch_size`` is not positive.

    Notes
    -----
    Without ``client`` the store makes one for ``https://<account_name>.blob.core.
    windows.net/`` and warns ``FutureWarning``, as zarr-python 2.18 does; ``close()``
    then closes it (and the store cannot be used after that). A client passed in belongs
    to the caller and stays open.

    ``getitems``, ``setitems`` and ``rename`` are concurrent but not atomic: each value
    is written whole, a batch is not (Azure has no transaction over several blobs).
    ``getsize`` counts every blob under a path, recursively, from one listing.

    The store pickles by its parameters: the client (azure-storage-blob pickles it by
    its URL, credential and settings) or the account arguments it was made from, never
    by data. Two stores are equal when they are over the same container URL and prefix.
    """

    def __init__(
        self,
        container: str | None = None,
        prefix: str = "",
        account_name: str | None = None,
        account_key: str | None = None,
        blob_service_kwargs: dict[str, Any] | None = None,
        dimension_separator: str | None = None,
        client: Any = None,
        *,
        read_only: bool = False,
        batch_size: int = _DEFAULT_BATCH_SIZE,
    ) -> None:
        blob = import_optional("azure.storage.blob", "azure", "ABSStore")
        errors = import_optional("azure.core.exceptions", "azure", "ABSStore")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
        if type(batch_size) is not int or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
        self._owns_client = client is None
        if client is None:
            if container is None:
                raise ValueError("ABSStore needs client= (an azure.storage.blob."
                                 "ContainerClient), or container= and account_name=")
            warnings.warn(_DEPRECATED_ARGS, FutureWarning, stacklevel=2)
            client = blob.ContainerClient(
                f"https://{account_name}.blob.core.windows.net/", container,
                credential=account_key, **(blob_service_kwargs or {}),
            )
        self.client = client
        self.prefix: str = _normalize_path(prefix)
        self._head = self.prefix + "/" if self.prefix else ""
        self._dimension_separator = normalize_dimension_separator(dimension_separator)
        self.read_only = bool(read_only)
        self.batch_size = batch_size
        # batched calls go out concurrently: the chunk engine hands over larger batches
        self.fetches_concurrently = True
        self._container = container
        self._account_name = account_name
        self._account_key = account_key
        self._blob_service_kwargs = blob_service_kwargs
        self._not_found = errors.ResourceNotFoundError
        self._modified = errors.ResourceModifiedError
        self._http_error = errors.HttpResponseError
        self._if_not_modified = import_optional(
            "azure.core", "azure", "ABSStore").MatchConditions.IfNotModified
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # -- zarr-python 2's deprecated attributes ----------------------------------------

    @staticmethod
    def _warn_deprecated(name: str) -> None:
        warnings.warn(f"The {name} property is deprecated and will be removed in a future "
                      "version. Get the property from 'ABSStore.client' instead.",
                      FutureWarning, stacklevel=3)

    @property
    def container(self) -> str | None:
        """The ``container`` argument (deprecated: read ``client.container_name``)."""
        self._warn_deprecated("container")
        return self._container

    @property
    def account_name(self) -> str | None:
        """The ``account_name`` argument (deprecated: read ``client.account_name``)."""
        self._warn_deprecated("account_name")
        return self._account_name

    @property
    def account_key(self) -> str | None:
        """The ``account_key`` argument (deprecated)."""
        self._warn_deprecated("account_key")
        return self._account_key

    # -- pickling and comparison ------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {
            "container": self._container, "prefix": self.prefix,
            "account_name": self._account_name, "account_key": self._account_key,
            "blob_service_kwargs": self._blob_service_kwargs,
            "dimension_separator": self._dimension_separator,
            # a client the store made is made again from the account arguments
            "client": None if self._owns_client else self.client,
            "read_only": self.read_only, "batch_size": self.batch_size,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        options = {k: state.pop(k) for k in ("read_only", "batch_size")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # warned when first made
            self.__init__(**state, **options)

    def _location(self) -> tuple[str, str]:
        """Where the data lives: the container's URL (without a SAS query) and prefix."""
        return (str(self.client.url).split("?", 1)[0].rstrip("/"), self.prefix)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ABSStore):
            return NotImplemented
        return self._location() == other._location()

    def __hash__(self) -> int:
        return hash((ABSStore, self._location()))

    def __repr__(self) -> str:
        url, prefix = self._location()
        return f"<czarr.ABSStore {url} prefix={prefix!r}>"

    # -- helpers ----------------------------------------------------------------------

    def _name(self, key: str) -> str:
        return self._head + key

    def _read_name(self, key: Any) -> str:
        """The blob name of ``key`` for a read; KeyError for keys no value can have."""
        if type(key) is not str or not _is_canonical(key):
            raise KeyError(key)
        return self._head + key

    def _folder(self, path: str) -> str | None:
        """The blob name prefix of everything under ``path`` (None: the whole container)."""
        path = _normalize_path(path)
        return (self._head + path + "/" if path else self._head) or None

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"{self!r} was opened read-only")

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.batch_size,
                                                thread_name_prefix="czarr-abs")
            return self._pool

    def _map(self, fn: Any, items: list) -> list:
        """``[fn(x) for x in items]``, ``batch_size`` at a time; the first error raised
        once every call has ended."""
        if len(items) <= 1 or self.batch_size == 1:
            return [fn(x) for x in items]
        futures = [self._executor().submit(fn, x) for x in items]
        errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error
        return [f.result() for f in futures]

    def _names_under(self, path: str) -> list[str]:
        return [b.name for b in self.client.list_blobs(name_starts_with=self._folder(path))]

    def _download(self, name: str) -> bytes | None:
        try:
            return self.client.download_blob(name).readall()
        except self._not_found:
            return None

    def _upload(self, item: tuple[str, bytes]) -> None:
        self.client.upload_blob(item[0], item[1], overwrite=True)

    def _delete_names(self, names: list[str]) -> None:
        """Delete blobs by name, 256 a request; blobs already gone are not an error."""
        for i in range(0, len(names), _DELETE_BATCH):
            batch = names[i:i + _DELETE_BATCH]
            for response in self.client.delete_blobs(*batch, raise_on_any_failure=False):
                if response.status_code >= 300 and response.status_code != 404:
                    error = self._http_error(
                        message=f"deleting blobs of {self!r} failed: {response.status_code} "
                                f"{getattr(response, 'reason', '')}")
                    error.status_code = response.status_code
                    raise error

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        value = self._download(self._read_name(key))
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        try:
            name = self._read_name(key)
        except KeyError:
            return False
        return bool(self.client.get_blob_client(name).exists())

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_writable()
        _check_canonical(key)
        # the client streams bytes; any other buffer it would iterate item by item
        self._upload((self._name(key), bytes(as_buffer(value))))

    def __delitem__(self, key: str) -> None:
        self._check_writable()
        try:
            self.client.delete_blob(self._read_name(key))
        except self._not_found as e:
            raise KeyError(key) from e

    def __iter__(self) -> Iterator[str]:
        n = len(self._head)
        return iter([name[n:] for name in self._names_under("")])

    def __len__(self) -> int:
        return len(self._names_under(""))

    def keys(self) -> list[str]:  # zarr-python 2's ABSStore returns a list
        return list(self)

    def clear(self) -> None:
        """Remove every blob under the store's prefix (the rest of the container stays)."""
        self.rmdir("")

    # -- fast paths -------------------------------------------------------------------

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        keys = [k for k in dict.fromkeys(keys) if type(k) is str and _is_canonical(k)]
        values = self._map(self._download, [self._name(k) for k in keys])
        return {k: v for k, v in zip(keys, values) if v is not None}

    def setitems(self, mapping: Mapping[str, Any]) -> None:
        self._check_writable()
        items = []
        for key, value in mapping.items():  # refuse bad keys and values before any write
            _check_canonical(key)
            items.append((self._name(key), bytes(as_buffer(value))))
        self._map(self._upload, items)

    def delitems(self, keys: Iterable[str]) -> None:
        self._check_writable()
        self._delete_names([self._name(k) for k in dict.fromkeys(keys)
                            if type(k) is str and _is_canonical(k)])

    def get_partial(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0 or None, not {length}")
        name = self._read_name(key)
        if start >= 0 and length != 0:
            if start == 0 and length is None:
                return self[key]
            # one ranged GET; the service answers 416 for a range past the end
            try:
                return self.client.download_blob(name, offset=start, length=length).readall()
            except self._not_found as e:
                raise KeyError(key) from e
            except self._http_error as e:
                if getattr(e, "status_code", None) == 416:
                    return b""
                raise
        # the size is needed first; the read is made on that version of the blob only
        blob = self.client.get_blob_client(name)
        for _ in range(_RANGE_TRIES):
            try:
                props = blob.get_blob_properties()
            except self._not_found as e:
                raise KeyError(key) from e
            offset, count = _slice_range(props.size, start, length)
            if count == 0:
                return b""
            try:
                return self.client.download_blob(
                    name, offset=offset, length=count, etag=props.etag,
                    match_condition=self._if_not_modified).readall()
            except (self._modified, self._not_found):
                continue  # rewritten or removed meanwhile: ask again
        raise RuntimeError(f"{key!r} in {self!r} kept changing while its end was read")

    def listdir(self, path: str = "") -> list[str]:
        folder = self._folder(path)
        n = len(folder or "")
        names = {item.name[n:].rstrip("/")
                 for item in self.client.walk_blobs(name_starts_with=folder, delimiter="/")}
        names.discard("")
        return sorted(names)

    def rmdir(self, path: str = "") -> None:
        self._check_writable()
        self._delete_names(self._names_under(path))

    def getsize(self, path: str = "") -> int:
        path = _normalize_path(path)
        if path:
            try:
                return self.client.get_blob_client(self._name(path)).get_blob_properties().size
            except self._not_found:
                pass
        return sum(b.size for b in self.client.list_blobs(name_starts_with=self._folder(path)))

    def rename(self, src: str, dst: str) -> None:
        self._check_writable()
        src = _normalize_path(src)
        dst = _normalize_path(dst)
        _check_rename(src, dst)
        n = len(self._head)
        moves = [name[n:] for name in self._names_under(src)]
        if src in self:
            moves.insert(0, src)
        if not moves:
            raise KeyError(src)
        cut = len(src)
        for i in range(0, len(moves), _RENAME_BATCH):
            values = self.getitems(moves[i:i + _RENAME_BATCH])
            # a key removed since it was listed is simply not moved
            self.setitems({dst + key[cut:]: value for key, value in values.items()})
            self._delete_names([self._name(key) for key in values])

    def close(self) -> None:
        """Stop the store's threads, and close the client when the store made it (a
        client passed in as ``client=`` belongs to the caller and stays open)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        if self._owns_client:
            self.client.close()
