# The per-dimension step of the selection mapping, shared by every projection kind.
from libc.stdint cimport int64_t

# (first, step, count, out0, out_dir, keeps_axis) of an int or slice on one dimension
cdef tuple dim_progression(object sel, int64_t n, int axis)

# a (4, k) int64 array: per touched chunk its index, first element inside, count and
# output index, for the progression first + j*step (j < count) over chunks of length c
cdef object split_progression(int64_t first, int64_t step, int64_t count, int64_t out0,
                              int64_t out_dir, int64_t n, int64_t c)

# the same rows, nogil, into four caller arrays of `cap` entries: returns the number of
# touched chunks k, or -1 when cap < k (never when cap >= min(count, ceil(n / c)) on a
# checked grid)
cdef Py_ssize_t split_progression_into(int64_t first, int64_t step, int64_t count,
                                       int64_t out0, int64_t out_dir, int64_t c,
                                       int64_t* chunk_index, int64_t* chunk_start,
                                       int64_t* chunk_count, int64_t* out_start,
                                       Py_ssize_t cap) noexcept nogil

# ValueError unless every product the kernels form for this grid fits in an int64
cdef int check_grid(tuple shape, tuple chunks, Py_ssize_t itemsize) except -1
