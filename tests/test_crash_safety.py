"""Crash safety: a writer killed with SIGKILL at random moments never leaves a torn value.

For DirectoryStore, SQLiteStore and LMDBStore, a writer process (forked from this one,
so it starts in milliseconds) rewrites an array chunk by chunk, updates its attributes,
shrinks and grows a second array and writes a batch of encoded chunks in one call,
while this process sleeps a random (seeded) delay and kills it with ``SIGKILL``. Then:
the arrays open; every chunk decodes and holds its old value or its new one (each round
writes values of its own, so the two can be told apart); a batch on SQLite and LMDB is
all old or all new (one transaction); the attributes are the old or the new document;
the resized array has one of its two shapes, and growing it shows the fill value, never
values a shrink cut off; no listing (keys, ``listdir``, the chunks an array counts)
shows a temporary file. Each store is killed ``KILLS`` times (200; ``CZARR_CRASH_KILLS``
changes it, ``CZARR_CRASH_SEED`` the seed), and the counts are printed.

A ZipStore writer is killed too (fewer times: it only writes on close): the zip keeps
what its last close left.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
import zipfile

import numpy as np
import pytest

import czarr
from czarr import config
from czarr.storage import DirectoryStore, SQLiteStore, ZipStore, listdir

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

KILLS = int(os.environ.get("CZARR_CRASH_KILLS", "200"))
SEED = int(os.environ.get("CZARR_CRASH_SEED", "13"))
NCHUNKS = 24
CHUNK = 8192  # int32 items: 32 KiB a chunk
BATCH = 8  # chunks written by one setitems call, in the batch rounds
# the resized array: shapes SMALL and BIG, chunks of MCHUNK; SMALL cuts a chunk in two
MCHUNK, SMALL, BIG = 16, 72, 160
REGION_CHUNKS = range(SMALL // MCHUNK, -(-BIG // MCHUNK))  # chunks holding [SMALL, BIG)


def chunk_values(round_: int, i: int) -> np.ndarray:
    """What round ``round_`` writes to chunk ``i``: random (so it does not compress to
    nothing and writes take time), different in every round and chunk."""
    rng = np.random.default_rng([SEED, round_, i])
    return rng.integers(0, 2**31 - 1, CHUNK, dtype=np.int32)


def batch_values(round_: int, j: int) -> np.ndarray:
    return chunk_values(round_, 10_000 + j)


def region_values(round_: int) -> np.ndarray:
    """What round ``round_`` writes into ``m[SMALL:BIG]``."""
    return np.arange(SMALL, BIG, dtype=np.int32) + 1000 * (round_ + 1)


def make_store(kind: str, tmp_path):
    if kind == "directory":
        return DirectoryStore(tmp_path / "data.zarr")
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "data.sqlite")
    from czarr.storage import LMDBStore

    pytest.importorskip("lmdb")
    return LMDBStore(tmp_path / "data.lmdb")


def create(store) -> None:
    root = czarr.group(store=store)
    a = root.zeros("a", shape=(NCHUNKS * CHUNK,), chunks=(CHUNK,), dtype="i4")
    a[:] = np.concatenate([chunk_values(0, i) for i in range(NCHUNKS)])
    a.attrs.put({"round": 0})
    m = root.zeros("m", shape=(BIG,), chunks=(MCHUNK,), dtype="i4")
    m[:SMALL] = np.arange(1, SMALL + 1, dtype=np.int32)
    b = root.zeros("b", shape=(BATCH * CHUNK,), chunks=(CHUNK,), dtype="i4")
    b[:] = np.concatenate([batch_values(0, j) for j in range(BATCH)])


def writer(store, round_: int) -> None:
    """The long write a child process runs (and is killed in)."""
    a = czarr.open_array(store=store, path="a", mode="r+")
    m = czarr.open_array(store=store, path="m", mode="r+")
    b = czarr.open_array(store=store, path="b", mode="r+")
    for i in range(NCHUNKS):
        a[i * CHUNK:(i + 1) * CHUNK] = chunk_values(round_, i)
        if i % 6 == 5:
            a.attrs.update({"round": round_, "step": i, "pad": "x" * (round_ % 97 + i)})
        if i == 4:
            m.resize(SMALL)
        elif i == 10:
            m.resize(BIG)
        elif i == 16:
            m[SMALL:BIG] = region_values(round_)
        elif i == 20:
            # one setitems call: one transaction in SQLite and LMDB
            encode = b.compressor.encode
            store.setitems({f"b/{j}": encode(batch_values(round_, j)) for j in range(BATCH)})


def run_child(store, round_: int) -> int:
    pid = os.fork()
    if pid == 0:  # the child: write, then leave without running any of pytest's exit code
        code = 0
        try:
            config.set(threads=1)
            writer(store, round_)
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            code = 1
        os._exit(code)
    return pid


class Known:
    """What each value holds now (the round that wrote it), as the checks found it."""

    def __init__(self) -> None:
        self.chunks = [0] * NCHUNKS
        self.attrs_round = 0
        self.batch = [0] * BATCH
        # per chunk of m's region: ('zero',), ('round', r) or ('start',)
        self.region = {c: ("start",) for c in REGION_CHUNKS}


def region_chunk(kind: tuple, c: int) -> np.ndarray | None:
    """Chunk ``c`` of ``m``'s region as ``kind`` says, over [SMALL, BIG) only."""
    lo, hi = max(c * MCHUNK, SMALL), min((c + 1) * MCHUNK, BIG)
    if kind[0] in ("zero", "start"):
        return np.zeros(hi - lo, dtype=np.int32)
    return region_values(kind[1])[lo - SMALL:hi - SMALL]


