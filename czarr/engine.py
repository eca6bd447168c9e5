"""The chunk engine: move a projection's chunks between a store and a NumPy array.

``read`` and ``write`` take a :class:`ChunkContext` (one array's store, key layout, codec
pipeline and fill value) and a projection from ``czarr._core.indexing``. The touched
chunks are cut into contiguous batches; each batch fetches its chunks with one batched
store call, decodes them and copies the selected parts (codecs and copies release the
GIL), so with ``czarr.config`` threads > 1 the batches run concurrently on a shared
thread pool, and with 1 thread they run inline. A batch holds at most about
``_MAX_BATCH_BYTES`` of chunks, so Ctrl-C (which Python sees between batches, never inside
the compiled loop) stops a big read or write promptly; when a batch fails or the caller is
interrupted, no further batch starts and the ones running are waited for, so nothing of
the call is still running when its exception reaches the caller. A call with N threads
runs N workers of the shared pool, which take the batches in turn.
Three fast paths avoid work:

- a chunk that lands on one contiguous run of the output is decoded straight into it;
- any other chunk of a Blosc array is decoded a block at a time, each part of the
  selection going to the output while its block is in cache (only the blocks holding
  selected items are decoded);
- a whole-chunk write is encoded from its part of the source with no copy into a chunk
  buffer (Blosc lz4 gathers a block at a time; other codecs take a contiguous part as is).

With a decoded-chunk cache on (:mod:`czarr.chunk_cache`), a read's chunks of which at
most ``_CACHE_FRACTION`` is selected (points, small regions) are served from the cache
and decoded whole into it on a miss; the others bypass it, so a scan does not evict the
chunks small reads keep coming back to.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator, MutableMapping
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from czarr import chunk_cache, config
from czarr._core.copy import all_equal, fill_array
from czarr.errors import ChunkDecodeError
from czarr.pipeline import ChunkPipeline
from czarr.storage import Store, delitems, getitems, setitems

__all__ = ["ChunkContext", "read", "write"]

# batches per thread: a few, so a slow chunk does not leave the other threads idle
_BATCHES_PER_THREAD = 4
# a store whose batched calls go out concurrently gets batches of at least this many
# chunks, so that a read's requests wait out their round trips together
_CONCURRENT_BATCH = 32
# threads share a read or write only in batches of at least this many bytes of chunks
_MIN_BATCH_BYTES = 256 * 1024
# partial decoding pays off when the selected run is at most this fraction of a chunk (for
# Blosc frames czarr does not walk itself, c-blosc then decodes the blocks one at a time)
_PARTIAL_FRACTION = 0.25
# a chunk goes through the decoded-chunk cache when at most this fraction of it is read
_CACHE_FRACTION = 0.25
# decoded bytes per batch, at most (a single chunk may be larger): a batch is what runs
# between two chances for Ctrl-C, and what still runs after a failure. A store that
# fetches a batch concurrently gets larger ones: there a batch is one round of requests
_MAX_BATCH_BYTES = 4 << 20
_MAX_CONCURRENT_BATCH_BYTES = 256 << 20


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
    cache: chunk_cache.Binding | None = None  # the array's decoded-chunk cache setting

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


def _batches(n: int, min_batch: int = 1, max_batch: int | None = None
             ) -> tuple[list[tuple[int, int]], int]:
    """Contiguous ``(lo, hi)`` batches of ``range(n)`` (each of at most ``max_batch``
    chunks, unless ``min_batch`` asks for more) and the threads to run them on."""
    threads = min(config.get_threads(), n)
    nb = max(1, min(n // min_batch, threads * _BATCHES_PER_THREAD)) if threads > 1 else 1
    threads = min(threads, nb)
    if max_batch is not None:
        nb = max(nb, -(-n // max(max_batch, min_batch)))
    bounds = [n * b // nb for b in range(nb + 1)]
    return [(bounds[b], bounds[b + 1]) for b in range(nb)], max(threads, 1)


def _min_batch(chunk_nbytes: int, store: Any) -> int:
    """The fewest chunks a thread is handed at once (see :func:`_run`)."""
    min_batch = -(-_MIN_BATCH_BYTES // max(chunk_nbytes, 1))
    if getattr(store, "fetches_concurrently", False):
        min_batch = max(min_batch, _CONCURRENT_BATCH)
    return min_batch


def _run(fn: Any, n: int, store: Any = None, chunk_nbytes: int = 0,
         capped: bool = True) -> list:
    """Run ``fn(lo, hi)`` over batches of ``range(n)``; results in batch order.

    Threads take batches of at least ``_MIN_BATCH_BYTES`` of chunks (handing a batch to
    a thread costs more than reading a few small chunks); a store whose batched calls go
    out concurrently (``store.fetches_concurrently``, as FSStore over S3) gets batches
    of at least ``_CONCURRENT_BATCH`` chunks. With ``capped``, batches hold at most
    ``_MAX_BATCH_BYTES`` (``_MAX_CONCURRENT_BATCH_BYTES`` for such a store) of chunks of
    ``chunk_nbytes`` each (writes to a sharded store are not capped: each batch rewrites
    its shards). With several threads, that many workers of the shared pool (which may
    be larger) take the batches in turn. When a batch raises, or the caller is
    interrupted (KeyboardInterrupt) while waiting, no worker starts another batch, and
    the running ones are finished before the exception goes on."""
    concurrent = getattr(store, "fetches_concurrently", False)
    cap = _MAX_CONCURRENT_BATCH_BYTES if concurrent else _MAX_BATCH_BYTES
    max_batch = max(1, cap // chunk_nbytes) if chunk_nbytes > 0 and capped else None
    batches, threads = _batches(n, _min_batch(chunk_nbytes, store), max_batch)
    if threads == 1:
        return [fn(lo, hi) for lo, hi in batches]
    results: list[Any] = [None] * len(batches)
    todo = iter(range(len(batches)))
    take = threading.Lock()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            with take:
                b = next(todo, None)
            if b is None:
                return
            try:
                results[b] = fn(*batches[b])
            except BaseException:
                stop.set()
                raise

    pool = config.executor(threads)
    futures = [pool.submit(worker) for _ in range(threads)]
    try:
        for f in futures:
            f.result()
    except BaseException:
        stop.set()
        wait(futures)  # each running batch is bounded; a second Ctrl-C cuts this short
        raise
    return results


@contextlib.contextmanager
def _naming_where(store: Any) -> Iterator[None]:
    """A chunk that cannot be decoded is also named with where ``store`` keeps it
    (``store.describe_key``: the shard of an inner chunk)."""
    try:
        yield
    except ChunkDecodeError as e:
        describe = getattr(store, "describe_key", None)
        if describe is None or e.key is None:
            raise
        raise ChunkDecodeError(f"{e} ({describe(e.key)})", key=e.key) from e


# ---------------------------------------------------------------------------- reading

def read(ctx: ChunkContext, proj: Any, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (shaped ``proj.out_shape``, the array's dtype) from the store."""
    n = proj.nchunks
    if n == 0:
        return out
    keys = ctx.chunk_keys(proj)
    pipeline = ctx.pipeline
    if pipeline.dtype.hasobject:
        _run(lambda lo, hi: _read_objects(ctx, proj, keys, lo, hi, out), n, ctx.store,
             pipeline.chunk_nbytes)
        return out
    runs = [(0, n)]
    cached = ctx.cache.active(ctx) if ctx.cache is not None else None
    if cached is not None:
        runs = _read_through_cache(ctx, cached, proj, keys, out)
        if not runs:
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
        with _naming_where(ctx.store):
            decode_batch(lo, hi, cdatas)

    def decode_batch(lo: int, hi: int, cdatas: dict) -> None:
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

    if len(runs) == 1:
        a, b = runs[0]
        _run(lambda lo, hi: read_batch(a + lo, a + hi), b - a, ctx.store, pipeline.chunk_nbytes)
    else:  # what the cache left: runs of chunks, spread over the threads
        _run(lambda lo, hi: [read_batch(a, b) for a, b in runs[lo:hi]], len(runs), ctx.store,
             pipeline.chunk_nbytes)
    return out


