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
