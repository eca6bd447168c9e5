# Strided copy and fill kernels (C-level API). C types only; every function is nogil.
# Strides are in bytes and may be negative or zero (broadcast); shape entries >= 0.
# Callers must have checked that every addressed byte lies inside both buffers.

cdef enum:
    CZARR_MAX_NDIM = 32

# Drop length-1 dims, sort by descending |s1| and merge neighbours contiguous on both sides,
# in place (shape, s1, s2 hold ndim entries). Returns the new ndim, or -1 for an empty region.
cdef int simplify_strides(Py_ssize_t* shape, Py_ssize_t* s1, Py_ssize_t* s2, int ndim,
                          Py_ssize_t itemsize) noexcept nogil

cdef void copy_strided(char* dst, const Py_ssize_t* dst_strides,
                       const char* src, const Py_ssize_t* src_strides,
                       const Py_ssize_t* shape, int ndim, Py_ssize_t itemsize) noexcept nogil

# Bytes start <= x < stop of an array in the memory order given by shape/strides
# (outermost dimension first; any strides) into the contiguous dest: a part of the
# array's contiguous copy, without making the rest of it.
cdef void gather_bytes(char* dest, const char* src, const Py_ssize_t* shape,
                       const Py_ssize_t* strides, int ndim, Py_ssize_t itemsize,
                       Py_ssize_t start, Py_ssize_t stop) noexcept nogil

cdef void fill_strided(char* dst, const Py_ssize_t* dst_strides,
                       const Py_ssize_t* shape, int ndim,
                       const char* value, Py_ssize_t itemsize) noexcept nogil

cdef bint is_repeated(const char* buf, Py_ssize_t nbytes,
                      const char* value, Py_ssize_t itemsize) noexcept nogil

# Indexed copy/fill for orthogonal and coordinate selections: the outer dimensions step
# through per-dimension byte-offset arrays (doffs/soffs), the inner ones are a strided block.
cdef void copy_indexed(char* dst, Py_ssize_t** doffs, const char* src, Py_ssize_t** soffs,
                       const Py_ssize_t* outer_shape, int nouter,
                       const Py_ssize_t* dst_strides, const Py_ssize_t* src_strides,
                       const Py_ssize_t* inner_shape, int ninner,
                       Py_ssize_t itemsize) noexcept nogil

cdef void fill_indexed(char* dst, Py_ssize_t** doffs, const Py_ssize_t* outer_shape,
                       int nouter, const Py_ssize_t* dst_strides,
                       const Py_ssize_t* inner_shape, int ninner,
                       const char* value, Py_ssize_t itemsize) noexcept nogil
