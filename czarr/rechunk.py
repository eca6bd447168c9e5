"""Out-of-core rechunking: copy an array into new chunks, codecs or format with bounded memory.

:func:`rechunk` copies in *blocks*: regions aligned with the grid the destination is
written in (its chunks, or its shards), so no two blocks ever write the same stored chunk
and blocks can run in parallel, be retried, and be skipped once done. A block's memory is
estimated as its buffer, the compressed source chunks it touches (fetched in one batch),
its encoded output and a chunk of each side; blocks are made as large as ``max_mem``
divided among the workers allows. When even one destination-aligned block would touch too
much of the source (source and target chunks both large and crossed, e.g. ``(1, N)`` to
``(N, 1)``), the copy goes through an intermediate array whose chunks fit both sides, the
idea of the ``rechunker`` package: stage 1 reads the source along its chunks, stage 2
writes the target along its own. Finished blocks are recorded in a small JSON document at
``<target>/.czarr_rechunk_progress`` (a bitmap per stage), so a rerun after an
interruption finishes the work without redoing them; the document and the intermediate
array are removed at the end.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import threading
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from czarr import config
from czarr.errors import ContainsArrayError
from czarr.util import parse_bytes

__all__ = ["rechunk", "RechunkProgress", "MaxMemError", "parse_bytes", "PROGRESS_KEY"]

PROGRESS_KEY = ".czarr_rechunk_progress"
_TMP_NAME = ".czarr_rechunk_tmp"
_SAME = "same"  # keep the source's codecs
# blocks smaller than this are grown (when memory allows) to spread per-call costs
_MIN_BLOCK_BYTES = 32 * 2**20


class MaxMemError(ValueError):
    """``max_mem`` cannot hold the copy of even one chunk."""


@dataclass(frozen=True)
class RechunkProgress:
    """What a progress callback receives after each finished block."""

    stage: int          # 1-based; the last stage writes the target
    nstages: int        # 1 (direct) or 2 (through an intermediate array)
    blocks_done: int    # in this stage, including blocks finished by an earlier run
    blocks_total: int
    bytes_done: int     # uncompressed bytes copied, over all stages
    bytes_total: int


# ------------------------------------------------------------------------------ planning

def _roundup(n: int, m: int) -> int:
    return -(-n // m) * m


def _touched(block: tuple[int, ...], src: tuple[int, ...], shape: tuple[int, ...]
             ) -> list[int]:
    """Per dimension, the largest extent of source chunks one block can overlap."""
    out = []
    for b, a, s in zip(block, src, shape):
        whole = _roundup(s, a)
        if b >= s:
            out.append(whole)
        elif b % a == 0:
            out.append(b)  # blocks start on multiples of b, hence of a
        else:
            out.append(min(whole, (-(-b // a) + 1) * a))
    return out


def _cost(block: tuple[int, ...], src: tuple[int, ...], dst: tuple[int, ...],
          shape: tuple[int, ...], itemsize: int) -> int:
    """Bytes one block may hold at once: its buffer, its encoded chunks, the compressed
    source chunks fetched for it (worst case: stored raw) and a chunk of each side."""
    vol = math.prod(block) * itemsize
    return (2 * vol + math.prod(_touched(block, src, shape)) * itemsize
            + (math.prod(src) + math.prod(dst)) * itemsize)


def _amplification(block: tuple[int, ...], src: tuple[int, ...], shape: tuple[int, ...]
                   ) -> float:
    """How many times the source is decoded over a whole copy (1.0: once)."""
    return math.prod(t / b for t, b in zip(_touched(block, src, shape), block))


def _plan_block(shape: tuple[int, ...], src: tuple[int, ...], dst: tuple[int, ...],
                itemsize: int, budget: int) -> tuple[int, ...] | None:
    """The block (a multiple of ``dst`` per dimension, clipped to ``shape``) for copying
    from ``src`` chunks into ``dst`` chunks within ``budget`` bytes; None if none fits."""
    block = [min(d, s) for d, s in zip(dst, shape)]

    def fits(b: list[int]) -> bool:
        return _cost(tuple(b), src, dst, shape, itemsize) <= budget

    if not fits(block):
        return None

    def grow(d: int, new: int) -> bool:
        new = min(new, shape[d])
        if new <= block[d]:
            return False
        trial = block.copy()
        trial[d] = new
        if fits(trial):
            block[:] = trial
            return True
        return False

    # first cover the source chunks (no block should decode a source chunk for a sliver)
    changed = True
    while changed:
        changed = False
        touched = _touched(tuple(block), src, shape)
        dims = sorted(range(len(shape)), key=lambda d: block[d] / touched[d])
        for d in dims:
            if touched[d] <= block[d]:
                continue
            lcm = math.lcm(src[d], dst[d])
            for new in (_roundup(src[d], dst[d]), lcm, 2 * block[d]):
                if new > block[d] and grow(d, new):
                    changed = True
                    break
            if changed:
                break
    # then make small blocks bigger, last dimension first, while memory allows
    while math.prod(block) * itemsize < _MIN_BLOCK_BYTES:
        for d in reversed(range(len(shape))):
            if grow(d, 2 * block[d]):
                break
        else:
            break
    return tuple(block)


def _consolidate(shape: tuple[int, ...], chunks: tuple[int, ...], itemsize: int,
                 limit: int) -> tuple[int, ...]:
    """``chunks`` grown by whole multiples (first dimension first) up to ``limit`` bytes."""
    out = [min(c, s) for c, s in zip(chunks, shape)]
    for d in range(len(shape)):
        while out[d] < shape[d]:
            trial = min(shape[d], 2 * out[d])
            if math.prod(out) // out[d] * trial * itemsize > limit:
                break
            out[d] = trial
    return tuple(out)


@dataclass(frozen=True)
class _Plan:
    blocks: tuple[tuple[int, ...], ...]       # block shape per stage
    intermediate: tuple[int, ...] | None      # the intermediate array's chunks


def plan(shape: tuple[int, ...], source_grid: tuple[int, ...],
         target_grid: tuple[int, ...], itemsize: int, budget: int) -> _Plan:
    """Choose a direct copy or a copy through an intermediate array, per block ``budget``.

    Raises
    ------
    ValueError
        Not even one chunk fits in ``budget`` (names the bytes needed).
    """
    if math.prod(shape) == 0:
        return _Plan((tuple(max(1, min(t, s)) for t, s in zip(target_grid, shape)),), None)
    direct = _plan_block(shape, source_grid, target_grid, itemsize, budget)
    if direct is not None and _amplification(direct, source_grid, shape) <= 2.0:
        return _Plan((direct,), None)
    limit = max(budget // 4, 1)
    inter = tuple(min(r, w) for r, w in zip(
        _consolidate(shape, source_grid, itemsize, limit),
        _consolidate(shape, target_grid, itemsize, limit)))
    one = _plan_block(shape, source_grid, inter, itemsize, budget)
    two = _plan_block(shape, inter, target_grid, itemsize, budget)
    if one is not None and two is not None:
        cost_two = (_amplification(one, source_grid, shape)
                    + _amplification(two, inter, shape))
        if direct is None or cost_two < _amplification(direct, source_grid, shape):
            return _Plan((one, two), inter)
    if direct is not None:
        return _Plan((direct,), None)
    need = _cost(tuple(min(t, s) for t, s in zip(target_grid, shape)), source_grid,
                 target_grid, shape, itemsize)
    raise MaxMemError(f"max_mem too small: copying one chunk needs about {need} bytes per "
                     f"worker, {budget} are available")


def _blocks(shape: tuple[int, ...], block: tuple[int, ...]) -> list[tuple[slice, ...]]:
    starts = [range(0, s, b) for s, b in zip(shape, block)]
    return [tuple(slice(o, min(o + b, s)) for o, b, s in zip(origin, block, shape))
            for origin in itertools.product(*starts)]


# ------------------------------------------------------------------------------ progress

class _Record:
    """The progress document: the plan and a bitmap of finished blocks per stage."""

    def __init__(self, store: MutableMapping | None, key: str, doc: dict) -> None:
        self._store = store
        self._key = key
        self.doc = doc
        self._bits = [bytearray(base64.b64decode(s["done"])) for s in doc["stages"]]
        self._lock = threading.Lock()

    @classmethod
    def new(cls, store: MutableMapping | None, key: str, doc: dict, nblocks: list[int]
            ) -> _Record:
        doc["stages"] = [{"done": base64.b64encode(bytes(-(-n // 8))).decode()}
                         for n in nblocks]
        rec = cls(store, key, doc)
        rec.save()
        return rec

    def is_done(self, stage: int, i: int) -> bool:
        return bool(self._bits[stage][i >> 3] & (1 << (i & 7)))

    def count(self, stage: int) -> int:
        return sum(bin(b).count("1") for b in self._bits[stage])

    def mark(self, stage: int, i: int) -> None:
        with self._lock:
            self._bits[stage][i >> 3] |= 1 << (i & 7)
            self.save()

    def reset(self, stage: int) -> None:
        with self._lock:
            self._bits[stage] = bytearray(len(self._bits[stage]))
            self.save()

    def save(self) -> None:
        if self._store is None:
            return
        for s, bits in zip(self.doc["stages"], self._bits):
            s["done"] = base64.b64encode(bytes(bits)).decode()
        self._store[self._key] = json.dumps(self.doc).encode()


class _Prefixed(MutableMapping):
    """A view of the keys under ``prefix/`` of a store, as a store of its own: the
    intermediate array lives there without making the target's path a group."""

    def __init__(self, store: MutableMapping, prefix: str) -> None:
        self.store = store
        self.prefix = prefix + "/"

    def __getitem__(self, key: str) -> Any:
        return self.store[self.prefix + key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.store[self.prefix + key] = value

    def __delitem__(self, key: str) -> None:
        del self.store[self.prefix + key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (self.prefix + key) in self.store

    def __iter__(self) -> Iterator[str]:
        n = len(self.prefix)
        return (k[n:] for k in list(self.store) if k.startswith(self.prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def getitems(self, keys: list[str]) -> dict[str, Any]:
        from czarr.storage import getitems

        n = len(self.prefix)
        got = getitems(self.store, [self.prefix + k for k in keys])
        return {k[n:]: v for k, v in got.items()}

    def setitems(self, values: dict[str, Any]) -> None:
        from czarr.storage import setitems

        setitems(self.store, {self.prefix + k: v for k, v in values.items()})

    def listdir(self, path: str = "") -> list[str]:
        from czarr.storage import listdir

        return listdir(self.store, _join(self.prefix, path))

    def rmdir(self, path: str = "") -> None:
        from czarr.storage import rmdir

        rmdir(self.store, _join(self.prefix, path))


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


# ------------------------------------------------------------------------------ copying

def _array_kwargs(source: Any, compressor: Any, filters: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "dtype": source.dtype,
        "fill_value": getattr(source, "fill_value", None),
        "order": getattr(source, "order", "C"),
    }
    if compressor is _SAME or compressor == _SAME:
        kwargs["compressor"] = getattr(source, "compressor", None)
    else:
        kwargs["compressor"] = compressor
    kwargs["filters"] = getattr(source, "filters", None) if filters is _SAME else filters
    return kwargs


def _copy_blocks(src: Any, dst: Any, blocks: list[tuple[slice, ...]], record: _Record,
                 stage: int, workers: int, on_block: Callable[[int, int], None]) -> None:
    todo = [i for i in range(len(blocks)) if not record.is_done(stage, i)]
    failed: list[BaseException] = []

    def one(i: int) -> None:
        if failed:
            return
        region = blocks[i]
        dst[region] = src[region]
        record.mark(stage, i)
        on_block(stage, math.prod(s.stop - s.start for s in region))

    if workers <= 1 or len(todo) <= 1:
        for i in todo:
            one(i)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="czarr-rechunk") as pool:
        futures = [pool.submit(one, i) for i in todo]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for f in done:
            if f.exception() is not None:
                failed.append(f.exception())
                for g in futures:
                    g.cancel()
                raise f.exception()


def _open_target(target_store: MutableMapping, target_path: str) -> Any:
    from czarr.core import Array

    return Array(target_store, path=target_path, write_empty_chunks=False)


def rechunk(
    source: Any,
    target_chunks: tuple[int, ...] | list[int] | None,
    target_store: Any,
    max_mem: int | str = "1GiB",
    temp_store: Any = None,
    target_path: str | None = None,
    compressor: Any = _SAME,
    filters: Any = _SAME,
    zarr_format: int | None = None,
    shards: tuple[int, ...] | list[int] | None = None,
    overwrite: bool = False,
    progress: Callable[[RechunkProgress], Any] | None = None,
    workers: int | None = None,
    storage_options: dict | None = None,
) -> Any:
    """Copy ``source`` into a new array with ``target_chunks``, out of core.

    Memory stays bounded by ``max_mem`` (the data buffers of all workers together), the
    blocks run in parallel, and an interrupted run, rerun with the same target, finishes
    without redoing the blocks it had finished (it keeps the plan it started with).

    Parameters
    ----------
    source : czarr.Array
        What to copy (anything with ``shape``, ``dtype``, ``chunks`` and NumPy slicing,
        such as a zarr-python or h5py array, works too).
    target_chunks : tuple of int, optional
        The new chunk shape (the inner chunks when ``shards`` is given); ``-1`` or None
        in a dimension means the whole extent; None keeps the source's chunks.
    target_store : store, path or URL
        Where the new array goes.
    max_mem : int or str
        Bytes (``'256MiB'``) the copy's buffers may use at once, over all workers.
    temp_store : store, path or URL, optional
        Where an intermediate array goes when one is needed; by default inside the target
        (``<target_path>/.czarr_rechunk_tmp``), or a temporary folder for a ``.zip`` target.
    target_path : str, optional
        The new array's path in ``target_store``.
    compressor, filters : optional
        The new array's codecs; the source's by default.
    zarr_format : {2, 3}, optional
        The new array's format; the source's by default.
    shards : tuple of int, optional
        Zarr v3: the shard shape (a multiple of ``target_chunks``); blocks follow shards.
    overwrite : bool
        Replace an array already at the target (one with a progress document is resumed).
    progress : callable, optional
        Called with a :class:`RechunkProgress` after each block.
    workers : int, optional
        Blocks copied at once; ``czarr.config`` threads by default.
    storage_options : dict, optional
        For stores made from URLs.

    Returns
    -------
    czarr.Array
        The new array.

    Raises
    ------
    ValueError
        ``max_mem`` does not hold the blocks of even one chunk, or ``target_chunks`` does
        not match the source's dimensions.
    ContainsArrayError
        An array (not a resumable one) is at the target and not ``overwrite``.
    """
    from czarr.creation import create
    from czarr.layout import contains_array, normalize_path
    from czarr.storage import ZipStore, normalize_store_arg, rmdir

    budget_total = parse_bytes(max_mem)
    shape = tuple(int(s) for s in source.shape)
    src_chunks = tuple(int(c) for c in getattr(source, "chunks", None) or shape) or ()
    if target_chunks is None:
        target_chunks = src_chunks
    target_chunks = tuple(target_chunks)
    if len(target_chunks) != len(shape):
        raise ValueError(f"target_chunks {target_chunks} has {len(target_chunks)} dimensions, "
                         f"the source {shape} has {len(shape)}")
    target_chunks = tuple(s if (c is None or c == -1) else int(c)
                          for c, s in zip(target_chunks, shape))
    target_chunks = tuple(max(1, c) for c in target_chunks)
    if any(c < 1 for c in target_chunks):
        raise ValueError(f"chunk sizes must be positive, got {target_chunks}")
    itemsize = np.dtype(source.dtype).itemsize
    src_grid = tuple(getattr(source, "shards", None) or src_chunks)
    dst_grid = tuple(shards) if shards else target_chunks
    workers = workers or config.get_threads()

    store = normalize_store_arg(target_store, storage_options=storage_options, mode="a")
    path = normalize_path(target_path)
    can_delete = not isinstance(store, ZipStore)
    progress_key = _join(path, PROGRESS_KEY)
    fmt = zarr_format or getattr(source, "zarr_format", 2)

    doc = None
    if can_delete and progress_key in store:
        doc = json.loads(bytes(store[progress_key]))
        if doc.get("shape") != list(shape) or doc.get("target_chunks") != list(target_chunks):
            raise ValueError(f"the interrupted rechunk at {progress_key!r} was of shape "
                             f"{doc.get('shape')} into chunks {doc.get('target_chunks')}, "
                             f"not {list(shape)} into {list(target_chunks)}")
    elif contains_array(store, path):
        if not overwrite:
            raise ContainsArrayError(f"an array is already at {path or '/'!r} in the target "
                                     "(pass overwrite=True to replace it)")

    # per worker budget; fewer workers when the memory is too small for all of them
    the_plan = None
    if doc is not None:
        inter = doc.get("intermediate")
        the_plan = _Plan(tuple(tuple(b) for b in doc["blocks"]),
                         tuple(inter["chunks"]) if inter else None)
    else:
        for w in range(max(1, workers), 0, -1):
            try:
                the_plan = plan(shape, src_grid, dst_grid, itemsize, budget_total // w)
                workers = w
                break
            except MaxMemError:
                if w == 1:
                    raise
    assert the_plan is not None
    if doc is not None:
        workers = max(1, min(workers, int(doc.get("workers", workers))))

    # the intermediate array's home: keys under a hidden prefix, removed at the end
    tmp_path = ""
    if temp_store is not None:
        base = normalize_store_arg(temp_store, storage_options=storage_options, mode="a")
        tmp_store = _Prefixed(base, _join(path, _TMP_NAME) if base is store else _TMP_NAME)
    elif can_delete:
        tmp_store = _Prefixed(store, _join(path, _TMP_NAME))
    else:
        from czarr.storage import TempStore

        tmp_store = _Prefixed(TempStore(prefix="czarr-rechunk-"), _TMP_NAME)

    nblocks = [len(_blocks(shape, b)) for b in the_plan.blocks]
    if doc is None:
        if contains_array(store, path):
            rmdir(store, path)  # overwrite, checked above
        doc = {"format": 1, "shape": list(shape), "dtype": str(source.dtype),
               "target_chunks": list(target_chunks), "workers": workers,
               "blocks": [list(b) for b in the_plan.blocks],
               "intermediate": None if the_plan.intermediate is None else {
                   "chunks": list(the_plan.intermediate), "token": uuid.uuid4().hex}}
        record = _Record.new(store if can_delete else None, progress_key, doc, nblocks)
    else:
        record = _Record(store, progress_key, doc)
    if not contains_array(store, path):  # new, or killed before the array was made
        kwargs = _array_kwargs(source, compressor, filters)
        create(shape, chunks=target_chunks, store=store, path=path, zarr_format=fmt,
               shards=tuple(shards) if shards else None, overwrite=False,
               write_empty_chunks=False, **kwargs)
        attrs = getattr(source, "attrs", None)
        if attrs is not None:
            _open_target(store, path).attrs.update(dict(attrs))
    target = _open_target(store, path)

    bytes_total = int(np.prod(shape, dtype=np.int64)) * itemsize * len(nblocks)
    lock = threading.Lock()
    stage_bytes = [0] * len(nblocks)

    def report(stage: int, items: int) -> None:
        with lock:
            stage_bytes[stage] += items * itemsize
            if progress is not None:
                done_bytes = sum(stage_bytes) + base_bytes
                progress(RechunkProgress(stage + 1, len(nblocks), record.count(stage),
                                         nblocks[stage], min(done_bytes, bytes_total),
                                         bytes_total))

    # bytes finished by an earlier run, estimated from block counts
    total_items = int(np.prod(shape, dtype=np.int64))
    base_bytes = sum(record.count(s) * total_items * itemsize // max(nblocks[s], 1)
                     for s in range(len(nblocks)))

    with config.set(threads=1):  # parallel over blocks, not inside them
        if the_plan.intermediate is None:
            _copy_blocks(source, target, _blocks(shape, the_plan.blocks[0]), record, 0,
                         workers, report)
        else:
            token = doc["intermediate"]["token"]
            inter = _intermediate(tmp_store, tmp_path, source, the_plan.intermediate, token)
            if inter is None:  # lost (another temp_store): stage 1 again
                record.reset(0)
                inter = _intermediate(tmp_store, tmp_path, source, the_plan.intermediate,
                                      token, create_new=True)
            if record.count(1) < nblocks[1]:
                _copy_blocks(source, inter, _blocks(shape, the_plan.blocks[0]), record, 0,
                             workers, report)
                _copy_blocks(inter, target, _blocks(shape, the_plan.blocks[1]), record, 1,
                             workers, report)
            rmdir(tmp_store, tmp_path)
    if can_delete:
        del store[progress_key]
    return _open_target(store, path)


def _intermediate(store: MutableMapping, path: str, source: Any, chunks: tuple[int, ...],
                  token: str, create_new: bool = False) -> Any:
    """The intermediate array (made when ``create_new``); None when it is missing or not
    the one this rechunk made (its ``token`` attribute differs)."""
    from czarr.codecs import Blosc
    from czarr.creation import create
    from czarr.layout import contains_array

    if not create_new:
        if not contains_array(store, path):
            return None
        arr = _open_target(store, path)
        return arr if arr.attrs.get("czarr_rechunk_token") == token else None
    codecs: dict[str, Any] = {"compressor": Blosc(cname="lz4", clevel=1,
                                                  shuffle=Blosc.SHUFFLE)}
    if np.dtype(source.dtype).hasobject:  # object items need the source's object codec
        codecs = {"compressor": getattr(source, "compressor", None),
                  "filters": getattr(source, "filters", None)}
    arr = create(tuple(source.shape), chunks=chunks, dtype=source.dtype, store=store,
                 path=path, overwrite=True, fill_value=getattr(source, "fill_value", None),
                 **codecs)
    arr.attrs["czarr_rechunk_token"] = token
    return arr


def iter_block_regions(shape: tuple[int, ...], block: tuple[int, ...]
                       ) -> Iterator[tuple[slice, ...]]:
    """The regions a copy in blocks of ``block`` visits (for tests and tools)."""
    yield from _blocks(shape, block)
