# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Blosc frames walked a block at a time, by czarr rather than by c-blosc.

c-blosc decodes a frame whole, into one buffer of the chunk's size, and encodes one from a
contiguous buffer. A reader that copies parts of a chunk elsewhere (a strided region of an
output array) rather wants each block as it comes, while it is in cache, and only the
blocks it needs; a writer whose chunk is a strided part of a larger array would rather
not copy it whole before compressing it. For the frames c-blosc writes by default
(lz4/lz4hc, zstd or zlib; byte shuffle or none) this module walks the blocks itself: on
the way in each block's splits are decompressed by the same libraries into a block-sized
buffer and any byte range of the block is unshuffled straight to where it is wanted; on
the way out each block is gathered from the strided array just before it is shuffled and
compressed, into c-blosc's frame byte for byte. Other frames (bit shuffle, blosclz,
snappy) go through c-blosc (``czarr._core.blosc``): a block at a time with getitem when
only a small part is wanted, else whole.
"""

from cpython.buffer cimport (PyBUF_ANY_CONTIGUOUS, PyBUF_STRIDES, PyBuffer_Release,
                             PyObject_GetBuffer)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from czarr._core.blosc cimport (CZARR_BLOSC_ECORRUPT, CZARR_BLOSC_EDEST,
                                CZARR_BLOSC_EPARAM, CZARR_BLOSC_ERANGE, CZARR_BLOSC_FORMAT,
                                CZARR_BLOSC_HEADER, CZARR_BLOSC_MAX_BLOCKSIZE,
                                CZARR_BLOSC_MAX_BUFFERSIZE, CZARR_BLOSC_MAX_TYPESIZE,
                                CZARR_BLOSC_EUNSUPPORTED, BloscHeader, blosc_compcode,
                                blosc_decode_into, blosc_error, blosc_getitem_into,
                                blosc_header_sizes, blosc_le32, blosc_read_header)
from czarr._core.copy cimport gather_bytes
from czarr._core.filters cimport shuffle_into, unshuffle_range
from czarr._core.lz4 cimport lz4_block_decode_into, lz4_block_encode_into
from czarr._core.zlib cimport zlib_decode_into
from czarr._core.zstd cimport zstd_decode_into

from czarr.errors import CodecError

cdef enum:
    _FLAG_SHUFFLE = 0x1       # the header's flags (byte 2)
    _FLAG_MEMCPYED = 0x2
    _FLAG_BITSHUFFLE = 0x4


# ---------------------------------------------------------------- decoding

cdef enum:
    _MIN_SPLIT_ITEMS = 128    # c-blosc splits a block into its lanes only from here
    _MAX_SPLITS = 16          # ... and for type sizes up to this
    _FLAG_DONT_SPLIT = 0x10
    _FORMAT_LZ4 = 1
    _FORMAT_ZLIB = 3
    _FORMAT_ZSTD = 4


cdef inline Py_ssize_t _decompress_split(int compformat, const char* src, Py_ssize_t srcsize,
                                         char* dest, Py_ssize_t destsize) noexcept nogil:
    cdef Py_ssize_t ret
    if compformat == _FORMAT_LZ4:
        ret = lz4_block_decode_into(src, srcsize, dest, destsize)
    elif compformat == _FORMAT_ZSTD:
        ret = zstd_decode_into(src, srcsize, dest, destsize)
    else:
        ret = zlib_decode_into(src, srcsize, dest, destsize)
    return 0 if ret == destsize else CZARR_BLOSC_ECORRUPT


cdef Py_ssize_t _decode_block(BloscBlocks* bb, Py_ssize_t j, char* dest) noexcept nogil:
    """Block ``j`` as stored (its lanes when byte-shuffled) into ``dest``."""
    cdef const uint8_t* src = <const uint8_t*>bb.src
    cdef Py_ssize_t bsize = bb.blocksize, nsplits = 1, neblock, s, off, csize, ret
    cdef bint leftover = j == bb.nblocks - 1 and bb.nbytes % bb.blocksize != 0
    if leftover:
        bsize = bb.nbytes - j * bb.blocksize
    if bb.mode == CZARR_BLOCKS_GETITEM:
        ret = blosc_getitem_into(bb.src, bb.cbytes, j * bb.blocksize // bb.typesize,
                                 bsize // bb.typesize, dest, bsize)
        return ret if ret < 0 else 0
    if (not (bb.flags & _FLAG_DONT_SPLIT) and bb.typesize <= _MAX_SPLITS
            and bsize // bb.typesize >= _MIN_SPLIT_ITEMS and not leftover):
        nsplits = bb.typesize
    neblock = bsize // nsplits
    if neblock * nsplits != bsize:
        return CZARR_BLOSC_ECORRUPT
    off = blosc_le32(src + CZARR_BLOSC_HEADER + 4 * j)
    for s in range(nsplits):
        if off < 0 or off > bb.cbytes - 4:  # c-blosc's checks, no stricter
            return CZARR_BLOSC_ECORRUPT
        csize = blosc_le32(src + off)
        off += 4
        if csize < 0 or csize > bb.cbytes - off:
            return CZARR_BLOSC_ECORRUPT
        if csize == neblock:  # stored uncompressed
            memcpy(dest + s * neblock, src + off, neblock)
        else:
            ret = _decompress_split(bb.flags >> 5, <const char*>src + off, csize,
                                    dest + s * neblock, neblock)
            if ret < 0:
                return ret
        off += csize
    return 0


cdef inline void _unshuffle_bytes(const unsigned char* lanes, Py_ssize_t neq,
                                  Py_ssize_t ts, Py_ssize_t lo, Py_ssize_t hi,
                                  unsigned char* dest) noexcept nogil:
    # bytes lo <= x < hi, all inside the block's whole items, one by one
    cdef Py_ssize_t x
    for x in range(lo, hi):
        dest[x - lo] = lanes[(x % ts) * neq + x // ts]


cdef void _unshuffle_part(const unsigned char* lanes, Py_ssize_t bsize, Py_ssize_t ts,
                          Py_ssize_t lo, Py_ssize_t hi, unsigned char* dest) noexcept nogil:
    """Bytes ``lo <= x < hi`` of a byte-shuffled block of ``bsize`` bytes: whole items
    from their lanes, a cut item byte by byte, the bytes after the last whole item (the
    shuffle leaves them in place) as they are."""
    cdef Py_ssize_t neq = bsize // ts, body = neq * ts, x = lo, e0, e1, end
    end = hi if hi < body else body
    if x < end and x % ts:
        e0 = (x // ts + 1) * ts
        e0 = e0 if e0 < end else end
        _unshuffle_bytes(lanes, neq, ts, x, e0, dest)
        dest += e0 - x
        x = e0
    if x < end:
        e0 = x // ts
        e1 = end // ts
        if e1 > e0:
            unshuffle_range(lanes, dest, neq, ts, e0, e1)
            dest += (e1 - e0) * ts
            x = e1 * ts
        if x < end:
            _unshuffle_bytes(lanes, neq, ts, x, end, dest)
            dest += end - x
            x = end
    if x < hi:
        memcpy(dest, lanes + x, hi - x)


cdef int blosc_blocks_open(BloscBlocks* bb, const char* src, size_t srcsize, char* tmp,
                           size_t tmpsize, Py_ssize_t nbytes, bint few) noexcept nogil:
    cdef BloscHeader h
    cdef int err = blosc_read_header(src, srcsize, &h)
    cdef int compformat
    if err < 0:
        return err
    if h.nbytes != nbytes:
        return CZARR_BLOSC_EDEST
    bb.src = src
    bb.nbytes = h.nbytes
    bb.cbytes = h.cbytes
    bb.typesize = h.typesize
    bb.flags = h.flags
    bb.tmp = tmp
    bb.block = -1
    bb.shuffled = False
    if h.nbytes == 0:
        bb.blocksize = 1
        bb.nblocks = 0
        bb.mode = CZARR_BLOCKS_MEMCPY
        return 0
    bb.blocksize = h.blocksize
    bb.nblocks = h.nbytes // h.blocksize + (1 if h.nbytes % h.blocksize else 0)
    if <size_t>h.nbytes > tmpsize:
        return CZARR_BLOSC_EDEST
    compformat = h.flags >> 5
    if h.flags & _FLAG_MEMCPYED:
        bb.mode = CZARR_BLOCKS_MEMCPY
    elif (not (h.flags & _FLAG_BITSHUFFLE) and compformat in (_FORMAT_LZ4, _FORMAT_ZLIB,
                                                               _FORMAT_ZSTD)):
        bb.mode = CZARR_BLOCKS_LANES
        bb.shuffled = (h.flags & _FLAG_SHUFFLE) and h.typesize > 1
    elif few and h.blocksize % h.typesize == 0 and h.nbytes % h.typesize == 0:
        bb.mode = CZARR_BLOCKS_GETITEM
    else:
        bb.mode = CZARR_BLOCKS_WHOLE
    return 0


cdef const char* blosc_blocks_raw(const BloscBlocks* bb) noexcept nogil:
    return bb.src + CZARR_BLOSC_HEADER if bb.mode == CZARR_BLOCKS_MEMCPY else NULL


cdef Py_ssize_t blosc_blocks_read(BloscBlocks* bb, Py_ssize_t start, Py_ssize_t stop,
                                  char* dest) noexcept nogil:
    cdef Py_ssize_t j, b0, bsize, lo, hi, ret
    if start < 0 or stop > bb.nbytes or start > stop:
        return CZARR_BLOSC_ERANGE
    if bb.mode == CZARR_BLOCKS_MEMCPY:
        memcpy(dest, bb.src + CZARR_BLOSC_HEADER + start, stop - start)
        return 0
    if bb.mode == CZARR_BLOCKS_WHOLE:
        if bb.block < 0 and start == 0 and stop == bb.nbytes:
            ret = blosc_decode_into(bb.src, bb.cbytes, dest, bb.nbytes, 1)
            return ret if ret < 0 else 0
        if bb.block < 0:
            ret = blosc_decode_into(bb.src, bb.cbytes, bb.tmp, bb.nbytes, 1)
            if ret < 0:
                return ret
            bb.block = bb.nblocks
        memcpy(dest, bb.tmp + start, stop - start)
        return 0
    while start < stop:
        j = start // bb.blocksize
        b0 = j * bb.blocksize
        bsize = bb.nbytes - b0 if bb.nbytes - b0 < bb.blocksize else bb.blocksize
        lo = start - b0
        hi = stop - b0 if stop - b0 < bsize else bsize
        if j != bb.block:
            if not bb.shuffled and lo == 0 and hi == bsize:
                # a whole block that needs no unshuffling goes straight to dest
                ret = _decode_block(bb, j, dest)
                if ret < 0:
                    return ret
                dest += bsize
                start = b0 + bsize
                continue
            bb.block = -1
            ret = _decode_block(bb, j, bb.tmp)
            if ret < 0:
                return ret
            bb.block = j
        if bb.shuffled:
            _unshuffle_part(<const unsigned char*>bb.tmp, bsize, bb.typesize, lo, hi,
                            <unsigned char*>dest)
        else:
            memcpy(dest, bb.tmp + lo, hi - lo)
        dest += hi - lo
        start = b0 + hi
    return 0


# ---------------------------------------------------------------- encoding from a view
# c-blosc's frame byte for byte (its block size, split and incompressible-data rules, lz4
# with its acceleration), so only what c-blosc does alike on every build is done here:
# lz4 with byte shuffle or none. Other settings return CZARR_BLOSC_EUNSUPPORTED.

cdef enum:
    _L1 = 32 * 1024
    _MIN_BUFFERSIZE = 128
    _COMPCODE_LZ4 = 1          # c-blosc's compressor codes (not the header's formats)
    _COMPCODE_LZ4HC = 2
    _COMPCODE_ZLIB = 4
    _COMPCODE_ZSTD = 5


cdef inline bint _split_block(int compcode, Py_ssize_t typesize,
                              Py_ssize_t blocksize) noexcept nogil:
    # c-blosc's default split mode (forward compatible): every codec but zstd, for items
    # of up to 16 bytes and blocks of at least 128 of them
    return (compcode != _COMPCODE_ZSTD and typesize <= _MAX_SPLITS
            and blocksize // typesize >= _MIN_BUFFERSIZE)


cdef Py_ssize_t _compute_blocksize(int compcode, int clevel, Py_ssize_t typesize,
                                   Py_ssize_t nbytes, Py_ssize_t forced) noexcept nogil:
    """c-blosc 1.x's block size for these settings."""
    cdef Py_ssize_t bs = nbytes
    cdef bint hcr = compcode in (_COMPCODE_LZ4HC, _COMPCODE_ZLIB, _COMPCODE_ZSTD)
    if nbytes < typesize:
        return 1
    if forced:
        bs = forced
        if bs < _MIN_BUFFERSIZE:
            bs = _MIN_BUFFERSIZE
        if bs > CZARR_BLOSC_MAX_BLOCKSIZE:
            bs = CZARR_BLOSC_MAX_BLOCKSIZE
    elif nbytes >= _L1:
        bs = _L1 * 2 if hcr else _L1
        if clevel == 0:
            bs //= 4
        elif clevel == 1:
            bs //= 2
        elif clevel == 3:
            bs *= 2
        elif clevel in (4, 5):
            bs *= 4
        elif clevel in (6, 7, 8):
            bs *= 8
        elif clevel == 9:
            bs *= 16 if hcr else 8
    if clevel > 0 and _split_block(compcode, typesize, bs):
        if bs > (1 << 18):
            bs = 1 << 18
        bs *= typesize
        if bs < (1 << 16):
            bs = 1 << 16
        if bs > (1 << 20):
            bs = 1 << 20
    if bs > nbytes:
        bs = nbytes
    if bs > typesize:
        bs = bs // typesize * typesize
    return bs


