# LZ4 in numcodecs' framing (a 4-byte little-endian decompressed size, then one LZ4
# block) at the C level: C types only, every function nogil and thread-safe. Functions
# return the number of bytes written (>= 0) or a CZARR_LZ4_E* code (< 0).

cdef enum:
    CZARR_LZ4_ECORRUPT = -1      # truncated header or invalid LZ4 block
    CZARR_LZ4_EDEST = -2         # decompressed size differs from the destination size
    CZARR_LZ4_EPARAM = -3        # input too large or destination too small

cdef Py_ssize_t lz4_decoded_size(const char* src, size_t srcsize) noexcept nogil

cdef Py_ssize_t lz4_decode_into(const char* src, size_t srcsize, char* dest,
                                size_t destsize) noexcept nogil

cdef Py_ssize_t lz4_encode_into(const char* src, size_t srcsize, char* dest,
                                size_t destsize, int acceleration) noexcept nogil

# one raw LZ4 block (no size header, as inside a Blosc frame) that must decode to exactly
# `destsize` bytes
cdef Py_ssize_t lz4_block_decode_into(const char* src, size_t srcsize, char* dest,
                                      size_t destsize) noexcept nogil

# one raw LZ4 block of at most `destsize` bytes (LZ4_compress_fast, as c-blosc calls it):
# its size, 0 when it does not fit, or CZARR_LZ4_EPARAM
cdef Py_ssize_t lz4_block_encode_into(const char* src, size_t srcsize, char* dest,
                                      size_t destsize, int acceleration) noexcept nogil
