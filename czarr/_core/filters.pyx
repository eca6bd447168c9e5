# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Byte loops of the filter and checksum codecs: numcodecs' byte shuffle (every item's
first byte, then every item's second byte...) and its inverse, and HDF5's Fletcher-32
checksum as numcodecs computes it. The ``cdef`` kernels take raw pointers and sizes with
the GIL released; the Python-visible functions check sizes first, then drop the GIL, and
write into the caller's ``dest`` when one is given.
"""

from cpython.buffer cimport (PyBUF_ANY_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release,
                             PyObject_GetBuffer)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint32_t
from libc.string cimport memcpy

from czarr.errors import CodecError


cdef extern from "_shuffle_sse2.h" nogil:
    # SSE2 tiles where the compiler does not vectorise the loops below (see the header)
    size_t czarr_shuffle_sse2(const unsigned char* src, unsigned char* dest, size_t nitems,
                              size_t itemsize, size_t start, size_t stop)
    size_t czarr_unshuffle16_sse2(const unsigned char* src, unsigned char* dest,
                                  size_t nitems, size_t start, size_t stop)


cdef enum:
    # items per block so that one block of the strided side (up to 16 KiB) stays in L1
    _BLOCK_BYTES = 16384


cdef inline void _shuffle_block(const unsigned char* src, unsigned char* dest,
                                size_t nitems, size_t itemsize, size_t start,
                                size_t stop) noexcept nogil:
    cdef size_t i, b
    cdef unsigned char* lane
    for b in range(itemsize):
        lane = dest + b * nitems
        for i in range(start, stop):
            lane[i] = src[i * itemsize + b]


cdef inline void _unshuffle_block(const unsigned char* src, unsigned char* dest,
                                  size_t nitems, size_t itemsize, size_t start,
                                  size_t stop) noexcept nogil:
    # item by item: dest (item `start` first) is written contiguously, each of the
    # itemsize lanes of src is read sequentially
    cdef size_t i, b
    cdef unsigned char* item
    for i in range(start, stop):
        item = dest + (i - start) * itemsize
        for b in range(itemsize):
            item[b] = src[b * nitems + i]


cdef void shuffle_into(const unsigned char* src, unsigned char* dest, size_t nitems,
                       size_t itemsize) noexcept nogil:
    cdef size_t block, start, stop
    if itemsize <= 1:
        memcpy(dest, src, nitems * itemsize)
        return
    # blocked transpose: each lane of dest is written contiguously while the block of
    # src it gathers from stays in cache; the common item sizes are spelled out as
    # constants so that the compiler can unroll and vectorise the inner loop
    block = _BLOCK_BYTES // itemsize if itemsize < _BLOCK_BYTES else 1
    start = 0
    while start < nitems:
        stop = start + block if nitems - start > block else nitems
        if itemsize == 2:
            _shuffle_block(src, dest, nitems, 2, start, stop)
        elif itemsize == 4:
            _shuffle_block(src, dest, nitems, 4, start, stop)
        elif itemsize == 8:  # SSE2 tiles of 16 items, then the rest
            _shuffle_block(src, dest, nitems, 8, czarr_shuffle_sse2(src, dest, nitems, 8,
                                                                    start, stop), stop)
        elif itemsize == 16:
            _shuffle_block(src, dest, nitems, 16, czarr_shuffle_sse2(src, dest, nitems, 16,
                                                                     start, stop), stop)
        else:
            _shuffle_block(src, dest, nitems, itemsize, start, stop)
        start = stop


cdef void unshuffle_into(const unsigned char* src, unsigned char* dest, size_t nitems,
                         size_t itemsize) noexcept nogil:
    unshuffle_range(src, dest, nitems, itemsize, 0, nitems)


cdef void unshuffle_range(const unsigned char* src, unsigned char* dest, size_t nitems,
                          size_t itemsize, size_t first, size_t last) noexcept nogil:
    cdef size_t block, start, stop, done
    if itemsize <= 1:
        memcpy(dest, src + first, last - first)
        return
    block = _BLOCK_BYTES // itemsize if itemsize < _BLOCK_BYTES else 1
    start = first
    while start < last:
        stop = start + block if last - start > block else last
        if itemsize == 2:
            _unshuffle_block(src, dest, nitems, 2, start, stop)
        elif itemsize == 4:
            _unshuffle_block(src, dest, nitems, 4, start, stop)
        elif itemsize == 8:
            _unshuffle_block(src, dest, nitems, 8, start, stop)
        elif itemsize == 16:  # SSE2 tiles of 16 items, then the rest
            done = czarr_unshuffle16_sse2(src, dest, nitems, start, stop)
            _unshuffle_block(src, dest + (done - start) * 16, nitems, 16, done, stop)
        else:
            _unshuffle_block(src, dest, nitems, itemsize, start, stop)
        dest += (stop - start) * itemsize
        start = stop


cdef uint32_t fletcher32_hdf5(const unsigned char* data, size_t nbytes) noexcept nogil:
    # Sums are folded back to 17 bits every 360 words (the most that cannot overflow
    # sum2), then twice at the end. Where the folds happen decides whether a sum that is
    # 0 modulo 65535 reads 0 or 0xffff, so the schedule is HDF5's, exactly.
    cdef uint32_t sum1 = 0, sum2 = 0
    cdef size_t words = nbytes // 2, run
    while words:
        run = 360 if words > 360 else words
        words -= run
        while run:
            sum1 += (<uint32_t>data[0] << 8) | <uint32_t>data[1]
            sum2 += sum1
            data += 2
            run -= 1
        sum1 = (sum1 & 0xffff) + (sum1 >> 16)
        sum2 = (sum2 & 0xffff) + (sum2 >> 16)
    if nbytes & 1:
        sum1 += <uint32_t>data[0] << 8
        sum2 += sum1
        sum1 = (sum1 & 0xffff) + (sum1 >> 16)
        sum2 = (sum2 & 0xffff) + (sum2 >> 16)
    sum1 = (sum1 & 0xffff) + (sum1 >> 16)
    sum2 = (sum2 & 0xffff) + (sum2 >> 16)
    return (sum2 << 16) | sum1


cdef inline void _run(bint forward, const unsigned char* src, unsigned char* dest,
                      size_t nitems, size_t itemsize) noexcept nogil:
    if forward:
        shuffle_into(src, dest, nitems, itemsize)
    else:
        unshuffle_into(src, dest, nitems, itemsize)


cdef object _transpose(source, Py_ssize_t itemsize, dest, bint forward):
    cdef Py_buffer src, dst
    cdef size_t nitems
    cdef unsigned char* out
    if itemsize < 1:
        raise CodecError(f"shuffle element size must be >= 1, got {itemsize}")
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        if src.len % itemsize:
            raise CodecError(f"shuffle buffer of {src.len} bytes is not a whole number of "
                             f"{itemsize}-byte elements")
        nitems = <size_t>(src.len // itemsize)
        if dest is None:
            # a new bytes object is filled before anyone else can see it
            result = PyBytes_FromStringAndSize(NULL, src.len)
            out = <unsigned char*>PyBytes_AS_STRING(result)
            with nogil:
                _run(forward, <const unsigned char*>src.buf, out, nitems, <size_t>itemsize)
            return result
        PyObject_GetBuffer(dest, &dst, PyBUF_ANY_CONTIGUOUS | PyBUF_WRITABLE)
        try:
            if dst.len != src.len:
                raise CodecError(f"destination holds {dst.len} bytes but the data is "
                                 f"{src.len} bytes")
            if (<char*>dst.buf < <char*>src.buf + src.len
                    and <char*>src.buf < <char*>dst.buf + dst.len):
                raise CodecError("cannot shuffle a buffer into itself")
            with nogil:
                _run(forward, <const unsigned char*>src.buf, <unsigned char*>dst.buf,
                     nitems, <size_t>itemsize)
        finally:
            PyBuffer_Release(&dst)
    finally:
        PyBuffer_Release(&src)
    return dest


def shuffle(source, Py_ssize_t itemsize, dest=None):
    """Byte-shuffle a contiguous buffer of ``itemsize``-byte elements (numcodecs'
    Shuffle layout) into ``dest`` (a writable contiguous buffer of the same size) or a
    new ``bytes``; returns what was written to. Raises ``CodecError`` when the size
    is not a whole number of elements or ``dest`` has the wrong size."""
    return _transpose(source, itemsize, dest, True)


def unshuffle(source, Py_ssize_t itemsize, dest=None):
    """Undo :func:`shuffle`: same arguments, same result conventions."""
    return _transpose(source, itemsize, dest, False)


# CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slice-by-8: eight 256-entry
# tables, built once at import, read-only afterwards (so the kernel is thread-safe)
cdef uint32_t _CRC32C[8][256]


cdef void _crc32c_tables() noexcept nogil:
    cdef uint32_t c, k, t
    for k in range(256):
        c = k
        for t in range(8):
            c = (c >> 1) ^ (<uint32_t>0x82F63B78 if c & 1 else <uint32_t>0)
        _CRC32C[0][k] = c
    for k in range(256):
        c = _CRC32C[0][k]
        for t in range(1, 8):
            c = _CRC32C[0][c & 0xFF] ^ (c >> 8)
            _CRC32C[t][k] = c


_crc32c_tables()


cdef uint32_t crc32c(const unsigned char* data, size_t nbytes, uint32_t crc) noexcept nogil:
    cdef uint32_t c = ~crc
    cdef uint32_t lo, hi
    while nbytes and (<size_t>data & 7):
        c = _CRC32C[0][(c ^ data[0]) & 0xFF] ^ (c >> 8)
        data += 1
        nbytes -= 1
    while nbytes >= 8:
        lo = (<uint32_t>data[0] | (<uint32_t>data[1] << 8) | (<uint32_t>data[2] << 16)
              | (<uint32_t>data[3] << 24)) ^ c
        hi = (<uint32_t>data[4] | (<uint32_t>data[5] << 8) | (<uint32_t>data[6] << 16)
              | (<uint32_t>data[7] << 24))
        c = (_CRC32C[7][lo & 0xFF] ^ _CRC32C[6][(lo >> 8) & 0xFF]
             ^ _CRC32C[5][(lo >> 16) & 0xFF] ^ _CRC32C[4][lo >> 24]
             ^ _CRC32C[3][hi & 0xFF] ^ _CRC32C[2][(hi >> 8) & 0xFF]
             ^ _CRC32C[1][(hi >> 16) & 0xFF] ^ _CRC32C[0][hi >> 24])
        data += 8
        nbytes -= 8
    while nbytes:
        c = _CRC32C[0][(c ^ data[0]) & 0xFF] ^ (c >> 8)
        data += 1
        nbytes -= 1
    return ~c


def crc32c_checksum(source, uint32_t value=0):
    """CRC-32C (Castagnoli) of a contiguous buffer, continuing from ``value``, as an
    ``int`` (the checksum Zarr v3's ``crc32c`` codec stores)."""
    cdef Py_buffer src
    cdef uint32_t out
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        with nogil:
            out = crc32c(<const unsigned char*>src.buf, <size_t>src.len, value)
    finally:
        PyBuffer_Release(&src)
    return out


def fletcher32(source):
    """HDF5's Fletcher-32 checksum of a contiguous buffer (what numcodecs.Fletcher32
    appends, little-endian), as an ``int``."""
    cdef Py_buffer src
    cdef uint32_t value
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        with nogil:
            value = fletcher32_hdf5(<const unsigned char*>src.buf, <size_t>src.len)
    finally:
        PyBuffer_Release(&src)
    return value
