# numcodecs' variable-length packing (VLenUTF8, VLenBytes, VLenArray) at the C level:
# a 4-byte little-endian item count, then per item a 4-byte little-endian length and
# that many bytes. C types only, every function nogil and thread-safe. Functions return
# a count (>= 0) or a CZARR_VLEN_E* code (< 0).

from libc.stdint cimport uint32_t

cdef enum:
    CZARR_VLEN_ECORRUPT = -1     # header or an item runs past the end of the buffer
    CZARR_VLEN_ETRAILING = -2    # bytes left over after the last item

# The item count in the header, once checked to be possible for srcsize bytes
# (each item needs at least its 4-byte length).
cdef Py_ssize_t vlen_count(const char* src, size_t srcsize) noexcept nogil

# Walk n_items items (from vlen_count) and record each one's offset and length;
# starts and lengths hold n_items entries. Returns n_items.
cdef Py_ssize_t vlen_index(const char* src, size_t srcsize, Py_ssize_t n_items,
                           size_t* starts, uint32_t* lengths) noexcept nogil

# Write the header for n_items, returning the bytes written (4).
cdef Py_ssize_t vlen_write_header(char* dest, uint32_t n_items) noexcept nogil
