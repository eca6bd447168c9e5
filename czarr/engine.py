"""The chunk engine: move a projection's chunks between a store and a NumPy array.

``read`` and ``write`` take a :class:`ChunkContext` (one array's store, key layout, codec
pipeline and fill value) and a projection from ``czarr._core.indexing``. The touched
chunks are cut into contiguous batches; each batch fetches its chunks with one batched
store call, decodes them and copies the selected parts (codecs and copies release the
GIL), so with ``czarr.config`` threads > 1 the batches run concurrently on a shared
thread pool, and with 1 thread they run inline. Three fast paths avoid work:

- a chunk that lands on one contiguous run of the output is decoded straight into it;
- any other chunk of a Blosc array is decoded a block at a time, each part of the
  selection going to the output while its block is in cache (only the blocks holding
  selected items are decoded);
- a whole-chunk write is encoded from its part of the source with no copy into a chunk
  buffer (Blosc lz4 gathers a block at a time; other codecs take a contiguous part as is).
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from czarr import config
from czarr._core.copy import all_equal, fill_array
from czarr.pipeline import ChunkPipeline
from czarr.storage import Store, delitems, getitems, setitems

__all__ = ["ChunkContext", "read", "write"]

# batches per thread: a few, so a slow chunk does not leave the other threads idle
_BATCHES_PER_THREAD = 4
# a store whose batched calls go out concurrently gets batches of at least this many
# chunks, so that a read's requests wait out their round trips together
_CONCURRENT_BATCH = 32
# partial decoding pays off when the selected run is at most this fraction of a chunk (for
# Blosc frames czarr does not walk itself, c-blosc then decodes the blocks one at a time)
_PARTIAL_FRACTION = 0.25


@dataclass(frozen=True)
class ChunkContext:
    """What the engine needs to know about one array."""

    store: MutableMapping
    key_prefix: str
    separator: str
    pipeline: ChunkPipeline
    fill_bytes: bytes
    fill_is_nan: bool
    has_fill_value: bool
    write_empty_chunks: bool
    fill_value: Any = None
    zero_key: str | None = None  # a 0-d array's chunk key (key_prefix + "0" when None)
    synchronizer: Any = None     # locks partial-chunk writes (czarr.sync)

    def chunk_keys(self, proj: Any) -> list[str]:
        """The store keys of a projection's chunks, in its order."""
        if self.zero_key is not None and not proj.ndim:
            return [self.zero_key] * proj.nchunks
        return proj.chunk_keys(self.key_prefix, self.separator)

    @property
    def order(self) -> str:
        return self.pipeline.order

    def is_empty(self, chunk: np.ndarray) -> bool:
        """True when ``chunk`` holds only the fill value (so it need not be stored)."""
        if not self.has_fill_value:
            return False
        if chunk.dtype.hasobject:
            return all(_object_equals(x, self.fill_value) for x in chunk.flat)
        if all_equal(chunk.reshape(-1, order="A").view(np.uint8), self.fill_bytes):
            return True
        return self.fill_is_nan and bool(np.isnan(chunk).all())


def _object_equals(x: Any, fill: Any) -> bool:
    """``x == fill`` for one element of an object array, where either may be a sequence
    or an array (then only a plain ``True`` counts as equal)."""
    if isinstance(x, np.ndarray) or isinstance(fill, np.ndarray):
        return False
    try:
        equal = x == fill
    except Exception:
        return False
    return isinstance(equal, (bool, np.bool_)) and bool(equal)


