# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""LZ4 block compression in numcodecs' framing: a 4-byte little-endian decompressed size,
then one LZ4 block. Decoding uses ``LZ4_decompress_safe`` (never reads or writes out of
bounds) into the caller's buffer; the GIL is released around every C call.
"""

from cpython.buffer cimport (PyBUF_ANY_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release,
                             PyObject_GetBuffer)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.ref cimport Py_DECREF, Py_XDECREF, PyObject
from libc.stdint cimport uint8_t, uint32_t

from czarr.errors import CodecError


cdef extern from "lz4.h" nogil:
    int LZ4_MAX_INPUT_SIZE
    const char* LZ4_versionString()
    int LZ4_compressBound(int inputSize)
    int LZ4_compress_fast(const char* src, char* dst, int srcSize, int dstCapacity,
                          int acceleration)
    int LZ4_decompress_safe(const char* src, char* dst, int compressedSize,
                            int dstCapacity)


cdef extern from "Python.h":
    PyObject* _bytes_new "PyBytes_FromStringAndSize"(const char* v, Py_ssize_t n)
    int _PyBytes_Resize(PyObject** b, Py_ssize_t n)
    char* _bytes_data "PyBytes_AS_STRING"(PyObject* b) nogil


VERSION_STRING: str = LZ4_versionString().decode("ascii")
MAX_INPUT_SIZE: int = LZ4_MAX_INPUT_SIZE

cdef enum:
    _LZ4_MAX_RATIO = 255

_MESSAGES = {
    CZARR_LZ4_ECORRUPT: "invalid or truncated LZ4 data",
    CZARR_LZ4_EDEST: "decompressed size differs from the destination size",
    CZARR_LZ4_EPARAM: "LZ4 compression failed",
}


cdef Py_ssize_t lz4_decoded_size(const char* src, size_t srcsize) noexcept nogil:
    cdef const uint8_t* p = <const uint8_t*>src
    cdef uint32_t n
    if srcsize < 4:
        return CZARR_LZ4_ECORRUPT
    n = <uint32_t>p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (
        <uint32_t>p[3] << 24)
    if n > <uint32_t>LZ4_MAX_INPUT_SIZE:
        return CZARR_LZ4_ECORRUPT
    # the header is only a claim: an LZ4 block expands at most about 255-fold (one
    # byte of match length is worth 255 bytes of output), so a claim beyond that is
    # corrupt and is refused before anything is allocated for it
    if n > <size_t>_LZ4_MAX_RATIO * (srcsize - 4) + 64:
        return CZARR_LZ4_ECORRUPT
    return n


cdef Py_ssize_t lz4_decode_into(const char* src, size_t srcsize, char* dest,
                                size_t destsize) noexcept nogil:
    cdef Py_ssize_t n = lz4_decoded_size(src, srcsize)
    cdef int ret
    if n < 0:
        return n
    if <size_t>n != destsize:
        return CZARR_LZ4_EDEST
    if srcsize - 4 > 0x7FFFFFFF:
        return CZARR_LZ4_ECORRUPT
    ret = LZ4_decompress_safe(src + 4, dest, <int>(srcsize - 4), <int>n)
    if ret != n:
        return CZARR_LZ4_ECORRUPT
    return n


cdef Py_ssize_t lz4_block_decode_into(const char* src, size_t srcsize, char* dest,
                                      size_t destsize) noexcept nogil:
    cdef int ret
    if srcsize > 0x7FFFFFFF or destsize > 0x7FFFFFFF:
        return CZARR_LZ4_EPARAM
    ret = LZ4_decompress_safe(src, dest, <int>srcsize, <int>destsize)
    if ret != <int>destsize:
        return CZARR_LZ4_ECORRUPT
    return ret


cdef Py_ssize_t lz4_encode_into(const char* src, size_t srcsize, char* dest,
                                size_t destsize, int acceleration) noexcept nogil:
    cdef int ret
    if srcsize > <size_t>LZ4_MAX_INPUT_SIZE or destsize < 4 or destsize - 4 > 0x7FFFFFFF:
        return CZARR_LZ4_EPARAM
    (<uint8_t*>dest)[0] = srcsize & 0xFF
    (<uint8_t*>dest)[1] = (srcsize >> 8) & 0xFF
    (<uint8_t*>dest)[2] = (srcsize >> 16) & 0xFF
    (<uint8_t*>dest)[3] = (srcsize >> 24) & 0xFF
    ret = LZ4_compress_fast(src, dest + 4, <int>srcsize, <int>(destsize - 4),
                            acceleration if acceleration > 0 else 1)
    if ret <= 0:
        return CZARR_LZ4_EPARAM
    return ret + 4


cdef Py_ssize_t lz4_block_encode_into(const char* src, size_t srcsize, char* dest,
                                      size_t destsize, int acceleration) noexcept nogil:
    if srcsize > <size_t>LZ4_MAX_INPUT_SIZE or destsize > 0x7FFFFFFF:
        return CZARR_LZ4_EPARAM
    return LZ4_compress_fast(src, dest, <int>srcsize, <int>destsize, acceleration)


cdef _raise(Py_ssize_t code):
    raise CodecError(_MESSAGES.get(code, f"LZ4 error {code}"))


def compress(source, int acceleration=1):
    """Compress a contiguous buffer (at most ``MAX_INPUT_SIZE`` bytes); accelerations
    below 1 mean 1, as in numcodecs. Returns ``bytes``."""
    cdef Py_buffer src
    cdef PyObject* raw
    cdef char* out
    cdef Py_ssize_t ret, bound
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        if src.len > LZ4_MAX_INPUT_SIZE:
            raise CodecError(f"LZ4 cannot compress more than {LZ4_MAX_INPUT_SIZE} bytes, "
                             f"got {src.len}")
        bound = LZ4_compressBound(<int>src.len) + 4
        raw = _bytes_new(NULL, bound)
        if raw == NULL:
            raise MemoryError()
        out = _bytes_data(raw)
        with nogil:
            ret = lz4_encode_into(<const char*>src.buf, src.len, out, bound, acceleration)
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


def decompress(source, dest=None, Py_ssize_t max_size=-1):
    """Decompress into ``dest`` (a writable contiguous buffer of exactly the size in the
    4-byte header) or into new ``bytes``; returns what was written to. Raises
    ``CodecError`` for invalid or truncated input, a ``dest`` of the wrong size or,
    without ``dest``, a header claiming more than ``max_size`` bytes (when
    ``max_size >= 0``; checked before anything is allocated)."""
    cdef Py_buffer src, dst
    cdef Py_ssize_t n, ret
    cdef char* out
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        n = lz4_decoded_size(<const char*>src.buf, src.len)
        if n < 0:
            _raise(n)
        if dest is None:
            if max_size >= 0 and n > max_size:
                raise CodecError(f"the LZ4 header claims {n} bytes, more than the "
                                 f"{max_size} expected")
            dest = PyBytes_FromStringAndSize(NULL, n)
            out = PyBytes_AS_STRING(dest)
            with nogil:
                ret = lz4_decode_into(<const char*>src.buf, src.len, out, n)
        else:
            PyObject_GetBuffer(dest, &dst, PyBUF_ANY_CONTIGUOUS | PyBUF_WRITABLE)
            try:
                if dst.len != n:
                    raise CodecError(f"destination holds {dst.len} bytes but the LZ4 "
                                     f"data decompresses to {n}")
                with nogil:
                    ret = lz4_decode_into(<const char*>src.buf, src.len, <char*>dst.buf,
                                          dst.len)
            finally:
                PyBuffer_Release(&dst)
        if ret < 0:
            _raise(ret)
    finally:
        PyBuffer_Release(&src)
    return dest
