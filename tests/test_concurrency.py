"""Concurrency: readers never see a torn chunk, the cache never serves a stale value, and
the engine's thread pool survives ``fork`` and Ctrl-C.

Torn chunks: a writer rewrites every chunk of an array again and again, each round with a
value of its own per chunk (``round * 1000 + chunk + 1``; on some rounds a chunk is left
at the fill value 0, so a v2 chunk disappears and a shard's layout shifts), while reader
threads (each with its own Array, as another user of the same data) and reader processes
read whole arrays and single chunks. Every chunk read must hold one value, and one that
was written to that chunk. DirectoryStore, SQLiteStore and LMDBStore, v2 and v3 sharded.

LRUStoreCache: 8 threads get, set, delete and invalidate a few keys over a slow store
with a small ``max_size``; each key is owned by one writer, which must always read back
what it wrote, and every value read must be one that was written to that key.

Thread pool: a forked child reads and writes with many threads and does not hang; a
SIGINT during a big read raises KeyboardInterrupt promptly and leaves the pool's threads
idle and usable.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pytest

import czarr
from czarr.storage import DirectoryStore, LRUStoreCache, MemoryStore

NCHUNKS = 16
CHUNK = 2048  # uint32 items per chunk: 8 KiB
WRITE_SECONDS = 1.0
MIN_ROUNDS = 6


# ---------------------------------------------------------------------------------------
# torn chunks
# ---------------------------------------------------------------------------------------


def _open_store(kind: str, path: str, read_only: bool) -> Any:
    if kind == "directory":
        return DirectoryStore(path)
    if kind == "sqlite":
        from czarr.storage import SQLiteStore

        return SQLiteStore(path, read_only=read_only)
    from czarr.storage import LMDBStore

    return LMDBStore(path, readonly=read_only, lock=True) if read_only else LMDBStore(path)


def _round_values(r: int) -> np.ndarray:
    """Round ``r``'s array: chunk c holds r*1000 + c + 1, or the fill value 0 on the
    rounds that leave it out."""
    values = np.repeat(np.arange(NCHUNKS, dtype=np.uint32) + 1 + np.uint32(r * 1000), CHUNK)
    for c in range(NCHUNKS):
        if (c + r) % 3 == 0 and r % 2:
            values[c * CHUNK:(c + 1) * CHUNK] = 0
    return values


def _check_chunks(data: np.ndarray, first_chunk: int) -> str | None:
    """None when every chunk of ``data`` is whole: one value, written to that chunk."""
    for i, part in enumerate(data.reshape(-1, CHUNK)):
        c = first_chunk + i
        v = int(part[0])
        if not (part == v).all():
            return f"chunk {c} is torn: values {np.unique(part)[:6].tolist()}"
        if v != 0 and v % 1000 != c + 1:
            return f"chunk {c} holds {v}, which was never written to it"
    return None


def read_until_stopped(kind: str, path: str, stop: str, ready: str, seed: int,
                       deadline: float) -> tuple[int, int, list[str]]:
    """A reader (thread or process): whole-array and single-chunk reads until ``stop``
    exists. Returns (reads, chunks checked, errors)."""
    store = _open_store(kind, path, read_only=True)
    arr = czarr.open_array(store, mode="r", path="arr")
    rnd = random.Random(seed)
    reads = chunks = 0
    errors: list[str] = []
    with open(ready, "w"):
        pass
    while not os.path.exists(stop) and time.monotonic() < deadline:
        try:
            if rnd.random() < 0.3:
                data, first = arr[:], 0
            else:
                first = rnd.randrange(NCHUNKS)
                data = arr[first * CHUNK:(first + 1) * CHUNK]
        except Exception as e:  # a decode error from a torn read counts as one too
            errors.append(f"{type(e).__name__}: {e}")
            continue
        reads += 1
        chunks += data.size // CHUNK
        problem = _check_chunks(data, first)
        if problem:
            errors.append(problem)
    if hasattr(store, "close"):
        store.close()
    return reads, chunks, errors[:5]


@pytest.fixture(scope="module")
def reader_processes():
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        # start both interpreters now (imports take a while) so the tests overlap them
        list(pool.map(time.sleep, [0, 0]))
        yield pool


def _create(kind: str, path: str, zarr_format: int) -> Any:
    store = _open_store(kind, path, read_only=False)
    if zarr_format == 2:
        arr = czarr.zeros(NCHUNKS * CHUNK, chunks=CHUNK, dtype="u4", store=store, path="arr",
                          write_empty_chunks=False, zarr_format=2)
    else:
        arr = czarr.create_array(store, name="arr", shape=(NCHUNKS * CHUNK,), chunks=(CHUNK,),
                                 shards=(4 * CHUNK,), dtype="u4", fill_value=0,
                                 config={"write_empty_chunks": False})
    arr[:] = _round_values(0)
    return store, arr


@pytest.mark.parametrize("zarr_format", [2, 3], ids=["v2", "v3-sharded"])
@pytest.mark.parametrize("kind", ["directory", "sqlite", "lmdb"])
def test_readers_never_see_a_torn_chunk(tmp_path, reader_processes, kind, zarr_format):
    path = str(tmp_path / f"data.{kind}")
    store, arr = _create(kind, path, zarr_format)
    stop = str(tmp_path / "stop")
    deadline = time.monotonic() + 60
    procs = [reader_processes.submit(read_until_stopped, kind, path, stop,
                                     str(tmp_path / f"ready-p{i}"), i, deadline)
             for i in range(2)]
    results: list[Any] = [None, None]

    def thread_reader(i: int) -> None:
        results[i] = read_until_stopped(kind, path, stop, str(tmp_path / f"ready-t{i}"),
                                        100 + i, deadline)

    threads = [threading.Thread(target=thread_reader, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    ready = [tmp_path / f"ready-{w}{i}" for w in "pt" for i in range(2)]
    while not all(p.exists() for p in ready):
        assert time.monotonic() < deadline, "the readers did not start"
        time.sleep(0.01)
    rounds = 0
    end = time.monotonic() + WRITE_SECONDS
    while rounds < MIN_ROUNDS or time.monotonic() < end:
        rounds += 1
        arr[:] = _round_values(rounds)
    with open(stop, "w"):
        pass
    for t in threads:
        t.join(30)
    outcomes = results + [f.result(timeout=30) for f in procs]
    if hasattr(store, "close"):
        store.close()
    errors = [e for _, _, errs in outcomes for e in errs]
    assert errors == []
    reads = sum(r for r, _, _ in outcomes)
    chunks = sum(c for _, c, _ in outcomes)
    print(f"\n[torn-chunks] {kind} v{zarr_format}: {rounds} rounds written, 2 threads + 2 "
          f"processes made {reads} reads, {chunks} chunks checked")
    assert all(r > 0 for r, _, _ in outcomes)


# ---------------------------------------------------------------------------------------
# LRUStoreCache under 8 threads
# ---------------------------------------------------------------------------------------


class SlowStore(MemoryStore):
    """A MemoryStore whose reads give the other threads a turn, as a network store would."""

    def __getitem__(self, key: str) -> bytes:
        value = super().__getitem__(key)
        time.sleep(0)
        return value

    def getitems(self, keys: Any) -> dict[str, bytes]:
        out = super().getitems(keys)
        time.sleep(0)
        return out

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        time.sleep(0)
        return found


def test_lru_cache_under_8_threads_returns_only_stored_values():
    threads = 8
    inner = SlowStore()
    cache = LRUStoreCache(inner, max_size=300)  # a handful of values: constant eviction
    owned = [f"own{i}" for i in range(threads)]
    shared = [f"shared{i}" for i in range(6)]
    written: dict[str, set[bytes]] = {k: set() for k in owned + shared}
    errors: list[tuple] = []
    reads = [0] * threads

    def worker(t: int) -> None:
        rnd = random.Random(t)
        mine, expect = owned[t], None  # only this thread writes `mine`
        for seq in range(2500):
            op = rnd.random()
            if op < 0.15:
                value = f"{mine}|{t}|{seq}|".encode() + b"x" * rnd.randrange(60)
                written[mine].add(value)
                cache[mine] = value
                expect = value
            elif op < 0.2:
                try:
                    del cache[mine]
                except KeyError:
                    pass
                expect = None
            elif op < 0.45:  # read my own writes
                try:
                    got = cache[mine]
                except KeyError:
                    got = None
                reads[t] += 1
                if got != expect:
                    errors.append(("stale own value", mine, got, expect))
            elif op < 0.55:
                key = rnd.choice(shared)
                value = f"{key}|{t}|{seq}|".encode() + b"y" * rnd.randrange(60)
                written[key].add(value)
                cache.setitems({key: value})
            elif op < 0.6:
                cache.delitems([rnd.choice(shared)])
            elif op < 0.62:
                rnd.choice([cache.invalidate, cache.invalidate_values,
                            cache.invalidate_keys])()
            elif op < 0.8:
                key = rnd.choice(owned + shared)
                try:
                    got = cache[key]
                except KeyError:
                    continue
                reads[t] += 1
                if got not in written[key]:
                    errors.append(("value never stored", key, got))
            elif op < 0.9:
                for key, got in cache.getitems(rnd.sample(owned + shared, 4)).items():
                    reads[t] += 1
                    if got not in written[key]:
                        errors.append(("value never stored", key, got))
            else:
                key = rnd.choice(owned)
                if (key in cache) != (key == mine and expect is not None) and key == mine:
                    errors.append(("wrong membership", key, expect))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: races show up in a short run
    try:
        workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sys.setswitchinterval(old)
    assert errors[:5] == []
    # afterwards the cache agrees with the store, key by key and in its listings
    for key in owned + shared:
        assert cache.get(key) == inner._data.get(key), key
    assert sorted(cache.keys()) == sorted(inner.keys())
    print(f"\n[lru] {threads} threads, {sum(reads)} reads checked, "
          f"{cache.hits} hits, {cache.misses} misses")


# ---------------------------------------------------------------------------------------
# the thread pool: fork and Ctrl-C
# ---------------------------------------------------------------------------------------


def _wait_for_child(pid: int, timeout: float) -> int | str:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "hung"
        time.sleep(0.01)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # Python 3.12+
@pytest.mark.parametrize("kind", ["v2-directory", "v3-sharded-directory", "v3-sharded-memory"])
def test_a_forked_child_reads_and_writes_in_parallel(tmp_path, kind):
    store = MemoryStore() if kind.endswith("memory") else DirectoryStore(tmp_path / "d")
    with czarr.config.set(threads=4):
        if kind.startswith("v2"):
            arr = czarr.zeros((256, 256), chunks=(32, 32), dtype="f8", store=store)
        else:
            arr = czarr.create_array(store, shape=(256, 256), chunks=(32, 32),
                                     shards=(128, 128), dtype="f8")
        arr[:] = 1
        # the parent keeps the pool busy (its threads hold the shards' and the store's
        # locks now and then) while it forks
        stop = threading.Event()

        def busy() -> None:
            while not stop.is_set():
                arr[:]
                arr[:64] = 1

        parent = threading.Thread(target=busy)
        parent.start()
        outcomes = []
        try:
            for i in range(5):
                time.sleep(0.02)
                pid = os.fork()
                if pid == 0:  # the child: the same array, many threads, then exit
                    code = 1
                    try:
                        arr[128:] = i + 2
                        own = czarr.zeros((64, 64), chunks=(8, 8), dtype="i4")
                        own[:] = 5
                        ok = ((arr[128:] == i + 2).all() and (arr[:128] == 1).all()
                              and (own[:] == 5).all())
                        code = 0 if ok else 3
                    finally:
                        os._exit(code)
                outcomes.append(_wait_for_child(pid, timeout=30))
        finally:
            stop.set()
            parent.join()
    assert outcomes == [0] * 5
    # the parent's data did not change: the child's writes went to its own copies, or
    # (the folder) to the half the parent does not write
    assert (arr[:128] == 1).all()


SIGINT_CHILD = r"""
import json, os, signal, sys, threading, time
import numpy as np
import czarr
from czarr.codecs import Blosc