def _batches(n: int, min_batch: int = 1) -> tuple[list[tuple[int, int]], int]:
    threads = min(config.get_threads(), n)
    if threads <= 1:
        return [(0, n)], 1
    nb = max(1, min(n // min_batch, threads * _BATCHES_PER_THREAD))
    threads = min(threads, nb)
    if threads <= 1:
        return [(0, n)], 1
    bounds = [n * b // nb for b in range(nb + 1)]
    return [(bounds[b], bounds[b + 1]) for b in range(nb)], threads


def _run(fn: Any, n: int, store: Any = None) -> list:
    """Run ``fn(lo, hi)`` over batches of ``range(n)``; results in batch order.

    A store whose batched calls go out concurrently (``store.fetches_concurrently``, as
    FSStore over S3) gets batches of at least ``_CONCURRENT_BATCH`` chunks."""
    concurrent = getattr(store, "fetches_concurrently", False)
    batches, threads = _batches(n, _CONCURRENT_BATCH if concurrent else 1)
    if threads == 1:
        return [fn(lo, hi) for lo, hi in batches]
    pool = config.executor(threads)
    futures = [pool.submit(fn, lo, hi) for lo, hi in batches]
    return [f.result() for f in futures]


# ---------------------------------------------------------------------------- reading

def read(ctx: ChunkContext, proj: Any, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (shaped ``proj.out_shape``, the array's dtype) from the store."""
    n = proj.nchunks
    if n == 0:
        return out
    keys = ctx.chunk_keys(proj)
    pipeline = ctx.pipeline
    if pipeline.dtype.hasobject:
        _run(lambda lo, hi: _read_objects(ctx, proj, keys, lo, hi, out), n, ctx.store)
        return out
    direct = (
        not pipeline.filters
        and (ctx.order == "C" or len(pipeline.chunks) <= 1)
        and out.flags.c_contiguous
    )
    flat = out.reshape(-1) if direct else None
    partial = pipeline.supports_partial_decode()
    chunk_items = math.prod(pipeline.chunks)
    fast = pipeline.fast_codec if hasattr(proj, "read_chunks") and out.ndim else None

    def read_batch(lo: int, hi: int) -> None:
        cdatas = getitems(ctx.store, keys[lo:hi])
        if fast is not None:  # the compiled loop: decode and copy with no Python per chunk
            failed = proj.read_chunks(lo, [cdatas.get(k) for k in keys[lo:hi]],
                                      pipeline.empty_chunk(), out, ctx.fill_bytes, fast,
                                      ctx.order, _PARTIAL_FRACTION)
            if failed is not None:
                pipeline.raise_read_error(keys[failed[0]], failed[1])
            return
        chunk = None
        for i in range(lo, hi):
            key = keys[i]
            cdata = cdatas.get(key)
            if cdata is None:
                proj.fill_out(i, out, ctx.fill_bytes)
                continue
            if direct:
                region = proj.out_contiguous_region(i, out)
                if region is not None:
                    pipeline.decode_into(cdata, flat[region[0]:region[1]], key)
                    continue
            if chunk is None:
                chunk = pipeline.empty_chunk()
            if partial:
                start, stop = proj.chunk_item_range(i, ctx.order)
                if (stop - start) <= _PARTIAL_FRACTION * chunk_items and \
                        pipeline.decode_partial(cdata, chunk, start, stop, key):
                    proj.copy_from_chunk(i, chunk, out)
                    continue
            pipeline.decode_into(cdata, chunk, key)
            proj.copy_from_chunk(i, chunk, out)

    _run(read_batch, n, ctx.store)
    return out


def _read_objects(ctx: ChunkContext, proj: Any, keys: list, lo: int, hi: int,
                  out: np.ndarray) -> None:
    """Object arrays: NumPy assignments (references, not bytes, are copied)."""
    cdatas = getitems(ctx.store, keys[lo:hi])
    for i in range(lo, hi):
        cdata = cdatas.get(keys[i])
        if cdata is None:
            out[proj.out_selection(i)] = ctx.fill_value
        else:
            chunk = ctx.pipeline.decode_objects(cdata, keys[i])
            out[proj.out_selection(i)] = chunk[proj.chunk_selection(i)]


# ---------------------------------------------------------------------------- writing

def write(ctx: ChunkContext, proj: Any, value: np.ndarray) -> None:
    """Write ``value`` (shaped ``proj.out_shape``; broadcast views welcome) to the store."""
    n = proj.nchunks
    if n == 0:
        return
    store = ctx.store
    keys = ctx.chunk_keys(proj)
    pipeline = ctx.pipeline
    chunk_shape = pipeline.chunks
    chunk_items = math.prod(chunk_shape)
    # our stores and dicts take concurrent writes; another mapping is written from here
    concurrent_store = isinstance(store, (Store, dict))
    objects = pipeline.dtype.hasobject

    synchronizer = ctx.synchronizer

    def write_batch(lo: int, hi: int) -> tuple[dict[str, Any], list[str]]:
        covered = [proj.chunk_is_covered(i) for i in range(lo, hi)]
        partial_keys = [keys[i] for i, c in zip(range(lo, hi), covered) if not c]
        if synchronizer is None or not partial_keys:
            return write_chunks(lo, hi, covered, partial_keys)
        # hold each partly written chunk's lock from its read to its store (in key order,
        # so writers in other processes cannot deadlock with this one)
        locks = [synchronizer[k] for k in sorted(set(partial_keys))]
        held = []
        try:
            for lock in locks:
                lock.__enter__()
                held.append(lock)
            to_set, to_delete = write_chunks(lo, hi, covered, partial_keys)
            _store_results(store, to_set, to_delete, {})
            return {}, []
        finally:
            for lock in reversed(held):
                lock.__exit__(None, None, None)

    def write_chunks(lo: int, hi: int, covered: list[bool], partial_keys: list[str]
                     ) -> tuple[dict[str, Any], list[str]]:
        existing = getitems(store, partial_keys) if partial_keys else {}
        to_set: dict[str, Any] = {}
        to_delete: list[str] = []
        for i, whole in zip(range(lo, hi), covered):
            key = keys[i]
            chunk = None
            if whole and not proj.chunk_is_edge(i):
                chunk = _whole_chunk_view(value, proj.out_selection(i), chunk_shape,
                                          chunk_items)
                if chunk is not None and ctx.write_empty_chunks:
                    cdata = pipeline.encode_view(chunk)
                    if cdata is not None:
                        to_set[key] = cdata
                        continue
                if chunk is not None and not (chunk.flags.c_contiguous if ctx.order == "C"
                                              else chunk.flags.f_contiguous):
                    chunk = None  # gathered into a chunk buffer below
            if chunk is None and objects:
                cdata = None if whole else existing.get(key)
                if cdata is None:
                    chunk = np.full(chunk_shape, ctx.fill_value, dtype=object,
                                    order=ctx.order)
                else:
                    chunk = pipeline.decode_objects(cdata, key)
                chunk[proj.chunk_selection(i)] = value[proj.out_selection(i)]
            elif chunk is None:
                chunk = pipeline.empty_chunk()
                cdata = None if whole else existing.get(key)
                if cdata is None:
                    fill_array(chunk, ctx.fill_bytes)
                else:
                    pipeline.decode_into(cdata, chunk, key)
                proj.copy_to_chunk(i, value, chunk)
            if not ctx.write_empty_chunks and ctx.is_empty(chunk):
                if whole or key in existing:
                    to_delete.append(key)
            else:
                to_set[key] = pipeline.encode(chunk)
        if concurrent_store:
            _store_results(store, to_set, to_delete, existing)
            return {}, []
        return to_set, to_delete

    for to_set, to_delete in _run(write_batch, n, store):
        _store_results(store, to_set, to_delete, {})


def _store_results(store: MutableMapping, to_set: dict, to_delete: list, existing: dict) -> None:
    if to_set:
        setitems(store, to_set)
    if to_delete:
        delitems(store, [k for k in to_delete if k in existing or k in store])


def _whole_chunk_view(
    value: np.ndarray, out_sel: tuple, chunk_shape: tuple, chunk_items: int
) -> np.ndarray | None:
    """``value``'s part for a fully covered chunk as a chunk-shaped view (any strides),
    or None when it cannot be one without a copy."""
    view = value[out_sel + (Ellipsis,)]  # a view, even when every axis is indexed
    if view.size != chunk_items:
        return None
    if view.shape != chunk_shape:
        view = view.view()
        try:
            view.shape = chunk_shape  # only inserts the length-1 axes an int dropped
        except AttributeError:
            return None
    return view