def read_cached_point(ctx: ChunkContext, selection: Any, shape: tuple[int, ...]) -> Any:
    """The element at ``selection`` (an int per dimension) when its chunk is in the
    decoded-chunk cache, with no projection made; else ``chunk_cache.MISS``, and the
    caller reads it the general way (which fills the cache)."""
    cached = ctx.cache.active(ctx) if ctx.cache is not None else None
    if cached is None:
        return chunk_cache.MISS
    if type(selection) is not tuple:
        selection = (selection,)
    pipeline = ctx.pipeline
    chunks = pipeline.chunks
    if (len(selection) != len(shape) or not shape or pipeline.dtype.fields is not None
            or pipeline.dtype.subdtype is not None
            or math.prod(chunks) * _CACHE_FRACTION < 1):
        return chunk_cache.MISS
    coords, offsets = [], []
    for i, n, c in zip(selection, shape, chunks):
        if type(i) is not int:
            if not isinstance(i, np.integer):
                return chunk_cache.MISS
            i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            return chunk_cache.MISS  # the general path names the error
        q, r = divmod(i, c)
        coords.append(q)
        offsets.append(r)
    cache, cache_keys = cached
    chunk = cache.peek(cache_keys.key_at(tuple(coords)))
    if chunk is chunk_cache.MISS or chunk is chunk_cache.ABSENT:
        return chunk_cache.MISS
    return chunk[tuple(offsets)]


