# cython: language_level=3, boundscheck=False, wraparound=False
"""Batched whole-file reads with the GIL released: the DirectoryStore's ``getitems``.

Reading thousands of small chunk files costs mostly per-file overhead; here a batch is
read window by window (at most ``WINDOW`` files at a time), each in three passes — open
and stat the window's files without the GIL, allocate their ``bytes`` objects with it,
then read and close them without it — so several threads read files truly in parallel,
no Python runs per file, and a batch never holds more than ``WINDOW`` descriptors open
whatever its size (the usual limit is 1,024 per process, 256 on macOS). Files are opened
with ``O_NONBLOCK`` and their type checked before any read, so a FIFO or a device where
a chunk should be is an error, never a read that waits for ever. Every descriptor opened
is closed on every path, errors included.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.errno cimport EINTR, EISDIR, ENOENT, ENOTDIR, errno
from libc.stdlib cimport free, malloc
from posix.fcntl cimport O_CLOEXEC, O_NONBLOCK, O_RDONLY, open
from posix.stat cimport S_ISDIR, S_ISREG, fstat, struct_stat
from posix.unistd cimport close, pread, read

import os

from czarr.errors import NotAFileError

cdef enum:
    _MISSING = -1    # no file: missing, a folder, or a path through a file
    _FAILED = -2     # an OS error (errs[i] holds errno)
    _SPECIAL = -3    # something that is not a regular file: FIFO, socket, device
    _DONE = -4       # read whole and closed
    _WINDOW = 32     # files open at once, at most

WINDOW = _WINDOW


cdef void _open_window(const char** cpaths, int* fds, int* errs, Py_ssize_t* sizes,
                       Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Open and stat files lo..hi-1; fds[i] is a descriptor or a negative state."""
    cdef struct_stat st
    cdef Py_ssize_t i
    cdef int fd
    for i in range(lo, hi):
        fd = open(cpaths[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0:
            errs[i] = errno
            fds[i] = _MISSING if errno in (ENOENT, ENOTDIR, EISDIR) else _FAILED
            continue
        if fstat(fd, &st) != 0:
            errs[i] = errno
            close(fd)
            fds[i] = _FAILED
        elif S_ISDIR(st.st_mode):
            close(fd)
            fds[i] = _MISSING
        elif not S_ISREG(st.st_mode):
            close(fd)
            fds[i] = _SPECIAL
        else:
            fds[i] = fd
            sizes[i] = st.st_size


cdef void _read_window(int* fds, int* errs, Py_ssize_t* sizes, char** bufs,
                       Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Read and close the open files lo..hi-1 into bufs."""
    cdef Py_ssize_t i, got, want
    cdef ssize_t r
    for i in range(lo, hi):
        if fds[i] < 0:
            continue
        got = 0
        r = 0
        want = sizes[i]
        while got < want:
            r = read(fds[i], bufs[i] + got, want - got)
            if r < 0 and errno == EINTR:
                continue
            if r <= 0:
                break
            got += r
        if got != want:  # a file never shrinks in place (writes replace files)
            errs[i] = errno if r < 0 else 0
            close(fds[i])
            fds[i] = _FAILED
        else:
            close(fds[i])
            fds[i] = _DONE


def read_files(list paths, list names=None):
    """Read whole regular files.

    Parameters
    ----------
    paths : list of str
        File paths.
    names : list of str, optional
        What to call each path in error messages (a store key); the path by default.

    Returns
    -------
    list
        Per path the contents as ``bytes``, or None when there is no file there
        (missing, a directory, or a path through a file).

    Raises
    ------
    NotAFileError
        A path is a FIFO, socket or device (never read, so never waited on).
    OSError
        Any other failure (permissions, I/O errors), naming the path.
    """
    cdef Py_ssize_t n = len(paths), i, lo, hi
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
    if names is not None and len(names) != n:
        free(fds); free(errs); free(sizes); free(cpaths); free(bufs)
        raise ValueError(f"{len(names)} names for {n} paths")
    for i in range(n):
        cpaths[i] = encoded[i]
        fds[i] = _MISSING
        errs[i] = 0
        sizes[i] = 0
        bufs[i] = NULL
    lo = 0
    try:
        while lo < n:
            hi = min(n, lo + _WINDOW)
            with nogil:
                _open_window(cpaths, fds, errs, sizes, lo, hi)
            for i in range(lo, hi):
                if fds[i] >= 0:
                    data = PyBytes_FromStringAndSize(NULL, sizes[i])
                    out[i] = data
                    bufs[i] = PyBytes_AS_STRING(data)
            with nogil:
                _read_window(fds, errs, sizes, bufs, lo, hi)
            for i in range(lo, hi):
                if fds[i] == _MISSING:
                    out[i] = None
                elif fds[i] == _FAILED or fds[i] == _SPECIAL:
                    _raise(fds[i], errs[i], paths[i], names[i] if names is not None
                           else paths[i])
            lo = hi
        return out
    finally:
        # whatever failed, no descriptor of the current window stays open
        for i in range(lo, min(n, lo + _WINDOW)):
            if fds[i] >= 0:
                close(fds[i])
                fds[i] = _MISSING
        free(fds); free(errs); free(sizes); free(cpaths); free(bufs)


cdef _raise(int state, int err, object path, object name):
    if state == _SPECIAL:
        raise NotAFileError(
            f"{name!r} is not a regular file ({path!r} is a FIFO, socket or device); "
            "a store value must be a file")
    raise OSError(err, os.strerror(err) if err else f"short read of {name!r}", path)


def read_ranges(str path, list ranges, str name=None):
    """Byte ranges ``(start, length)`` of one regular file, read with ``pread`` and the
    GIL released; each is clipped to the file. Returns a list of ``bytes``.

    Raises
    ------
    FileNotFoundError
        No file at ``path`` (or a folder there).
    NotAFileError
        A FIFO, socket or device.
    """
    cdef Py_ssize_t n = len(ranges), i, got, want, start, size
    cdef ssize_t r
    cdef int fd, err = 0
    cdef const char* cpath
    cdef struct_stat st
    encoded = os.fsencode(path)
    cpath = encoded
    with nogil:
        fd = open(cpath, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0:
            err = errno
    if fd < 0:
        if err in (ENOENT, ENOTDIR, EISDIR):
            raise FileNotFoundError(err, os.strerror(err), path)
        raise OSError(err, os.strerror(err), path)
    cdef char** bufs = <char**>malloc(n * sizeof(char*) + 1)
    cdef Py_ssize_t* starts = <Py_ssize_t*>malloc(n * sizeof(Py_ssize_t) + 1)
    cdef Py_ssize_t* lengths = <Py_ssize_t*>malloc(n * sizeof(Py_ssize_t) + 1)
    cdef Py_ssize_t* gots = <Py_ssize_t*>malloc(n * sizeof(Py_ssize_t) + 1)
    try:
        if not bufs or not starts or not lengths or not gots:
            raise MemoryError()
        if fstat(fd, &st) != 0:
            raise OSError(errno, os.strerror(errno), path)
        if S_ISDIR(st.st_mode):
            raise FileNotFoundError(EISDIR, os.strerror(EISDIR), path)
        if not S_ISREG(st.st_mode):
            _raise(_SPECIAL, 0, path, name or path)
        size = st.st_size
        out = []
        for i in range(n):
            s0, length = ranges[i]
            start = min(max(<Py_ssize_t>s0, 0), size)
            want = min(<Py_ssize_t>length, size - start)
            data = PyBytes_FromStringAndSize(NULL, want)
            out.append(data)
            bufs[i] = PyBytes_AS_STRING(data)
            starts[i] = start
            lengths[i] = want
        with nogil:
            for i in range(n):
                got = 0
                while got < lengths[i]:
                    r = pread(fd, bufs[i] + got, lengths[i] - got, starts[i] + got)
                    if r < 0 and errno == EINTR:
                        continue
                    if r <= 0:
                        break
                    got += r
                gots[i] = got
        for i in range(n):
            if gots[i] != lengths[i]:
                out[i] = out[i][:gots[i]]
        return out
    finally:
        close(fd)
        free(bufs); free(starts); free(lengths); free(gots)
