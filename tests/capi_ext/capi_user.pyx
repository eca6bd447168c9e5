# cython: language_level=3, boundscheck=False, wraparound=False
"""An outside package's use of czarr's C-level API (built by tests/test_capi.py): decode
chunks with the GIL released, and assemble a basic selection from the chunks of an array
with the projection, copy and fill functions. Only ``czarr.capi`` is cimported."""

from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from czarr cimport capi


def versions():
    """(compile-time CZARR_CAPI_VERSION, runtime capi_version())"""
    return capi.CZARR_CAPI_VERSION, capi.capi_version()


cdef _check(Py_ssize_t status, what):
    if status < 0:
        raise ValueError(f"{what}: {capi.capi_strerror(status).decode()} ({status})")


def decode_all(list chunks, config, Py_ssize_t typesize, Py_ssize_t nbytes):
    """Decode every encoded chunk into `nbytes` bytes, in one loop without the GIL;
    returns the decoded chunks concatenated."""
    cdef capi.czarr_codec_t codec
    cdef Py_ssize_t i, n = len(chunks), status = 0, failed = -1
    capi.codec_from_config(config, typesize, &codec)
    out = bytearray(n * nbytes + 1)
    cdef char* dst = out
    cdef const char** srcs = <const char**>malloc(max(n, 1) * sizeof(char*))
    cdef size_t* sizes = <size_t*>malloc(max(n, 1) * sizeof(size_t))
    try:
        for i in range(n):
            srcs[i] = <bytes>chunks[i]
            sizes[i] = len(<bytes>chunks[i])
        with nogil:
            for i in range(n):
                status = capi.codec_decode(&codec, srcs[i], sizes[i], dst + i * nbytes,
                                           nbytes)
                if status < 0:
                    failed = i
                    break
                if status != nbytes:
                    failed = i
                    status = capi.CZARR_ESIZE
                    break
    finally:
        free(srcs)
        free(sizes)
    _check(status, f"chunk {failed}")
    return bytes(out[:n * nbytes])


def decode(bytes src, config, Py_ssize_t destsize, Py_ssize_t typesize=1):
    """One chunk: (status, decoded bytes); never raises for a codec error."""
    cdef capi.czarr_codec_t codec
    cdef Py_ssize_t status
    capi.codec_from_config(config, typesize, &codec)
    out = bytearray(destsize + 1)
    cdef char* dst = out
    cdef const char* s = src
    cdef size_t n = len(src)
    with nogil:
        status = capi.codec_decode(&codec, s, n, dst, destsize)
    return status, bytes(out[:destsize])


def decoded_size(bytes src, config):
    cdef capi.czarr_codec_t codec
    capi.codec_from_config(config, 1, &codec)
    return capi.codec_decoded_size(&codec, src, len(src))


def encode(bytes src, config, Py_ssize_t typesize=1, Py_ssize_t destsize=-1):
    """(status, encoded bytes); destsize defaults to codec_encode_bound."""
    cdef capi.czarr_codec_t codec
    cdef Py_ssize_t status
    capi.codec_from_config(config, typesize, &codec)
    if destsize < 0:
        destsize = capi.codec_encode_bound(&codec, len(src))
    out = bytearray(destsize + 1)
    cdef char* dst = out
    cdef const char* s = src
    cdef size_t n = len(src)
    with nogil:
        status = capi.codec_encode(&codec, s, n, dst, destsize)
    return status, bytes(out[:status]) if status >= 0 else b""


def init_codec(int id):
    cdef capi.czarr_codec_t codec
    status = capi.codec_init(&codec, id)
    return status, (codec if status == 0 else None)


def project(int64_t extent, int64_t chunk, int64_t start, int64_t stop, int64_t step,
            Py_ssize_t cap=-1):
    """(status or k, [(chunk index, start in chunk, count, output start), ...])"""
    cdef Py_ssize_t k, j
    if cap < 0:
        cap = extent // chunk + (1 if extent % chunk else 0)
    cdef int64_t* a = <int64_t*>malloc(4 * max(cap, 1) * sizeof(int64_t))
    try:
        with nogil:
            k = capi.project_slice(extent, chunk, start, stop, step, a, a + cap,
                                   a + 2 * cap, a + 3 * cap, cap)
        rows = [(a[j], a[cap + j], a[2 * cap + j], a[3 * cap + j]) for j in range(max(k, 0))]
    finally:
        free(a)
    return k, rows


def slice_length(int64_t extent, int64_t start, int64_t stop, int64_t step):
    return capi.slice_length(extent, start, stop, step)


