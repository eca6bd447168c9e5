# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Zstandard compression, byte-compatible with numcodecs' Zstd (for the same libzstd).

Compression uses ``ZSTD_compress2`` on a context made for the call (the checksum flag
needs a context; ``ZSTD_compress`` makes one internally too). Decompression reads the
content size of every frame first; frames written without one (streaming writers)
decode too: into ``dest`` directly when it is given, otherwise through a streaming
decoder into a growing buffer. Without ``dest``, ``max_size`` bounds what may be
allocated: frames claiming more are refused before anything is allocated for them, and a
streamed frame is stopped as soon as it outgrows it (a decompression bomb costs at most
``max_size`` bytes). The GIL is released around every C call.
"""

from cpython.buffer cimport (PyBUF_ANY_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release,
                             PyObject_GetBuffer)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.ref cimport Py_DECREF, Py_XDECREF, PyObject

from czarr.errors import CodecError


cdef extern from "zstd.h" nogil:
    ctypedef struct ZSTD_CCtx:
        pass
    ctypedef struct ZSTD_DCtx:
        pass
    ctypedef enum ZSTD_cParameter:
        ZSTD_c_compressionLevel
        ZSTD_c_checksumFlag
    ctypedef struct ZSTD_inBuffer:
        const void* src
        size_t size
        size_t pos
    ctypedef struct ZSTD_outBuffer:
        void* dst
        size_t size
        size_t pos
    unsigned long long ZSTD_CONTENTSIZE_UNKNOWN
    unsigned long long ZSTD_CONTENTSIZE_ERROR
    unsigned ZSTD_versionNumber()
    int ZSTD_minCLevel()
    int ZSTD_maxCLevel()
    size_t ZSTD_compressBound(size_t srcSize)
    ZSTD_CCtx* ZSTD_createCCtx()
    size_t ZSTD_freeCCtx(ZSTD_CCtx* cctx)
    size_t ZSTD_CCtx_setParameter(ZSTD_CCtx* cctx, ZSTD_cParameter param, int value)
    size_t ZSTD_compress2(ZSTD_CCtx* cctx, void* dst, size_t dstCapacity,
                          const void* src, size_t srcSize)
    size_t ZSTD_decompress(void* dst, size_t dstCapacity, const void* src, size_t srcSize)
    unsigned long long ZSTD_getFrameContentSize(const void* src, size_t srcSize)
    size_t ZSTD_findFrameCompressedSize(const void* src, size_t srcSize)
    ZSTD_DCtx* ZSTD_createDCtx()
    size_t ZSTD_freeDCtx(ZSTD_DCtx* dctx)
    size_t ZSTD_decompressStream(ZSTD_DCtx* zds, ZSTD_outBuffer* output,
                                 ZSTD_inBuffer* input)
    unsigned ZSTD_isError(size_t code)
    const char* ZSTD_getErrorName(size_t code)


cdef extern from "Python.h":
    PyObject* _bytes_new "PyBytes_FromStringAndSize"(const char* v, Py_ssize_t n)
    int _PyBytes_Resize(PyObject** b, Py_ssize_t n)
    char* _bytes_data "PyBytes_AS_STRING"(PyObject* b) nogil


VERSION_NUMBER: int = ZSTD_versionNumber()
VERSION_STRING: str = (f"{VERSION_NUMBER // 10000}.{VERSION_NUMBER // 100 % 100}."
                       f"{VERSION_NUMBER % 100}")
MIN_LEVEL: int = ZSTD_minCLevel()
MAX_LEVEL: int = ZSTD_maxCLevel()

_MESSAGES = {
    CZARR_ZSTD_ECORRUPT: "invalid or truncated zstd data",
    CZARR_ZSTD_EDEST: "decompressed size differs from the destination size",
    CZARR_ZSTD_EPARAM: "zstd compression failed",
    CZARR_ZSTD_ENOMEM: "out of memory for a zstd context",
}


cdef long long zstd_content_size(const char* src, size_t srcsize) noexcept nogil:
    cdef unsigned long long total = 0, fcs
    cdef size_t frame
    cdef bint unknown = False
    if srcsize == 0:
        return CZARR_ZSTD_ECORRUPT
    while srcsize > 0:
        fcs = ZSTD_getFrameContentSize(src, srcsize)
        if fcs == ZSTD_CONTENTSIZE_ERROR:
            return CZARR_ZSTD_ECORRUPT
        if fcs == ZSTD_CONTENTSIZE_UNKNOWN:
            unknown = True
        else:
            if fcs > <unsigned long long>0x7FFFFFFFFFFFFFFF - total:
                return CZARR_ZSTD_ECORRUPT
            total += fcs
        frame = ZSTD_findFrameCompressedSize(src, srcsize)
        if ZSTD_isError(frame) or frame == 0 or frame > srcsize:
            return CZARR_ZSTD_ECORRUPT
        src += frame
        srcsize -= frame
    if unknown:
        return CZARR_ZSTD_UNKNOWN
    return <long long>total


cdef Py_ssize_t zstd_decode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize) noexcept nogil:
    cdef long long expected = zstd_content_size(src, srcsize)
    cdef size_t ret
    if expected == CZARR_ZSTD_ECORRUPT:
        return CZARR_ZSTD_ECORRUPT
    if expected >= 0 and <size_t>expected != destsize:
        return CZARR_ZSTD_EDEST
    ret = ZSTD_decompress(dest, destsize, src, srcsize)
    if ZSTD_isError(ret):
        # without a recorded content size, a too-small dest shows up only here
        return CZARR_ZSTD_EDEST if expected == CZARR_ZSTD_UNKNOWN else CZARR_ZSTD_ECORRUPT
    if ret != destsize:
        return CZARR_ZSTD_EDEST
    return <Py_ssize_t>ret


cdef Py_ssize_t zstd_encode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize, int level, bint checksum) noexcept nogil:
    cdef ZSTD_CCtx* cctx = ZSTD_createCCtx()
    cdef size_t ret
    if cctx == NULL:
        return CZARR_ZSTD_ENOMEM
    ret = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
    if not ZSTD_isError(ret):
        ret = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1 if checksum else 0)
    if not ZSTD_isError(ret):
        ret = ZSTD_compress2(cctx, dest, destsize, src, srcsize)
    ZSTD_freeCCtx(cctx)
    if ZSTD_isError(ret):
        return CZARR_ZSTD_EPARAM
    return <Py_ssize_t>ret


cdef _raise(Py_ssize_t code, detail=""):
    raise CodecError(_MESSAGES.get(code, f"zstd error {code}") + detail)


def compress(source, int level=1, bint checksum=False):
    """Compress a contiguous buffer into one zstd frame (content size recorded).

    ``level`` goes to libzstd as is (0 is its default, 3; negative levels are fast modes;
    out-of-range levels are clamped by libzstd). Returns ``bytes``.
    """
    cdef Py_buffer src
    cdef PyObject* raw
    cdef char* out
    cdef size_t bound
    cdef Py_ssize_t ret
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        bound = ZSTD_compressBound(src.len)
        if ZSTD_isError(bound) or bound > <size_t>0x7FFFFFFFFFFFFFFF:
            raise CodecError(f"input of {src.len} bytes is too large for zstd")
        raw = _bytes_new(NULL, bound)
        if raw == NULL:
            raise MemoryError()
        out = _bytes_data(raw)
        with nogil:
            ret = zstd_encode_into(<const char*>src.buf, src.len, out, bound, level,
                                   checksum)
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


cdef object _stream_decompress(const char* src, size_t srcsize, Py_ssize_t max_size):
    """Decode frames of unknown content size into a growing ``bytes`` of at most
    ``max_size`` bytes (no bound when negative)."""
    cdef ZSTD_DCtx* dctx = ZSTD_createDCtx()
    cdef ZSTD_inBuffer inb
    cdef ZSTD_outBuffer outb
    cdef PyObject* raw = NULL
    cdef size_t ret = 1, capacity, last_in, last_out
    cdef bint failed = False
    if dctx == NULL:
        raise MemoryError()
    try:
        capacity = max(srcsize * 4, <size_t>65536)
        if max_size >= 0 and capacity > <size_t>max_size + 1:
            capacity = <size_t>max_size + 1   # one byte more shows an overflow
        raw = _bytes_new(NULL, capacity)
        if raw == NULL:
            raise MemoryError()
        inb.src = src
        inb.size = srcsize
        inb.pos = 0
        outb.pos = 0
        while True:
            outb.dst = _bytes_data(raw)
            outb.size = capacity
            with nogil:
                while True:
                    last_in = inb.pos
                    last_out = outb.pos
                    ret = ZSTD_decompressStream(dctx, &outb, &inb)
                    if ZSTD_isError(ret):
                        failed = True
                        break
                    if ret == 0 and inb.pos == inb.size:
                        break       # every frame decoded and flushed
                    if outb.pos == outb.size:
                        break       # needs more room
                    if inb.pos == last_in and outb.pos == last_out:
                        failed = True   # no progress: the input is truncated
                        break
            if failed:
                raise CodecError("invalid or truncated zstd data")
            if ret == 0 and inb.pos == inb.size:
                break
            if max_size >= 0 and outb.pos > <size_t>max_size:
                raise CodecError(f"zstd data decompresses to more than the {max_size} "
                                 "bytes expected")
            capacity *= 2
            if max_size >= 0 and capacity > <size_t>max_size + 1:
                capacity = <size_t>max_size + 1
            if _PyBytes_Resize(&raw, capacity) < 0:
                raise MemoryError()
        if max_size >= 0 and outb.pos > <size_t>max_size:
            raise CodecError(f"zstd data decompresses to more than the {max_size} "
                             "bytes expected")
        if _PyBytes_Resize(&raw, outb.pos) < 0:
            raise MemoryError()
        result = <object>raw
        Py_DECREF(result)
        raw = NULL
        return result
    finally:
        Py_XDECREF(raw)
        ZSTD_freeDCtx(dctx)


def decompress(source, dest=None, Py_ssize_t max_size=-1):
    """Decompress zstd frames into ``dest`` (a writable contiguous buffer of exactly the
    decompressed size) or into new ``bytes``; returns what was written to.

    Raises ``CodecError`` for invalid, truncated or hostile input, for a ``dest`` of the
    wrong size (checked before decompressing when the frames record their size), and,
    without ``dest``, for data decompressing to more than ``max_size`` bytes (when
    ``max_size >= 0``; never more than ``max_size + 1`` bytes are allocated).
    """
    cdef Py_buffer src, dst
    cdef long long size
    cdef Py_ssize_t ret
    cdef char* out
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        with nogil:
            size = zstd_content_size(<const char*>src.buf, src.len)
        if size == CZARR_ZSTD_ECORRUPT:
            _raise(size)
        if dest is None:
            if size == CZARR_ZSTD_UNKNOWN:
                return _stream_decompress(<const char*>src.buf, src.len, max_size)
            if max_size >= 0 and size > max_size:
                raise CodecError(f"zstd frames claim {size} bytes, more than the "
                                 f"{max_size} expected")
            # a block of at least 4 bytes (an RLE block) yields at most 128 KiB
            if size > <long long>src.len * 32768:
                raise CodecError(f"zstd frames of {src.len} bytes cannot hold the "
                                 f"{size} bytes they claim")
            dest = PyBytes_FromStringAndSize(NULL, size)
            out = PyBytes_AS_STRING(dest)
            with nogil:
                ret = zstd_decode_into(<const char*>src.buf, src.len, out, size)
        else:
            PyObject_GetBuffer(dest, &dst, PyBUF_ANY_CONTIGUOUS | PyBUF_WRITABLE)
            try:
                if size >= 0 and size != dst.len:
                    raise CodecError(f"destination holds {dst.len} bytes but the zstd "
                                     f"data decompresses to {size}")
                with nogil:
                    ret = zstd_decode_into(<const char*>src.buf, src.len, <char*>dst.buf,
                                           dst.len)
            finally:
                PyBuffer_Release(&dst)
        if ret < 0:
            _raise(ret)
    finally:
        PyBuffer_Release(&src)
    return dest
