"""The chunk engine: thread pool, partial decompression and zero-copy paths give the
same results as the serial path."""

from __future__ import annotations

import threading
from collections.abc import MutableMapping

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import czarr
from czarr import config
from czarr.errors import ChunkDecodeError


def test_config_threads(monkeypatch):
    monkeypatch.delenv("CZARR_NUM_THREADS", raising=False)
    default = config.get_threads()
    assert default >= 1
    with config.set(threads=3):
        assert config.get()["threads"] == 3
    assert config.get_threads() == default
    monkeypatch.setenv("CZARR_NUM_THREADS", "5")
    assert config.get_threads() == 5
    with config.set(threads=1):
        assert config.get_threads() == 1
    monkeypatch.setenv("CZARR_NUM_THREADS", "zero")
    with pytest.raises(ValueError, match="CZARR_NUM_THREADS"):
        config.get_threads()
    with pytest.raises(ValueError):
        config.set(threads=0)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["<i4", ">f8", "u1", "c8"]), st.sampled_from(["C", "F"]),
       st.integers(1, 8), st.data())
def test_threads_match_serial(dtype, order, threads, data):
    shape = (data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40)))
    chunks = (data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9)))
    ref = (np.arange(shape[0] * shape[1]) % 200).astype(dtype).reshape(shape)
    sel = (slice(data.draw(st.integers(0, shape[0])), None, data.draw(st.integers(1, 3))),
           slice(None, data.draw(st.integers(-shape[1], shape[1])), -1))
    with config.set(threads=1):
        serial = czarr.array(ref, chunks=chunks, order=order,
                             compressor=czarr.Blosc(cname="lz4", clevel=1))
        serial[sel] = 7
        expected = serial[...]
    with config.set(threads=threads):
        par = czarr.array(ref, chunks=chunks, order=order,
                          compressor=czarr.Blosc(cname="lz4", clevel=1))
        par[sel] = 7
        assert np.array_equal(par[...], expected)
        assert np.array_equal(par[sel], serial[sel])
        assert sorted(par.store) == sorted(serial.store)


def test_partial_decode_reads_only_needed_blocks():
    # a chunk of two Blosc blocks whose second block is corrupt: a whole-chunk decode
    # fails, while small selections in the first block decode only that block
    data = np.arange(256 * 256, dtype="f8").reshape(256, 256)
    store = czarr.MemoryStore()
    z = czarr.array(data, chunks=(128, 128), store=store,
                    compressor=czarr.Blosc(cname="lz4", shuffle=0, blocksize=4096))
    frame = bytearray(store["0.0"])
    frame[-200:] = bytes(200)
    store["0.0"] = bytes(frame)
    with pytest.raises(ChunkDecodeError, match="'0.0'"):
        z[0:128, 0:128]
    rng = np.random.default_rng(0)
    for _ in range(50):
        i, j = (int(v) for v in rng.integers(0, 32, 2))
        assert z[i, j] == data[i, j]
    assert z[3, 5:9].tolist() == data[3, 5:9].tolist()
    assert np.array_equal(z[200:, 200:], data[200:, 200:])  # other chunks untouched
    # the Python-level partial decoder (used by projections without the compiled loop)
    chunk = z._pipeline.empty_chunk()
    assert z._pipeline.decode_partial(store["0.0"], chunk, 128 * 3, 128 * 4, "0.0")
    assert np.array_equal(chunk[3], data[3, :128])


def test_partial_decode_corrupt_chunk_names_key():
    store = czarr.MemoryStore()
    z = czarr.array(np.arange(1000.0), chunks=500, store=store, compressor=czarr.Blosc())
    frame = bytearray(store["1"])
    frame[12:16] = (len(frame) + 100).to_bytes(4, "little")  # cbytes beyond the buffer
    store["1"] = bytes(frame)
    with pytest.raises(ChunkDecodeError, match="'1'"):
        z[700]
    assert z[10] == 10.0


class PlainMapping(MutableMapping):
    """A store that is not known to take concurrent writes."""

    def __init__(self):
        self.d = {}
        self.writer_threads = set()

    def __getitem__(self, k):
        return self.d[k]

    def __setitem__(self, k, v):
        self.writer_threads.add(threading.get_ident())
        self.d[k] = bytes(v)

    def __delitem__(self, k):
        del self.d[k]

    def __iter__(self):
        return iter(self.d)

    def __len__(self):
        return len(self.d)


def test_unknown_store_written_from_calling_thread():
    store = PlainMapping()
    with config.set(threads=4):
        z = czarr.zeros((64, 64), chunks=(8, 8), store=store, dtype="i4")
        z[...] = np.arange(64 * 64).reshape(64, 64)
        assert np.array_equal(z[...], np.arange(64 * 64).reshape(64, 64))
    assert store.writer_threads == {threading.get_ident()}
    assert z.nchunks_initialized == 64


def test_direct_decode_into_output():
    z = czarr.array(np.arange(100, dtype="i2").reshape(10, 10), chunks=(2, 10))
    out = np.empty((10, 10), dtype="i2")
    z.get_basic_selection(Ellipsis, out=out)
    assert np.array_equal(out, np.arange(100).reshape(10, 10))
    assert np.array_equal(z[4:8], np.arange(40, 80).reshape(4, 10))
