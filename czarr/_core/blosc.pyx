# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Blosc (c-blosc 1.x) compression, byte-compatible with numcodecs' Blosc.

Every call builds its own Blosc context (``blosc_compress_ctx`` / ``blosc_decompress_ctx``),
so any number of threads may (de)compress at once; the GIL is released for the whole C
call. The 16-byte header is validated here, with integer maths, before the library reads
anything past it: the library trusts the header's ``cbytes``, so a header claiming more
bytes than the buffer holds is refused, as is one whose ``nbytes`` differs from ``dest``.
``blosc_getitem`` (partial decompression) is also context-local in c-blosc 1.21 (a stack
``struct blosc_context`` plus a private temporary buffer), hence thread-safe; its range
checks leak that buffer on failure, so the range is checked here first.
"""

from cpython.buffer cimport (PyBUF_ANY_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release,
                             PyObject_GetBuffer)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t

from libc.stdlib cimport free, malloc

from czarr.errors import CodecError


cdef extern from "blosc.h" nogil:
    const char* BLOSC_VERSION_STRING
    int BLOSC_VERSION_FORMAT
    int BLOSC_MIN_HEADER_LENGTH
    int BLOSC_MAX_OVERHEAD
    int BLOSC_MAX_BUFFERSIZE
    int BLOSC_MAX_BLOCKSIZE
    int BLOSC_MAX_TYPESIZE
    int BLOSC_MAX_THREADS
    int BLOSC_DOSHUFFLE
    int BLOSC_MEMCPYED
    int BLOSC_DOBITSHUFFLE
    int blosc_compress_ctx(int clevel, int doshuffle, size_t typesize, size_t nbytes,
                           const void* src, void* dest, size_t destsize,
                           const char* compressor, size_t blocksize,
                           int numinternalthreads)
    int blosc_decompress_ctx(const void* src, void* dest, size_t destsize,
                             int numinternalthreads)
    int blosc_getitem(const void* src, int start, int nitems, void* dest)
    int blosc_compname_to_compcode(const char* compname)
    const char* blosc_list_compressors()


VERSION_STRING: str = BLOSC_VERSION_STRING.decode("ascii")
MAX_OVERHEAD: int = BLOSC_MAX_OVERHEAD
MAX_BUFFERSIZE: int = BLOSC_MAX_BUFFERSIZE
MAX_TYPESIZE: int = BLOSC_MAX_TYPESIZE
MAX_THREADS: int = BLOSC_MAX_THREADS
NOSHUFFLE: int = 0
SHUFFLE: int = 1
BITSHUFFLE: int = 2
AUTOSHUFFLE: int = -1
COMPRESSORS: tuple = tuple(blosc_list_compressors().decode("ascii").split(","))

# the format constants blosc.pxd spells out for the modules that walk frames themselves
assert (CZARR_BLOSC_HEADER, CZARR_BLOSC_MAX_TYPESIZE, CZARR_BLOSC_MAX_BLOCKSIZE,
        CZARR_BLOSC_MAX_BUFFERSIZE, CZARR_BLOSC_FORMAT) == (
    BLOSC_MIN_HEADER_LENGTH, BLOSC_MAX_TYPESIZE, BLOSC_MAX_BLOCKSIZE, BLOSC_MAX_BUFFERSIZE,
    BLOSC_VERSION_FORMAT), "blosc.h and blosc.pxd disagree"

_MESSAGES = {
    CZARR_BLOSC_ESHORT: "input is shorter than the 16-byte Blosc header",
    CZARR_BLOSC_EVERSION: "unsupported Blosc format version or compressor format",
    CZARR_BLOSC_EHEADER: "inconsistent Blosc header",
    CZARR_BLOSC_ECBYTES: "Blosc header claims more compressed bytes than the buffer holds",
    CZARR_BLOSC_EDEST: "destination size differs from the size in the Blosc header",
    CZARR_BLOSC_ECORRUPT: "corrupt Blosc data",
    CZARR_BLOSC_ERANGE: "item range outside the compressed buffer",
    CZARR_BLOSC_EPARAM: "invalid Blosc compression parameter",
}

cdef enum:
    _MAX_RATIO = 32768    # the most any of Blosc's inner codecs expands its input


cdef int blosc_read_header(const char* src, size_t srcsize,
                           BloscHeader* h) noexcept nogil:
    """Validate the 16-byte header against the buffer; 0 or a CZARR_BLOSC_E* code."""
    cdef const uint8_t* p = <const uint8_t*>src
    cdef Py_ssize_t nblocks
    cdef int compformat
    if srcsize < <size_t>BLOSC_MIN_HEADER_LENGTH:
        return CZARR_BLOSC_ESHORT
    if p[0] != BLOSC_VERSION_FORMAT:
        return CZARR_BLOSC_EVERSION
    h.flags = p[2]
    h.typesize = p[3]
    h.nbytes = blosc_le32(p + 4)
    h.blocksize = blosc_le32(p + 8)
    h.cbytes = blosc_le32(p + 12)
    if h.cbytes < BLOSC_MIN_HEADER_LENGTH or h.nbytes < 0 or h.nbytes > BLOSC_MAX_BUFFERSIZE:
        return CZARR_BLOSC_EHEADER
    if <size_t>h.cbytes > srcsize:
        return CZARR_BLOSC_ECBYTES
    if h.nbytes == 0:
        return 0
    if (h.flags & 0x08) or h.typesize == 0:   # bit 3 is reserved
        return CZARR_BLOSC_EHEADER
    if h.blocksize <= 0 or h.blocksize > h.nbytes or h.blocksize > BLOSC_MAX_BLOCKSIZE:
        return CZARR_BLOSC_EHEADER
    if h.flags & BLOSC_MEMCPYED:
        if h.cbytes != h.nbytes + BLOSC_MAX_OVERHEAD:
            return CZARR_BLOSC_EHEADER
        return 0
    compformat = h.flags >> 5
    if compformat > 4 or p[1] != 1:   # blosclz, lz4, snappy, zlib, zstd; all version 1
        return CZARR_BLOSC_EVERSION
    # nbytes is only a claim: no inner codec expands more than zstd (a 4-byte RLE block
    # gives 128 KiB), so a larger claim is refused before anything is allocated for it
    if h.nbytes > (h.cbytes - BLOSC_MIN_HEADER_LENGTH) * _MAX_RATIO:
        return CZARR_BLOSC_EHEADER
    nblocks = h.nbytes // h.blocksize + (1 if h.nbytes % h.blocksize else 0)
    # every block needs a 4-byte start offset and at least one 4-byte split header
    if nblocks >= (h.cbytes - BLOSC_MIN_HEADER_LENGTH) // 4:
        return CZARR_BLOSC_EHEADER
    return 0


cdef int blosc_header_sizes(const char* src, size_t srcsize, Py_ssize_t* nbytes,
                            Py_ssize_t* cbytes, Py_ssize_t* blocksize,
                            Py_ssize_t* typesize) noexcept nogil:
    cdef BloscHeader h
    cdef int err = blosc_read_header(src, srcsize, &h)
    if err < 0:
        return err
    nbytes[0] = h.nbytes
    cbytes[0] = h.cbytes
    blocksize[0] = h.blocksize
    typesize[0] = h.typesize
    return 0


cdef Py_ssize_t blosc_decode_into(const char* src, size_t srcsize, char* dest,
                                  size_t destsize, int nthreads) noexcept nogil:
    cdef BloscHeader h
    cdef int err = blosc_read_header(src, srcsize, &h)
    cdef int ret
    if err < 0:
        return err
    if <size_t>h.nbytes != destsize:
        return CZARR_BLOSC_EDEST
    if h.nbytes == 0:
        return 0
    ret = blosc_decompress_ctx(src, dest, destsize, nthreads if nthreads > 0 else 1)
    if ret != h.nbytes:
        return CZARR_BLOSC_ECORRUPT
    return ret


cdef Py_ssize_t blosc_getitem_into(const char* src, size_t srcsize, Py_ssize_t start,
                                   Py_ssize_t nitems, char* dest,
                                   size_t destsize) noexcept nogil:
    cdef BloscHeader h
    cdef int err = blosc_read_header(src, srcsize, &h)
    cdef int ret
    if err < 0:
        return err
    if start < 0 or nitems < 0:
        return CZARR_BLOSC_ERANGE
    if h.nbytes == 0:
        if start != 0 or nitems != 0:
            return CZARR_BLOSC_ERANGE
        return 0 if destsize == 0 else CZARR_BLOSC_EDEST
    # start + nitems <= nbytes / typesize, written so that nothing overflows
    if start > h.nbytes // h.typesize or nitems > h.nbytes // h.typesize - start:
        return CZARR_BLOSC_ERANGE
    if <size_t>(nitems * h.typesize) != destsize:
        return CZARR_BLOSC_EDEST
    if nitems == 0:
        return 0
    ret = blosc_getitem(src, <int>start, <int>nitems, dest)
    if ret != nitems * h.typesize:
        return CZARR_BLOSC_ECORRUPT
    return ret


cdef Py_ssize_t blosc_encode_into(const char* src, size_t srcsize, char* dest,
                                  size_t destsize, const char* cname, int clevel,
                                  int shuffle, size_t typesize, size_t blocksize,
                                  int nthreads) noexcept nogil:
    cdef int ret
    if (srcsize > <size_t>BLOSC_MAX_BUFFERSIZE or clevel < 0 or clevel > 9
            or shuffle < 0 or shuffle > 2 or typesize < 1 or nthreads < 1
            or destsize < <size_t>BLOSC_MAX_OVERHEAD
            or blosc_compname_to_compcode(cname) < 0):
        return CZARR_BLOSC_EPARAM
    if blocksize > <size_t>BLOSC_MAX_BLOCKSIZE:
        blocksize = BLOSC_MAX_BLOCKSIZE
    ret = blosc_compress_ctx(clevel, shuffle, typesize, srcsize, src, dest, destsize,
                             cname, blocksize, nthreads)
    if ret <= 0:
        return CZARR_BLOSC_ECORRUPT
    return ret


cdef object blosc_error(Py_ssize_t code):
    return CodecError(_MESSAGES.get(code, f"Blosc error {code}"))


cdef _raise(Py_ssize_t code):
    raise blosc_error(code)


cdef int blosc_compcode(const char* cname) noexcept nogil:
    return blosc_compname_to_compcode(cname)


cdef bytes _cname_bytes(cname):
    if isinstance(cname, str):
        cname = cname.encode("ascii")
    if not isinstance(cname, bytes) or blosc_compname_to_compcode(<bytes>cname) < 0:
        raise CodecError(f"unknown Blosc compressor {cname!r}; expected one of "
                         f"{', '.join(COMPRESSORS)}")
    return <bytes>cname


def compress(source, cname="lz4", int clevel=5, int shuffle=SHUFFLE, typesize=None,
             Py_ssize_t blocksize=0, int numinternalthreads=1):
    """Compress a contiguous buffer into a Blosc frame.

    ``typesize`` defaults to the buffer's item size; ``shuffle=AUTOSHUFFLE`` (-1) means
    bit-shuffle when that is 1 and byte-shuffle otherwise. Returns ``bytes``.

    With ``numinternalthreads > 1`` c-blosc stores blocks in the order they finish: the
    frame is valid but its bytes vary from run to run (numcodecs' threaded output too);
    one thread gives numcodecs' single-threaded bytes.
    """
    cdef Py_buffer src
    cdef bytes cname_b = _cname_bytes(cname)
    cdef const char* cname_p = cname_b
    cdef size_t ts
    cdef Py_ssize_t ret, destsize
    cdef char* out
    if clevel < 0 or clevel > 9:
        raise CodecError(f"Blosc clevel must be between 0 and 9, got {clevel}")
    if shuffle < -1 or shuffle > 2:
        raise CodecError(f"Blosc shuffle must be -1, 0, 1 or 2, got {shuffle}")
    if blocksize < 0:
        raise CodecError(f"Blosc blocksize must be >= 0, got {blocksize}")
    if numinternalthreads < 1 or numinternalthreads > BLOSC_MAX_THREADS:
        raise CodecError(f"numinternalthreads must be in 1..{BLOSC_MAX_THREADS}")
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        ts = src.itemsize if typesize is None else typesize
        if ts < 1:
            raise CodecError(f"Blosc typesize must be >= 1, got {ts}")
        if shuffle == AUTOSHUFFLE:
            shuffle = BITSHUFFLE if ts == 1 else SHUFFLE
        if src.len > BLOSC_MAX_BUFFERSIZE:
            raise CodecError(f"Blosc cannot compress more than {BLOSC_MAX_BUFFERSIZE} "
                             f"bytes, got {src.len}")
        destsize = src.len + BLOSC_MAX_OVERHEAD
        # compressed into scratch space, then copied out at its size: the scratch is
        # freed at once and reused by the next call, where a shrunk bytes object would
        # leave the allocator fresh pages to fault in for every chunk
        out = <char*>malloc(destsize)
        if out == NULL:
            raise MemoryError()
        try:
            with nogil:
                ret = blosc_encode_into(<const char*>src.buf, src.len, out,
                                        destsize, cname_p, clevel, shuffle, ts, blocksize,
                                        numinternalthreads)
            if ret < 0:
                _raise(ret)
            return PyBytes_FromStringAndSize(out, ret)
        finally:
            free(out)
    finally:
        PyBuffer_Release(&src)


def decompress(source, dest=None, int numinternalthreads=1):
    """Decompress a Blosc frame into ``dest`` (any writable contiguous buffer of exactly
    the decompressed size) or into new ``bytes``; returns what was written to.

    Raises ``CodecError`` for a truncated, corrupt or hostile frame, or a ``dest`` of the
    wrong size, before anything is decompressed.
    """
    cdef Py_buffer src, dst
    cdef BloscHeader h
    cdef Py_ssize_t ret
    cdef char* out
    cdef int err
    if numinternalthreads < 1 or numinternalthreads > BLOSC_MAX_THREADS:
        raise CodecError(f"numinternalthreads must be in 1..{BLOSC_MAX_THREADS}")
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        err = blosc_read_header(<const char*>src.buf, src.len, &h)
        if err < 0:
            _raise(err)
        if dest is None:
            dest = PyBytes_FromStringAndSize(NULL, h.nbytes)
            out = PyBytes_AS_STRING(dest)
            with nogil:
                ret = blosc_decode_into(<const char*>src.buf, src.len, out, h.nbytes,
                                        numinternalthreads)
        else:
            PyObject_GetBuffer(dest, &dst, PyBUF_ANY_CONTIGUOUS | PyBUF_WRITABLE)
            try:
                if dst.len != h.nbytes:
                    raise CodecError(f"destination holds {dst.len} bytes but the Blosc "
                                     f"frame decompresses to {h.nbytes}")
                with nogil:
                    ret = blosc_decode_into(<const char*>src.buf, src.len,
                                            <char*>dst.buf, dst.len, numinternalthreads)
            finally:
                PyBuffer_Release(&dst)
        if ret < 0:
            _raise(ret)
    finally:
        PyBuffer_Release(&src)
    return dest


def getitem(source, Py_ssize_t start, Py_ssize_t nitems, dest=None):
    """Decompress items ``start:start + nitems`` (in units of the frame's typesize) of a
    Blosc frame into ``dest`` (exactly ``nitems * typesize`` bytes) or new ``bytes``."""
    cdef Py_buffer src, dst
    cdef BloscHeader h
    cdef Py_ssize_t ret, size
    cdef char* out
    cdef int err
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        err = blosc_read_header(<const char*>src.buf, src.len, &h)
        if err < 0:
            _raise(err)
        if start < 0 or nitems < 0 or (h.nbytes == 0 and (start or nitems)) or (
                h.nbytes and (start > h.nbytes // h.typesize
                              or nitems > h.nbytes // h.typesize - start)):
            raise CodecError(f"items {start}:{start + nitems} are outside the Blosc frame "
                             f"({h.nbytes} bytes of typesize {h.typesize})")
        size = nitems * h.typesize
        if dest is None:
            dest = PyBytes_FromStringAndSize(NULL, size)
            out = PyBytes_AS_STRING(dest)
            with nogil:
                ret = blosc_getitem_into(<const char*>src.buf, src.len, start, nitems,
                                         out, size)
        else:
            PyObject_GetBuffer(dest, &dst, PyBUF_ANY_CONTIGUOUS | PyBUF_WRITABLE)
            try:
                if dst.len != size:
                    raise CodecError(f"destination holds {dst.len} bytes but {nitems} "
                                     f"items of typesize {h.typesize} need {size}")
                with nogil:
                    ret = blosc_getitem_into(<const char*>src.buf, src.len, start, nitems,
                                             <char*>dst.buf, dst.len)
            finally:
                PyBuffer_Release(&dst)
        if ret < 0:
            _raise(ret)
    finally:
        PyBuffer_Release(&src)
    return dest


def cbuffer_sizes(source):
    """``(nbytes, cbytes, blocksize)`` from a validated Blosc header."""
    cdef Py_buffer src
    cdef Py_ssize_t nbytes = 0, cbytes = 0, blocksize = 0, typesize = 0
    cdef int err
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        err = blosc_header_sizes(<const char*>src.buf, src.len, &nbytes, &cbytes,
                                 &blocksize, &typesize)
    finally:
        PyBuffer_Release(&src)
    if err < 0:
        _raise(err)
    return nbytes, cbytes, blocksize


def cbuffer_metainfo(source):
    """``(typesize, flags)`` from a validated Blosc header (flags: bit 0 byte-shuffle,
    bit 1 memcpyed, bit 2 bit-shuffle)."""
    cdef Py_buffer src
    cdef BloscHeader h
    cdef int err
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        err = blosc_read_header(<const char*>src.buf, src.len, &h)
    finally:
        PyBuffer_Release(&src)
    if err < 0:
        _raise(err)
    return h.typesize, h.flags & 0x07