def _read_through_cache(ctx: ChunkContext, cached: tuple, proj: Any, keys: list,
                        out: np.ndarray) -> list[tuple[int, int]]:
    """Serve the chunks of which a small part is read through the cache; return the
    runs ``(lo, hi)`` of the other chunks, which the caller reads past it, as it does
    the chunks the cache does not take now and any chunk that failed to decode whole
    (of those only the needed Blosc blocks are decoded, as with no cache)."""
    cache, cache_keys = cached
    n = proj.nchunks
    chunk_items = math.prod(ctx.pipeline.chunks)
    limit = _CACHE_FRACTION * chunk_items
    selected = math.prod(proj.out_shape)
    small: Any
    runs: list[tuple[int, int]] = []
    if selected <= limit:  # no chunk can have more selected
        small = range(n)
    elif selected >= 0.99 * n * chunk_items:  # a scan: (nearly) every chunk whole
        return [(0, n)]
    else:
        small = []
        for i in range(n):
            if not proj.chunk_is_covered(i) and _selected_items(proj, i) <= limit:
                small.append(i)
            elif runs and runs[-1][1] == i:
                runs[-1] = (runs[-1][0], i + 1)
            else:
                runs.append((i, i + 1))
    lead, wait, past = [], [], []
    nbytes = ctx.pipeline.chunk_nbytes
    try:
        for i in small:
            key = cache_keys.key(keys[i])
            value, flight, leader = cache.begin(key, nbytes)
            if flight is not None:
                (lead if leader else wait).append((i, key, flight))
            elif value is chunk_cache.MISS:
                past.append(i)
            else:
                _copy_cached(ctx, proj, i, value, out)
        if lead:
            _run(lambda lo, hi: _fetch_into_cache(ctx, cache, proj, keys, lead[lo:hi], out,
                                                  past), len(lead), ctx.store)
    except BaseException:
        for _, key, flight in lead:  # never leave a thread waiting for a chunk (a no-op
            cache.abandon(key, flight)  # for those finished)
        raise
    for i, key, flight in wait:
        _wait_for(ctx, cache, proj, keys, i, key, flight, out, past)
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(runs + [(i, i + 1) for i in past]):
        if merged and merged[-1][1] == lo:
            merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _wait_for(ctx: ChunkContext, cache: chunk_cache.ChunkCache, proj: Any, keys: list,
              i: int, key: tuple, flight: Any, out: np.ndarray, past: list) -> None:
    """Copy chunk ``i`` once the thread fetching it is done; if that thread failed,
    fetch it here (or wait for whichever thread took it over, or leave it to ``past``)."""
    while True:
        ok, value = flight.wait()
        if not ok:
            value, flight, leader = cache.begin(key, ctx.pipeline.chunk_nbytes)
            if flight is not None:
                if leader:
                    _fetch_into_cache(ctx, cache, proj, keys, [(i, key, flight)], out,
                                      past)
                    return
                continue
            if value is chunk_cache.MISS:
                past.append(i)
                return
        _copy_cached(ctx, proj, i, value, out)
        return


