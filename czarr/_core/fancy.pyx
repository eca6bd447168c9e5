# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Orthogonal and coordinate selections mapped onto chunks, and the gather/scatter
kernels that move their elements.

``OrthogonalProjection`` takes one item per dimension: an ``int``, a ``slice`` (any
step) or a 1-D ``int64`` array of in-bounds indices (unsorted and repeated welcome). An
index array is sorted once with a stable argsort, so its indices come grouped by chunk,
ascending inside a chunk, repeats in their original order; the sort permutation says
where each one lands in the output. A slice keeps the arithmetic-progression form of
``BasicProjection``. Touched chunks are the cartesian product of the per-dimension
lists, in C order.

``CoordinateProjection`` takes one flat ``int64`` array of coordinates per dimension
(broadcast already). Each point gets its chunk's flat index and its flat offset inside
the chunk by integer maths; the points are sorted (stably) by both, so each touched
chunk owns one contiguous run of them and a repeated point keeps its order (a write's
last value wins, as in NumPy).

Copies turn one chunk's projection into per-dimension byte-offset arrays for the
dimensions up to the last one indexed by an array, and strides for the trailing strided
dimensions, then call ``copy_indexed``/``fill_indexed``: an odometer over the offset
arrays that copies single items (or, for trailing strided dimensions, a block through
``copy.pyx``'s ``copy_strided``) with the GIL released. Every shape and bound is checked
with the GIL held before that.
"""

from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

import numpy as np

cimport numpy as cnp

from czarr._core.copy cimport (
    CZARR_MAX_NDIM,
    copy_indexed,
    copy_strided,
    fill_indexed,
    fill_strided,
)
from czarr._core.indexing cimport check_grid, dim_progression, split_progression

cnp.import_array()

cdef enum:
    _INT = 0      # an integer: the dimension is dropped from the output
    _SLICE = 1    # an arithmetic progression
    _ARRAY = 2    # an index array


cdef inline int64_t _ceildiv(int64_t a, int64_t b) noexcept nogil:
    # a >= 0, b > 0; never forms a + b - 1, which overflows for a near 2**63
    return a // b + (1 if a % b else 0)


cdef inline int _refuse_objects(cnp.ndarray arr) except -1:
    # copying references as raw bytes would skip their reference counts
    if (<object>arr).dtype.hasobject:
        raise TypeError("object arrays are copied and filled with NumPy, not byte kernels")
    return 0


# ------------------------------------------------------------------- shared chunk grid

cdef class _FancyProjection:
    """What both projections share: the grid, keys, edge tests and buffer checks."""

    cdef readonly int ndim
    cdef readonly Py_ssize_t nchunks
    cdef readonly tuple out_shape
    cdef readonly tuple shape
    cdef readonly tuple chunks
    cdef int _out_ndim
    cdef int64_t _shape[CZARR_MAX_NDIM]
    cdef int64_t _chunks[CZARR_MAX_NDIM]
    cdef list _keepalive

    cdef int _init_grid(self, tuple shape, tuple chunks) except -1:
        cdef int d, nd = len(shape)
        # every product formed below (grid counts, flat chunk indices, chunk offsets)
        # then fits in an int64
        check_grid(shape, chunks, 1)
        for d in range(nd):
            self._shape[d] = shape[d]
            self._chunks[d] = chunks[d]
        self.ndim = nd
        self.shape = shape
        self.chunks = chunks
        self._keepalive = []
        return 0

    cdef void _coords(self, Py_ssize_t i, int64_t* out) noexcept:
        pass

    cdef int _check_index(self, Py_ssize_t i) except -1:
        if not 0 <= i < self.nchunks:
            raise IndexError(f"projection index {i} out of range ({self.nchunks} chunks)")
        return 0

    cdef int64_t _valid_items(self, int64_t* c) noexcept:
        """Items of chunk ``c`` inside the array (fewer than a chunk at an edge)."""
        cdef int64_t n = 1
        cdef int d
        for d in range(self.ndim):
            n *= min(self._chunks[d], self._shape[d] - c[d] * self._chunks[d])
        return n

    cdef int _check_pair(self, cnp.ndarray chunk, cnp.ndarray out, str what) except -1:
        """``chunk`` is chunk-shaped, ``out`` is shaped like the output, same item size."""
        if chunk.ndim != self.ndim or tuple((<object>chunk).shape) != self.chunks:
            raise ValueError(
                f"chunk buffer has shape {(<object>chunk).shape}, expected {self.chunks}")
        if out.ndim != self._out_ndim or tuple((<object>out).shape) != self.out_shape:
            raise ValueError(
                f"{what} has shape {(<object>out).shape}, expected {self.out_shape}")
        if chunk.itemsize != out.itemsize:
            raise ValueError(
                f"item sizes differ: chunk {chunk.itemsize}, {what} {out.itemsize}")
        _refuse_objects(chunk)
        _refuse_objects(out)
        return 0

    def chunk_coords(self, Py_ssize_t i) -> tuple:
        """Grid coordinates of the ``i``-th touched chunk."""
        cdef int64_t c[CZARR_MAX_NDIM]
        self._check_index(i)
        self._coords(i, c)
        return tuple([c[d] for d in range(self.ndim)])

    def chunk_keys(self, str prefix, str separator) -> list:
        """Store keys of all touched chunks, in projection order (``prefix`` + coords)."""
        cdef int64_t c[CZARR_MAX_NDIM]
        cdef Py_ssize_t i
        cdef list keys = []
        if self.ndim == 0:
            return [prefix + "0"] * self.nchunks
        for i in range(self.nchunks):
            self._coords(i, c)
            keys.append(prefix + separator.join([str(c[d]) for d in range(self.ndim)]))
        return keys

    def chunk_is_edge(self, Py_ssize_t i) -> bool:
        """True when chunk ``i`` sticks out of the array (a partial edge chunk)."""
        cdef int64_t c[CZARR_MAX_NDIM]
        cdef int d
        self._check_index(i)
        self._coords(i, c)
        for d in range(self.ndim):
            if (c[d] + 1) * self._chunks[d] > self._shape[d]:
                return True
        return False

    def out_contiguous_region(self, Py_ssize_t i, cnp.ndarray out):
        """Always ``None``: a fancy selection is gathered, never decoded in place."""
        self._check_index(i)
        return None


# ------------------------------------------------------------------------- orthogonal

cdef class OrthogonalProjection(_FancyProjection):
    """The chunks touched by an orthogonal (outer) selection.

    Parameters
    ----------
    selection : tuple
        One item per dimension: an ``int`` (``0 <= i < shape[d]``), a ``slice`` or a
        1-D ``int64`` array of indices in ``[0, shape[d])``.
    shape, chunks : tuple of int
        The array's shape and chunk shape.
    """

    cdef int _kind[CZARR_MAX_NDIM]
    cdef int64_t _step[CZARR_MAX_NDIM]      # slice: step inside a chunk (> 0)
    cdef int64_t _out_dir[CZARR_MAX_NDIM]   # slice: +1 or -1
    cdef int _out_axis[CZARR_MAX_NDIM]      # output axis, -1 for an int
    cdef Py_ssize_t _nper[CZARR_MAX_NDIM]   # touched chunks in the dimension
    cdef int _last_array                    # last dimension indexed by an array, or -1
    # per dimension, per touched chunk: chunk index; first element inside (slice, int)
    # or position in the sorted indices (array); count; out index of the first element
    # (slice) or number of distinct indices (array)
    cdef int64_t* _cidx[CZARR_MAX_NDIM]
    cdef int64_t* _start[CZARR_MAX_NDIM]
    cdef int64_t* _count[CZARR_MAX_NDIM]
    cdef int64_t* _out[CZARR_MAX_NDIM]
    # array dimensions: indices sorted, and the output position of each
    cdef const int64_t* _sidx[CZARR_MAX_NDIM]
    cdef const int64_t* _perm[CZARR_MAX_NDIM]

    def __init__(self, tuple selection, tuple shape, tuple chunks):
        cdef int d, nd
        cdef int64_t n, c, first, step, count, out0, j, jhi, ci, m, bad, total = 1
        cdef Py_ssize_t k, cap
        cdef int64_t[::1] a_c, a_s, a_n, a_o
        cdef const int64_t[::1] idx
        cdef const int64_t* sp
        cdef bint ordered
        self._init_grid(shape, chunks)
        nd = self.ndim
        if len(selection) != nd:
            raise ValueError(f"selection has {len(selection)} items for {nd} dimensions")
        out_shape = []
        self._out_ndim = 0
        self._last_array = -1
        for d in range(nd):
            n = self._shape[d]
            c = self._chunks[d]
            sel = selection[d]
            self._step[d] = 1
            self._out_dir[d] = 1
            if isinstance(sel, np.ndarray):
                if sel.ndim != 1 or sel.dtype != np.int64:
                    raise TypeError(f"index array on axis {d} must be 1-D int64, got "
                                    f"{sel.ndim}-D {sel.dtype}")
                self._kind[d] = _ARRAY
                self._last_array = d
                sel = np.ascontiguousarray(sel)
                idx = sel
                m = idx.shape[0]
                bad = -1
                ordered = True
                with nogil:
                    for j in range(m):
                        if idx[j] < 0 or idx[j] >= n:
                            bad = j
                            break
                        if j and idx[j] < idx[j - 1]:
                            ordered = False
                if bad >= 0:
                    raise IndexError(f"index {idx[bad]} is out of bounds for axis {d} "
                                     f"with size {n}")
                if ordered:
                    sidx = sel
                    perm = np.arange(m, dtype=np.int64)
                else:
                    perm = np.argsort(sel, kind="stable").astype(np.int64, copy=False)
                    sidx = sel[perm]
                self._keepalive += [sidx, perm]
                self._sidx[d] = <const int64_t*>cnp.PyArray_DATA(sidx)
                self._perm[d] = <const int64_t*>cnp.PyArray_DATA(perm)
                cap = min(m, _ceildiv(n, c)) if m else 0
                arr = np.empty((4, max(cap, 1)), dtype=np.int64)
                self._keepalive.append(arr)
                a_c, a_s, a_n, a_o = arr[0], arr[1], arr[2], arr[3]
                sp = self._sidx[d]
                k = 0
                j = 0
                with nogil:
                    while j < m:
                        ci = sp[j] // c
                        jhi = j + 1
                        a_o[k] = 1
                        while jhi < m and sp[jhi] < (ci + 1) * c:
                            if sp[jhi] != sp[jhi - 1]:
                                a_o[k] += 1
                            jhi += 1
                        a_c[k] = ci
                        a_s[k] = j
                        a_n[k] = jhi - j
                        k += 1
                        j = jhi
                self._out_axis[d] = self._out_ndim
                self._out_ndim += 1
                out_shape.append(m)
            else:
                self._kind[d] = _SLICE if isinstance(sel, slice) else _INT
                first, step, count, out0, self._out_dir[d], keeps = dim_progression(
                    sel, n, d)
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

    cdef void _coords(self, Py_ssize_t i, int64_t* out) noexcept:
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef int d
        self._unravel(i, k)
        for d in range(self.ndim):
            out[d] = self._cidx[d][k[d]]

    def chunk_keys(self, str prefix, str separator) -> list:
        """Store keys of all touched chunks, in projection order (``prefix`` + coords)."""
        cdef Py_ssize_t i
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

    cdef inline int64_t _index(self, int d, Py_ssize_t kd, int64_t j) noexcept nogil:
        """In-chunk index of the ``j``-th selected element of dimension ``d``."""
        if self._kind[d] == _ARRAY:
            return (self._sidx[d][self._start[d][kd] + j]
                    - self._cidx[d][kd] * self._chunks[d])
        return self._start[d][kd] + j * self._step[d]

    cdef inline int64_t _out_index(self, int d, Py_ssize_t kd, int64_t j) noexcept nogil:
        """Output index of the ``j``-th selected element of dimension ``d``."""
        if self._kind[d] == _ARRAY:
            return self._perm[d][self._start[d][kd] + j]
        return self._out[d][kd] + j * self._out_dir[d]

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
            if self._kind[d] == _ARRAY:
                # sorted indices inside [0, valid): all there when `valid` are distinct
                if self._out[d][k[d]] != valid:
                    return False
            elif self._start[d][k[d]] != 0 or self._count[d][k[d]] != valid:
                return False
            elif valid > 1 and self._step[d] != 1:
                return False
        return True

    def chunk_item_range(self, Py_ssize_t i, str order) -> tuple:
        """``(lo, hi)``: the selection inside chunk ``i`` lies within items ``lo <= k < hi``
        of the chunk in memory order (``'C'`` or ``'F'``)."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef int64_t lo = 0, hi = 0, stride = 1
        cdef int d, j
        self._check_index(i)
        self._unravel(i, k)
        for j in range(self.ndim):
            d = self.ndim - 1 - j if order == "C" else j
            # array indices are sorted inside a chunk, so first and last bound them
            lo += self._index(d, k[d], 0) * stride
            hi += self._index(d, k[d], self._count[d][k[d]] - 1) * stride
            stride *= self._chunks[d]
        return (lo, hi + 1)

    def chunk_selection(self, Py_ssize_t i) -> tuple:
        """Selection inside chunk ``i`` as a NumPy index: an ``int`` per dropped
        dimension, ``np.ix_``-shaped index arrays for the others."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef int d
        self._check_index(i)
        self._unravel(i, k)
        out = []
        for d in range(self.ndim):
            if self._out_axis[d] < 0:
                out.append(int(self._start[d][k[d]]))
            else:
                out.append(self._axis_array(d, k[d], False))
        return tuple(out)

    def out_selection(self, Py_ssize_t i) -> tuple:
        """Where chunk ``i``'s selection lands in the output, as ``np.ix_``-shaped index
        arrays (one per output axis)."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef int d
        self._check_index(i)
        self._unravel(i, k)
        return tuple([self._axis_array(d, k[d], True) for d in range(self.ndim)
                      if self._out_axis[d] >= 0])

    cdef object _axis_array(self, int d, Py_ssize_t kd, bint out):
        cdef int64_t n = self._count[d][kd], j
        arr = np.empty(n, dtype=np.intp)
        cdef int64_t[::1] a = arr.view(np.int64)
        for j in range(n):
            a[j] = self._out_index(d, kd, j) if out else self._index(d, kd, j)
        shape = [1] * self._out_ndim
        shape[self._out_axis[d]] = n
        return arr.reshape(shape)

    cdef Py_ssize_t _outer_items(self, Py_ssize_t* k) noexcept:
        cdef Py_ssize_t total = 0
        cdef int d
        for d in range(self._last_array + 1):
            total += self._count[d][k[d]]
        return total

    cdef void _plan(self, Py_ssize_t* k, const Py_ssize_t* cs, const Py_ssize_t* os,
                    Py_ssize_t* buf, Py_ssize_t** coffs, Py_ssize_t** ooffs,
                    Py_ssize_t* oshape, Py_ssize_t* ishape, Py_ssize_t* cstr,
                    Py_ssize_t* ostr, Py_ssize_t* cbase, Py_ssize_t* obase) noexcept nogil:
        """Byte offsets (dims up to the last array dim) or strides (the dims after it)
        of chunk ``k``'s elements on the chunk side (strides ``cs``) and the output
        side (strides ``os``, per output axis)."""
        cdef int d, e, ax, L = self._last_array
        cdef Py_ssize_t j, n, pos = 0, osd
        cbase[0] = 0
        obase[0] = 0
        for d in range(self.ndim):
            n = self._count[d][k[d]]
            ax = self._out_axis[d]
            osd = os[ax] if ax >= 0 else 0
            if d <= L:
                coffs[d] = buf + pos
                ooffs[d] = buf + pos + n
                pos += 2 * n
                oshape[d] = n
                for j in range(n):
                    coffs[d][j] = self._index(d, k[d], j) * cs[d]
                    ooffs[d][j] = self._out_index(d, k[d], j) * osd
            else:
                e = d - L - 1
                ishape[e] = n
                cstr[e] = cs[d] * self._step[d]
                ostr[e] = osd * self._out_dir[d]
                cbase[0] += cs[d] * self._start[d][k[d]]
                obase[0] += osd * self._out[d][k[d]]

    cdef int _move(self, Py_ssize_t i, cnp.ndarray chunk, cnp.ndarray out,
                   bint to_chunk) except -1:
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef Py_ssize_t oshape[CZARR_MAX_NDIM]
        cdef Py_ssize_t ishape[CZARR_MAX_NDIM]
        cdef Py_ssize_t cstr[CZARR_MAX_NDIM]
        cdef Py_ssize_t ostr[CZARR_MAX_NDIM]
        cdef Py_ssize_t* coffs[CZARR_MAX_NDIM]
        cdef Py_ssize_t* ooffs[CZARR_MAX_NDIM]
        cdef Py_ssize_t cbase, obase, itemsize = chunk.itemsize
        cdef Py_ssize_t* buf
        cdef int nouter = self._last_array + 1, ninner = self.ndim - nouter
        cdef const Py_ssize_t* cs = <Py_ssize_t*>cnp.PyArray_STRIDES(chunk)
        cdef const Py_ssize_t* os = <Py_ssize_t*>cnp.PyArray_STRIDES(out)
        cdef char* cp = <char*>cnp.PyArray_DATA(chunk)
        cdef char* op = <char*>cnp.PyArray_DATA(out)
        self._check_index(i)
        self._check_pair(chunk, out, "output" if not to_chunk else "value")
        if not cnp.PyArray_ISWRITEABLE(chunk if to_chunk else out):
            raise ValueError(("chunk buffer" if to_chunk else "output array") + " is read-only")
        if itemsize == 0:
            return 0
        self._unravel(i, k)
        buf = <Py_ssize_t*>malloc(max(2 * self._outer_items(k), 1) * sizeof(Py_ssize_t))
        if buf == NULL:
            raise MemoryError()
        try:
            with nogil:
                self._plan(k, cs, os, buf, coffs, ooffs, oshape, ishape, cstr, ostr,
                           &cbase, &obase)
                if to_chunk:
                    copy_indexed(cp + cbase, coffs, op + obase, ooffs, oshape, nouter,
                                 cstr, ostr, ishape, ninner, itemsize)
                else:
                    copy_indexed(op + obase, ooffs, cp + cbase, coffs, oshape, nouter,
                                 ostr, cstr, ishape, ninner, itemsize)
        finally:
            free(buf)
        return 0

    def copy_from_chunk(self, Py_ssize_t i, cnp.ndarray chunk, cnp.ndarray out) -> None:
        """Copy the selected elements of decoded chunk ``i`` into ``out`` (GIL released)."""
        self._move(i, chunk, out, False)

    def copy_to_chunk(self, Py_ssize_t i, cnp.ndarray value, cnp.ndarray chunk) -> None:
        """Copy the part of ``value`` (shaped like the output; broadcast views welcome)
        that lands in chunk ``i`` into the decoded ``chunk`` buffer (GIL released). A
        repeated index keeps the value that comes last in the selection."""
        self._move(i, chunk, value, True)

    def fill_out(self, Py_ssize_t i, cnp.ndarray out, const unsigned char[::1] value) -> None:
        """Fill the elements of ``out`` that chunk ``i`` covers with the raw item ``value``."""
        cdef Py_ssize_t k[CZARR_MAX_NDIM]
        cdef Py_ssize_t oshape[CZARR_MAX_NDIM]
        cdef Py_ssize_t ishape[CZARR_MAX_NDIM]
        cdef Py_ssize_t cstr[CZARR_MAX_NDIM]
        cdef Py_ssize_t ostr[CZARR_MAX_NDIM]
        cdef Py_ssize_t zeros[CZARR_MAX_NDIM]
        cdef Py_ssize_t* coffs[CZARR_MAX_NDIM]
        cdef Py_ssize_t* ooffs[CZARR_MAX_NDIM]
        cdef Py_ssize_t cbase, obase, itemsize = out.itemsize
        cdef Py_ssize_t* buf
        cdef int d, nouter = self._last_array + 1, ninner = self.ndim - nouter
        cdef const Py_ssize_t* os = <Py_ssize_t*>cnp.PyArray_STRIDES(out)
        cdef char* op = <char*>cnp.PyArray_DATA(out)
        self._check_index(i)
        if out.ndim != self._out_ndim or tuple((<object>out).shape) != self.out_shape:
            raise ValueError(f"output has shape {(<object>out).shape}, expected {self.out_shape}")
        if value.shape[0] != itemsize:
            raise ValueError(f"fill value has {value.shape[0]} bytes, item size {itemsize}")
        _refuse_objects(out)
        if not cnp.PyArray_ISWRITEABLE(out):
            raise ValueError("output array is read-only")
        if itemsize == 0:
            return
        for d in range(self.ndim):
            zeros[d] = 0
        self._unravel(i, k)
        buf = <Py_ssize_t*>malloc(max(2 * self._outer_items(k), 1) * sizeof(Py_ssize_t))
        if buf == NULL:
            raise MemoryError()
        try:
            with nogil:
                self._plan(k, zeros, os, buf, coffs, ooffs, oshape, ishape, cstr, ostr,
                           &cbase, &obase)
                fill_indexed(op + obase, ooffs, oshape, nouter, ostr, ishape, ninner,
                             <const char*>&value[0], itemsize)
        finally:
            free(buf)


# ------------------------------------------------------------------------- coordinate

cdef class CoordinateProjection(_FancyProjection):
    """The chunks touched by a coordinate (point) selection.

    Parameters
    ----------
    coords : tuple of numpy.ndarray
        One C-contiguous 1-D ``int64`` array per dimension, all of the same length:
        point ``p`` is ``(coords[0][p], coords[1][p], ...)``, each in ``[0, shape[d])``.
    shape, chunks : tuple of int
        The array's shape and chunk shape.
    out_shape : tuple of int
        The output's shape (its size is the number of points; point ``p`` lands at flat
        C-order position ``p`` of the output).
    """

    cdef int64_t _cdata[CZARR_MAX_NDIM]   # chunks along each dimension
    cdef int64_t _oshape[CZARR_MAX_NDIM]
    cdef Py_ssize_t _npoints
    cdef const int64_t* _inflat   # per sorted point: flat C offset inside its chunk
    cdef const int64_t* _oflat    # per sorted point: flat C position in the output
    cdef const int64_t* _lo       # per chunk: first sorted point (nchunks + 1 entries)
    cdef const int64_t* _nuniq    # per chunk: distinct points
    cdef const int64_t* _ccoords  # per chunk: grid coordinates (nchunks x ndim)

    def __init__(self, tuple coords, tuple shape, tuple chunks, tuple out_shape):
        cdef int d, nd
        cdef Py_ssize_t p, m, nch, bad_p = -1
        cdef int bad_d = 0
        cdef int64_t v, ci, cf, inf, chunk_items = 1, prev
        cdef const int64_t* cp[CZARR_MAX_NDIM]
        cdef int64_t[::1] a_cf, a_in, a_key, a_lo, a_nu, a_cc
        cdef const int64_t[::1] s_cf, s_in
        cdef bint ordered = True, combined
        self._init_grid(shape, chunks)
        nd = self.ndim
        if len(coords) != nd:
            raise ValueError(f"{len(coords)} coordinate arrays for {nd} dimensions")
        if len(out_shape) > CZARR_MAX_NDIM:
            raise ValueError(f"the output may have at most {CZARR_MAX_NDIM} dimensions, "
                             f"got {len(out_shape)}")
        m = int(np.prod(out_shape, dtype=np.int64)) if out_shape else 1
        if nd == 0:
            raise ValueError("a coordinate selection needs at least one dimension")
        for d in range(nd):
            a = coords[d]
            if (not isinstance(a, np.ndarray) or a.ndim != 1 or a.dtype != np.int64
                    or not a.flags.c_contiguous or a.shape[0] != m):
                raise TypeError(f"coordinates on axis {d} must be a C-contiguous 1-D int64 "
                                f"array of {m} points")
            cp[d] = <const int64_t*>cnp.PyArray_DATA(a)
            self._cdata[d] = _ceildiv(self._shape[d], self._chunks[d])
            chunk_items *= self._chunks[d]
        self._keepalive.append(coords)
        self.out_shape = tuple(out_shape)
        self._out_ndim = len(out_shape)
        for d in range(self._out_ndim):
            self._oshape[d] = out_shape[d]
        self._npoints = m
        # the combined key chunk * chunk_items + offset must fit in an int64
        padded = 1
        for d in range(nd):
            padded *= int(self._cdata[d]) * int(self._chunks[d])
        combined = padded < 2 ** 62
        cfl = np.empty(m, dtype=np.int64)
        inl = np.empty(m, dtype=np.int64)
        keys = np.empty(m if combined else 0, dtype=np.int64)
        a_cf, a_in, a_key = cfl, inl, keys
        with nogil:
            for p in range(m):
                cf = 0
                inf = 0
                for d in range(nd):
                    v = cp[d][p]
                    if v < 0 or v >= self._shape[d]:
                        bad_p = p
                        bad_d = d
                        break
                    ci = v // self._chunks[d]
                    cf = cf * self._cdata[d] + ci
                    inf = inf * self._chunks[d] + (v - ci * self._chunks[d])
                if bad_p >= 0:
                    break
                a_cf[p] = cf
                a_in[p] = inf
                if combined:
                    a_key[p] = cf * chunk_items + inf
                    if p and a_key[p] < a_key[p - 1]:
                        ordered = False
        if bad_p >= 0:
            raise IndexError(f"index {cp[bad_d][bad_p]} is out of bounds for axis {bad_d} "
                             f"with size {self._shape[bad_d]}")
        if not combined:
            perm = np.lexsort((inl, cfl)).astype(np.int64, copy=False)
        elif ordered:
            perm = None
        else:
            perm = np.argsort(keys, kind="stable").astype(np.int64, copy=False)
        if perm is None:
            oflat = np.arange(m, dtype=np.int64)
        else:
            oflat = perm
            cfl = cfl[perm]
            inl = inl[perm]
        s_cf, s_in = cfl, inl
        # group the sorted points by chunk
        nch = 0
        with nogil:
            for p in range(m):
                if p == 0 or s_cf[p] != s_cf[p - 1]:
                    nch += 1
        lo = np.empty(nch + 1, dtype=np.int64)
        nuniq = np.zeros(max(nch, 1), dtype=np.int64)
        ccoords = np.empty(max(nch * nd, 1), dtype=np.int64)
        a_lo, a_nu, a_cc = lo, nuniq, ccoords
        nch = 0
        with nogil:
            for p in range(m):
                if p == 0 or s_cf[p] != s_cf[p - 1]:
                    a_lo[nch] = p
                    cf = s_cf[p]
                    for d in range(nd - 1, -1, -1):
                        a_cc[nch * nd + d] = cf % self._cdata[d]
                        cf //= self._cdata[d]
                    nch += 1
                    a_nu[nch - 1] = 1
                elif s_in[p] != s_in[p - 1]:
                    a_nu[nch - 1] += 1
            a_lo[nch] = m
        self._keepalive += [inl, oflat, lo, nuniq, ccoords]
        self._inflat = <const int64_t*>cnp.PyArray_DATA(inl)
        self._oflat = <const int64_t*>cnp.PyArray_DATA(oflat)
        self._lo = <const int64_t*>cnp.PyArray_DATA(lo)
        self._nuniq = <const int64_t*>cnp.PyArray_DATA(nuniq)
        self._ccoords = <const int64_t*>cnp.PyArray_DATA(ccoords)
        self.nchunks = nch

    cdef void _coords(self, Py_ssize_t i, int64_t* out) noexcept:
        cdef int d
        for d in range(self.ndim):
            out[d] = self._ccoords[i * self.ndim + d]

    def chunk_is_covered(self, Py_ssize_t i) -> bool:
        """True when the points cover every element of chunk ``i`` inside the array."""
        cdef int64_t c[CZARR_MAX_NDIM]
        self._check_index(i)
        self._coords(i, c)
        return self._nuniq[i] == self._valid_items(c)

    def chunk_item_range(self, Py_ssize_t i, str order) -> tuple:
        """``(lo, hi)``: chunk ``i``'s points lie within items ``lo <= k < hi`` of the
        chunk in memory order (``'C'`` or ``'F'``)."""
        cdef int64_t p, f, off, lo, hi
        cdef int64_t fstride[CZARR_MAX_NDIM]
        cdef int d
        self._check_index(i)
        if order == "C" or self.ndim == 1:
            # points are sorted by their C offset inside the chunk
            return (self._inflat[self._lo[i]], self._inflat[self._lo[i + 1] - 1] + 1)
        fstride[0] = 1
        for d in range(1, self.ndim):
            fstride[d] = fstride[d - 1] * self._chunks[d - 1]
        lo = -1
        hi = 0
        for p in range(self._lo[i], self._lo[i + 1]):
            f = self._inflat[p]
            off = 0
            for d in range(self.ndim - 1, -1, -1):
                off += (f % self._chunks[d]) * fstride[d]
                f //= self._chunks[d]
            if lo < 0 or off < lo:
                lo = off
            if off + 1 > hi:
                hi = off + 1
        return (lo, hi)

    def _whole(self, Py_ssize_t i) -> bool:
        """Chunk ``i`` is a full-size chunk whose every element is selected once (so its
        sorted points are the whole chunk in C order)."""
        cdef int64_t c[CZARR_MAX_NDIM]
        cdef int64_t items = 1
        cdef int d
        self._coords(i, c)
        for d in range(self.ndim):
            items *= self._chunks[d]
        return (self._lo[i + 1] - self._lo[i] == items and self._nuniq[i] == items
                and self._valid_items(c) == items)

    def chunk_selection(self, Py_ssize_t i) -> tuple:
        """Chunk ``i``'s points as in-chunk coordinate arrays (shaped like the chunk when
        it is selected whole, each element once)."""
        self._check_index(i)
        flat = self._points(i, False)
        sel = np.unravel_index(flat, self.chunks)
        if self._out_ndim == 0:
            # one point landing on a 0-d output: plain ints select the element itself
            return tuple([int(a[0]) for a in sel])
        if self._whole(i):
            return tuple([a.reshape(self.chunks) for a in sel])
        return tuple(sel)

    def out_selection(self, Py_ssize_t i) -> tuple:
        """Where chunk ``i``'s points land in the output, as coordinate arrays (in the
        order of ``chunk_selection``)."""
        self._check_index(i)
        flat = self._points(i, True)
        if self._out_ndim == 0:
            return ()
        sel = np.unravel_index(flat, self.out_shape)
        if self._whole(i):
            return tuple([a.reshape(self.chunks) for a in sel])
        return tuple(sel)

    cdef object _points(self, Py_ssize_t i, bint out):
        cdef Py_ssize_t lo = self._lo[i], hi = self._lo[i + 1], p
        arr = np.empty(hi - lo, dtype=np.intp)
        cdef int64_t[::1] a = arr.view(np.int64)
        for p in range(lo, hi):
            a[p - lo] = self._oflat[p] if out else self._inflat[p]
        return arr

    cdef void _offsets(self, Py_ssize_t i, const Py_ssize_t* cs, const Py_ssize_t* os,
                       Py_ssize_t* coffs, Py_ssize_t* ooffs) noexcept nogil:
        """Byte offsets of chunk ``i``'s points in the chunk (strides ``cs``) and in the
        output (strides ``os``)."""
        cdef Py_ssize_t p, j = 0
        cdef int64_t f, off
        cdef int d
        for p in range(self._lo[i], self._lo[i + 1]):
            f = self._inflat[p]
            off = 0
            for d in range(self.ndim - 1, -1, -1):
                off += (f % self._chunks[d]) * cs[d]
                f //= self._chunks[d]
            coffs[j] = off
            f = self._oflat[p]
            off = 0
            for d in range(self._out_ndim - 1, -1, -1):
                off += (f % self._oshape[d]) * os[d]
                f //= self._oshape[d]
            ooffs[j] = off
            j += 1

    cdef int _move(self, Py_ssize_t i, cnp.ndarray chunk, cnp.ndarray out,
                   bint to_chunk) except -1:
        cdef Py_ssize_t n, itemsize = chunk.itemsize
        cdef Py_ssize_t* buf
        cdef Py_ssize_t* coffs[1]
        cdef Py_ssize_t* ooffs[1]
        cdef Py_ssize_t oshape[1]
        cdef const Py_ssize_t* cs = <Py_ssize_t*>cnp.PyArray_STRIDES(chunk)
        cdef const Py_ssize_t* os = <Py_ssize_t*>cnp.PyArray_STRIDES(out)
        cdef char* cp = <char*>cnp.PyArray_DATA(chunk)
        cdef char* op = <char*>cnp.PyArray_DATA(out)
        self._check_index(i)
        self._check_pair(chunk, out, "output" if not to_chunk else "value")
        if not cnp.PyArray_ISWRITEABLE(chunk if to_chunk else out):
            raise ValueError(("chunk buffer" if to_chunk else "output array") + " is read-only")
        if itemsize == 0:
            return 0
        n = self._lo[i + 1] - self._lo[i]
        buf = <Py_ssize_t*>malloc(max(2 * n, 1) * sizeof(Py_ssize_t))
        if buf == NULL:
            raise MemoryError()
        coffs[0] = buf
        ooffs[0] = buf + n
        oshape[0] = n
        try:
            with nogil:
                self._offsets(i, cs, os, coffs[0], ooffs[0])
                if to_chunk:
                    copy_indexed(cp, coffs, op, ooffs, oshape, 1, NULL, NULL, NULL, 0,
                                 itemsize)
                else:
                    copy_indexed(op, ooffs, cp, coffs, oshape, 1, NULL, NULL, NULL, 0,
                                 itemsize)
        finally:
            free(buf)
        return 0

    def copy_from_chunk(self, Py_ssize_t i, cnp.ndarray chunk, cnp.ndarray out) -> None:
        """Copy chunk ``i``'s points from the decoded ``chunk`` into ``out`` (GIL released)."""
        self._move(i, chunk, out, False)

    def copy_to_chunk(self, Py_ssize_t i, cnp.ndarray value, cnp.ndarray chunk) -> None:
        """Copy the values of chunk ``i``'s points from ``value`` (shaped like the output;
        broadcast views welcome) into ``chunk`` (GIL released). A repeated point keeps
        the value that comes last in the selection, as in NumPy."""
        self._move(i, chunk, value, True)

    def fill_out(self, Py_ssize_t i, cnp.ndarray out, const unsigned char[::1] value) -> None:
        """Fill the output elements of chunk ``i``'s points with the raw item ``value``."""
        cdef Py_ssize_t n, itemsize = out.itemsize
        cdef Py_ssize_t* buf
        cdef Py_ssize_t* ooffs[1]
        cdef Py_ssize_t oshape[1]
        cdef Py_ssize_t zeros[CZARR_MAX_NDIM]
        cdef const Py_ssize_t* os = <Py_ssize_t*>cnp.PyArray_STRIDES(out)
        cdef char* op = <char*>cnp.PyArray_DATA(out)
        cdef int d
        self._check_index(i)
        if out.ndim != self._out_ndim or tuple((<object>out).shape) != self.out_shape:
            raise ValueError(f"output has shape {(<object>out).shape}, expected {self.out_shape}")
        if value.shape[0] != itemsize:
            raise ValueError(f"fill value has {value.shape[0]} bytes, item size {itemsize}")
        _refuse_objects(out)
        if not cnp.PyArray_ISWRITEABLE(out):
            raise ValueError("output array is read-only")
        if itemsize == 0:
            return
        for d in range(self.ndim):
            zeros[d] = 0
        n = self._lo[i + 1] - self._lo[i]
        buf = <Py_ssize_t*>malloc(max(2 * n, 1) * sizeof(Py_ssize_t))
        if buf == NULL:
            raise MemoryError()
        ooffs[0] = buf + n
        oshape[0] = n
        try:
            with nogil:
                self._offsets(i, zeros, os, buf, ooffs[0])
                fill_indexed(op, ooffs, oshape, 1, NULL, NULL, 0,
                             <const char*>&value[0], itemsize)
        finally:
            free(buf)
