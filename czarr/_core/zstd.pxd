# Zstandard at the C level: C types only, every function nogil and thread-safe (no
# shared state). `srcsize` is the number of readable bytes at `src`; functions return
# the number of bytes written (>= 0) or a CZARR_ZSTD_E* code (< 0).

cdef enum:
    CZARR_ZSTD_ECORRUPT = -1     # not a valid zstd frame sequence (or truncated)
    CZARR_ZSTD_EDEST = -2        # decompressed size differs from the destination size
    CZARR_ZSTD_EPARAM = -3       # compression failed (destination too small, no memory)
    CZARR_ZSTD_ENOMEM = -4       # no memory for a compression context

# Total decompressed size of every frame in `src`: >= 0, CZARR_ZSTD_ECORRUPT, or -100
# (CZARR_ZSTD_UNKNOWN) when some frame does not record its content size.
cdef enum:
    CZARR_ZSTD_UNKNOWN = -100

cdef long long zstd_content_size(const char* src, size_t srcsize) noexcept nogil

cdef Py_ssize_t zstd_decode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize) noexcept nogil

cdef Py_ssize_t zstd_encode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize, int level, bint checksum) noexcept nogil
