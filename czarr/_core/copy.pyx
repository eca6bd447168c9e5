# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Strided copy and fill kernels between chunk buffers and output arrays.

Everything here works on raw pointers, byte strides (signed: a negative stride walks
backwards, a zero stride broadcasts) and a shape, with the GIL released. Before the
loops run, dimensions of length 1 are dropped, neighbours that are contiguous on both
sides are merged, and the innermost dimension becomes a ``memcpy`` when both sides are
contiguous there. The Python-visible wrappers check shapes and item sizes against the
arrays they are given before they drop the GIL; the chunk engine (``indexing.pyx``)
calls the ``cdef`` kernels directly after doing the same checks.
"""

from libc.stdint cimport uint16_t, uint32_t, uint64_t
from libc.string cimport memcmp, memcpy, memset

cimport numpy as cnp

cnp.import_array()


cdef int simplify_strides(Py_ssize_t* shape, Py_ssize_t* s1, Py_ssize_t* s2, int ndim,
                          Py_ssize_t itemsize) noexcept nogil:
    """Drop length-1 dims, put the smallest |s1| stride last and merge contiguous
    neighbours, in place. Returns the new ndim, or -1 when the region is empty."""
    cdef int i, j, n = 0
    cdef Py_ssize_t t
    for i in range(ndim):
        if shape[i] == 0:
            return -1
        if shape[i] != 1:
            shape[n] = shape[i]
            s1[n] = s1[i]
            s2[n] = s2[i]
            n += 1
    # insertion sort by descending |s1| (stable: keeps C order when strides agree)
    for i in range(1, n):
        j = i
        while j > 0 and _abs(s1[j - 1]) < _abs(s1[j]):
            t = shape[j]; shape[j] = shape[j - 1]; shape[j - 1] = t
            t = s1[j]; s1[j] = s1[j - 1]; s1[j - 1] = t
            t = s2[j]; s2[j] = s2[j - 1]; s2[j - 1] = t
            j -= 1
    # merge dim i-1 into dim i when both sides step over dim i exactly
    j = 0
    for i in range(1, n):
        if s1[j] == s1[i] * shape[i] and s2[j] == s2[i] * shape[i]:
            shape[i] *= shape[j]
            shape[j] = shape[i]
            s1[j] = s1[i]
            s2[j] = s2[i]
        else:
            j += 1
            shape[j] = shape[i]
            s1[j] = s1[i]
            s2[j] = s2[i]
    if n == 0:
        return 0
    return j + 1


cdef inline Py_ssize_t _abs(Py_ssize_t x) noexcept nogil:
    return -x if x < 0 else x


cdef inline void _copy_line(char* dst, Py_ssize_t ds, const char* src, Py_ssize_t ss,
                            Py_ssize_t n, Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t k
    if ds == itemsize and ss == itemsize:
        memcpy(dst, src, n * itemsize)
    elif itemsize == 8:
        for k in range(n):
            (<uint64_t*>(dst + k * ds))[0] = (<const uint64_t*>(src + k * ss))[0]
    elif itemsize == 4:
        for k in range(n):
            (<uint32_t*>(dst + k * ds))[0] = (<const uint32_t*>(src + k * ss))[0]
    elif itemsize == 2:
        for k in range(n):
            (<uint16_t*>(dst + k * ds))[0] = (<const uint16_t*>(src + k * ss))[0]
    elif itemsize == 1:
        for k in range(n):
            dst[k * ds] = src[k * ss]
    else:
        for k in range(n):
            memcpy(dst + k * ds, src + k * ss, itemsize)


cdef inline void _fill_line(char* dst, Py_ssize_t ds, const char* value, bint zero,
                            Py_ssize_t n, Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t k, done, step
    if ds == itemsize:
        if zero:
            memset(dst, 0, n * itemsize)
            return
        # seed one item, then double the filled run
        memcpy(dst, value, itemsize)
        done = 1
        while done < n:
            step = done if done <= n - done else n - done
            memcpy(dst + done * itemsize, dst, step * itemsize)
            done += step
    else:
        for k in range(n):
            memcpy(dst + k * ds, value, itemsize)


cdef void copy_strided(char* dst, const Py_ssize_t* dst_strides,
                       const char* src, const Py_ssize_t* src_strides,
                       const Py_ssize_t* shape, int ndim, Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t sh[CZARR_MAX_NDIM]
    cdef Py_ssize_t ds[CZARR_MAX_NDIM]
    cdef Py_ssize_t ss[CZARR_MAX_NDIM]
    cdef Py_ssize_t idx[CZARR_MAX_NDIM]
    cdef int i, nd
    for i in range(ndim):
        sh[i] = shape[i]
        ds[i] = dst_strides[i]
        ss[i] = src_strides[i]
    nd = simplify_strides(sh, ds, ss, ndim, itemsize)
    if nd < 0:
        return
    if nd == 0:
        memcpy(dst, src, itemsize)
        return
    for i in range(nd):
        idx[i] = 0
    while True:
        _copy_line(dst, ds[nd - 1], src, ss[nd - 1], sh[nd - 1], itemsize)
        # odometer over the outer dims
        i = nd - 2
        while i >= 0:
            idx[i] += 1
            dst += ds[i]
            src += ss[i]
            if idx[i] < sh[i]:
                break
            dst -= ds[i] * sh[i]
            src -= ss[i] * sh[i]
            idx[i] = 0
            i -= 1
        if i < 0:
            return


cdef void gather_bytes(char* dest, const char* src, const Py_ssize_t* shape,
                       const Py_ssize_t* strides, int ndim, Py_ssize_t itemsize,
                       Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef Py_ssize_t idx[CZARR_MAX_NDIM]
    cdef Py_ssize_t item = start // itemsize, cut = start % itemsize, rest, k, n, inner
    cdef const char* p = src
    cdef int d
    if stop <= start:
        return
    # the multi-index of the first item, outermost dimension first
    rest = item
    for d in range(ndim - 1, -1, -1):
        idx[d] = rest % shape[d]
        rest //= shape[d]
        p += idx[d] * strides[d]
    if cut:  # the tail of a cut first item
        n = itemsize - cut if stop - start > itemsize - cut else stop - start
        memcpy(dest, p + cut, n)
        dest += n
        start += n
        _next_item(idx, &p, shape, strides, ndim, 1)
    inner = strides[ndim - 1]
    while stop - start >= itemsize:
        # whole items along the innermost dimension, up to its end
        k = shape[ndim - 1] - idx[ndim - 1]
        if k > (stop - start) // itemsize:
            k = (stop - start) // itemsize
        _copy_line(dest, itemsize, p, inner, k, itemsize)
        dest += k * itemsize
        start += k * itemsize
        _next_item(idx, &p, shape, strides, ndim, k)
    if stop > start:  # the head of a cut last item
        memcpy(dest, p, stop - start)


cdef inline void _next_item(Py_ssize_t* idx, const char** p, const Py_ssize_t* shape,
                            const Py_ssize_t* strides, int ndim, Py_ssize_t k) noexcept nogil:
    # advance the multi-index by k items along the innermost dimension (k never passes
    # its end), carrying into the outer ones
    cdef int d = ndim - 1
    idx[d] += k
    p[0] += k * strides[d]
    while d > 0 and idx[d] == shape[d]:
        p[0] -= idx[d] * strides[d]
        idx[d] = 0
        d -= 1
        idx[d] += 1
        p[0] += strides[d]


cdef void fill_strided(char* dst, const Py_ssize_t* dst_strides,
                       const Py_ssize_t* shape, int ndim,
                       const char* value, Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t sh[CZARR_MAX_NDIM]
    cdef Py_ssize_t ds[CZARR_MAX_NDIM]
    cdef Py_ssize_t unused[CZARR_MAX_NDIM]
    cdef Py_ssize_t idx[CZARR_MAX_NDIM]
    cdef int i, nd
    cdef bint zero = True
    for i in range(itemsize):
        if value[i] != 0:
            zero = False
            break
    for i in range(ndim):
        sh[i] = shape[i]
        ds[i] = dst_strides[i]
        unused[i] = 0
    nd = simplify_strides(sh, ds, unused, ndim, itemsize)
    if nd < 0:
        return
    if nd == 0:
        memcpy(dst, value, itemsize)
        return
    for i in range(nd):
        idx[i] = 0
    while True:
        _fill_line(dst, ds[nd - 1], value, zero, sh[nd - 1], itemsize)
        i = nd - 2
        while i >= 0:
            idx[i] += 1
            dst += ds[i]
            if idx[i] < sh[i]:
                break
            dst -= ds[i] * sh[i]
            idx[i] = 0
            i -= 1
        if i < 0:
            return


cdef bint is_repeated(const char* buf, Py_ssize_t nbytes,
                      const char* value, Py_ssize_t itemsize) noexcept nogil:
    """True when ``buf`` is ``value`` repeated (``nbytes`` a multiple of ``itemsize``)."""
    cdef Py_ssize_t k, done, step
    if nbytes == 0:
        return True
    if memcmp(buf, value, itemsize) != 0:
        return False
    # compare each run against the already-verified prefix, doubling its length
    done = itemsize
    while done < nbytes:
        step = done if done <= nbytes - done else nbytes - done
        if memcmp(buf + done, buf, step) != 0:
            return False
        done += step
    return True


# ---------------------------------------------------------------- indexed (fancy) kernels

cdef inline void _gather_line(char* dst, const Py_ssize_t* doff, const char* src,
                              const Py_ssize_t* soff, Py_ssize_t n,
                              Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t j
    # constant-size memcpy compiles to one unaligned load/store
    if itemsize == 8:
        for j in range(n):
            memcpy(dst + doff[j], src + soff[j], 8)
    elif itemsize == 4:
        for j in range(n):
            memcpy(dst + doff[j], src + soff[j], 4)
    elif itemsize == 2:
        for j in range(n):
            memcpy(dst + doff[j], src + soff[j], 2)
    elif itemsize == 1:
        for j in range(n):
            dst[doff[j]] = src[soff[j]]
    else:
        for j in range(n):
            memcpy(dst + doff[j], src + soff[j], itemsize)


cdef void copy_indexed(char* dst, Py_ssize_t** doffs, const char* src, Py_ssize_t** soffs,
                       const Py_ssize_t* outer_shape, int nouter,
                       const Py_ssize_t* dst_strides, const Py_ssize_t* src_strides,
                       const Py_ssize_t* inner_shape, int ninner,
                       Py_ssize_t itemsize) noexcept nogil:
    """For every index tuple ``j`` of the outer dimensions, copy the strided block of the
    inner dimensions from ``src + sum(soffs[d][j[d]])`` to ``dst + sum(doffs[d][j[d]])``,
    in C order of ``j`` (so a repeated destination keeps the last source)."""
    cdef Py_ssize_t idx[CZARR_MAX_NDIM]
    cdef Py_ssize_t dacc[CZARR_MAX_NDIM]
    cdef Py_ssize_t sacc[CZARR_MAX_NDIM]
    cdef Py_ssize_t j, n
    cdef int d, e, last = nouter - 1
    cdef char* dd
    cdef const char* ss
    if nouter == 0:
        copy_strided(dst, dst_strides, src, src_strides, inner_shape, ninner, itemsize)
        return
    for d in range(nouter):
        if outer_shape[d] == 0:
            return
    for d in range(ninner):
        if inner_shape[d] == 0:
            return
    # dacc[d]: the offset summed over the outer dims before d at the current index
    dacc[0] = 0
    sacc[0] = 0
    idx[0] = 0
    for d in range(1, nouter):
        idx[d] = 0
        dacc[d] = dacc[d - 1] + doffs[d - 1][0]
        sacc[d] = sacc[d - 1] + soffs[d - 1][0]
    n = outer_shape[last]
    while True:
        dd = dst + dacc[last]
        ss = src + sacc[last]
        if ninner == 0:
            _gather_line(dd, doffs[last], ss, soffs[last], n, itemsize)
        else:
            for j in range(n):
                copy_strided(dd + doffs[last][j], dst_strides, ss + soffs[last][j],
                             src_strides, inner_shape, ninner, itemsize)
        d = last - 1
        while d >= 0:
            idx[d] += 1
            if idx[d] < outer_shape[d]:
                break
            idx[d] = 0
            d -= 1
        if d < 0:
            return
        for e in range(d + 1, last + 1):
            dacc[e] = dacc[e - 1] + doffs[e - 1][idx[e - 1]]
            sacc[e] = sacc[e - 1] + soffs[e - 1][idx[e - 1]]


cdef void fill_indexed(char* dst, Py_ssize_t** doffs, const Py_ssize_t* outer_shape,
                       int nouter, const Py_ssize_t* dst_strides,
                       const Py_ssize_t* inner_shape, int ninner,
                       const char* value, Py_ssize_t itemsize) noexcept nogil:
    """Write the item ``value`` at every element ``copy_indexed`` would write."""
    cdef Py_ssize_t idx[CZARR_MAX_NDIM]
    cdef Py_ssize_t dacc[CZARR_MAX_NDIM]
    cdef Py_ssize_t j, n
    cdef int d, e, last = nouter - 1
    cdef char* dd
    cdef const Py_ssize_t* do
    if nouter == 0:
        fill_strided(dst, dst_strides, inner_shape, ninner, value, itemsize)
        return
    for d in range(nouter):
        if outer_shape[d] == 0:
            return
    for d in range(ninner):
        if inner_shape[d] == 0:
            return
    dacc[0] = 0
    idx[0] = 0
    for d in range(1, nouter):
        idx[d] = 0
        dacc[d] = dacc[d - 1] + doffs[d - 1][0]
    n = outer_shape[last]
    while True:
        dd = dst + dacc[last]
        do = doffs[last]
        if ninner == 0:
            for j in range(n):
                memcpy(dd + do[j], value, itemsize)
        else:
            for j in range(n):
                fill_strided(dd + do[j], dst_strides, inner_shape, ninner, value, itemsize)
        d = last - 1
        while d >= 0:
            idx[d] += 1
            if idx[d] < outer_shape[d]:
                break
            idx[d] = 0
            d -= 1
        if d < 0:
            return
        for e in range(d + 1, last + 1):
            dacc[e] = dacc[e - 1] + doffs[e - 1][idx[e - 1]]


# ---------------------------------------------------------------- Python-visible wrappers

def _check_writable(cnp.ndarray arr, str name):
    if not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name} is read-only")


def copy_array(cnp.ndarray dst, cnp.ndarray src) -> None:
    """Copy ``src`` into ``dst`` (same shape, same item size, any strides), GIL released."""
    cdef int nd = dst.ndim
    cdef Py_ssize_t itemsize = dst.itemsize
    if src.ndim != nd or tuple((<object>src).shape) != tuple((<object>dst).shape):
        raise ValueError(f"shape mismatch: dst {(<object>dst).shape}, src {(<object>src).shape}")
    if src.itemsize != itemsize:
        raise ValueError(f"item size mismatch: dst {itemsize}, src {src.itemsize}")
    if nd > CZARR_MAX_NDIM:
        raise ValueError(f"at most {CZARR_MAX_NDIM} dimensions are supported, got {nd}")
    _check_writable(dst, "dst")
    if (<object>dst).dtype.hasobject or (<object>src).dtype.hasobject:
        raise TypeError("object arrays are copied with NumPy, not byte kernels")
    cdef char* d = <char*>cnp.PyArray_DATA(dst)
    cdef const char* s = <const char*>cnp.PyArray_DATA(src)
    cdef Py_ssize_t* dstr = <Py_ssize_t*>cnp.PyArray_STRIDES(dst)
    cdef Py_ssize_t* sstr = <Py_ssize_t*>cnp.PyArray_STRIDES(src)
    cdef Py_ssize_t* shp = <Py_ssize_t*>cnp.PyArray_DIMS(dst)
    with nogil:
        copy_strided(d, dstr, s, sstr, shp, nd, itemsize)


def fill_array(cnp.ndarray dst, const unsigned char[::1] value) -> None:
    """Fill ``dst`` (any strides) with the raw item ``value`` (``len(value) == itemsize``)."""
    cdef int nd = dst.ndim
    cdef Py_ssize_t itemsize = dst.itemsize
    if value.shape[0] != itemsize:
        raise ValueError(f"fill value has {value.shape[0]} bytes, the item size is {itemsize}")
    if nd > CZARR_MAX_NDIM:
        raise ValueError(f"at most {CZARR_MAX_NDIM} dimensions are supported, got {nd}")
    _check_writable(dst, "dst")
    if (<object>dst).dtype.hasobject:
        raise TypeError("object arrays are filled with NumPy, not byte kernels")
    if itemsize == 0:
        return
    cdef char* d = <char*>cnp.PyArray_DATA(dst)
    cdef Py_ssize_t* dstr = <Py_ssize_t*>cnp.PyArray_STRIDES(dst)
    cdef Py_ssize_t* shp = <Py_ssize_t*>cnp.PyArray_DIMS(dst)
    with nogil:
        fill_strided(d, dstr, shp, nd, <const char*>&value[0], itemsize)


def all_equal(const unsigned char[::1] buf, const unsigned char[::1] value) -> bool:
    """True when the contiguous ``buf`` is the item ``value`` repeated."""
    cdef Py_ssize_t n = buf.shape[0], itemsize = value.shape[0]
    cdef bint res
    if itemsize == 0:
        return True
    if n % itemsize:
        raise ValueError(f"buffer of {n} bytes is not a whole number of {itemsize}-byte items")
    if n == 0:
        return True
    with nogil:
        res = is_repeated(<const char*>&buf[0], n, <const char*>&value[0], itemsize)
    return res
