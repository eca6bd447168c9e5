# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Large output arrays on transparent huge pages.

A read into a fresh array pays for faulting its pages in. Linux can back memory with 2 MiB
pages (transparent huge pages) where asked (``madvise(MADV_HUGEPAGE)``, the kernel's
``madvise`` mode) or everywhere (``always``), but only in 2 MiB-aligned stretches: NumPy
asks for huge pages on its large allocations, yet malloc hands it memory that starts
anywhere, so the first and last stretch of each array (up to 4 MiB) are faulted in 4 KiB
pages, one fault each. :func:`empty` makes the array from a mapping of its own whose data
starts on a 2 MiB boundary, all of it advised huge. It is an ordinary NumPy array that owns
its data: the mapping is made and released through a NumPy memory handler (NEP 49) that is
set only around the one allocation, and the array keeps it for its ``free`` and
``realloc``. Elsewhere (no huge pages, not Linux, small or object arrays) it is
``numpy.empty``.
"""

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport uint8_t, uintptr_t
from libc.string cimport memcpy, memset

import sys

import numpy as np

cnp.import_array()


cdef extern from "numpy/ndarraytypes.h":
    ctypedef struct PyDataMemAllocator:
        void* ctx
        void* (*malloc)(void* ctx, size_t size) noexcept nogil
        void* (*calloc)(void* ctx, size_t nelem, size_t elsize) noexcept nogil
        void* (*realloc)(void* ctx, void* ptr, size_t new_size) noexcept nogil
        void (*free)(void* ctx, void* ptr, size_t size) noexcept nogil

    ctypedef struct PyDataMem_Handler:
        char name[127]
        uint8_t version
        PyDataMemAllocator allocator


cdef extern from "numpy/arrayobject.h":
    object PyDataMem_SetHandler(object handler)


cdef extern from * nogil:
    """
    /* anonymous private mappings, advised huge; elsewhere than Linux never used (ENABLED
       is False there) but still compiled */
    #if defined(__linux__)
    #include <sys/mman.h>
    #ifndef MADV_HUGEPAGE
    #define MADV_HUGEPAGE 14
    #endif
    static void* czarr_map_anonymous(size_t n) {
        void* p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    static void czarr_unmap(void* p, size_t n) { munmap(p, n); }
    static void czarr_advise_huge(void* p, size_t n) { madvise(p, n, MADV_HUGEPAGE); }
    #else
    static void* czarr_map_anonymous(size_t n) { (void)n; return NULL; }
    static void czarr_unmap(void* p, size_t n) { (void)p; (void)n; }
    static void czarr_advise_huge(void* p, size_t n) { (void)p; (void)n; }
    #endif
    """
    void* czarr_map_anonymous(size_t n)
    void czarr_unmap(void* p, size_t n)
    void czarr_advise_huge(void* p, size_t n)


cdef enum:
    _HEADER = 64              # before the data: the mapping's start and length, the size

# the size of a transparent huge page (2 MiB with 4 KiB base pages), set at import
cdef size_t _HUGE = 2 * 1024 * 1024


cdef struct Block:
    uintptr_t base
    size_t length
    size_t size


cdef void* _map(void* ctx, size_t size) noexcept nogil:
    # data on the first 2 MiB boundary at least _HEADER bytes into the mapping
    cdef size_t length = size + _HUGE + _HEADER
    cdef void* base = czarr_map_anonymous(length)
    cdef uintptr_t data
    cdef Block* block
    if base == NULL:
        return NULL
    data = (<uintptr_t>base + _HEADER + _HUGE - 1) // _HUGE * _HUGE
    czarr_advise_huge(<void*>data, <uintptr_t>base + length - data)
    block = <Block*>(data - _HEADER)
    block.base = <uintptr_t>base
    block.length = length
    block.size = size
    return <void*>data


cdef void _unmap(void* ctx, void* ptr, size_t size) noexcept nogil:
    cdef Block* block
    if ptr != NULL:
        block = <Block*>(<uintptr_t>ptr - _HEADER)
        czarr_unmap(<void*>block.base, block.length)


cdef void* _map_zeroed(void* ctx, size_t nelem, size_t elsize) noexcept nogil:
    if elsize and nelem > (<size_t>-1) // elsize:
        return NULL
    return _map(ctx, nelem * elsize)  # a fresh anonymous mapping reads as zeros


cdef void* _remap(void* ctx, void* ptr, size_t new_size) noexcept nogil:
    cdef void* out = _map(ctx, new_size)
    cdef Block* old
    if out != NULL and ptr != NULL:
        old = <Block*>(<uintptr_t>ptr - _HEADER)
        memcpy(out, ptr, old.size if old.size < new_size else new_size)
        _unmap(ctx, ptr, old.size)
    return out


cdef PyDataMem_Handler _handler
memset(&_handler, 0, sizeof(_handler))
_handler.name[:15] = b"czarr_hugepages"
_handler.version = 1
_handler.allocator.ctx = NULL
_handler.allocator.malloc = _map
_handler.allocator.calloc = _map_zeroed
_handler.allocator.realloc = _remap
_handler.allocator.free = _unmap
_HANDLER = PyCapsule_New(&_handler, "mem_handler", NULL)

def _read_thp(name: str) -> str:
    try:
        with open(f"/sys/kernel/mm/transparent_hugepage/{name}") as f:
            return f.read().strip()
    except OSError:
        return ""


def _thp_mode() -> str:
    text = _read_thp("enabled")
    start, stop = text.find("["), text.find("]")
    return text[start + 1:stop] if 0 <= start < stop else "never"


if _read_thp("hpage_pmd_size").isdigit():
    _HUGE = int(_read_thp("hpage_pmd_size"))
# huge pages of 32 MiB or more (64 KiB base pages) are not worth aligning outputs to
ENABLED: bool = (sys.platform.startswith("linux") and _thp_mode() in ("madvise", "always")
                 and 0 < _HUGE <= 32 * 2**20 and not (_HUGE & (_HUGE - 1)))
# at least this many bytes: an array smaller than two huge pages gains little
MIN_BYTES: int = 2 * _HUGE


def empty(shape, dtype) -> np.ndarray:
    """``numpy.empty(shape, dtype)`` (C order), its data on 2 MiB-aligned transparent huge
    pages when the kernel has them and the array takes at least ``MIN_BYTES`` bytes."""
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize
    for n in shape:
        nbytes *= n
    if not ENABLED or nbytes < MIN_BYTES or dtype.hasobject:
        return np.empty(shape, dtype)
    old = PyDataMem_SetHandler(_HANDLER)
    try:
        out = np.empty(shape, dtype)
    finally:
        PyDataMem_SetHandler(old)
    return out
