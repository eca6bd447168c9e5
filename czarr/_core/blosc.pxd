# Blosc (c-blosc 1.x) at the C level: C types only, every function nogil and thread-safe
# (each call uses its own blosc context; no global state, no lock).
# The header (16 bytes) is validated before any byte past it is read; `srcsize` is the
# number of readable bytes at `src`. Functions return >= 0 on success, a CZARR_BLOSC_E*
# code (< 0) on error.

cdef enum:
    CZARR_BLOSC_ESHORT = -1      # fewer than 16 bytes: no Blosc header
    CZARR_BLOSC_EVERSION = -2    # unknown format version or compressor format
    CZARR_BLOSC_EHEADER = -3     # inconsistent header fields
    CZARR_BLOSC_ECBYTES = -4     # header cbytes larger than the buffer given
    CZARR_BLOSC_EDEST = -5       # destination size differs from what the header claims
    CZARR_BLOSC_ECORRUPT = -6    # the library rejected the compressed data
    CZARR_BLOSC_ERANGE = -7      # getitem range outside the buffer
    CZARR_BLOSC_EPARAM = -8      # invalid compression parameter
    CZARR_BLOSC_EUNSUPPORTED = -9  # settings blosc_encode_strided leaves to c-blosc

cdef Py_ssize_t blosc_decode_into(const char* src, size_t srcsize, char* dest,
                                  size_t destsize, int nthreads) noexcept nogil

cdef Py_ssize_t blosc_getitem_into(const char* src, size_t srcsize, Py_ssize_t start,
                                   Py_ssize_t nitems, char* dest,
                                   size_t destsize) noexcept nogil

cdef Py_ssize_t blosc_encode_into(const char* src, size_t srcsize, char* dest,
                                  size_t destsize, const char* cname, int clevel,
                                  int shuffle, size_t typesize, size_t blocksize,
                                  int nthreads) noexcept nogil

cdef int blosc_header_sizes(const char* src, size_t srcsize, Py_ssize_t* nbytes,
                            Py_ssize_t* cbytes, Py_ssize_t* blocksize,
                            Py_ssize_t* typesize) noexcept nogil

# The frame format's constants, for the modules that walk frames themselves
# (blosc_blocks.pyx); blosc.pyx checks them against blosc.h when it is imported.
cdef enum:
    CZARR_BLOSC_HEADER = 16              # the header; also c-blosc's BLOSC_MAX_OVERHEAD
    CZARR_BLOSC_FORMAT = 2               # BLOSC_VERSION_FORMAT
    CZARR_BLOSC_MAX_TYPESIZE = 255
    CZARR_BLOSC_MAX_BUFFERSIZE = 2147483631          # INT_MAX - 16
    CZARR_BLOSC_MAX_BLOCKSIZE = 715827542            # (INT_MAX - 255 * 4) / 3

# The header's fields, validated against the buffer by blosc_read_header (0 or a
# CZARR_BLOSC_E* code) before anything reads past the 16 bytes.
cdef struct BloscHeader:
    int flags
    Py_ssize_t typesize
    Py_ssize_t nbytes
    Py_ssize_t blocksize
    Py_ssize_t cbytes

cdef int blosc_read_header(const char* src, size_t srcsize, BloscHeader* h) noexcept nogil

# a signed 32-bit little-endian integer, as the header and the block offsets store them
cdef inline Py_ssize_t blosc_le32(const unsigned char* p) noexcept nogil:
    return <int>(<unsigned int>p[0] | (<unsigned int>p[1] << 8)
                 | (<unsigned int>p[2] << 16) | (<unsigned int>p[3] << 24))

# c-blosc's code of a compressor name (BLOSC_LZ4...), -1 when unknown
cdef int blosc_compcode(const char* cname) noexcept nogil

# the CodecError for a CZARR_BLOSC_E* code
cdef object blosc_error(Py_ssize_t code)
