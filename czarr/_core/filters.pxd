# Byte-level filter kernels (numcodecs' Shuffle and Fletcher32 formats) at the C level:
# C types only, every function nogil and thread-safe. Callers check buffer sizes.

from libc.stdint cimport uint32_t

# Byte shuffle: byte b of item i goes to dest[b * nitems + i] (numcodecs.Shuffle, not
# Blosc's blocked shuffle). src and dest hold nitems * itemsize bytes and must not overlap.
cdef void shuffle_into(const unsigned char* src, unsigned char* dest, size_t nitems,
                       size_t itemsize) noexcept nogil

# The inverse: dest[i * itemsize + b] = src[b * nitems + i].
cdef void unshuffle_into(const unsigned char* src, unsigned char* dest, size_t nitems,
                         size_t itemsize) noexcept nogil

# Items first <= i < last of the same inverse, written from dest[0] on:
# dest[(i - first) * itemsize + b] = src[b * nitems + i] (a part of a Blosc block).
cdef void unshuffle_range(const unsigned char* src, unsigned char* dest, size_t nitems,
                          size_t itemsize, size_t first, size_t last) noexcept nogil

# HDF5's Fletcher-32 (big-endian 16-bit words, an odd last byte as a high byte), the
# checksum numcodecs.Fletcher32 stores.
cdef uint32_t fletcher32_hdf5(const unsigned char* data, size_t nbytes) noexcept nogil

# CRC-32C (Castagnoli), continuing from crc (0 to start), as Zarr v3's crc32c codec.
cdef uint32_t crc32c(const unsigned char* data, size_t nbytes, uint32_t crc) noexcept nogil