threads = int(sys.argv[1])
czarr.config.set(threads=threads)
store = czarr.MemoryStore()
# 64 MiB in 1 MiB chunks. Blosc: reads run in the compiled loop, which Python cannot
# interrupt (only the engine's batches give Ctrl-C its chances); zlib inside Blosc makes
# a call last, as a big read from disk would
n, chunk = 8 * 1024 * 1024, 128 * 1024
data = np.random.default_rng(0).integers(0, 1000, n).astype("f8")
kwargs = dict(chunks=chunk, dtype="f8", store=store, compressor=Blosc(cname="zlib", clevel=1))
arr = czarr.zeros(n, path="r", **kwargs)
arr[:] = data
out = np.empty(n)


def read():
    arr.get_basic_selection(slice(None), out=out)


def write():
    czarr.zeros(n, path="w", overwrite=True, **kwargs)[:] = data


def progress(op):
    if op == "read":
        return float((~np.isnan(out[::chunk])).mean())
    return max(len(store.listdir("w")) - 2, 0) / (n // chunk)  # (.zarray, .zattrs)


def interrupted(op, run):
    t0 = time.perf_counter(); run(); whole = time.perf_counter() - t0
    baseline = threading.active_count()
    sent = {}
    started = threading.Event()

    def interrupt():  # a fifth into the call
        started.wait()
        while progress(op) < 0.2:
            time.sleep(0.001)
        sent["at"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Thread(target=interrupt)
    timer.start()
    result = {"whole": whole}
    out.fill(np.nan)
    czarr.zeros(n, path="w", overwrite=True, **kwargs)
    try:
        started.set()
        run()
        time.sleep(5)  # (the signal came too late: it lands here, and `done` says so)
    except KeyboardInterrupt:
        result["latency"] = time.perf_counter() - sent["at"]
    timer.join()
    t0 = time.perf_counter()
    if threads > 1:  # nothing of the interrupted call still runs on the pool
        czarr.config.executor(threads).submit(int).result()
    result["pool_free_after"] = time.perf_counter() - t0
    result["done"] = progress(op)  # the fraction of its chunks read or written
    result["threads"] = [baseline, threading.active_count()]
    result["usable"] = bool((arr[:] == data).all())
    return result


print(json.dumps({"read": interrupted("read", read), "write": interrupted("write", write)}))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("threads", [1, 4])
def test_ctrl_c_stops_a_big_call_promptly(threads):
    import json

    proc = subprocess.run([sys.executable, "-c", SIGINT_CHILD, str(threads)],
                          capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(czarr.__file__))))
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for op, out in results.items():
        print(f"\n[ctrl-c] threads={threads} {op} of 64 MiB ({out['whole']:.2f} s whole): "
              f"KeyboardInterrupt {out['latency'] * 1000:.1f} ms after SIGINT, "
              f"{out['done']:.0%} of its chunks done")
        assert out["latency"] < 1.0 and out["pool_free_after"] < 0.25, op
        # the rest of the call was dropped, not run on (in the compiled loop, or on the pool)
        assert out["done"] < 0.9, op
        assert out["threads"][0] == out["threads"][1], op  # no thread left behind or stuck
        assert out["usable"], op


