"""Dask arrays over czarr arrays, both ways: :func:`to_dask` and :func:`from_dask`.

``to_dask`` is czarr's ``dask.array.from_zarr``: a dask array whose blocks are whole
stored chunks (whole shards for a sharded Zarr v3 array), or multiples of them, each
block read by its own task. ``from_dask`` is czarr's ``dask.array.to_zarr``: it creates
an array whose chunks are the dask blocks and stores every block in its own task, so no
two tasks ever write one chunk and no write needs a lock. The array travels to the
tasks pickled, which is small for every store that lives outside the process (a folder,
a database file, a bucket URL: the path and options, never the data). A store that
lives in this process's memory (``MemoryStore``, a ``dict``, fsspec's ``memory://``)
cannot travel to worker processes: these functions refuse it when the active dask
scheduler runs tasks in other processes, and a task that reaches another process with
one anyway fails with the same explanation instead of reading or writing a copy. Dask
is imported only when one of these functions runs (``pip install 'czarr[dask]'``).
"""

from __future__ import annotations

import itertools
import os
import threading
import uuid
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from czarr.core import Array
from czarr.storage.base import import_optional, normalize_store_arg

if TYPE_CHECKING:
    import dask.array
    from dask.delayed import Delayed

__all__ = ["from_dask", "to_dask"]


# ---------------------------------------------------------------------------------------
# where a store lives
# ---------------------------------------------------------------------------------------


def _memory_store_name(store: Any, depth: int = 0) -> str | None:
    """The kind of in-process store ``store`` is (or wraps), or None if it can travel."""
    from czarr.storage.memory import KVStore, MemoryStore

    if store is None or depth > 8:
        return None
    if isinstance(store, MemoryStore):
        return type(store).__name__
    if isinstance(store, dict):
        return "dict"
    if isinstance(store, KVStore):
        return _memory_store_name(store._mutable_mapping, depth + 1)
    fs = getattr(store, "fs", None)
    protocol = getattr(fs, "protocol", None)
    if fs is not None and "memory" in ((protocol,) if isinstance(protocol, str) else protocol):
        return "FSStore over fsspec's memory:// filesystem"
    for attribute in ("_store", "store"):  # LRUStoreCache, ConsolidatedMetadataStore
        inner = getattr(store, attribute, None)
        if inner is not None and inner is not store:
            return _memory_store_name(inner, depth + 1)
    return None


def _in_memory(array: Array) -> str | None:
    return _memory_store_name(array._store) or _memory_store_name(array._chunk_store)


def _unshippable_message(kind: str) -> str:
    return (
        f"the array's store is an in-memory store ({kind}): a MemoryStore lives in this "
        "process; dask workers in other processes cannot see it. Use a store outside the "
        "process (DirectoryStore, ZipStore, SQLiteStore, LMDBStore, FSStore over s3:// "
        "...), or dask's threaded or synchronous scheduler "
        "(dask.config.set(scheduler='threads'))"
    )


def _scheduler_shares_memory() -> bool:
    """Whether dask's active scheduler runs tasks in this process (threads or inline)."""
    from concurrent.futures import ThreadPoolExecutor

    import dask.array
    import dask.base
    import dask.local
    import dask.threaded

    get = dask.base.get_scheduler(cls=dask.array.Array)
    if get is dask.threaded.get or get is dask.local.get_sync:
        return True
    # scheduler=ThreadPoolExecutor(...) is partial(dask.local.get_async, pool.submit, n)
    args = getattr(get, "args", ())
    executor = getattr(args[0], "__self__", None) if args else None
    return getattr(get, "func", None) is dask.local.get_async and isinstance(
        executor, ThreadPoolExecutor)


def _check_can_travel(kind: str | None, what: str) -> None:
    """Refuse an in-memory store (``kind``) when dask's scheduler leaves the process."""
    if kind is not None and not _scheduler_shares_memory():
        raise ValueError(f"{what}: dask's active scheduler runs tasks in other processes, "
                         f"and {_unshippable_message(kind)}")


# ---------------------------------------------------------------------------------------
# what the tasks hold: the array, small when pickled
# ---------------------------------------------------------------------------------------

# arrays over in-memory stores, by token: unpickling one in this process finds it again,
# in another process finds nothing and fails clearly when used
_LIVE: weakref.WeakValueDictionary[str, _Blocks] = weakref.WeakValueDictionary()
_LIVE_LOCK = threading.Lock()