def read_region(dict store, str prefix, config, tuple shape, tuple chunks,
                Py_ssize_t itemsize, bytes fill_value, tuple selection):
    """Read a basic selection (one normalised (start, stop, step) per dimension) of a
    Zarr v2 array whose encoded chunks are `store[prefix + "i.j..."]` (missing chunks
    hold `fill_value`); returns the C-ordered bytes of the selection. The GIL is held
    only to look a chunk up; decoding, copying and filling run without it."""
    cdef int nd = len(shape), d
    cdef capi.czarr_codec_t codec
    cdef int64_t* rows[32]
    cdef Py_ssize_t nper[32]        # touched chunks per dimension
    cdef Py_ssize_t pos[32]         # the current one
    cdef Py_ssize_t cap[32]
    cdef Py_ssize_t sel_len[32]     # selected elements per dimension
    cdef Py_ssize_t cstride[32]     # byte strides of a chunk and of the output
    cdef Py_ssize_t ostride[32]
    cdef Py_ssize_t sstride[32]     # strides of one copy: source, destination
    cdef Py_ssize_t dstride[32]
    cdef Py_ssize_t region[32]
    cdef Py_ssize_t chunk_nbytes = itemsize, total = itemsize, status = 0, off_o, off_c
    cdef int64_t k, step
    cdef const char* src
    cdef const char* fill = fill_value
    cdef char* outp
    cdef char* scr
    cdef size_t srcsize
    capi.codec_from_config(config, itemsize, &codec)
    if nd > 32 or len(chunks) != nd or len(selection) != nd:
        raise ValueError("bad geometry")
    for d in range(nd):
        rows[d] = NULL
    try:
        for d in range(nd):
            start, stop, step = selection[d]
            sel_len[d] = capi.slice_length(shape[d], start, stop, step)
            _check(sel_len[d], f"dimension {d}")
            cap[d] = shape[d] // chunks[d] + (1 if shape[d] % chunks[d] else 0)
            rows[d] = <int64_t*>malloc(4 * max(cap[d], 1) * sizeof(int64_t))
            k = capi.project_slice(shape[d], chunks[d], start, stop, step, rows[d],
                                   rows[d] + cap[d], rows[d] + 2 * cap[d],
                                   rows[d] + 3 * cap[d], cap[d])
            _check(k, f"dimension {d}")
            nper[d] = k
            pos[d] = 0
            chunk_nbytes *= chunks[d]
            total *= sel_len[d]
        # C-order strides of a chunk and of the output, in bytes
        for d in range(nd - 1, -1, -1):
            cstride[d] = itemsize if d == nd - 1 else cstride[d + 1] * chunks[d + 1]
            ostride[d] = itemsize if d == nd - 1 else ostride[d + 1] * sel_len[d + 1]
            step = selection[d][2]
            sstride[d] = cstride[d] * (step if step > 0 else -step)
            dstride[d] = ostride[d] if step > 0 else -ostride[d]
        out = bytearray(total + 1)
        scratch = bytearray(chunk_nbytes + 1)
        if total == 0:
            return b""
        outp = out
        scr = scratch
        while True:
            key = prefix + ".".join(str(rows[d][pos[d]]) for d in range(nd))
            encoded = store.get(key)
            src = NULL
            srcsize = 0
            if encoded is not None:
                src = <bytes>encoded
                srcsize = len(<bytes>encoded)
            off_o = 0
            off_c = 0
            for d in range(nd):
                off_c += rows[d][cap[d] + pos[d]] * cstride[d]
                off_o += rows[d][3 * cap[d] + pos[d]] * ostride[d]
                region[d] = rows[d][2 * cap[d] + pos[d]]
            with nogil:
                if src != NULL:
                    status = capi.codec_decode(&codec, src, srcsize, scr,
                                               chunk_nbytes)
                    if status >= 0:
                        status = capi.copy_region(outp + off_o, dstride,
                                                  scr + off_c, sstride, region,
                                                  nd, itemsize)
                else:
                    status = capi.fill_region(outp + off_o, dstride, region, nd,
                                              fill, itemsize)
            _check(status, f"chunk {key}")
            # odometer over the touched chunks, C order
            d = nd - 1
            while d >= 0:
                pos[d] += 1
                if pos[d] < nper[d]:
                    break
                pos[d] = 0
                d -= 1
            if d < 0:
                break
        return bytes(out[:total])
    finally:
        for d in range(nd):
            free(rows[d])
