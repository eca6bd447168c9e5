# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""czarr's public C-level API: a thin, versioned facade over the private ``_core`` kernels.

Everything callable from other Cython packages is declared in ``capi.pxd`` (read it for
the contract: C types only, ``noexcept nogil``, status codes). This module forwards each
call to a ``_core`` kernel, translating the kernels' private error codes into the public
``CZARR_E*`` codes, so ``_core`` stays free to change while these names stay put. From
Python it offers only the version (``CAPI_VERSION``), the codes and ``parse_codec``, which
shows what ``codec_from_config`` fills in.
"""

from libc.stdint cimport INT64_MAX, int64_t
from libc.string cimport memchr, memcpy, memset, strcpy

from czarr._core.blosc cimport (CZARR_BLOSC_EDEST, CZARR_BLOSC_EPARAM, blosc_decode_into,
                                blosc_encode_into, blosc_header_sizes)
from czarr._core.copy cimport copy_strided, fill_strided
from czarr._core.indexing cimport split_progression_into
from czarr._core.lz4 cimport (CZARR_LZ4_EDEST, lz4_decode_into, lz4_decoded_size,
                              lz4_encode_into)
from czarr._core.zlib cimport (CZARR_ZLIB_EDEST, CZARR_ZLIB_EPARAM, gzip_decode_into,
                               gzip_encode_into, zlib_decode_into, zlib_encode_into)
from czarr._core.zstd cimport (CZARR_ZSTD_ECORRUPT, CZARR_ZSTD_EDEST, CZARR_ZSTD_ENOMEM,
                               CZARR_ZSTD_UNKNOWN, zstd_content_size, zstd_decode_into,
                               zstd_encode_into)

from czarr.errors import CodecError

CAPI_VERSION: int = CZARR_CAPI_VERSION
MAX_NDIM: int = CZARR_CAPI_MAX_NDIM

#: status code -> name, for messages
STATUS = {
    CZARR_OK: "CZARR_OK",
    CZARR_ECORRUPT: "CZARR_ECORRUPT",
    CZARR_ESIZE: "CZARR_ESIZE",
    CZARR_ESPACE: "CZARR_ESPACE",
    CZARR_EPARAM: "CZARR_EPARAM",
    CZARR_ENOMEM: "CZARR_ENOMEM",
    CZARR_EUNKNOWN: "CZARR_EUNKNOWN",
}

#: codec name (numcodecs id / Zarr v3 name) -> CZARR_CODEC_* id
CODEC_IDS = {
    "none": CZARR_CODEC_NONE,
    "blosc": CZARR_CODEC_BLOSC,
    "zstd": CZARR_CODEC_ZSTD,
    "lz4": CZARR_CODEC_LZ4,
    "zlib": CZARR_CODEC_ZLIB,
    "gzip": CZARR_CODEC_GZIP,
}

cdef enum:
    _BLOSC_OVERHEAD = 16

_V3_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


cdef int capi_version() noexcept nogil:
    return CZARR_CAPI_VERSION


cdef const char* capi_strerror(Py_ssize_t code) noexcept nogil:
    if code >= 0:
        return b"success"
    if code == CZARR_ECORRUPT:
        return b"encoded input is invalid or truncated"
    if code == CZARR_ESIZE:
        return b"decoded size differs from the destination size"
    if code == CZARR_ESPACE:
        return b"destination or capacity too small"
    if code == CZARR_EPARAM:
        return b"invalid argument"
    if code == CZARR_ENOMEM:
        return b"out of memory"
    if code == CZARR_EUNKNOWN:
        return b"the encoded data does not record its decoded size"
    return b"unknown czarr status code"


# ---- codecs ----------------------------------------------------------------------

cdef int codec_init(czarr_codec_t* codec, int id) noexcept nogil:
    memset(codec, 0, sizeof(czarr_codec_t))
    codec.typesize = 1
    codec.nthreads = 1
    if id == CZARR_CODEC_BLOSC:
        codec.level = 5
        codec.shuffle = 1
        strcpy(codec.cname, b"lz4")
    elif id == CZARR_CODEC_LZ4 or id == CZARR_CODEC_ZLIB or id == CZARR_CODEC_GZIP:
        codec.level = 1
    elif id != CZARR_CODEC_NONE and id != CZARR_CODEC_ZSTD:  # Zstd's default level is 0
        return CZARR_EPARAM
    codec.id = id
    return CZARR_OK


cdef int _int_field(dict cfg, str key, object default, str codec_name) except? -1:
    value = cfg.get(key, default)
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int):
        raise CodecError(f"{codec_name} {key} must be an integer, got {value!r}")
    return value


cdef int codec_from_config(object config, Py_ssize_t typesize,
                           czarr_codec_t* codec) except -1:
    if config is not None and hasattr(config, "get_config"):
        config = config.get_config()
    if config is None:
        return codec_init(codec, CZARR_CODEC_NONE)
    if not isinstance(config, dict):
        raise CodecError(f"a codec config must be None, a codec or a dict, got {config!r}")
    if "name" in config:  # Zarr v3: {"name": ..., "configuration": {...}}
        name = config["name"]
        cfg = dict(config.get("configuration") or {})
        if isinstance(cfg.get("shuffle"), str):
            if cfg["shuffle"] not in _V3_SHUFFLE:
                raise CodecError(f"unknown Blosc shuffle {cfg['shuffle']!r}")
            cfg["shuffle"] = _V3_SHUFFLE[cfg["shuffle"]]
    else:
        name = config.get("id")
        cfg = config
    if name not in CODEC_IDS:
        raise CodecError(f"codec {name!r} has no C-level implementation; expected one of "
                         f"{', '.join(CODEC_IDS)}")
    if typesize < 1:
        raise CodecError(f"typesize must be >= 1, got {typesize}")
    codec_init(codec, CODEC_IDS[name])
    if codec.id == CZARR_CODEC_BLOSC:
        cname = cfg.get("cname", "lz4")
        cname_b = cname.encode("ascii") if isinstance(cname, str) else cname
        if not isinstance(cname_b, bytes) or not 0 < len(cname_b) < 16 or b"\0" in cname_b:
            raise CodecError(f"invalid Blosc cname {cname!r}")
        memcpy(codec.cname, <const char*>cname_b, len(cname_b) + 1)
        codec.level = _int_field(cfg, "clevel", 5, "Blosc")
        codec.shuffle = _int_field(cfg, "shuffle", 1, "Blosc")
        codec.typesize = _int_field(cfg, "typesize", typesize, "Blosc")
        blocksize = _int_field(cfg, "blocksize", 0, "Blosc")
        if not 0 <= codec.level <= 9 or not -1 <= codec.shuffle <= 2 or blocksize < 0:
            raise CodecError(f"invalid Blosc config {config!r}")
        codec.blocksize = blocksize
    elif codec.id == CZARR_CODEC_ZSTD:
        codec.level = _int_field(cfg, "level", 0, "Zstd")
        codec.checksum = _int_field(cfg, "checksum", 0, "Zstd") != 0
    elif codec.id == CZARR_CODEC_LZ4:
        codec.level = _int_field(cfg, "acceleration", 1, "LZ4")
    elif codec.id in (CZARR_CODEC_ZLIB, CZARR_CODEC_GZIP):
        codec.level = _int_field(cfg, "level", 1, name)
        if not -1 <= codec.level <= 9:
            raise CodecError(f"{name} level must be from -1 to 9, got {codec.level}")
    return 0


def parse_codec(config, Py_ssize_t typesize=1) -> dict:
    """The ``czarr_codec_t`` that ``codec_from_config`` fills for ``config``, as a dict
    (``cname`` as ``bytes``). Raises ``CodecError`` for a config with no C-level codec."""
    cdef czarr_codec_t codec
    codec_from_config(config, typesize, &codec)
    return codec


cdef Py_ssize_t codec_encode_bound(const czarr_codec_t* codec, size_t srcsize) noexcept nogil:
    # each library's documented worst case (ZSTD_COMPRESSBOUND, LZ4_COMPRESSBOUND,
    # zlib's compressBound), in size_t: the callers' sizes fit in Py_ssize_t
    cdef size_t n = srcsize, bound
    if n > <size_t>(INT64_MAX // 2):
        return CZARR_EPARAM
    if codec.id == CZARR_CODEC_NONE:
        bound = n
    elif codec.id == CZARR_CODEC_BLOSC:
        bound = n + _BLOSC_OVERHEAD
    elif codec.id == CZARR_CODEC_ZSTD:
        bound = n + (n >> 8) + ((((128 << 10) - n) >> 11) if n < (128 << 10) else 0)
    elif codec.id == CZARR_CODEC_LZ4:
        bound = 4 + n + n // 255 + 16
    elif codec.id == CZARR_CODEC_ZLIB or codec.id == CZARR_CODEC_GZIP:
        bound = n + (n >> 12) + (n >> 14) + (n >> 25) + 13
        if codec.id == CZARR_CODEC_GZIP:
            bound += 12      # an 18-byte gzip wrapper instead of zlib's 6
    else:
        return CZARR_EPARAM
    return <Py_ssize_t>bound


cdef Py_ssize_t codec_encode(const czarr_codec_t* codec, const char* src, size_t srcsize,
                             char* dest, size_t destsize) noexcept nogil:
    cdef Py_ssize_t bound = codec_encode_bound(codec, srcsize)
    cdef Py_ssize_t ret
    cdef int shuffle
    if bound < 0:
        return bound
    if destsize < <size_t>bound:
        return CZARR_ESPACE
    if codec.id == CZARR_CODEC_NONE:
        memcpy(dest, src, srcsize)
        return <Py_ssize_t>srcsize
    if codec.id == CZARR_CODEC_BLOSC:
        if memchr(codec.cname, 0, sizeof(codec.cname)) == NULL or codec.typesize < 1:
            return CZARR_EPARAM
        shuffle = codec.shuffle
        if shuffle == -1:
            shuffle = 2 if codec.typesize == 1 else 1
        ret = blosc_encode_into(src, srcsize, dest, destsize, codec.cname, codec.level,
                                shuffle, codec.typesize, codec.blocksize,
                                codec.nthreads if codec.nthreads > 0 else 1)
        return ret if ret >= 0 else CZARR_EPARAM
    if codec.id == CZARR_CODEC_ZSTD:
        ret = zstd_encode_into(src, srcsize, dest, destsize, codec.level, codec.checksum != 0)
        if ret == CZARR_ZSTD_ENOMEM:
            return CZARR_ENOMEM
        return ret if ret >= 0 else CZARR_EPARAM
    if codec.id == CZARR_CODEC_LZ4:
        ret = lz4_encode_into(src, srcsize, dest, destsize, codec.level)
        return ret if ret >= 0 else CZARR_EPARAM
    if codec.id == CZARR_CODEC_ZLIB:
        ret = zlib_encode_into(src, srcsize, dest, destsize, codec.level)
    else:
        ret = gzip_encode_into(src, srcsize, dest, destsize, codec.level)
    return ret if ret >= 0 else CZARR_EPARAM


cdef Py_ssize_t codec_decoded_size(const czarr_codec_t* codec, const char* src,
                                   size_t srcsize) noexcept nogil:
    cdef Py_ssize_t nbytes, cbytes, blocksize, typesize
    cdef long long n
    if codec.id == CZARR_CODEC_NONE:
        return <Py_ssize_t>srcsize
    if codec.id == CZARR_CODEC_BLOSC:
        if blosc_header_sizes(src, srcsize, &nbytes, &cbytes, &blocksize, &typesize) < 0:
            return CZARR_ECORRUPT
        return nbytes
    if codec.id == CZARR_CODEC_ZSTD:
        n = zstd_content_size(src, srcsize)
        if n == CZARR_ZSTD_UNKNOWN:
            return CZARR_EUNKNOWN
        return <Py_ssize_t>n if n >= 0 else CZARR_ECORRUPT
    if codec.id == CZARR_CODEC_LZ4:
        nbytes = lz4_decoded_size(src, srcsize)
        return nbytes if nbytes >= 0 else CZARR_ECORRUPT
    if codec.id == CZARR_CODEC_ZLIB or codec.id == CZARR_CODEC_GZIP:
        return CZARR_EUNKNOWN
    return CZARR_EPARAM


cdef Py_ssize_t codec_decode(const czarr_codec_t* codec, const char* src, size_t srcsize,
                             char* dest, size_t destsize) noexcept nogil:
    cdef Py_ssize_t ret
    if codec.id == CZARR_CODEC_NONE:
        if srcsize != destsize:
            return CZARR_ESIZE
        memcpy(dest, src, srcsize)
        return <Py_ssize_t>destsize
    if codec.id == CZARR_CODEC_BLOSC:
        ret = blosc_decode_into(src, srcsize, dest, destsize,
                                codec.nthreads if codec.nthreads > 0 else 1)
        if ret >= 0:
            return ret
        return CZARR_ESIZE if ret == CZARR_BLOSC_EDEST else CZARR_ECORRUPT
    if codec.id == CZARR_CODEC_ZSTD:
        ret = zstd_decode_into(src, srcsize, dest, destsize)
        if ret >= 0:
            return ret
        return CZARR_ESIZE if ret == CZARR_ZSTD_EDEST else CZARR_ECORRUPT
    if codec.id == CZARR_CODEC_LZ4:
        ret = lz4_decode_into(src, srcsize, dest, destsize)
        if ret >= 0:
            return ret
        return CZARR_ESIZE if ret == CZARR_LZ4_EDEST else CZARR_ECORRUPT
    if codec.id == CZARR_CODEC_ZLIB:
        ret = zlib_decode_into(src, srcsize, dest, destsize)
    elif codec.id == CZARR_CODEC_GZIP:
        ret = gzip_decode_into(src, srcsize, dest, destsize)
    else:
        return CZARR_EPARAM
    if ret >= 0:
        return ret
    if ret == CZARR_ZLIB_EPARAM:
        return CZARR_ENOMEM       # inflateInit failed: the only parameter is the window
    return CZARR_ESIZE if ret == CZARR_ZLIB_EDEST else CZARR_ECORRUPT


# ---- projections -----------------------------------------------------------------

cdef int64_t slice_length(int64_t extent, int64_t start, int64_t stop,
                          int64_t step) noexcept nogil:
    if extent < 0 or step == 0:
        return CZARR_EPARAM
    if step > 0:
        if not (0 <= start <= extent and 0 <= stop <= extent):
            return CZARR_EPARAM
        return (stop - start - 1) // step + 1 if stop > start else 0
    if not (-1 <= start <= extent - 1 and -1 <= stop <= extent - 1):
        return CZARR_EPARAM
    if start <= stop:
        return 0
    if step < -extent - 1:   # one element (and -step might not exist in an int64)
        return 1
    return (start - stop - 1) // -step + 1


cdef Py_ssize_t project_slice(int64_t extent, int64_t chunk, int64_t start, int64_t stop,
                              int64_t step, int64_t* chunk_index, int64_t* chunk_start,
                              int64_t* chunk_count, int64_t* out_start,
                              Py_ssize_t cap) noexcept nogil:
    cdef int64_t count = slice_length(extent, start, stop, step)
    cdef int64_t first, stride
    cdef Py_ssize_t k
    if count < 0 or chunk <= 0 or cap < 0:
        return CZARR_EPARAM
    # the grid limit of czarr arrays: the extent in whole chunks fits in an int64
    if extent // chunk + (1 if extent % chunk else 0) > INT64_MAX // chunk:
        return CZARR_EPARAM
    if count == 0:
        return 0
    if step > 0:
        k = split_progression_into(start, step, count, 0, 1, chunk, chunk_index,
                                   chunk_start, chunk_count, out_start, cap)
    else:
        # walk the same elements upwards, from the lowest, landing from the last output
        stride = -step if count > 1 else 1
        first = start - (count - 1) * stride
        k = split_progression_into(first, stride, count, count - 1, -1, chunk,
                                   chunk_index, chunk_start, chunk_count, out_start, cap)
    return k if k >= 0 else CZARR_ESPACE


# ---- copy and fill ---------------------------------------------------------------

cdef int _check_region(const Py_ssize_t* shape, int ndim, Py_ssize_t itemsize) noexcept nogil:
    cdef int d
    if ndim < 0 or ndim > CZARR_CAPI_MAX_NDIM or itemsize <= 0:
        return CZARR_EPARAM
    for d in range(ndim):
        if shape[d] < 0:
            return CZARR_EPARAM
    return CZARR_OK


cdef int copy_region(char* dst, const Py_ssize_t* dst_strides, const char* src,
                     const Py_ssize_t* src_strides, const Py_ssize_t* shape, int ndim,
                     Py_ssize_t itemsize) noexcept nogil:
    if _check_region(shape, ndim, itemsize) < 0:
        return CZARR_EPARAM
    copy_strided(dst, dst_strides, src, src_strides, shape, ndim, itemsize)
    return CZARR_OK


cdef int fill_region(char* dst, const Py_ssize_t* dst_strides, const Py_ssize_t* shape,
                     int ndim, const char* value, Py_ssize_t itemsize) noexcept nogil:
    if _check_region(shape, ndim, itemsize) < 0:
        return CZARR_EPARAM
    fill_strided(dst, dst_strides, shape, ndim, value, itemsize)
    return CZARR_OK