class _Blocks:
    """A czarr array as dask sees it: ``shape``, ``dtype``, ``ndim``, and reads and writes
    of one block's region (a tuple of slices).

    Pickled, it is the array's own (small) pickle, except over an in-memory store: then
    it is only a token, so the data is never copied into a task. Unpickled in the same
    process (a scheduler that serialises tasks without leaving the process) the token
    finds the live object; in another process every read and write raises.
    """

    def __init__(self, array: Array) -> None:
        self.array = array
        self.shape = array.shape
        self.dtype = array.dtype
        self.ndim = array.ndim
        self._memory_kind = _in_memory(array)
        self._token = uuid.uuid4().hex
        if self._memory_kind is not None:
            with _LIVE_LOCK:
                _LIVE[self._token] = self

    def __reduce__(self) -> tuple[Any, ...]:
        if self._memory_kind is None:
            return (_Blocks, (self.array,))
        return (_find_live, (self._token, self._memory_kind, self.shape, self.dtype.str))

    def __dask_tokenize__(self) -> str:
        return self._token

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray:
        return np.asarray(self.array.get_basic_selection(region))

    def __setitem__(self, region: tuple[slice, ...], block: Any) -> None:
        self.array.set_basic_selection(region, block)


class _Unreachable:
    """What an in-memory array's token becomes in a process that does not hold it."""

    def __init__(self, kind: str, shape: tuple[int, ...], dtype: str) -> None:
        self.kind = kind
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self.ndim = len(shape)

    def _fail(self) -> None:
        raise RuntimeError(
            f"a dask task in process {os.getpid()} cannot use a czarr array over an "
            f"in-memory store: {_unshippable_message(self.kind)}")

    def __getitem__(self, region: Any) -> Any:
        self._fail()

    def __setitem__(self, region: Any, block: Any) -> None:
        self._fail()


def _find_live(token: str, kind: str, shape: tuple[int, ...], dtype: str) -> Any:
    with _LIVE_LOCK:
        live = _LIVE.get(token)
    return live if live is not None else _Unreachable(kind, shape, dtype)


# ---------------------------------------------------------------------------------------
# chunk arithmetic
# ---------------------------------------------------------------------------------------


def _misaligned(blocks: tuple[tuple[int, ...], ...], unit: tuple[int, ...]
                ) -> tuple[int, int, int] | None:
    """The first (axis, block edge, unit) where a block edge is not a multiple of the
    unit, or None when every block starts and ends on a unit boundary (the last block
    may end at the array's end)."""
    for axis, (sizes, u) in enumerate(zip(blocks, unit)):
        for edge in itertools.accumulate(sizes[:-1]):
            if edge % u:
                return axis, edge, u
    return None


def _regular_chunk_shape(blocks: tuple[tuple[int, ...], ...]) -> tuple[int, ...] | None:
    """The chunk shape of regular dask chunks (equal blocks, a smaller last one), or None."""
    shape = []
    for sizes in blocks:
        first = sizes[0] if sizes else 0
        if any(s != first for s in sizes[:-1]) or (sizes and sizes[-1] > first):
            return None
        shape.append(max(first, 1))  # a zero-length axis still has a chunk size
    return tuple(shape)


# ---------------------------------------------------------------------------------------
# to_dask
# ---------------------------------------------------------------------------------------


