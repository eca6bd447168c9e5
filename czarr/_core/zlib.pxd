# zlib format (RFC 1950, what Python's zlib.compress writes) and gzip format (RFC 1952,
# one member, read by Python's gzip and numcodecs' GZip; written with mtime 0) at the C
# level: C types only, every function nogil and thread-safe. Functions return the number of bytes
# written (>= 0) or a CZARR_ZLIB_E* code (< 0).

cdef enum:
    CZARR_ZLIB_ECORRUPT = -1     # invalid or truncated stream
    CZARR_ZLIB_EDEST = -2        # decompressed size differs from the destination size
    CZARR_ZLIB_EPARAM = -3       # invalid level, destination too small or no memory

cdef Py_ssize_t zlib_decode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize) noexcept nogil

cdef Py_ssize_t zlib_encode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize, int level) noexcept nogil

cdef Py_ssize_t gzip_decode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize) noexcept nogil

cdef Py_ssize_t gzip_encode_into(const char* src, size_t srcsize, char* dest,
                                 size_t destsize, int level) noexcept nogil
