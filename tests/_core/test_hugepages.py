"""Large outputs on 2 MiB-aligned transparent huge pages (czarr._core.hugepages): ordinary
NumPy arrays that own their data, made and released through a NumPy memory handler, that
reads of large selections return."""

from __future__ import annotations

import gc
import pickle
import threading

import numpy as np
import pytest
from numpy._core.multiarray import get_handler_name

import czarr
from czarr._core import hugepages

BIG = (1024, 1024)  # 8 MiB of float64: above MIN_BYTES


def test_large_arrays_start_on_a_huge_page_and_own_their_data():
    assert hugepages.MIN_BYTES <= 8 * 2**20
    a = hugepages.empty(BIG, "f8")
    assert a.shape == BIG and a.dtype == np.float64 and a.flags.c_contiguous
    assert a.flags.owndata and a.flags.writeable
    if hugepages.ENABLED:
        assert get_handler_name(a) == "czarr_hugepages"
        assert a.ctypes.data % (2 * 2**20) == 0
    else:
        assert get_handler_name(a) == get_handler_name(np.empty(1))
    a[...] = np.arange(a.size).reshape(BIG)
    assert pickle.loads(pickle.dumps(a)).tolist() == a.tolist()


def test_small_and_object_arrays_are_numpys():
    default = get_handler_name(np.empty(1))
    assert get_handler_name(hugepages.empty((10, 10), "f8")) == default
    objects = hugepages.empty(BIG, object)
    assert get_handler_name(objects) == default and objects[5, 5] is None
    # the handler is set only around the one allocation
    assert get_handler_name(np.empty(BIG)) == default


def test_resize_keeps_the_data_and_freeing_unmaps():
    a = hugepages.empty(BIG, "i8")
    a[...] = 7
    a.resize((2048, 1024), refcheck=False)  # the handler's realloc: a new mapping
    assert (a[:1024] == 7).all() and a.shape == (2048, 1024)
    a.resize((3,), refcheck=False)
    assert a.tolist() == [7, 7, 7]
    del a
    gc.collect()


def test_many_threads_allocate_at_once():
    errors = []

    def work(k):
        try:
            for _ in range(20):
                x = hugepages.empty((600, 1000), "f8")
                x[...] = k
                assert (x == k).all()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.parametrize("threads", [1, 2])
def test_reads_return_them(threads):
    data = np.arange(1500 * 1000, dtype="f8").reshape(1500, 1000)
    z = czarr.array(data, chunks=(300, 256))
    with czarr.config.set(threads=threads):
        out = z[...]
        assert np.array_equal(out, data) and out.flags.owndata
        if hugepages.ENABLED:
            assert get_handler_name(out) == "czarr_hugepages"
        assert np.array_equal(z[10:1200, 3:900:2], data[10:1200, 3:900:2])
        assert get_handler_name(z[:2, :2]) == get_handler_name(np.empty(1))


def test_disabled_means_numpy_empty(monkeypatch):
    monkeypatch.setattr(hugepages, "ENABLED", False)
    a = hugepages.empty(BIG, "f8")
    assert get_handler_name(a) == get_handler_name(np.empty(1)) and a.shape == BIG