cdef inline void _putblosc_le32(char* p, Py_ssize_t v) noexcept nogil:
    p[0] = <char>(v & 0xFF)
    p[1] = <char>((v >> 8) & 0xFF)
    p[2] = <char>((v >> 16) & 0xFF)
    p[3] = <char>((v >> 24) & 0xFF)


cdef Py_ssize_t blosc_encode_strided(const char* src, const Py_ssize_t* shape,
                                     const Py_ssize_t* strides, int ndim,
                                     Py_ssize_t itemsize, char* dest, size_t destsize,
                                     int compcode, int clevel, int shuffle,
                                     Py_ssize_t typesize, Py_ssize_t blocksize,
                                     char* tmp) noexcept nogil:
    cdef Py_ssize_t nbytes = itemsize, nblocks, leftover, j, bsize, b0, ntbytes, s
    cdef Py_ssize_t nsplits, neblock, maxout, cbytes, neq
    cdef int flags = 0, d
    cdef char* block = tmp
    cdef char* lanes
    cdef const char* part
    cdef bint memcpyed, doshuffle, contiguous
    for d in range(ndim):
        nbytes *= shape[d]
    if (compcode != _COMPCODE_LZ4 or shuffle < 0 or shuffle > 1 or clevel < 0 or clevel > 9
            or typesize < 1 or ndim < 1):
        return CZARR_BLOSC_EUNSUPPORTED
    if nbytes > CZARR_BLOSC_MAX_BUFFERSIZE or <size_t>nbytes + CZARR_BLOSC_HEADER > destsize:
        return CZARR_BLOSC_EPARAM
    if typesize > CZARR_BLOSC_MAX_TYPESIZE:
        typesize = 1
    blocksize = _compute_blocksize(compcode, clevel, typesize, nbytes, blocksize)
    lanes = tmp + blocksize
    contiguous = ndim == 1 and strides[0] == itemsize
    nblocks = nbytes // blocksize if nbytes else 0
    leftover = nbytes % blocksize if nbytes else 0
    if leftover:
        nblocks += 1
    memcpyed = clevel == 0 or nbytes < _MIN_BUFFERSIZE
    if memcpyed:
        flags |= _FLAG_MEMCPYED
    if shuffle == 1:
        flags |= _FLAG_SHUFFLE
    if not _split_block(compcode, typesize, blocksize):
        flags |= _FLAG_DONT_SPLIT
    flags |= _FORMAT_LZ4 << 5
    doshuffle = shuffle == 1 and typesize > 1
    dest[0] = <char>CZARR_BLOSC_FORMAT
    dest[1] = <char>1   # lz4's format version
    dest[3] = <char>typesize
    _putblosc_le32(dest + 4, nbytes)
    _putblosc_le32(dest + 8, blocksize)
    ntbytes = 0
    if not memcpyed:
        ntbytes = CZARR_BLOSC_HEADER + 4 * nblocks
        for j in range(nblocks):
            _putblosc_le32(dest + CZARR_BLOSC_HEADER + 4 * j, ntbytes)
            b0 = j * blocksize
            bsize = leftover if j == nblocks - 1 and leftover else blocksize
            if contiguous:
                block = <char*>src + b0
            else:
                gather_bytes(block, src, shape, strides, ndim, itemsize, b0, b0 + bsize)
            part = block
            if doshuffle:
                neq = bsize // typesize
                shuffle_into(<const unsigned char*>block, <unsigned char*>lanes, neq, typesize)
                if bsize > neq * typesize:
                    memcpy(lanes + neq * typesize, block + neq * typesize,
                           bsize - neq * typesize)
                part = lanes
            nsplits = typesize if not (flags & _FLAG_DONT_SPLIT) and not (
                j == nblocks - 1 and leftover) else 1
            neblock = bsize // nsplits
            for s in range(nsplits):
                ntbytes += 4
                maxout = neblock
                if ntbytes + maxout > <Py_ssize_t>destsize:
                    maxout = destsize - ntbytes
                    if maxout <= 0:
                        ntbytes = 0
                        break
                cbytes = lz4_block_encode_into(part + s * neblock, neblock, dest + ntbytes,
                                               maxout, 10 - clevel)
                if cbytes < 0 or cbytes > maxout:
                    return CZARR_BLOSC_ECORRUPT
                if cbytes == 0 or cbytes == neblock:
                    if ntbytes + neblock > <Py_ssize_t>destsize:
                        ntbytes = 0
                        break
                    memcpy(dest + ntbytes, part + s * neblock, neblock)
                    cbytes = neblock
                _putblosc_le32(dest + ntbytes - 4, cbytes)
                ntbytes += cbytes
            if ntbytes == 0:
                break
    if memcpyed or ntbytes == 0:
        # stored uncompressed: at the outset, or because the data does not compress
        flags |= _FLAG_MEMCPYED
        gather_bytes(dest + CZARR_BLOSC_HEADER, src, shape, strides, ndim, itemsize, 0,
                     nbytes)
        ntbytes = CZARR_BLOSC_HEADER + nbytes
    dest[2] = <char>flags
    _putblosc_le32(dest + 12, ntbytes)
    return ntbytes



