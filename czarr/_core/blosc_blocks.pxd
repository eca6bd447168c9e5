# Blosc frames walked a block at a time by czarr (C level: C types only, nogil).

# A frame decoded block by block (czarr walks the blocks of lz4/zstd/zlib frames with byte
# shuffle or none; other frames go through blosc_getitem a block at a time, or whole).
# The caller owns the struct (on its stack) and `tmp`, a buffer of at least the frame's
# decoded size, of which the block being read uses its first `blocksize` bytes.
cdef enum:
    CZARR_BLOCKS_LANES = 1       # czarr decodes each block, and unshuffles what is read
    CZARR_BLOCKS_MEMCPY = 2      # stored uncompressed: the bytes follow the header
    CZARR_BLOCKS_GETITEM = 3     # c-blosc decodes a block at a time (blosc_getitem)
    CZARR_BLOCKS_WHOLE = 4       # c-blosc decodes the whole frame, once, into tmp

cdef struct BloscBlocks:
    const char* src
    Py_ssize_t nbytes, cbytes, blocksize, typesize, nblocks
    int flags, mode
    bint shuffled                # tmp holds a block's lanes, not its bytes
    char* tmp
    Py_ssize_t block             # the block tmp holds (-1: none; nblocks: the whole frame)

# Validate the header of `src` (it must decode to `nbytes`, at most `tmpsize`) and pick the
# mode; `few`: only a small part will be read (then other frames go through getitem).
cdef int blosc_blocks_open(BloscBlocks* bb, const char* src, size_t srcsize, char* tmp,
                           size_t tmpsize, Py_ssize_t nbytes, bint few) noexcept nogil

# Decoded bytes start <= x < stop into dest; blocks are decoded as reached (the last one
# is kept, so increasing ranges decode each block once). 0 or a CZARR_BLOSC_E* code.
cdef Py_ssize_t blosc_blocks_read(BloscBlocks* bb, Py_ssize_t start, Py_ssize_t stop,
                                  char* dest) noexcept nogil

# The decoded bytes themselves when the frame is stored uncompressed, else NULL.
cdef const char* blosc_blocks_raw(const BloscBlocks* bb) noexcept nogil

# Compress an array given by its data pointer, shape and byte strides (outermost dimension
# of its memory order first; any strides) into a Blosc frame of `itemsize`-byte items,
# gathering it a block at a time into `tmp` (2 * block size bytes; twice the array's size
# always suffices). The frame is c-blosc's (blosc_compress_ctx, one thread) byte for byte.
# lz4 with byte shuffle or none only: else CZARR_BLOSC_EUNSUPPORTED. `compcode` is
# c-blosc's compressor code; destsize must be at least the array's bytes + 16. Returns the
# frame's size or a CZARR_BLOSC_E* code.
cdef Py_ssize_t blosc_encode_strided(const char* src, const Py_ssize_t* shape,
                                     const Py_ssize_t* strides, int ndim,
                                     Py_ssize_t itemsize, char* dest, size_t destsize,
                                     int compcode, int clevel, int shuffle,
                                     Py_ssize_t typesize, Py_ssize_t blocksize,
                                     char* tmp) noexcept nogil
