# cython: language_level=3, boundscheck=False, wraparound=False
"""Batched whole-file reads with the GIL released: the DirectoryStore's ``getitems``.

Reading thousands of small chunk files costs mostly per-file overhead; here a batch is
read in three passes — open and stat every file without the GIL, allocate the ``bytes``
objects with it, then read and close every file without it — so several threads read
files truly in parallel and no Python runs per file.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.errno cimport EINTR, EISDIR, ENOENT, ENOTDIR, errno
from libc.stdlib cimport free, malloc
from posix.fcntl cimport O_CLOEXEC, O_RDONLY, open
from posix.stat cimport S_ISREG, fstat, struct_stat
from posix.unistd cimport close, read

import os

cdef enum:
    _MISSING = -1
    _FAILED = -2


def read_files(list paths):
    """Read whole regular files.

    Parameters
    ----------
    paths : list of str
        File paths.

    Returns
    -------
    list
        Per path the contents as ``bytes``, or None when there is no regular file there
        (missing, a directory, or a path through a file).

    Raises
    ------
    OSError
        Any other failure (permissions, I/O errors), naming the path.
    """
    cdef Py_ssize_t n = len(paths), i, got, want
    cdef ssize_t r
    cdef struct_stat st
    cdef list encoded = [os.fsencode(p) for p in paths]
    cdef list out = [None] * n
    cdef int* fds = <int*>malloc(n * sizeof(int) + 1)
    cdef int* errs = <int*>malloc(n * sizeof(int) + 1)
    cdef Py_ssize_t* sizes = <Py_ssize_t*>malloc(n * sizeof(Py_ssize_t) + 1)
    cdef const char** cpaths = <const char**>malloc(n * sizeof(char*) + 1)
    cdef char** bufs = <char**>malloc(n * sizeof(char*) + 1)
    if not fds or not errs or not sizes or not cpaths or not bufs:
        free(fds); free(errs); free(sizes); free(cpaths); free(bufs)
        raise MemoryError()
    try:
        for i in range(n):
            cpaths[i] = encoded[i]
            fds[i] = _MISSING
            errs[i] = 0
        with nogil:
            for i in range(n):
                fds[i] = open(cpaths[i], O_RDONLY | O_CLOEXEC)
                if fds[i] < 0:
                    errs[i] = errno
                    fds[i] = _MISSING if errno in (ENOENT, ENOTDIR, EISDIR) else _FAILED
                    continue
                if fstat(fds[i], &st) != 0:
                    errs[i] = errno
                    close(fds[i])
                    fds[i] = _FAILED
                elif not S_ISREG(st.st_mode):
                    close(fds[i])
                    fds[i] = _MISSING
                else:
                    sizes[i] = st.st_size
        for i in range(n):
            bufs[i] = NULL
            if fds[i] >= 0:
                data = PyBytes_FromStringAndSize(NULL, sizes[i])
                out[i] = data
                bufs[i] = PyBytes_AS_STRING(data)
        with nogil:
            for i in range(n):
                if fds[i] < 0:
                    continue
                got = 0
                want = sizes[i]
                while got < want:
                    r = read(fds[i], bufs[i] + got, want - got)
                    if r < 0 and errno == EINTR:
                        continue
                    if r <= 0:
                        break
                    got += r
                if got != want:  # a file never shrinks in place (writes replace files)
                    errs[i] = errno
                    close(fds[i])
                    fds[i] = _FAILED
                else:
                    close(fds[i])
        for i in range(n):
            if fds[i] == _FAILED:
                raise OSError(errs[i], os.strerror(errs[i]) if errs[i] else
                              "short read", paths[i])
            if fds[i] == _MISSING:
                out[i] = None
        return out
    finally:
        free(fds); free(errs); free(sizes); free(cpaths); free(bufs)
