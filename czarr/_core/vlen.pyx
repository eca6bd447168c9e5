# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Variable-length packing of Python objects, numcodecs' VLenUTF8/VLenBytes/VLenArray
format: a 4-byte little-endian item count, then per item a 4-byte little-endian length
and that many bytes. Decoding first walks the whole buffer with the GIL released,
checking every length against the end (so a corrupt or truncated buffer is refused
before any object is made and never over-read), then builds the objects. Encoding
measures every item, allocates the result once and packs into it.
"""

from cpython.buffer cimport PyBUF_ANY_CONTIGUOUS, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_Check, PyBytes_FromStringAndSize
from cpython.ref cimport Py_INCREF, Py_XDECREF, PyObject
from cpython.unicode cimport PyUnicode_Check, PyUnicode_DecodeUTF8
from libc.stdint cimport uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

cimport numpy as cnp

import numpy as np

from czarr.errors import CodecError

cnp.import_array()


cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object unicode, Py_ssize_t* size) except NULL


cdef enum:
    _HEADER = 4            # bytes holding the item count, and each item's length
    _MAX_LEN = 0xFFFFFFFF  # what 4 bytes can count


_MESSAGES = {
    CZARR_VLEN_ECORRUPT: "corrupt or truncated variable-length data: an item runs past "
                         "the end of the buffer",
    CZARR_VLEN_ETRAILING: "corrupt variable-length data: bytes left over after the last item",
}


cdef inline uint32_t _load_le32(const char* p) noexcept nogil:
    cdef const unsigned char* b = <const unsigned char*>p
    return (<uint32_t>b[0] | (<uint32_t>b[1] << 8) | (<uint32_t>b[2] << 16)
            | (<uint32_t>b[3] << 24))


cdef inline void _store_le32(char* p, uint32_t v) noexcept nogil:
    cdef unsigned char* b = <unsigned char*>p
    b[0] = v & 0xFF
    b[1] = (v >> 8) & 0xFF
    b[2] = (v >> 16) & 0xFF
    b[3] = (v >> 24) & 0xFF


cdef Py_ssize_t vlen_count(const char* src, size_t srcsize) noexcept nogil:
    cdef size_t n
    if srcsize < _HEADER:
        return CZARR_VLEN_ECORRUPT
    n = _load_le32(src)
    if n > (srcsize - _HEADER) // _HEADER:
        return CZARR_VLEN_ECORRUPT
    return <Py_ssize_t>n


cdef Py_ssize_t vlen_index(const char* src, size_t srcsize, Py_ssize_t n_items,
                           size_t* starts, uint32_t* lengths) noexcept nogil:
    cdef size_t pos = _HEADER
    cdef uint32_t length
    cdef Py_ssize_t i
    for i in range(n_items):
        if srcsize - pos < _HEADER:
            return CZARR_VLEN_ECORRUPT
        length = _load_le32(src + pos)
        pos += _HEADER
        if srcsize - pos < length:
            return CZARR_VLEN_ECORRUPT
        starts[i] = pos
        lengths[i] = length
        pos += length
    if pos != srcsize:
        return CZARR_VLEN_ETRAILING
    return n_items


cdef Py_ssize_t vlen_write_header(char* dest, uint32_t n_items) noexcept nogil:
    _store_le32(dest, n_items)
    return _HEADER


cdef _raise(Py_ssize_t code):
    raise CodecError(_MESSAGES.get(code, f"variable-length data error {code}"))


cdef PyObject** _object_slots(cnp.ndarray values, str what) except NULL:
    """The item pointers of a 1-d C-contiguous object array (checked here)."""
    if values.dtype.num != cnp.NPY_OBJECT or values.ndim != 1 or not (
            cnp.PyArray_IS_C_CONTIGUOUS(values)):
        raise CodecError(f"{what} needs a 1-d contiguous object array, got "
                         f"{values.dtype} with shape {(<object>values).shape}")
    if values.shape[0] > _MAX_LEN:
        raise CodecError(f"cannot pack {values.shape[0]} items (at most 2**32 - 1)")
    return <PyObject**>cnp.PyArray_DATA(values)


cdef inline void _put(PyObject** slot, object value) noexcept:
    Py_INCREF(value)
    Py_XDECREF(slot[0])
    slot[0] = <PyObject*>value


cdef bint _is_missing(object value):
    """numcodecs packs None and anything equal to 0 as an empty item."""
    if value is None:
        return True
    try:
        return bool(value == 0)
    except Exception:
        return False


cdef object _pack(Py_ssize_t n, const char** data, Py_ssize_t* sizes):
    """bytes holding the header and the n items (data[i], sizes[i])."""
    cdef Py_ssize_t i, total = _HEADER
    cdef char* dest
    for i in range(n):
        if sizes[i] > _MAX_LEN:
            raise CodecError(f"item {i} holds {sizes[i]} bytes (at most 2**32 - 1)")
        total += _HEADER + sizes[i]
    result = PyBytes_FromStringAndSize(NULL, total)
    dest = PyBytes_AS_STRING(result)
    dest += vlen_write_header(dest, <uint32_t>n)
    for i in range(n):
        _store_le32(dest, <uint32_t>sizes[i])
        dest += _HEADER
        if sizes[i]:
            memcpy(dest, data[i], sizes[i])
        dest += sizes[i]
    return result


cdef object _encode(cnp.ndarray values, int kind):
    """kind 0: str items as UTF-8; 1: bytes items; 2: contiguous buffers (ndarrays).

    The items are first taken into a list that holds a reference to each: the test for
    a missing item (``item == 0``) runs user code, which may replace items of
    ``values``, and the data pointers taken below must outlive that."""
    _object_slots(values, "variable-length encoding")
    cdef list items = list(values)
    cdef Py_ssize_t i, n = len(items)
    cdef const char** data = <const char**>malloc(max(n, 1) * sizeof(char*))
    cdef Py_ssize_t* sizes = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef Py_buffer* views = NULL
    cdef Py_ssize_t n_views = 0
    cdef object item
    try:
        if data == NULL or sizes == NULL:
            raise MemoryError()
        if kind == 2:
            views = <Py_buffer*>malloc(max(n, 1) * sizeof(Py_buffer))
            if views == NULL:
                raise MemoryError()
        for i in range(n):
            item = items[i]
            if kind == 0:
                if PyUnicode_Check(item):
                    try:
                        data[i] = PyUnicode_AsUTF8AndSize(item, &sizes[i])
                    except UnicodeError as exc:
                        raise CodecError(f"item {i} cannot be encoded as UTF-8: "
                                         f"{exc}") from exc
                elif _is_missing(item):
                    data[i], sizes[i] = b"", 0
                else:
                    raise TypeError(f"expected a str, found {type(item).__name__} "
                                    f"{item!r} at item {i}")
            elif kind == 1:
                if PyBytes_Check(item):
                    data[i] = PyBytes_AS_STRING(item)
                    sizes[i] = len(<bytes>item)
                elif _is_missing(item):
                    data[i], sizes[i] = b"", 0
                else:
                    raise TypeError(f"expected bytes, found {type(item).__name__} "
                                    f"{item!r} at item {i}")
            else:
                PyObject_GetBuffer(item, &views[i], PyBUF_ANY_CONTIGUOUS)
                n_views += 1
                data[i] = <const char*>views[i].buf
                sizes[i] = views[i].len
        return _pack(n, data, sizes)
    finally:
        for i in range(n_views):
            PyBuffer_Release(&views[i])
        free(views)
        free(data)
        free(sizes)


def encode_utf8(cnp.ndarray values):
    """Pack a 1-d contiguous object array of str (None or 0: empty) as UTF-8 items."""
    return _encode(values, 0)


def encode_bytes(cnp.ndarray values):
    """Pack a 1-d contiguous object array of bytes (None or 0: empty)."""
    return _encode(values, 1)


def encode_buffers(cnp.ndarray values):
    """Pack a 1-d contiguous object array of contiguous buffers, each item its raw bytes."""
    return _encode(values, 2)


cdef object _decode(object source, int kind, object dtype):
    """kind 0: str from UTF-8; 1: bytes; 2: 1-d ndarrays of ``dtype``."""
    cdef Py_buffer src
    cdef Py_ssize_t n, ret, i
    cdef size_t* starts = NULL
    cdef uint32_t* lengths = NULL
    cdef const char* base
    cdef PyObject** slots
    cdef cnp.ndarray out, item
    cdef Py_ssize_t itemsize = 0
    if kind == 2:
        itemsize = dtype.itemsize
    PyObject_GetBuffer(source, &src, PyBUF_ANY_CONTIGUOUS)
    try:
        base = <const char*>src.buf
        n = vlen_count(base, src.len)
        if n < 0:
            _raise(n)
        starts = <size_t*>malloc(max(n, 1) * sizeof(size_t))
        lengths = <uint32_t*>malloc(max(n, 1) * sizeof(uint32_t))
        if starts == NULL or lengths == NULL:
            raise MemoryError()
        with nogil:
            ret = vlen_index(base, src.len, n, starts, lengths)
        if ret < 0:
            _raise(ret)
        out = np.empty(n, dtype=object)
        slots = <PyObject**>cnp.PyArray_DATA(out)
        for i in range(n):
            if kind == 0:
                try:
                    _put(&slots[i], PyUnicode_DecodeUTF8(base + starts[i], lengths[i],
                                                         "strict"))
                except UnicodeDecodeError as exc:
                    raise CodecError(f"corrupt variable-length data: item {i} is not "
                                     f"valid UTF-8 ({exc.reason})") from None
            elif kind == 1:
                _put(&slots[i], PyBytes_FromStringAndSize(base + starts[i], lengths[i]))
            else:
                if lengths[i] % itemsize:
                    raise CodecError(
                        f"corrupt variable-length data: item {i} holds {lengths[i]} "
                        f"bytes, not a multiple of the {dtype.str} item size {itemsize}")
                item = np.empty(lengths[i] // itemsize, dtype=dtype)
                if lengths[i]:
                    memcpy(cnp.PyArray_DATA(item), base + starts[i], lengths[i])
                _put(&slots[i], item)
        return out
    finally:
        free(starts)
        free(lengths)
        PyBuffer_Release(&src)


def decode_utf8(source):
    """Unpack UTF-8 items into a new 1-d object array of str."""
    return _decode(source, 0, None)


def decode_bytes(source):
    """Unpack items into a new 1-d object array of bytes."""
    return _decode(source, 1, None)


def decode_arrays(source, dtype):
    """Unpack items into a new 1-d object array of 1-d ``dtype`` arrays (item size > 0)."""
    dtype = np.dtype(dtype)
    if dtype.itemsize == 0 or dtype.hasobject:
        raise CodecError(f"cannot unpack arrays of dtype {dtype}")
    return _decode(source, 2, dtype)