def to_dask(array_or_url: Any, chunks: Any = None, *, name: str | None = None,
            **open_kwargs: Any) -> dask.array.Array:
    """A dask array reading a czarr array, one task per block (``da.from_zarr``'s twin).

    Parameters
    ----------
    array_or_url : czarr.Array, str, os.PathLike or MutableMapping
        An array, or where one is: a path, a URL (``s3://...``) or a store, opened
        read-only with :func:`czarr.open_array` (``mode='r'`` unless ``open_kwargs``
        say otherwise).
    chunks : int, tuple or 'auto', optional
        The dask blocks, in any form ``dask.array.from_array`` takes. Default: the
        stored chunks, or the shards of a sharded Zarr v3 array (a shard is what one
        read fetches). Every block must start on a chunk boundary: block sizes must be
        multiples of the chunk size (the inner chunk size of a sharded array), except
        the last block along an axis.
    name : str, optional
        The dask array's name (default: a fresh unique name).
    **open_kwargs
        Passed to :func:`czarr.open_array` when ``array_or_url`` is not an array:
        ``path=``, ``storage_options=``, ``mode=``...

    Returns
    -------
    dask.array.Array

    Raises
    ------
    ValueError
        ``chunks`` cuts stored chunks; or the array is over an in-memory store
        (``MemoryStore``, a ``dict``, ``memory://``) while dask's active scheduler runs
        tasks in other processes (``processes``, ``dask.distributed``): such a store
        does not exist in a worker process. With the threaded or synchronous scheduler
        an in-memory array works; computed later in another process, a task fails with
        a ``RuntimeError`` saying the same.
    MissingDependencyError
        Dask is not installed.

    Notes
    -----
    The array goes into the graph once and travels to each worker pickled: for a store
    outside the process that is the store's path or URL and options, never the data.
    """
    da = import_optional("dask.array", "dask", "czarr.to_dask")
    if isinstance(array_or_url, Array):
        if open_kwargs:
            raise TypeError(f"to_dask got an array and open arguments {sorted(open_kwargs)}; "
                            "open arguments apply only to a path, URL or store")
        array = array_or_url
    else:
        from czarr.creation import open_array

        open_kwargs.setdefault("mode", "r")
        array = open_array(array_or_url, **open_kwargs)
    _check_can_travel(_in_memory(array), "czarr.to_dask")
    stored = tuple(array.chunks)
    if chunks is None:
        chunks = array.shards or stored
    blocks = da.core.normalize_chunks(chunks, array.shape, dtype=array.dtype,
                                      previous_chunks=array.shards or stored)
    bad = _misaligned(blocks, stored)
    if bad is not None:
        axis, edge, unit = bad
        raise ValueError(
            f"chunks={chunks!r} cuts the stored chunks {stored} of {array!r}: along axis "
            f"{axis} a block ends at {edge}, not a multiple of {unit}. Use multiples of "
            f"the stored chunks (e.g. chunks={tuple(array.shards or stored)})")
    if name is None:
        name = "czarr-" + uuid.uuid4().hex
    meta = np.empty((0,) * array.ndim, dtype=array.dtype)
    return da.from_array(_Blocks(array), chunks=blocks, name=name, lock=False,
                         asarray=False, fancy=False, meta=meta, inline_array=False)


# ---------------------------------------------------------------------------------------
# from_dask
# ---------------------------------------------------------------------------------------