# ---------------------------------------------------------------- Python

def decode_range(source, Py_ssize_t start, Py_ssize_t stop, bint few=False):
    """Bytes ``start:stop`` of a Blosc frame's decoded data, decoded block by block as
    the compiled read loop does (only the blocks holding them are decompressed).
    ``few=True`` takes the path of a small read for frames czarr does not decode itself
    (c-blosc's getitem a block at a time instead of the whole frame). Returns ``bytes``.
    """
    cdef Py_buffer src
    cdef BloscBlocks bb
    cdef Py_ssize_t nbytes = 0, cbytes = 0, blocksize = 0, typesize = 0, ret
    cdef char* tbuf
    cdef char* out
    cdef int err
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        err = blosc_header_sizes(<const char*>src.buf, src.len, &nbytes, &cbytes,
                                 &blocksize, &typesize)
        if err < 0:
            raise blosc_error(err)
        if not 0 <= start <= stop <= nbytes:
            raise CodecError(f"bytes {start}:{stop} are outside the {nbytes} decoded bytes "
                             "of the Blosc frame")
        tmp = PyBytes_FromStringAndSize(NULL, nbytes)
        dest = PyBytes_FromStringAndSize(NULL, stop - start)
        tbuf = PyBytes_AS_STRING(tmp)
        out = PyBytes_AS_STRING(dest)
        with nogil:
            ret = blosc_blocks_open(&bb, <const char*>src.buf, src.len, tbuf, nbytes, nbytes,
                                    few)
            if ret == 0:
                ret = blosc_blocks_read(&bb, start, stop, out)
        if ret < 0:
            raise blosc_error(ret)
    finally:
        PyBuffer_Release(&src)
    return dest


