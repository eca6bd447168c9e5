# Strided copy and fill kernels (C-level API). C types only; every function is nogil.
# Strides are in bytes and may be negative or zero (broadcast); shape entries >= 0.
# Callers must have checked that every addressed byte lies inside both buffers.

cdef enum:
    CZARR_MAX_NDIM = 32

cdef void copy_strided(char* dst, const Py_ssize_t* dst_strides,
                       const char* src, const Py_ssize_t* src_strides,
                       const Py_ssize_t* shape, int ndim, Py_ssize_t itemsize) noexcept nogil

cdef void fill_strided(char* dst, const Py_ssize_t* dst_strides,
                       const Py_ssize_t* shape, int ndim,
                       const char* value, Py_ssize_t itemsize) noexcept nogil

cdef bint is_repeated(const char* buf, Py_ssize_t nbytes,
                      const char* value, Py_ssize_t itemsize) noexcept nogil