def from_dask(
    x: Any,
    store_or_url: Any,
    path: str | None = None,
    compressor: Any = "default",
    overwrite: bool = False,
    compute: bool = True,
    *,
    chunks: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    synchronizer: Any = None,
    **create_kwargs: Any,
) -> Array | Delayed:
    """Store a dask array as a czarr array, one task per block (``da.to_zarr``'s twin).

    Parameters
    ----------
    x : dask.array.Array or array-like
        What to store (an array-like becomes one dask block per chunk).
    store_or_url : MutableMapping, str, os.PathLike or czarr.Array
        Where: a store, a path (a ``DirectoryStore``; ``.zip`` a ``ZipStore``) or a
        URL (``s3://...``, an ``FSStore`` with ``storage_options``). An existing
        ``czarr.Array`` of ``x``'s shape is written into as it is (then ``path``,
        ``compressor``, ``chunks`` and ``create_kwargs`` must not be given).
    path : str, optional
        Path of the new array inside the store.
    compressor : codec, None or 'default'
        As :func:`czarr.create`.
    overwrite : bool
        Replace what is at ``path``.
    compute : bool
        Store now (the default), or return the delayed store operation.
    chunks : int or tuple of int, optional
        The chunk shape. Default: the dask blocks, which must then be regular (equal
        blocks along each axis, the last one possibly smaller). With ``chunks=`` the
        dask blocks must still start on chunk boundaries (on shard boundaries with
        ``shards=``): two tasks writing parts of one chunk would each read, change and
        write the whole chunk, and one would lose the other's values. That is refused
        unless a ``synchronizer`` gives each chunk a lock.
    storage_options : dict, optional
        fsspec options for a URL (credentials, ``client_kwargs``...).
    synchronizer : optional
        Passed to :func:`czarr.create`; allows blocks that are not aligned to chunks.
    **create_kwargs
        Anything else :func:`czarr.create` takes (``filters``, ``fill_value``,
        ``zarr_format``, ``shards``, ``dimension_separator``...).

    Returns
    -------
    czarr.Array or dask.delayed.Delayed
        The array written (``compute=True``), else the delayed store operation: computing
        it writes every block and returns the array.

    Raises
    ------
    ValueError
        Irregular dask chunks without ``chunks=``; blocks that cut chunks (or shards)
        without a ``synchronizer``; an in-memory store (``MemoryStore``, ``dict``,
        ``memory://``) while dask's active scheduler runs tasks in other processes (with
        threads it works; see :func:`to_dask`).
    MissingDependencyError
        Dask is not installed.
    """
    da = import_optional("dask.array", "dask", "czarr.from_dask")
    from czarr.creation import create
    from czarr.metadata.normalize import normalize_chunks

    if not isinstance(x, da.Array):
        x = da.asarray(x) if chunks is None else da.from_array(np.asarray(x), chunks=chunks)
    if any(np.isnan(size) for sizes in x.chunks for size in sizes):
        raise ValueError(f"the dask array's chunk sizes are unknown ({x.chunks}): call "
                         "x.compute_chunk_sizes() first, so each block's place is known")
    if isinstance(store_or_url, Array):
        given = {"path": path, "chunks": chunks, "storage_options": storage_options}
        extra = sorted(k for k, v in given.items() if v is not None)
        extra += sorted(create_kwargs) + (["compressor"] if compressor != "default" else [])
        if extra:
            raise TypeError(f"from_dask into an existing array takes no creation arguments, "
                            f"got {extra}")
        array = store_or_url
        if tuple(array.shape) != tuple(x.shape):
            raise ValueError(f"cannot store a dask array of shape {x.shape} into "
                             f"{array!r} of shape {array.shape}")
        unit = tuple(array.shards or array.chunks)
        sharded = array.shards is not None
        synchronizer = synchronizer or getattr(array, "_synchronizer", None)
        _check_can_travel(_in_memory(array), "czarr.from_dask")
    else:
        itemsize = max(1, np.dtype(x.dtype).itemsize)
        if chunks is None:
            chunks = _regular_chunk_shape(x.chunks)
            if chunks is None:
                raise ValueError(
                    f"the dask array's chunks {x.chunks} are irregular: a czarr array has "
                    "one chunk shape. Rechunk first (x.rechunk(...)), or pass chunks= "
                    "with block edges on multiples of it")
        chunks = normalize_chunks(chunks, x.shape, itemsize)
        shards = create_kwargs.get("shards")
        sharded = shards is not None
        unit = normalize_chunks(shards, x.shape, itemsize) if sharded else chunks
        store = normalize_store_arg(store_or_url, dict(storage_options or {}),
                                    mode="w" if overwrite else "a")
        _check_can_travel(_memory_store_name(store), "czarr.from_dask")
    bad = _misaligned(x.chunks, unit)
    if bad is not None and synchronizer is None:
        axis, edge, size = bad
        what = "shard" if sharded else "chunk"
        raise ValueError(
            f"the dask blocks {x.chunks} are not aligned to the {what} shape {unit}: along "
            f"axis {axis} a block ends at {edge}, not a multiple of {size}, so two tasks "
            f"would write one {what} and one could lose the other's values. Rechunk "
            f"(x.rechunk({unit})), or pass synchronizer= to lock each chunk")
    if not isinstance(store_or_url, Array):
        if synchronizer is not None:
            create_kwargs["synchronizer"] = synchronizer
        array = create(shape=x.shape, chunks=chunks, dtype=x.dtype, compressor=compressor,
                       store=store, path=path, overwrite=overwrite, **create_kwargs)
    target = _Blocks(array)
    stored = da.store(x, target, lock=False, compute=False)
    # one task that waits for every block's store and gives the array back
    import dask

    done = dask.delayed(_stored, pure=True)(target, stored.to_delayed().ravel().tolist(),
                                            dask_key_name="czarr-stored-" + target._token)
    if compute:
        dask.compute(done)
        return array
    return done


def _stored(target: _Blocks, blocks: list[None]) -> Array:
    """The last task of :func:`from_dask`: every block is stored."""
    return target.array
