# czarr's public C-level API (version CZARR_CAPI_VERSION): chunk codecs, the selection
# to chunk mapping and the strided copy/fill kernels, for other Cython packages.
#
#     from czarr cimport capi     # build with include_path=[czarr.get_include()]
#
# Prerequisites (the same as numpy's and scipy's C-level APIs):
# - `czarr.capi` must be importable when the cimporting module is imported: Cython's
#   generated init imports it and takes the function pointers from its `__pyx_capi__`
#   (a mismatch in any signature fails that import with a clear ImportError).
# - C types only: every function is `noexcept nogil`, thread-safe (no global state, no
#   lock) and returns a status: >= 0 on success (a byte or chunk count where documented,
#   else CZARR_OK), a negative CZARR_E* code on error; capi_strerror names each code.
# - Buffers are raw pointers with explicit sizes. Codec functions never read past
#   `srcsize` nor write past `destsize`; the copy/fill kernels trust their strides and
#   shape: the caller checks that every addressed byte lies inside both buffers.
# - codec_from_config is the one function that needs the GIL: it parses a Python config.
#
# Stability: names, signatures and meanings below only ever gain additions. A change to
# any of them raises CZARR_CAPI_VERSION; callers may check capi_version() (the runtime
# version) >= CZARR_CAPI_VERSION (the version they were compiled against).

from libc.stdint cimport int64_t

cdef enum:
    CZARR_CAPI_VERSION = 1
    CZARR_CAPI_MAX_NDIM = 32     # most dimensions copy_region / fill_region accept

# status codes
cdef enum:
    CZARR_OK = 0
    CZARR_ECORRUPT = -1          # encoded input is invalid or truncated
    CZARR_ESIZE = -2             # decoded size differs from the destination size
    CZARR_ESPACE = -3            # destination (or array capacity) too small
    CZARR_EPARAM = -4            # invalid argument: codec config, slice, shape, ndim
    CZARR_ENOMEM = -5            # the codec could not allocate its context
    CZARR_EUNKNOWN = -6          # the encoded data does not record its decoded size

# codec ids (czarr_codec_t.id)
cdef enum:
    CZARR_CODEC_NONE = 0         # no compressor: the stored bytes are the chunk
    CZARR_CODEC_BLOSC = 1        # c-blosc 1.x frame, as numcodecs.Blosc
    CZARR_CODEC_ZSTD = 2         # zstd frames, as numcodecs.Zstd
    CZARR_CODEC_LZ4 = 3          # 4-byte size + one LZ4 block, as numcodecs.LZ4
    CZARR_CODEC_ZLIB = 4         # RFC 1950, as numcodecs.Zlib
    CZARR_CODEC_GZIP = 5         # RFC 1952, one member, as numcodecs.GZip (mtime 0)

# One compressor's settings. Fill it with codec_init (defaults as numcodecs') or
# codec_from_config, then change fields; unused fields are ignored.
ctypedef struct czarr_codec_t:
    int id                       # a CZARR_CODEC_* id
    int level                    # Blosc clevel 0..9; Zstd level; Zlib/GZip -1..9;
                                 # LZ4 acceleration (>= 1)
    int shuffle                  # Blosc: 0 none, 1 byte, 2 bit, -1 bit if typesize 1
    int typesize                 # Blosc: item size in bytes (>= 1)
    int nthreads                 # Blosc: internal threads (>= 1)
    int checksum                 # Zstd: write a content checksum (0 or 1)
    size_t blocksize             # Blosc: block size in bytes, 0 lets Blosc choose
    char cname[16]               # Blosc: inner compressor, NUL-terminated ("lz4", ...)

# the runtime API version (compare with CZARR_CAPI_VERSION)
cdef int capi_version() noexcept nogil

# a static, NUL-terminated message for a status code
cdef const char* capi_strerror(Py_ssize_t code) noexcept nogil

# ---- codecs: one chunk, caller's buffers -----------------------------------------

# set every field to numcodecs' default for codec `id`; CZARR_OK or CZARR_EPARAM
cdef int codec_init(czarr_codec_t* codec, int id) noexcept nogil

