# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""zlib-format compression (RFC 1950), the same bytes as Python's ``zlib.compress`` and
numcodecs' Zlib for the same libz: ``compress2`` uses the defaults Python uses (15-bit
window, memLevel 8, default strategy). Decoding inflates straight into the caller's
buffer and insists that the stream ends exactly at its end; without a destination it
inflates into a growing ``bytes``, stopped as soon as it outgrows ``max_size`` (so a
decompression bomb costs at most that). The GIL is released around every C call.
"""

from cpython.buffer cimport (PyBUF_ANY_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release,
                             PyObject_GetBuffer)
from cpython.ref cimport Py_DECREF, Py_XDECREF, PyObject
from libc.string cimport memset

import zlib as _pyzlib

from czarr.errors import CodecError


cdef extern from "zlib.h" nogil:
    ctypedef struct z_stream:
        const unsigned char* next_in
        unsigned int avail_in
        unsigned char* next_out
        unsigned int avail_out
    const char* ZLIB_VERSION
    const char* zlibVersion()
    int Z_OK, Z_STREAM_END, Z_BUF_ERROR, Z_NO_FLUSH, Z_FINISH, Z_DEFLATED
    int Z_DEFAULT_STRATEGY
    unsigned long compressBound(unsigned long sourceLen)
    int compress2(unsigned char* dest, unsigned long* destLen, const unsigned char* source,
                  unsigned long sourceLen, int level)
    int inflateInit(z_stream* strm)
    int inflateInit2(z_stream* strm, int windowBits)
    int deflateInit2(z_stream* strm, int level, int method, int windowBits, int memLevel,
                     int strategy)
    unsigned long deflateBound(z_stream* strm, unsigned long sourceLen)
    int deflate(z_stream* strm, int flush)
    int deflateEnd(z_stream* strm)
    int inflate(z_stream* strm, int flush)
    int inflateEnd(z_stream* strm)


cdef extern from "Python.h":
    PyObject* _bytes_new "PyBytes_FromStringAndSize"(const char* v, Py_ssize_t n)
    int _PyBytes_Resize(PyObject** b, Py_ssize_t n)
    char* _bytes_data "PyBytes_AS_STRING"(PyObject* b) nogil


VERSION_STRING: str = zlibVersion().decode("ascii")

_MESSAGES = {
    CZARR_ZLIB_ECORRUPT: "invalid or truncated zlib data",
    CZARR_ZLIB_EDEST: "decompressed size differs from the destination size",
    CZARR_ZLIB_EPARAM: "zlib compression failed",
}

cdef enum:
    _CHUNK = 1 << 30      # z_stream counts are 32-bit: feed at most 1 GiB at a time
    _DONE = 0             # stream ended
    _FULL = 1             # output buffer full, stream not ended
    _ERROR = 2            # corrupt or truncated
    _WBITS_ZLIB = 15      # 32 KiB window, zlib wrapper
    _WBITS_GZIP = 31      # 32 KiB window, gzip wrapper (RFC 1952)


cdef int _inflate_into(z_stream* zs, const char** src, size_t* srcleft, char* dest,
                       size_t destleft, size_t* written) noexcept nogil:
    """Inflate from ``*src`` into ``dest`` until the stream ends, ``dest`` is full, or the
    input runs out (an error: the stream is truncated). Advances ``*src``."""
    cdef int ret
    cdef size_t take_in, take_out
    written[0] = 0
    while True:
        take_in = srcleft[0] if srcleft[0] < _CHUNK else _CHUNK
        take_out = destleft if destleft < _CHUNK else _CHUNK
        zs.next_in = <const unsigned char*>src[0]
        zs.avail_in = <unsigned int>take_in
        zs.next_out = <unsigned char*>dest
        zs.avail_out = <unsigned int>take_out
        ret = inflate(zs, Z_NO_FLUSH)
        take_in -= zs.avail_in
        take_out -= zs.avail_out
        src[0] += take_in
        srcleft[0] -= take_in
        dest += take_out
        destleft -= take_out
        written[0] += take_out
        if ret == Z_STREAM_END:
            return _DONE
        if ret != Z_OK and ret != Z_BUF_ERROR:
            return _ERROR
        if destleft == 0:
            return _FULL
        if take_in == 0 and take_out == 0:
            return _ERROR       # no progress with room left: input exhausted


cdef Py_ssize_t _decode_into(const char* src, size_t srcsize, char* dest, size_t destsize,
                             int window_bits) noexcept nogil:
    cdef z_stream zs
    cdef size_t written = 0
    cdef int state
    cdef char probe
    memset(&zs, 0, sizeof(zs))
    if inflateInit2(&zs, window_bits) != Z_OK:
        return CZARR_ZLIB_EPARAM
    state = _inflate_into(&zs, &src, &srcsize, dest, destsize, &written)
    if state == _FULL:
        # dest is full: the stream must end here without producing another byte
        state = _inflate_into(&zs, &src, &srcsize, &probe, 1, &written)
        if state == _DONE and written == 0:
            written = destsize
        else:
            state = _FULL if state != _ERROR else _ERROR
    inflateEnd(&zs)
    if state == _ERROR:
        return CZARR_ZLIB_ECORRUPT
    if state == _FULL or written != destsize:
        return CZARR_ZLIB_EDEST
    return <Py_ssize_t>written


cdef Py_ssize_t zlib_decode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize) noexcept nogil:
    return _decode_into(src, srcsize, dest, destsize, _WBITS_ZLIB)


cdef Py_ssize_t gzip_decode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize) noexcept nogil:
    return _decode_into(src, srcsize, dest, destsize, _WBITS_GZIP)


cdef Py_ssize_t gzip_encode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize, int level) noexcept nogil:
    cdef z_stream zs
    cdef int ret
    cdef size_t take_in, take_out, written = 0
    if level < -1 or level > 9:
        return CZARR_ZLIB_EPARAM
    memset(&zs, 0, sizeof(zs))
    if deflateInit2(&zs, level, Z_DEFLATED, _WBITS_GZIP, 8, Z_DEFAULT_STRATEGY) != Z_OK:
        return CZARR_ZLIB_EPARAM
    while True:  # at most 1 GiB in and out per pass: z_stream counts are 32-bit
        take_in = srcsize if srcsize < _CHUNK else _CHUNK
        take_out = destsize - written if destsize - written < _CHUNK else _CHUNK
        zs.next_in = <const unsigned char*>src
        zs.avail_in = <unsigned int>take_in
        zs.next_out = <unsigned char*>(dest + written)
        zs.avail_out = <unsigned int>take_out
        ret = deflate(&zs, Z_FINISH if take_in == srcsize else Z_NO_FLUSH)
        src += take_in - zs.avail_in
        srcsize -= take_in - zs.avail_in
        written += take_out - zs.avail_out
        if ret == Z_STREAM_END or (ret != Z_OK and ret != Z_BUF_ERROR) or written == destsize:
            break
    deflateEnd(&zs)
    if ret != Z_STREAM_END:
        return CZARR_ZLIB_EPARAM
    return <Py_ssize_t>written


cdef Py_ssize_t zlib_encode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize, int level) noexcept nogil:
    cdef unsigned long n = destsize
    if level < -1 or level > 9:
        return CZARR_ZLIB_EPARAM
    if compress2(<unsigned char*>dest, &n, <const unsigned char*>src, srcsize, level) != Z_OK:
        return CZARR_ZLIB_EPARAM
    return <Py_ssize_t>n


cdef _raise(Py_ssize_t code):
    raise CodecError(_MESSAGES.get(code, f"zlib error {code}"))


def compress(source, int level=1):
    """Compress a contiguous buffer into a zlib stream (``level`` -1..9). Returns
    ``bytes``.

    Level 0 (stored blocks) is the one level whose output depends on how the output
    buffer is grown, so it is left to Python's zlib to give numcodecs' exact bytes.
    """
    cdef Py_buffer src
    cdef PyObject* raw
    cdef char* out
    cdef Py_ssize_t ret, bound
    if level < -1 or level > 9:
        raise CodecError(f"zlib level must be between -1 and 9, got {level}")
    if level == 0:
        return _pyzlib.compress(source, 0)
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        bound = compressBound(src.len)
        raw = _bytes_new(NULL, bound)
        if raw == NULL:
            raise MemoryError()
        out = _bytes_data(raw)
        with nogil:
            ret = zlib_encode_into(<const char*>src.buf, src.len, out, bound, level)
        if ret < 0:
            Py_XDECREF(raw)
            _raise(ret)
    finally:
        PyBuffer_Release(&src)
    if _PyBytes_Resize(&raw, ret) < 0:
        raise MemoryError()
    result = <object>raw
    Py_DECREF(result)
    return result


cdef object _inflate_growing(const char* src, size_t srcsize, Py_ssize_t max_size):
    cdef z_stream zs
    cdef PyObject* raw = NULL
    cdef size_t capacity, used = 0, written = 0
    cdef int state = _FULL
    cdef char* out
    memset(&zs, 0, sizeof(zs))
    if inflateInit(&zs) != Z_OK:
        raise MemoryError()
    try:
        capacity = max(srcsize * 4, <size_t>65536)
        if max_size >= 0 and capacity > <size_t>max_size + 1:
            capacity = <size_t>max_size + 1   # one byte more shows an overflow
        raw = _bytes_new(NULL, capacity)
        if raw == NULL:
            raise MemoryError()
        while state == _FULL:
            out = _bytes_data(raw) + used
            with nogil:
                state = _inflate_into(&zs, &src, &srcsize, out, capacity - used, &written)
            used += written
            if max_size >= 0 and used > <size_t>max_size:
                raise CodecError(f"zlib data decompresses to more than the {max_size} "
                                 "bytes expected")
            if state == _FULL:
                capacity *= 2
                if max_size >= 0 and capacity > <size_t>max_size + 1:
                    capacity = <size_t>max_size + 1
                if _PyBytes_Resize(&raw, capacity) < 0:
                    raise MemoryError()
        if state == _ERROR:
            raise CodecError(_MESSAGES[CZARR_ZLIB_ECORRUPT])
        if _PyBytes_Resize(&raw, used) < 0:
            raise MemoryError()
        result = <object>raw
        Py_DECREF(result)
        raw = NULL
        return result
    finally:
        Py_XDECREF(raw)
        inflateEnd(&zs)


def decompress(source, dest=None, Py_ssize_t max_size=-1):
    """Decompress a zlib stream into ``dest`` (a writable contiguous buffer of exactly
    the decompressed size; the stream must end exactly there) or into new ``bytes``;
    returns what was written to. Raises ``CodecError`` for invalid or truncated input,
    a ``dest`` of the wrong size (never writing past its end) or, without ``dest``, a
    stream inflating to more than ``max_size`` bytes (when ``max_size >= 0``; never
    more than ``max_size + 1`` bytes are allocated)."""
    cdef Py_buffer src, dst
    cdef Py_ssize_t ret
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        if dest is None:
            return _inflate_growing(<const char*>src.buf, src.len, max_size)
        PyObject_GetBuffer(dest, &dst, PyBUF_ANY_CONTIGUOUS | PyBUF_WRITABLE)
        try:
            with nogil:
                ret = zlib_decode_into(<const char*>src.buf, src.len, <char*>dst.buf,
                                       dst.len)
        finally:
            PyBuffer_Release(&dst)
        if ret < 0:
            _raise(ret)
    finally:
        PyBuffer_Release(&src)
    return dest