def compress_strided(source, cname="lz4", int clevel=5, int shuffle=1,
                     Py_ssize_t blocksize=0, order="C"):
    """Compress an array of any strides (a strided view of a larger array, reversed or
    broadcast) into the Blosc frame ``compress`` makes of its contiguous copy in
    ``order`` ('C' or 'F'), byte for byte, gathering it a block at a time rather than
    copying it whole first (see ``blosc_encode_strided``). The type size is the item
    size. Returns ``None`` for the settings that path leaves to c-blosc (anything but
    lz4 with byte shuffle or none): then compress a contiguous copy."""
    cdef Py_buffer src
    cdef Py_ssize_t shape[64]
    cdef Py_ssize_t strides[64]
    cdef Py_ssize_t nbytes, bs, ret, d, k
    cdef char* out
    cdef char* tmp
    cdef int nd, code
    cdef bytes cname_b = cname.encode("ascii") if isinstance(cname, str) else cname
    if clevel < 0 or clevel > 9:
        raise CodecError(f"Blosc clevel must be between 0 and 9, got {clevel}")
    if blocksize < 0:
        raise CodecError(f"Blosc blocksize must be >= 0, got {blocksize}")
    if order not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    code = blosc_compcode(cname_b)
    if code != _COMPCODE_LZ4 or shuffle not in (0, 1):
        return None
    PyObject_GetBuffer(source, &src, PyBUF_STRIDES)
    try:
        nd = src.ndim
        if nd < 1 or nd > 64 or src.itemsize < 1:
            return None
        nbytes = src.len
        k = 0
        for d in range(nd):  # the memory order's outermost dimension first
            shape[k] = src.shape[d if order == "C" else nd - 1 - d]
            strides[k] = src.strides[d if order == "C" else nd - 1 - d]
            # merged into the previous dimension when it continues it in memory
            if k and strides[k - 1] == strides[k] * shape[k]:
                shape[k - 1] *= shape[k]
                strides[k - 1] = strides[k]
            else:
                k += 1
        nd = k
        if nbytes > CZARR_BLOSC_MAX_BUFFERSIZE:
            raise CodecError(f"Blosc cannot compress more than {CZARR_BLOSC_MAX_BUFFERSIZE} "
                             f"bytes, got {nbytes}")
        bs = _compute_blocksize(code, clevel, src.itemsize if src.itemsize <= 255 else 1,
                                nbytes, blocksize)
        out = <char*>malloc(nbytes + CZARR_BLOSC_HEADER + 2 * bs)
        if out == NULL:
            raise MemoryError()
        tmp = out + nbytes + CZARR_BLOSC_HEADER
        try:
            with nogil:
                ret = blosc_encode_strided(<const char*>src.buf, shape, strides, nd,
                                           src.itemsize, out, nbytes + CZARR_BLOSC_HEADER,
                                           code, clevel, shuffle, src.itemsize, blocksize,
                                           tmp)
            if ret < 0:
                raise blosc_error(ret)
            return PyBytes_FromStringAndSize(out, ret)
        finally:
            free(out)
    finally:
        PyBuffer_Release(&src)