def check(store, round_: int, known: Known, transactional: bool) -> None:
    """Everything the module docstring promises, after a round (killed or not)."""
    a = czarr.open_array(store=store, path="a", mode="r")
    values = a[:]  # every chunk decodes (a torn one would raise ChunkDecodeError)
    for i in range(NCHUNKS):
        got = values[i * CHUNK:(i + 1) * CHUNK]
        if np.array_equal(got, chunk_values(round_, i)):
            known.chunks[i] = round_
        else:
            assert np.array_equal(got, chunk_values(known.chunks[i], i)), (
                f"round {round_}: chunk {i} holds neither its old value (round "
                f"{known.chunks[i]}) nor its new one")
    attrs = a.attrs.asdict()
    assert attrs["round"] in (known.attrs_round, round_), attrs
    known.attrs_round = attrs["round"]
    # the batch: all old or all new where it is one transaction
    b = czarr.open_array(store=store, path="b", mode="r")[:]
    for j in range(BATCH):
        got = b[j * CHUNK:(j + 1) * CHUNK]
        if np.array_equal(got, batch_values(round_, j)):
            known.batch[j] = round_
        else:
            assert np.array_equal(got, batch_values(known.batch[j], j)), (round_, j)
    if transactional:
        assert len(set(known.batch)) == 1, f"round {round_}: a batch landed in part"
    # the resized array: one of its shapes; what a shrink cut off never comes back
    m = czarr.open_array(store=store, path="m", mode="r+")
    assert m.shape in ((SMALL,), (BIG,)), m.shape
    np.testing.assert_array_equal(m[:SMALL], np.arange(1, SMALL + 1, dtype=np.int32))
    if m.shape == (SMALL,):
        m.resize(BIG)  # as a user would, after the crash
        np.testing.assert_array_equal(m[SMALL:], 0)
        known.region = {c: ("zero",) for c in REGION_CHUNKS}
    else:
        region = m[SMALL:]
        for c in REGION_CHUNKS:
            lo, hi = max(c * MCHUNK, SMALL) - SMALL, min((c + 1) * MCHUNK, BIG) - SMALL
            for kind in (known.region[c], ("zero",), ("round", round_)):
                if np.array_equal(region[lo:hi], region_chunk(kind, c)):
                    known.region[c] = kind
                    break
            else:
                raise AssertionError(f"round {round_}: chunk {c} of m holds a value "
                                     f"no write gave it: {region[lo:hi]}")
    # listings show keys only: never a temporary file
    chunk_names = {str(i) for i in range(NCHUNKS)}
    assert set(listdir(store, "a")) == chunk_names | {".zarray", ".zattrs"}
    assert {k for k in store if k.startswith("a/")} == {
        f"a/{n}" for n in chunk_names | {".zarray", ".zattrs"}}
    assert a.nchunks_initialized == NCHUNKS
    m_names = set(listdir(store, "m"))
    assert m_names <= {".zarray"} | {str(c) for c in range(-(-BIG // MCHUNK))}, m_names
    assert set(listdir(store, "b")) == {".zarray"} | {str(j) for j in range(BATCH)}
    assert sorted(listdir(store)) == [".zgroup", "a", "b", "m"]


class Killer:
    """Kills a writer after a random delay, drawn (seeded) from a window that starts at
    the length of a whole write and adapts: a loaded machine wakes this process late,
    so when writers keep finishing first the window shrinks."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.rng = np.random.default_rng(SEED)

    def kill(self, pid: int) -> bool:
        """True when ``pid`` died of the SIGKILL, False when it had finished (exit 0)."""
        time.sleep(self.rng.uniform(0.0, self.window))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            assert os.WTERMSIG(status) == signal.SIGKILL
            self.window *= 1.02
            return True
        assert os.WEXITSTATUS(status) == 0, "the writer failed (see its traceback above)"
        self.window *= 0.85
        return False


def wait_whole(pid: int, timeout: float = 60.0) -> float:
    """Wait for a writer left to finish (killed, and a failure, past ``timeout``: a
    child forked while another thread held a lock may hang); its lifetime in seconds."""
    start = time.perf_counter()
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the writer failed"
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"a writer left alone did not finish in {timeout} s")
        time.sleep(0.001)


def calibrate(store) -> float:
    """Seconds a whole round takes, fork to exit (one round run to the end)."""
    return wait_whole(run_child(store, round_=1))


@pytest.mark.slow  # 200 kills: 10-25 s per store
@pytest.mark.parametrize("kind", ["directory", "sqlite", "lmdb"])
def test_sigkill_during_writes(kind, tmp_path, capsys):
    store = make_store(kind, tmp_path)
    create(store)
    known = Known()
    transactional = kind != "directory"
    killer = Killer(calibrate(store))
    check(store, 1, known, transactional)
    assert known.chunks == [1] * NCHUNKS and known.attrs_round == 1
    kills = finished = 0
    progress = []  # chunks of 'a' the killed writer had rewritten
    small = 0  # kills that left 'm' shrunk (between the shrink and the growth)
    round_ = 1
    started = time.perf_counter()
    while kills < KILLS:
        round_ += 1
        assert round_ < 3 * KILLS + 50, "the writer finished before nearly every kill"
        killed = killer.kill(run_child(store, round_))
        kills += killed
        finished += not killed
        if kind == "lmdb":
            store.db.reader_check()  # free the dead writers' reader slots
        small += czarr.open_array(store=store, path="m", mode="r").shape == (SMALL,)
        check(store, round_, known, transactional)
        if killed:
            progress.append(known.chunks.count(round_))
    elapsed = time.perf_counter() - started
    store.close()
    # a new store object over the same data (as the next process would open it)
    again = make_store(kind, tmp_path)
    try:
        check(again, round_, known, transactional)
    finally:
        again.close()
    leftovers = 0
    if kind == "directory":
        leftovers = sum(name.endswith(".partial")
                        for _, _, names in os.walk(tmp_path / "data.zarr") for name in names)
    with capsys.disabled():
        print(f"\n[crash safety] {kind}: {kills}/{kills} SIGKILLs mid-write survived "
              f"({finished} more writers finished first); chunks rewritten when killed: "
              f"min {min(progress)}, median {int(np.median(progress))}, max "
              f"{max(progress)} of {NCHUNKS}; {small} kills between shrink and growth; "
              f"{leftovers} temporary files left on disk, none listed; {elapsed:.1f} s")
    assert kills == KILLS
    if KILLS >= 100:  # the kills landed all along the write, not only at its start or end
        assert min(progress) == 0 and max(progress) > NCHUNKS // 2 and small > 0


def zip_values(round_: int) -> dict[str, bytes]:
    return {f"k/{i}": chunk_values(round_, i)[:1024].tobytes() for i in range(8)}


def test_sigkill_before_zip_close_keeps_the_zip(tmp_path, capsys):
    """A ZipStore writer killed at any moment (copying the zip, writing members,
    closing) leaves the zip whole: as the previous close left it or, once the close
    is done, with every new value."""
    path = tmp_path / "data.zip"
    with ZipStore(path, mode="w") as store:
        store.setitems(zip_values(0))

    def write(round_: int) -> int:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                with ZipStore(path, mode="a") as child:
                    child.setitems(zip_values(round_))  # the names exist: duplicates
            except BaseException:
                traceback.print_exc()
                code = 1
            os._exit(code)
        return pid

    killer = Killer(wait_whole(write(0)))
    rounds, state, newer = 40, 0, 0
    for round_ in range(1, rounds + 1):
        killer.kill(write(round_))
        with zipfile.ZipFile(path) as zf:  # it opens: never a zip without its directory
            assert zf.testzip() is None
        with ZipStore(path, mode="r") as reader:
            got = dict(reader.items())
        if got == zip_values(round_):
            state, newer = round_, newer + 1
        else:
            assert got == zip_values(state), f"round {round_}: the zip changed in part"
    leftovers = sum(name.endswith(".partial") for name in os.listdir(tmp_path))
    with capsys.disabled():
        print(f"\n[crash safety] zip: {rounds - newer}/{rounds} writers killed before their "
              f"close completed left the previous zip whole; {newer} closed first; "
              f"{leftovers} temporary zips left beside it")
    assert rounds - newer >= rounds // 2
