# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Selection-to-chunk mapping: which chunks a selection touches, and for each one the
selection inside the chunk and where it lands in the output.

A basic selection (after ``czarr.indexing`` has expanded ``Ellipsis`` and checked types)
is one item per dimension: an ``int`` or a ``slice`` with any step. Each dimension is
reduced to an arithmetic progression ``first + j*step`` (``step > 0``, ``j < count``)
whose ``j``-th element lands at ``out0 + j*out_dir`` in the output (``out_dir = -1`` for
a negative slice step). For every chunk that progression touches, integer maths give
the first selected element inside the chunk, how many there are and the output index of
the first one: no floating point and no per-element work. The touched chunks of the
whole selection are the cartesian product of the per-dimension lists, enumerated in C
order; the copy and fill methods turn one entry of that product into byte offsets and
strides and call the nogil kernels of ``copy.pyx`` after checking every shape.
"""

from libc.stdint cimport int64_t

import numpy as np

cimport numpy as cnp

from cpython.buffer cimport PyBUF_ANY_CONTIGUOUS, PyBuffer_Release, PyObject_GetBuffer
from libc.stdlib cimport free, malloc

from czarr._core.blosc_blocks cimport (BloscBlocks, blosc_blocks_open, blosc_blocks_raw,
                                       blosc_blocks_read)
from czarr._core.copy cimport CZARR_MAX_NDIM, copy_strided, fill_strided, simplify_strides

# codec kinds the fused read loop (BasicProjection.read_chunks) decodes itself
cdef enum:
    _CODEC_RAW = 0        # no compressor: the stored bytes are the chunk
    _CODEC_BLOSC = 1      # czarr's Blosc
    _READ_DEST_SIZE = -100  # a stored chunk of the wrong size
    _READ_NOMEM = -101      # no memory for a piece buffer
    # a strided chunk is decoded and copied in pieces of at most this many bytes, which
    # stay in L2 between the two
    _PIECE_BYTES = 65536

CODEC_RAW = _CODEC_RAW
CODEC_BLOSC = _CODEC_BLOSC
READ_DEST_SIZE = _READ_DEST_SIZE

cnp.import_array()


cdef inline int64_t _ceildiv(int64_t a, int64_t b) noexcept nogil:
    # a >= 0, b > 0; never forms a + b - 1, which overflows for a near 2**63
    return a // b + (1 if a % b else 0)


INT64_MAX = 2 ** 63 - 1


cdef int check_grid(tuple shape, tuple chunks, Py_ssize_t itemsize) except -1:
    """The one limit on array geometry: every product the kernels form must fit in an
    int64. That is, per dimension the extent rounded up to whole chunks (the padding of
    the last chunk included), the number of chunks in the grid (flat chunk indices),
    and the bytes of one chunk (item offsets inside it). Checked in Python integers,
    once per projection and whenever metadata is made or read, so the nogil loops
    never need to check for overflow. Raises ValueError naming the shape."""
    cdef Py_ssize_t d, nd = len(shape)
    if nd > CZARR_MAX_NDIM:
        raise ValueError(f"shape {shape} has {nd} dimensions; at most {CZARR_MAX_NDIM} "
                         "are supported")
    if len(chunks) != nd:
        raise ValueError(f"shape {shape} and chunks {chunks} differ in length")
    grid = 1
    chunk_bytes = max(itemsize, 1)
    for d in range(nd):
        n = shape[d]
        c = chunks[d]
        if n < 0 or c <= 0:
            raise ValueError(f"invalid shape {shape} or chunks {chunks}")
        cdata = -(-n // c)
        if cdata * c > INT64_MAX:
            raise ValueError(
                f"shape {shape} with chunks {chunks} is too large: dimension {d} spans "
                f"{cdata * c} elements in whole chunks, more than 2**63 - 1")
        grid *= cdata
        chunk_bytes *= c
    if grid > INT64_MAX:
        raise ValueError(
            f"shape {shape} with chunks {chunks} is too large: its grid holds {grid} "
            "chunks, more than 2**63 - 1 (use larger chunks)")
    if chunk_bytes > INT64_MAX:
        raise ValueError(
            f"shape {shape} with chunks {chunks} is too large: a chunk of {itemsize}-byte "
            f"items would hold {chunk_bytes} bytes, more than 2**63 - 1")
    return 0


def check_array_grid(shape, chunks, Py_ssize_t itemsize=1) -> None:
    """Raise ``ValueError`` (naming the shape) unless an array of this ``shape``,
    ``chunks`` and item size is within the limits of the chunk kernels: every product
    they form (extents in whole chunks, number of chunks, bytes per chunk) fits in an
    int64, and there are at most ``CZARR_MAX_NDIM`` dimensions."""
    check_grid(tuple(shape), tuple(chunks), itemsize)


cdef tuple dim_progression(object sel, int64_t n, int axis):
    """An int or a slice on one dimension as the progression ``first + j*step``
    (``step > 0``, ``j < count``) whose ``j``-th element lands at ``out0 + j*out_dir``;
    ``keeps_axis`` is False for an int (the dimension is dropped)."""
    cdef int64_t first, step, count
    if isinstance(sel, slice):
        start, stop, sstep = sel.indices(n)
        count = len(range(start, stop, sstep))
        if sstep > 0:
            return start, sstep, count, 0, 1, True
        step = -sstep
        first = start - (count - 1) * step if count else 0
        return first, step, count, count - 1, -1, True
    first = sel
    if not 0 <= first < n:
        raise IndexError(f"index {sel} is out of bounds for axis {axis} with size {n}")
    return first, 1, 1, 0, 1, False


cdef Py_ssize_t split_progression_into(int64_t first, int64_t step, int64_t count,
                                       int64_t out0, int64_t out_dir, int64_t c,
                                       int64_t* chunk_index, int64_t* chunk_start,
                                       int64_t* chunk_count, int64_t* out_start,
                                       Py_ssize_t cap) noexcept nogil:
    """Cut the progression at chunk boundaries: integer maths, one pass per chunk."""
    # the caller checked the grid (check_grid), so (ci + 1) * c fits in an int64
    cdef Py_ssize_t k = 0
    cdef int64_t j = 0, ci, jhi
    while j < count:  # each pass consumes >= 1 element and one chunk
        if k == cap:
            return -1
        ci = (first + j * step) // c
        jhi = min(count, _ceildiv((ci + 1) * c - first, step))
        chunk_index[k] = ci
        chunk_start[k] = first + j * step - ci * c
        chunk_count[k] = jhi - j
        out_start[k] = out0 + j * out_dir
        k += 1
        j = jhi
    return k


cdef object split_progression(int64_t first, int64_t step, int64_t count, int64_t out0,
                              int64_t out_dir, int64_t n, int64_t c):
    """The rows of split_progression_into as a (4, k) int64 array (k >= 1 columns)."""
    cdef Py_ssize_t cap = min(count, _ceildiv(n, c)) if count else 0
    cdef Py_ssize_t k
    arr = np.empty((4, max(cap, 1)), dtype=np.int64)
    cdef int64_t[:, ::1] a = arr
    with nogil:
        k = split_progression_into(first, step, count, out0, out_dir, c, &a[0, 0],
                                   &a[1, 0], &a[2, 0], &a[3, 0], cap)
    if k < 0:  # unreachable while the grid is checked: cap bounds the chunks
        raise ValueError(f"selection of {count} elements from {first} step {step} "
                         f"does not fit a dimension of {n} in chunks of {c}")
    return arr[:, :k] if k else arr[:, :1]


cdef Py_ssize_t _read_blocks(BloscBlocks* bb, char* out, const Py_ssize_t* ostr,
                             Py_ssize_t coff, const Py_ssize_t* cstr, const Py_ssize_t* shape,
                             int nd, Py_ssize_t itemsize, char** piece,
                             Py_ssize_t piece_bytes) noexcept nogil:
    """Copy a strided selection of a Blosc chunk (starting ``coff`` bytes into it) to
    ``out`` while decoding the chunk block by block, in the chunk's memory order.

    Where the selection's innermost run is contiguous in the chunk and in ``out``, each
    run is decoded (unshuffled) straight to ``out``. Otherwise it goes in pieces of at
    most ``piece_bytes``: a piece is decoded into ``*piece`` (allocated on first use)
    and copied from there while it is still in cache. A chunk is never decoded into a
    chunk-sized buffer and read back. 0, a CZARR_BLOSC_E* code or ``_READ_NOMEM``."""
    cdef Py_ssize_t sh[CZARR_MAX_NDIM]
    cdef Py_ssize_t cs[CZARR_MAX_NDIM]
    cdef Py_ssize_t os[CZARR_MAX_NDIM]
    cdef Py_ssize_t idx[CZARR_MAX_NDIM]
    cdef Py_ssize_t inner, span, group, g, i, c, o, ret, whole
    cdef int m, p, ndim
    cdef bint runs
    for m in range(nd):
        sh[m] = shape[m]
        cs[m] = cstr[m]
        os[m] = ostr[m]
    # memory order of the chunk (its strides are positive), contiguous dims merged
    ndim = simplify_strides(sh, cs, os, nd, itemsize)
    if ndim < 0:
        return 0
    if ndim == 0:
        sh[0] = 1
        cs[0] = os[0] = itemsize
        ndim = 1
    runs = cs[ndim - 1] == itemsize and os[ndim - 1] == itemsize
    if runs:
        p = ndim - 1       # runs: the innermost dimension, whole
        group = sh[p]
        inner = itemsize
    else:
        # pieces: the outermost dimension p whose one index spans at most piece_bytes,
        # with as many of its indices together as fit
        p = ndim - 1
        inner = itemsize
        while p > 0 and inner + (sh[p] - 1) * cs[p] <= piece_bytes:
            inner += (sh[p] - 1) * cs[p]   # the span of one index of dimension p - 1
            p -= 1
        group = 1 + (piece_bytes - inner) // cs[p] if cs[p] > 0 else sh[p]
        if group > sh[p]:
            group = sh[p]
        if piece[0] == NULL:
            piece[0] = <char*>malloc(piece_bytes)
            if piece[0] == NULL:
                return _READ_NOMEM
    for m in range(p):
        idx[m] = 0
    while True:
        c = coff
        o = 0
        for m in range(p):
            c += idx[m] * cs[m]
            o += idx[m] * os[m]
        i = 0
        while i < sh[p]:
            g = group if sh[p] - i > group else sh[p] - i
            if runs:
                ret = blosc_blocks_read(bb, c + i * cs[p], c + i * cs[p] + g * itemsize,
                                        out + o + i * os[p])
            else:
                span = (g - 1) * cs[p] + inner
                ret = blosc_blocks_read(bb, c + i * cs[p], c + i * cs[p] + span, piece[0])
                if ret == 0:
                    whole = sh[p]
                    sh[p] = g
                    copy_strided(out + o + i * os[p], os + p, piece[0], cs + p, sh + p,
                                 ndim - p, itemsize)
                    sh[p] = whole
            if ret < 0:
                return ret
            i += g
        # odometer over the dimensions outside p
        m = p - 1
        while m >= 0:
            idx[m] += 1
            if idx[m] < sh[m]:
                break
            idx[m] = 0
            m -= 1
        if m < 0:
            return 0


cdef class BasicProjection:
    """The chunks touched by a basic selection, with per-chunk projections.

    Parameters
    ----------
    selection : tuple
        One ``int`` (``0 <= i < shape[d]``, already normalised) or ``slice`` per dimension.
    shape, chunks : tuple of int
        The array's shape and chunk shape.
    """

    cdef readonly int ndim
    cdef readonly Py_ssize_t nchunks
    cdef readonly tuple out_shape
    cdef readonly tuple shape
    cdef readonly tuple chunks
    cdef int64_t _shape[CZARR_MAX_NDIM]
    cdef int64_t _chunks[CZARR_MAX_NDIM]
    cdef int64_t _step[CZARR_MAX_NDIM]      # step inside a chunk (> 0)
    cdef int64_t _out_dir[CZARR_MAX_NDIM]   # +1 or -1
    cdef int _out_axis[CZARR_MAX_NDIM]      # output axis of the dimension, -1 if dropped
    cdef Py_ssize_t _nper[CZARR_MAX_NDIM]   # touched chunks in the dimension
    # per dimension, per touched chunk: chunk index, first element inside, count, out index
    cdef int64_t* _cidx[CZARR_MAX_NDIM]
    cdef int64_t* _start[CZARR_MAX_NDIM]
    cdef int64_t* _count[CZARR_MAX_NDIM]
    cdef int64_t* _out[CZARR_MAX_NDIM]
    cdef list _keepalive
    cdef int _out_ndim

    def __init__(self, tuple selection, tuple shape, tuple chunks):
        cdef int d, nd = len(shape)
        cdef int64_t n, c, first, step, count, out0, total = 1
        cdef Py_ssize_t k
        cdef int64_t[::1] a_c, a_s, a_n, a_o
        check_grid(shape, chunks, 1)
        if len(selection) != nd or len(chunks) != nd:
            raise ValueError(
                f"selection {selection!r}, shape {shape} and chunks {chunks} differ in length")
        self.ndim = nd
        self.shape = shape
        self.chunks = chunks
        self._keepalive = []
        out_shape = []
        self._out_ndim = 0
        for d in range(nd):
            n = shape[d]
            c = chunks[d]
            self._shape[d] = n
            self._chunks[d] = c
            first, step, count, out0, self._out_dir[d], keeps = dim_progression(
                selection[d], n, d)
            if keeps:
                self._out_axis[d] = self._out_ndim
                self._out_ndim += 1
                out_shape.append(count)
            else:
                self._out_axis[d] = -1
            self._step[d] = step
            arr = split_progression(first, step, count, out0, self._out_dir[d], n, c)
            self._keepalive.append(arr)
            a_c, a_s, a_n, a_o = arr[0], arr[1], arr[2], arr[3]
            k = arr.shape[1] if count else 0
            self._nper[d] = k
            self._cidx[d] = &a_c[0]
            self._start[d] = &a_s[0]
            self._count[d] = &a_n[0]
            self._out[d] = &a_o[0]
            total *= k
        self.nchunks = total
        self.out_shape = tuple(out_shape)

    cdef inline void _unravel(self, Py_ssize_t i, Py_ssize_t* k) noexcept nogil:
        cdef int d
        for d in range(self.ndim - 1, -1, -1):
            k[d] = i % self._nper[d]
            i //= self._nper[d]

    cdef int _check_index(self, Py_ssize_t i) except -1:
        if not 0 <= i < self.nchunks:
            raise IndexError(f"projection index {i} out of range ({self.nchunks} chunks)")
        return 0

    def chunk_coords(self, Py_ssize_t i) -> tuple:
        """Grid coordinates of the ``i``-th touched chunk."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        self._check_index(i)
        self._unravel(i, k)
        return tuple([self._cidx[d][k[d]] for d in range(self.ndim)])

    def chunk_keys(self, str prefix, str separator) -> list:
        """Store keys of all touched chunks, in projection order (``prefix`` + coords)."""
        cdef Py_ssize_t i, d
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef list keys = []
        if self.ndim == 0:
            return [prefix + "0"] * self.nchunks
        # the per-dimension strings are formatted once, then joined per chunk
        parts = [[str(self._cidx[d][m]) for m in range(self._nper[d])] for d in range(self.ndim)]
        for i in range(self.nchunks):
            self._unravel(i, k)
            keys.append(prefix + separator.join([parts[d][k[d]] for d in range(self.ndim)]))
        return keys

    def chunk_selection(self, Py_ssize_t i) -> tuple:
        """Selection inside the ``i``-th touched chunk, as slices (for Python fallbacks)."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        self._check_index(i)
        self._unravel(i, k)
        out = []
        for d in range(self.ndim):
            s = self._start[d][k[d]]
            n = self._count[d][k[d]]
            if self._out_axis[d] < 0:
                out.append(s)
            else:
                out.append(slice(s, s + (n - 1) * self._step[d] + 1, self._step[d]))
        return tuple(out)

    def out_selection(self, Py_ssize_t i) -> tuple:
        """Where the ``i``-th chunk's selection lands in the output, as slices."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        self._check_index(i)
        self._unravel(i, k)
        out = []
        for d in range(self.ndim):
            if self._out_axis[d] < 0:
                continue
            o = self._out[d][k[d]]
            n = self._count[d][k[d]]
            if self._out_dir[d] > 0:
                out.append(slice(o, o + n))
            else:
                out.append(slice(o, o - n if o - n >= 0 else None, -1))
        return tuple(out)

    def chunk_is_covered(self, Py_ssize_t i) -> bool:
        """True when the selection covers every element of chunk ``i`` inside the array
        (so a write need not read the chunk first)."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef int64_t valid
        cdef int d
        self._check_index(i)
        self._unravel(i, k)
        for d in range(self.ndim):
            valid = min(self._chunks[d], self._shape[d] - self._cidx[d][k[d]] * self._chunks[d])
            if self._start[d][k[d]] != 0 or self._count[d][k[d]] != valid:
                return False
            if valid > 1 and self._step[d] != 1:
                return False
        return True

    def chunk_is_edge(self, Py_ssize_t i) -> bool:
        """True when chunk ``i`` sticks out of the array (a partial edge chunk)."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef int d
        self._check_index(i)
        self._unravel(i, k)
        for d in range(self.ndim):
            if (self._cidx[d][k[d]] + 1) * self._chunks[d] > self._shape[d]:
                return True
        return False

    def chunk_item_range(self, Py_ssize_t i, str order) -> tuple:
        """``(lo, hi)``: the selection inside chunk ``i`` lies within items ``lo <= k < hi``
        of the chunk in memory order (``'C'`` or ``'F'``). A partial decoder need only
        produce those items."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        self._check_index(i)
        self._unravel(i, k)
        return self._item_range(k, order == "C")

    cdef int _strides(self, Py_ssize_t i, cnp.ndarray chunk, cnp.ndarray out,
                      Py_ssize_t* shp, Py_ssize_t* cstr, Py_ssize_t* ostr,
                      Py_ssize_t* coff, Py_ssize_t* ooff) except -1:
        """Check ``chunk`` and ``out`` against the projection, then fill in the copy shape,
        both sides' byte strides and the byte offsets of the first element."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef int d, ax
        cdef Py_ssize_t* cs
        cdef Py_ssize_t* os
        self._check_index(i)
        if chunk.ndim != self.ndim or tuple((<object>chunk).shape) != self.chunks:
            raise ValueError(f"chunk buffer has shape {(<object>chunk).shape}, expected {self.chunks}")
        if out.ndim != self._out_ndim or tuple((<object>out).shape) != self.out_shape:
            raise ValueError(f"output has shape {(<object>out).shape}, expected {self.out_shape}")
        if chunk.itemsize != out.itemsize:
            raise ValueError(f"item sizes differ: chunk {chunk.itemsize}, output {out.itemsize}")
        if (<object>chunk).dtype.hasobject or (<object>out).dtype.hasobject:
            raise TypeError("object arrays are copied with NumPy, not byte kernels")
        cs = <Py_ssize_t*>cnp.PyArray_STRIDES(chunk)
        os = <Py_ssize_t*>cnp.PyArray_STRIDES(out)
        self._unravel(i, k)
        coff[0] = 0
        ooff[0] = 0
        for d in range(self.ndim):
            shp[d] = self._count[d][k[d]]
            cstr[d] = cs[d] * self._step[d]
            coff[0] += cs[d] * self._start[d][k[d]]
            ax = self._out_axis[d]
            if ax < 0:
                ostr[d] = 0
            else:
                ostr[d] = os[ax] * self._out_dir[d]
                ooff[0] += os[ax] * self._out[d][k[d]]
        return 0

    def copy_from_chunk(self, Py_ssize_t i, cnp.ndarray chunk, cnp.ndarray out) -> None:
        """Copy the selected part of decoded chunk ``i`` into ``out`` (GIL released)."""
        cdef Py_ssize_t shp[CZARR_MAX_NDIM]
        cdef Py_ssize_t cstr[CZARR_MAX_NDIM]
        cdef Py_ssize_t ostr[CZARR_MAX_NDIM]
        cdef Py_ssize_t coff, ooff
        if not cnp.PyArray_ISWRITEABLE(out):
            raise ValueError("output array is read-only")
        self._strides(i, chunk, out, shp, cstr, ostr, &coff, &ooff)
        cdef char* o = <char*>cnp.PyArray_DATA(out) + ooff
        cdef const char* c = <const char*>cnp.PyArray_DATA(chunk) + coff
        cdef Py_ssize_t itemsize = out.itemsize
        cdef int nd = self.ndim
        with nogil:
            copy_strided(o, ostr, c, cstr, shp, nd, itemsize)

    def copy_to_chunk(self, Py_ssize_t i, cnp.ndarray value, cnp.ndarray chunk) -> None:
        """Copy the part of ``value`` (shaped like the output; broadcast views welcome)
        that lands in chunk ``i`` into the decoded ``chunk`` buffer (GIL released)."""
        cdef Py_ssize_t shp[CZARR_MAX_NDIM]
        cdef Py_ssize_t cstr[CZARR_MAX_NDIM]
        cdef Py_ssize_t vstr[CZARR_MAX_NDIM]
        cdef Py_ssize_t coff, voff
        if not cnp.PyArray_ISWRITEABLE(chunk):
            raise ValueError("chunk buffer is read-only")
        self._strides(i, chunk, value, shp, cstr, vstr, &coff, &voff)
        cdef char* c = <char*>cnp.PyArray_DATA(chunk) + coff
        cdef const char* v = <const char*>cnp.PyArray_DATA(value) + voff
        cdef Py_ssize_t itemsize = chunk.itemsize
        cdef int nd = self.ndim
        with nogil:
            copy_strided(c, cstr, v, vstr, shp, nd, itemsize)

    def fill_out(self, Py_ssize_t i, cnp.ndarray out, const unsigned char[::1] value) -> None:
        """Fill the part of ``out`` that chunk ``i`` covers with the raw item ``value``."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef Py_ssize_t shp[CZARR_MAX_NDIM]
        cdef Py_ssize_t ostr[CZARR_MAX_NDIM]
        cdef Py_ssize_t ooff = 0
        cdef Py_ssize_t* os
        cdef int d, ax
        self._check_index(i)
        if out.ndim != self._out_ndim or tuple((<object>out).shape) != self.out_shape:
            raise ValueError(f"output has shape {(<object>out).shape}, expected {self.out_shape}")
        if value.shape[0] != out.itemsize:
            raise ValueError(f"fill value has {value.shape[0]} bytes, item size {out.itemsize}")
        if (<object>out).dtype.hasobject:
            raise TypeError("object arrays are filled with NumPy, not byte kernels")
        if not cnp.PyArray_ISWRITEABLE(out):
            raise ValueError("output array is read-only")
        if out.itemsize == 0:
            return
        os = <Py_ssize_t*>cnp.PyArray_STRIDES(out)
        self._unravel(i, k)
        for d in range(self.ndim):
            shp[d] = self._count[d][k[d]]
            ax = self._out_axis[d]
            if ax < 0:
                ostr[d] = 0
            else:
                ostr[d] = os[ax] * self._out_dir[d]
                ooff += os[ax] * self._out[d][k[d]]
        cdef char* o = <char*>cnp.PyArray_DATA(out) + ooff
        cdef Py_ssize_t itemsize = out.itemsize
        cdef int nd = self.ndim
        with nogil:
            fill_strided(o, ostr, shp, nd, <const char*>&value[0], itemsize)

    cdef Py_ssize_t _contiguous_start(self, Py_ssize_t* k, cnp.ndarray out) noexcept:
        """Start (in items of the C-contiguous ``out``) of chunk ``k``'s run when the
        chunk is selected whole and lands on one contiguous run; -1 otherwise."""
        cdef int d, ax
        cdef bint inner_full = True
        cdef int64_t start = 0
        for d in range(self.ndim - 1, -1, -1):
            if (self._start[d][k[d]] != 0 or self._count[d][k[d]] != self._chunks[d]
                    or (self._chunks[d] > 1 and (self._step[d] != 1 or self._out_dir[d] != 1))):
                return -1
            ax = self._out_axis[d]
            if ax < 0:
                continue
            if not inner_full and self._chunks[d] != 1:
                return -1
            if self._chunks[d] != out.shape[ax]:
                inner_full = False
        for d in range(self.ndim):
            ax = self._out_axis[d]
            if ax >= 0:
                start = start * out.shape[ax] + self._out[d][k[d]]
        return start

    def read_chunks(self, Py_ssize_t lo, list cdatas, cnp.ndarray chunk, cnp.ndarray out,
                    const unsigned char[::1] fill, int codec, str order,
                    double partial_fraction):
        """Decode and copy chunks ``lo .. lo + len(cdatas)`` into ``out`` in one loop:
        a ``None`` entry is filled with the raw item ``fill``; others are decoded
        (``codec``: CODEC_RAW or CODEC_BLOSC) block by block, each run of the selection
        going to the output while its block is in cache (see ``_read_blocks``). Stored
        bytes that need no decoding (CODEC_RAW, a Blosc frame stored uncompressed) are
        copied from where they are. ``chunk`` is scratch space of one chunk's size: a
        Blosc block is decoded into its first bytes. A frame czarr cannot decode block
        by block is decoded by c-blosc, a block at a time when at most
        ``partial_fraction`` of the chunk is selected, else whole. Every size is checked
        before the GIL is dropped.

        Returns ``None``, or ``(j, code)`` for the first chunk that failed to decode
        (``code`` < 0, a ``CZARR_BLOSC_E*`` value or ``READ_DEST_SIZE``)."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef Py_ssize_t shp[CZARR_MAX_NDIM]
        cdef Py_ssize_t cstr[CZARR_MAX_NDIM]
        cdef Py_ssize_t ostr[CZARR_MAX_NDIM]
        cdef Py_ssize_t coff, ooff, j, n = len(cdatas), ret, ilo, ihi
        cdef Py_buffer src
        cdef BloscBlocks bb
        cdef const char* raw
        cdef char* piece = NULL
        cdef int nd = self.ndim, d
        cdef Py_ssize_t itemsize = out.itemsize
        cdef Py_ssize_t chunk_nbytes = chunk.nbytes
        cdef Py_ssize_t chunk_items = chunk_nbytes // itemsize if itemsize else 0
        cdef Py_ssize_t piece_bytes = _PIECE_BYTES if itemsize <= _PIECE_BYTES else itemsize
        cdef char* cbuf = <char*>cnp.PyArray_DATA(chunk)
        cdef char* obuf = <char*>cnp.PyArray_DATA(out)
        cdef bint c_order = order == "C"
        if lo < 0 or lo + n > self.nchunks:
            raise IndexError(f"chunks {lo}:{lo + n} out of range ({self.nchunks} chunks)")
        if nd == 0 or itemsize == 0:
            raise ValueError("read_chunks needs at least one dimension and a non-empty dtype")
        # one check of both buffers for every chunk (they share shapes and item size)
        self._strides(lo, chunk, out, shp, cstr, ostr, &coff, &ooff)
        if fill.shape[0] != itemsize:
            raise ValueError(f"fill value has {fill.shape[0]} bytes, item size {itemsize}")
        if not cnp.PyArray_ISWRITEABLE(out) or not cnp.PyArray_ISWRITEABLE(chunk):
            raise ValueError("output and chunk buffers must be writable")
        if not cnp.PyArray_IS_C_CONTIGUOUS(chunk) and not cnp.PyArray_IS_F_CONTIGUOUS(chunk):
            raise ValueError("chunk buffer must be contiguous")
        try:
            for j in range(n):
                cdata = cdatas[j]
                self._unravel(lo + j, k)
                ooff = 0
                coff = 0
                for d in range(nd):
                    shp[d] = self._count[d][k[d]]
                    cstr[d] = chunk.strides[d] * self._step[d]
                    coff += chunk.strides[d] * self._start[d][k[d]]
                    if self._out_axis[d] < 0:
                        ostr[d] = 0
                    else:
                        ostr[d] = out.strides[self._out_axis[d]] * self._out_dir[d]
                        ooff += out.strides[self._out_axis[d]] * self._out[d][k[d]]
                if cdata is None:
                    with nogil:
                        fill_strided(obuf + ooff, ostr, shp, nd, <const char*>&fill[0],
                                     itemsize)
                    continue
                PyObject_GetBuffer(cdata, &src, PyBUF_ANY_CONTIGUOUS)
                try:
                    with nogil:
                        if codec == _CODEC_RAW:
                            ret = 0 if src.len == chunk_nbytes else _READ_DEST_SIZE
                            raw = <const char*>src.buf
                        else:
                            ilo, ihi = self._item_range(k, c_order)
                            ret = blosc_blocks_open(&bb, <const char*>src.buf, src.len, cbuf,
                                                    chunk_nbytes, chunk_nbytes,
                                                    ihi - ilo <= partial_fraction * chunk_items)
                            raw = blosc_blocks_raw(&bb)
                        if ret == 0 and raw != NULL:
                            copy_strided(obuf + ooff, ostr, raw + coff, cstr, shp, nd, itemsize)
                        elif ret == 0:
                            ret = _read_blocks(&bb, obuf + ooff, ostr, coff, cstr, shp, nd,
                                               itemsize, &piece, piece_bytes)
                finally:
                    PyBuffer_Release(&src)
                if ret == _READ_NOMEM:
                    raise MemoryError()
                if ret < 0:
                    return (lo + j, ret)
        finally:
            free(piece)
        return None

    cdef (Py_ssize_t, Py_ssize_t) _item_range(self, Py_ssize_t* k, bint c_order) noexcept nogil:
        cdef int64_t lo = 0, hi = 0, stride = 1
        cdef int d, j
        for j in range(self.ndim):
            d = self.ndim - 1 - j if c_order else j
            lo += self._start[d][k[d]] * stride
            hi += (self._start[d][k[d]] + (self._count[d][k[d]] - 1) * self._step[d]) * stride
            stride *= self._chunks[d]
        return lo, hi + 1

    def out_contiguous_region(self, Py_ssize_t i, cnp.ndarray out):
        """When chunk ``i`` is selected whole (step 1, not an edge chunk) and lands on one
        contiguous run of the C-contiguous ``out``, return ``(start, stop)`` in items of
        ``out.ravel()``; otherwise ``None``. Lets a chunk be decoded straight into ``out``."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef Py_ssize_t start, size = 1
        cdef int d
        self._check_index(i)
        if not cnp.PyArray_IS_C_CONTIGUOUS(out) or tuple((<object>out).shape) != self.out_shape:
            return None
        self._unravel(i, k)
        start = self._contiguous_start(k, out)
        if start < 0:
            return None
        for d in range(self.ndim):
            size *= self._count[d][k[d]]
        return (start, start + size)