def _fetch_into_cache(ctx: ChunkContext, cache: chunk_cache.ChunkCache, proj: Any,
                      keys: list, claimed: list, out: np.ndarray, past: list) -> None:
    """Fetch, decode and cache the chunks this thread leads, copying each into ``out``;
    a chunk that fails to decode whole is left to ``past``, and on any other error the
    chunks not done are released to their waiters."""
    pipeline = ctx.pipeline
    done = 0
    try:
        cdatas = getitems(ctx.store, [keys[i] for i, _, _ in claimed])
        for i, key, flight in claimed:
            cdata = cdatas.get(keys[i])
            value = chunk_cache.ABSENT
            if cdata is not None:
                buf = cache.spare(pipeline.chunks, pipeline.dtype, pipeline.order)
                try:
                    value = pipeline.decode_into(
                        cdata, pipeline.empty_chunk() if buf is None else buf, keys[i])
                except ChunkDecodeError:
                    cache.abandon(key, flight)
                    done += 1
                    past.append(i)
                    continue
                value.flags.writeable = False
            cache.finish(key, flight, value)
            done += 1
            _copy_cached(ctx, proj, i, value, out)
    finally:
        for _, key, flight in claimed[done:]:
            cache.abandon(key, flight)


def _copy_cached(ctx: ChunkContext, proj: Any, i: int, value: Any, out: np.ndarray) -> None:
    if value is chunk_cache.ABSENT:
        proj.fill_out(i, out, ctx.fill_bytes)
    else:
        proj.copy_from_chunk(i, value, out)


def _selected_items(proj: Any, i: int) -> int:
    """How many elements of chunk ``i`` the projection reads (repeats counted)."""
    n = 1
    shapes = []
    for sel in proj.chunk_selection(i):
        if isinstance(sel, slice):
            n *= len(range(sel.start, sel.stop, sel.step))
        elif isinstance(sel, np.ndarray):
            shapes.append(sel.shape)
    return n * math.prod(np.broadcast_shapes(*shapes)) if shapes else n


def _read_objects(ctx: ChunkContext, proj: Any, keys: list, lo: int, hi: int,
                  out: np.ndarray) -> None:
    """Object arrays: NumPy assignments (references, not bytes, are copied)."""
    cdatas = getitems(ctx.store, keys[lo:hi])
    for i in range(lo, hi):
        cdata = cdatas.get(keys[i])
        if cdata is None:
            out[proj.out_selection(i)] = ctx.fill_value
        else:
            with _naming_where(ctx.store):
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
                    with _naming_where(store):
                        chunk = pipeline.decode_objects(cdata, key)
                chunk[proj.chunk_selection(i)] = value[proj.out_selection(i)]
            elif chunk is None:
                chunk = pipeline.empty_chunk()
                cdata = None if whole else existing.get(key)
                if cdata is None:
                    fill_array(chunk, ctx.fill_bytes)
                else:
                    with _naming_where(store):
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

    for to_set, to_delete in _run(write_batch, n, store, pipeline.chunk_nbytes,
                                     capped=not getattr(store, "rewrites_groups", False)):
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