def test_batches_are_bounded_so_interrupts_land_between_them():
    from czarr.engine import _CONCURRENT_BATCH, _batches

    for threads in (1, 4):
        with czarr.config.set(threads=threads):
            batches, used = _batches(100, 1, max_batch=8)
            assert [hi - lo for lo, hi in batches] and max(hi - lo for lo, hi in batches) <= 8
            assert batches[0][0] == 0 and batches[-1][1] == 100 and used == threads
            # a store that fetches concurrently keeps batches of at least 32 chunks
            batches, _ = _batches(256, _CONCURRENT_BATCH, max_batch=4)
            assert min(hi - lo for lo, hi in batches) >= 32


class FailingStore(MemoryStore):
    """Counts the chunk batches fetched; the batch holding ``bad`` fails."""

    def __init__(self, bad: str) -> None:
        super().__init__()
        self.bad, self.fetched, self.armed = bad, [], False

    def getitems(self, keys: Any) -> dict[str, bytes]:
        keys = list(keys)
        if self.armed:
            self.fetched.append(keys)
            if self.bad in keys:
                raise OSError(f"I/O error reading {self.bad!r}")
            time.sleep(0.05)  # the other batches are still running when it fails
        return super().getitems(keys)


def test_a_failing_batch_stops_the_call():
    store = FailingStore("4")
    with czarr.config.set(threads=2):
        arr = czarr.zeros(512 * 1024, chunks=1024, dtype="f8", store=store)  # 8 KiB chunks
        arr[:] = 1
        store.armed = True
        with pytest.raises(OSError, match="'4'"):
            arr[:]
        fetched = len(store.fetched)
        time.sleep(0.1)
        # nothing of the call ran on after the error, and no batch started after it:
        # the two workers ran the failing batch and at most one other
        assert len(store.fetched) == fetched
        assert fetched <= 2
        store.armed = False
        assert (arr[:] == 1).all()