# (needs the GIL) fill `codec` from a codec config: None, a czarr or numcodecs codec, a
# numcodecs dict {"id": "blosc", ...} or a Zarr v3 dict {"name": ..., "configuration":
# {...}}; `typesize` is the chunk's item size (Blosc shuffles by it). Raises CodecError.
cdef int codec_from_config(object config, Py_ssize_t typesize,
                           czarr_codec_t* codec) except -1

# a destination size that codec_encode always accepts for `srcsize` input bytes
cdef Py_ssize_t codec_encode_bound(const czarr_codec_t* codec, size_t srcsize) noexcept nogil

# encode src into dest (destsize >= codec_encode_bound, else CZARR_ESPACE): the number
# of bytes written, or CZARR_EPARAM / CZARR_ESPACE / CZARR_ENOMEM
cdef Py_ssize_t codec_encode(const czarr_codec_t* codec, const char* src, size_t srcsize,
                             char* dest, size_t destsize) noexcept nogil

# the decoded size recorded in src (Blosc, Zstd, LZ4, none), or CZARR_ECORRUPT, or
# CZARR_EUNKNOWN (Zlib, GZip, Zstd frames without a content size)
cdef Py_ssize_t codec_decoded_size(const czarr_codec_t* codec, const char* src,
                                   size_t srcsize) noexcept nogil

# decode src into exactly destsize bytes at dest: destsize, or CZARR_ECORRUPT /
# CZARR_ESIZE (dest is never written past its end) / CZARR_EPARAM / CZARR_ENOMEM.
# Only codec.id and (Blosc) codec.nthreads are read.
cdef Py_ssize_t codec_decode(const czarr_codec_t* codec, const char* src, size_t srcsize,
                             char* dest, size_t destsize) noexcept nogil

# ---- selection to chunk projections: one dimension -------------------------------

# The slice (start, stop, step) must be normalised as Python's
# slice(...).indices(extent) returns it (step != 0; for step > 0, 0 <= start, stop <=
# extent; for step < 0, -1 <= start, stop <= extent - 1); the integer index i is the
# slice (i, i + 1, 1). Its number of elements, or CZARR_EPARAM:
cdef int64_t slice_length(int64_t extent, int64_t start, int64_t stop,
                          int64_t step) noexcept nogil

# For a dimension of `extent` elements in chunks of `chunk`, the chunks the slice
# touches, in increasing chunk order: for the k-th, `chunk_index[k]`, the first selected
# element inside it `chunk_start[k]` (then every |step|-th), how many `chunk_count[k]`,
# and the output index of that first element `out_start[k]` (the next ones land at
# +1 each for step > 0, -1 each for step < 0). Arrays of `cap` entries each; cap =
# ceil(extent / chunk) always suffices. Returns the number of touched chunks, or
# CZARR_EPARAM, or CZARR_ESPACE (cap too small).
cdef Py_ssize_t project_slice(int64_t extent, int64_t chunk, int64_t start, int64_t stop,
                              int64_t step, int64_t* chunk_index, int64_t* chunk_start,
                              int64_t* chunk_count, int64_t* out_start,
                              Py_ssize_t cap) noexcept nogil

# ---- strided copy and fill -------------------------------------------------------

# Copy an ndim-dimensional region of `shape` items of `itemsize` bytes from src to dst;
# strides are in bytes, may be negative (walk backwards) or zero (broadcast the source).
# ndim 0..CZARR_CAPI_MAX_NDIM. CZARR_OK or CZARR_EPARAM (nothing is written then).
cdef int copy_region(char* dst, const Py_ssize_t* dst_strides, const char* src,
                     const Py_ssize_t* src_strides, const Py_ssize_t* shape, int ndim,
                     Py_ssize_t itemsize) noexcept nogil

# Set every item of the region to the `itemsize` bytes at `value`. CZARR_OK or
# CZARR_EPARAM.
cdef int fill_region(char* dst, const Py_ssize_t* dst_strides, const Py_ssize_t* shape,
                     int ndim, const char* value, Py_ssize_t itemsize) noexcept nogil
