"""Where the Zarr v2 format puts things in a store.

This is the only module that knows the key names ``.zarray``, ``.zgroup`` and
``.zattrs`` and how paths nest: an array or group at path ``'a/b'`` keeps its metadata
at ``'a/b/.zarray'`` (or ``.zgroup``), its attributes at ``'a/b/.zattrs'`` and its chunks
under ``'a/b/'``; the root's live at ``'.zarray'``, ``'.zattrs'`` and ``''``. It creates
arrays and groups the way zarr-python 2's ``init_array``/``init_group`` do: parent groups
appear implicitly, an existing node is an error unless ``overwrite=True``, which clears
the subtree first. It finds nodes with the fewest store calls (:func:`read_node`, one
read of a node's document; :func:`member_names`, a listing and an existence check per
child; :func:`read_members`, a listing and one batched read), so what a group costs
is what is asked of it. What the documents contain is :mod:`czarr.metadata.v2`'s
business, how bytes are kept is the store's.
"""

from __future__ import annotations

import warnings
from collections.abc import MutableMapping
from typing import Any, NamedTuple

from czarr.errors import (
    CodecError,
    ContainsArrayError,
    ContainsGroupError,
    UnsupportedFormatError,
)
from czarr.metadata.normalize import (
    normalize_chunks,
    normalize_dimension_separator,
    normalize_dtype,
    normalize_fill_value,
    normalize_order,
    normalize_shape,
)
from czarr.metadata.v2 import (
    ArrayMetadata,
    decode_group_metadata,
    encode_array_metadata,
    encode_group_metadata,
)
from czarr.storage.base import _is_canonical, getitems, listdir, naming_keys, rmdir

__all__ = [
    "ARRAY_META_KEY",
    "GROUP_META_KEY",
    "ATTRS_KEY",
    "DEFAULT_COMPRESSOR_CONFIG",
    "normalize_path",
    "path_prefix",
    "chunk_key_prefix",
    "array_meta_key",
    "group_meta_key",
    "attrs_key",
    "contains_array",
    "contains_group",
    "build_array_metadata",
    "init_array",
    "init_group",
    "NodeInfo",
    "contains_node",
    "read_node",
    "member_names",
    "read_members",
]

ARRAY_META_KEY = ".zarray"
GROUP_META_KEY = ".zgroup"
ATTRS_KEY = ".zattrs"
V3_META_KEY = "zarr.json"  # Zarr v3: one document per node, attributes included

# How zarr-python 2's default compressor, Blosc(cname='lz4', clevel=5, shuffle=SHUFFLE,
# blocksize=0), is stored; compressor='default' writes czarr.codecs.Blosc's config for it.
DEFAULT_COMPRESSOR_CONFIG = {
    "id": "blosc",
    "cname": "lz4",
    "clevel": 5,
    "shuffle": 1,
    "blocksize": 0,
}


# ---------------------------------------------------------------------------------------
# paths and keys
# ---------------------------------------------------------------------------------------


def normalize_path(path: str | bytes | None) -> str:
    """A user's path -> the canonical store path, as zarr-python 2's ``normalize_storage_path``.

    Backslashes become slashes, leading/trailing slashes are stripped and repeated ones
    collapsed; None and ``''`` are the root (``''``).

    Parameters
    ----------
    path : str, bytes or None

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If a segment is ``'.'`` or ``'..'``, or the path holds a NUL character.
    """
    if type(path) is str and _is_canonical(path):
        return path  # already canonical: the common case, checked without splitting
    if isinstance(path, bytes):
        path = path.decode("ascii")
    if path is None:
        return ""
    path = str(path).replace("\\", "/")
    if "\0" in path:
        raise ValueError(f"path containing a NUL character not allowed: {path!r}")
    segments = [s for s in path.split("/") if s]
    if any(s in (".", "..") for s in segments):
        raise ValueError(f"path containing '.' or '..' segment not allowed: {path!r}")
    return "/".join(segments)


def path_prefix(path: str | None) -> str:
    """The key prefix of everything under ``path``: ``'a/b'`` -> ``'a/b/'``, root -> ``''``."""
    path = normalize_path(path)
    return path + "/" if path else ""


def chunk_key_prefix(path: str | None) -> str:
    """What chunk keys of the array at ``path`` start with (``path/``, or ``''`` for the root)."""
    return path_prefix(path)


def array_meta_key(path: str | None = "") -> str:
    """The key of the ``.zarray`` document of the array at ``path``."""
    return path_prefix(path) + ARRAY_META_KEY


def group_meta_key(path: str | None = "") -> str:
    """The key of the ``.zgroup`` document of the group at ``path``."""
    return path_prefix(path) + GROUP_META_KEY


def attrs_key(path: str | None = "") -> str:
    """The key of the ``.zattrs`` document of the array or group at ``path``."""
    return path_prefix(path) + ATTRS_KEY


def _v3_node_type(store: Any, path: str | None) -> str | None:
    """The ``node_type`` of a Zarr v3 ``zarr.json`` at ``path``, or None."""
    key = path_prefix(path) + V3_META_KEY
    try:
        data = store[key]
    except KeyError:
        return None
    from czarr.metadata.v3 import node_type_v3

    return node_type_v3(data, key=key)


def node_format(store: Any, path: str | None = None) -> int | None:
    """2 or 3 for the format of the node (array or group) at ``path``; None if none."""
    prefix = path_prefix(path)
    if prefix + ARRAY_META_KEY in store or prefix + GROUP_META_KEY in store:
        return 2
    if prefix + V3_META_KEY in store:
        return 3
    return None


def contains_array(store: Any, path: str | None = None) -> bool:
    """Whether ``store`` holds an array at ``path``: a ``.zarray`` document, or a Zarr v3
    ``zarr.json`` whose ``node_type`` is ``array``."""
    return array_meta_key(path) in store or _v3_node_type(store, path) == "array"


def contains_group(store: Any, path: str | None = None, explicit_only: bool = True) -> bool:
    """Whether ``store`` holds a group (a ``.zgroup`` document) at ``path``.

    Only explicit groups count, as in zarr-python 2: a path holding other nodes but no
    ``.zgroup`` is not a group (``explicit_only``, zarr-python 2.18's v3 option, is
    always True for v2).
    """
    return group_meta_key(path) in store or _v3_node_type(store, path) == "group"


# ---------------------------------------------------------------------------------------
# creating arrays and groups
# ---------------------------------------------------------------------------------------


def _default_compressor_config() -> dict[str, Any]:
    # imported here: the codecs package loads compiled extensions, layout does not need to
    from czarr.codecs import Blosc

    return Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE, blocksize=0).get_config()


def _config_of(codec: Any, what: str) -> dict[str, Any]:
    if isinstance(codec, dict):
        if not isinstance(codec.get("id"), str):
            raise CodecError(f"{what} config {codec!r} has no string 'id'")
        return dict(codec)
    get_config = getattr(codec, "get_config", None)
    if get_config is None:
        raise CodecError(
            f"{what} must be a codec (an object with get_config()) or a config dict, "
            f"got {type(codec).__name__} {codec!r}"
        )
    return get_config()


def _implied_object_codec(dtype: Any) -> Any:
    """The object codec zarr-python 2 implies for ``dtype=str``, ``bytes`` and
    ``'array:<dtype>'`` (None for any other dtype)."""
    from czarr.codecs import get_codec

    name = dtype.__name__ if isinstance(dtype, type) else dtype
    if not isinstance(name, str):
        return None
    base, _, arg = name.partition(":")
    if base == "str":
        return get_codec({"id": "vlen-utf8"})
    if base == "bytes":
        return get_codec({"id": "vlen-bytes"})
    if base == "array" and arg:
        return get_codec({"id": "vlen-array", "dtype": arg})
    return None


def check_v2_only(zarr_version: Any = None, storage_transformers: Any = (),
                  meta_array: Any = None) -> None:
    """Accept zarr-python 2.18's experimental v3 arguments where czarr can honour them
    (``zarr_version`` 2, 3 or None, no storage transformers, a NumPy ``meta_array``) and
    refuse others with a clear error.

    Raises
    ------
    ValueError
        For another ``zarr_version``, storage transformers, or a non-NumPy ``meta_array``.
    """
    if zarr_version not in (None, 2, 3):
        raise ValueError(f"zarr_version must be 2 or 3, got {zarr_version!r}")
    if storage_transformers:
        raise ValueError("storage_transformers are a Zarr v3 feature; czarr writes Zarr "
                         f"version 2 here (got {storage_transformers!r})")
    if meta_array is not None:
        import numpy as np

        if not isinstance(meta_array, np.ndarray):
            raise ValueError(f"meta_array must be a NumPy array (czarr returns NumPy "
                             f"arrays), got {type(meta_array).__name__}")


def build_array_metadata(
    shape: Any,
    chunks: Any = True,
    dtype: Any = None,
    compressor: Any = "default",
    fill_value: Any = None,
    order: str = "C",
    filters: Any = None,
    object_codec: Any = None,
    dimension_separator: str | None = None,
) -> ArrayMetadata:
    """Turn creation arguments into ``ArrayMetadata`` with zarr-python 2's rules.

    This is :func:`init_array` without the store: useful to check that an existing
    array matches what a caller asks for.

    Parameters
    ----------
    shape : int or tuple of int
    chunks : True, False, None, int or tuple
        See :func:`czarr.metadata.v2.normalize_chunks`.
    dtype : dtype-like, optional
        float64 when None. A subarray dtype adds its shape to the array's shape.
    compressor : codec, config dict, 'default', 'none' or None
        ``'default'`` is Blosc(cname='lz4', clevel=5, shuffle=SHUFFLE, blocksize=0);
        0-d arrays are never compressed.
    fill_value : optional
        See :func:`czarr.metadata.v2.normalize_fill_value`.
    order : {'C', 'F'}
    filters : sequence of codecs or config dicts, optional
    object_codec : codec, optional
        Required for object dtypes (stored as the first filter) unless ``filters`` holds one.
    dimension_separator : {'.', '/'}, optional
        ``'.'`` when None.

    Returns
    -------
    ArrayMetadata

    Raises
    ------
    ValueError, TypeError
        For arguments that do not describe an array.
    czarr.errors.CodecError
        If ``compressor`` or a filter is not a codec.
    """
    if object_codec is None:
        object_codec = _implied_object_codec(dtype)
    dtype = normalize_dtype(dtype)
    shape = normalize_shape(shape) + dtype.shape
    dtype = dtype.base
    chunks = normalize_chunks(chunks, shape, dtype.itemsize)
    order = normalize_order(order)
    fill_value = normalize_fill_value(fill_value, dtype)
    dimension_separator = normalize_dimension_separator(dimension_separator) or "."

    name = compressor if isinstance(compressor, str) else None
    if name not in (None, "default", "none"):
        raise CodecError(f"compressor must be a codec, 'default' or None, got {compressor!r}")
    if shape == () or compressor is None or name == "none":
        # nothing to gain compressing a single value; 'none' is zarr-python 2's legacy name
        compressor_config = None
    elif name == "default":
        compressor_config = _default_compressor_config()
    else:
        compressor_config = _config_of(compressor, "compressor")

    filters_config = [_config_of(f, "filter") for f in (filters or ())]
    if dtype.hasobject:
        if object_codec is not None:
            filters_config.insert(0, _config_of(object_codec, "object_codec"))
        elif not filters_config:
            raise ValueError("missing object_codec for object array")
        else:
            # as zarr-python 2: a filter may be the object codec (checked by the metadata)
            warnings.warn("missing object_codec for object array; this will raise a "
                          "ValueError in version 3.0", FutureWarning, stacklevel=3)
    elif object_codec is not None:
        warnings.warn("an object_codec is only needed for object arrays", stacklevel=3)

    return ArrayMetadata(
        shape=shape,
        chunks=chunks,
        dtype=dtype,
        compressor=compressor_config,
        fill_value=fill_value,
        order=order,
        filters=tuple(filters_config) or None,
        dimension_separator=dimension_separator,
    )


def _check_parents(store: Any, path: str, overwrite: bool) -> None:
    """Refuse (unless overwriting) to nest a node inside an existing array."""
    if overwrite or not path:
        return
    segments = path.split("/")
    for i in range(len(segments)):
        parent = "/".join(segments[:i])
        if contains_array(store, parent):
            raise ContainsArrayError(f"path {parent!r} contains an array")


def _group_document(zarr_format: int) -> tuple[str, bytes]:
    if zarr_format == 3:
        from czarr.metadata.v3 import encode_group_metadata_v3

        return V3_META_KEY, encode_group_metadata_v3({})
    return GROUP_META_KEY, encode_group_metadata()


def _require_parent_groups(store: Any, path: str, chunk_store: Any,
                           zarr_format: int = 2) -> None:
    """Create the groups above ``path`` that are missing; arrays among them are replaced.

    Only reached once :func:`_check_parents` passed, i.e. arrays in the way are only
    found here when the caller asked to overwrite.
    """
    if not path:
        return
    segments = path.split("/")
    for i in range(len(segments)):
        parent = "/".join(segments[:i])
        name, doc = _group_document(zarr_format)
        key = path_prefix(parent) + name
        if contains_array(store, parent):
            rmdir(store, parent)
            if chunk_store is not None:
                rmdir(chunk_store, parent)
            _write_document(store, key, doc)
        elif not contains_group(store, parent):
            _write_document(store, key, doc)


def _metadata_key_above(store: Any, path: str | None, names: tuple[str, ...]) -> str | None:
    """The first key ``<p>/<name>`` the store holds, for ``p`` from ``path`` up to the
    root and ``name`` in ``names``; None when there is none."""
    path = normalize_path(path)
    parts = path.split("/") if path else []
    for i in range(len(parts), -1, -1):
        for name in names:
            key = "/".join(parts[:i] + [name])
            if key in store:
                return key
    return None


def v3_metadata_key(store: Any, path: str | None = None) -> str | None:
    """The key of a Zarr v3 ``zarr.json`` at ``path`` or at one of its parents, if the
    store holds one (a hierarchy czarr must not write v2 metadata into)."""
    return _metadata_key_above(store, path, (V3_META_KEY,))


def check_format(store: Any, path: str | None, zarr_format: int,
                 overwrite: bool = False) -> None:
    """Refuse to write metadata of ``zarr_format`` where the store holds the other
    format's at ``path`` or above it (but an overwrite of that very node replaces it
    whole, so no mix remains). czarr never mixes the two formats in one hierarchy.

    Raises
    ------
    czarr.errors.UnsupportedFormatError
        Naming the other format's key.
    """
    other = (V3_META_KEY,) if zarr_format == 2 else (ARRAY_META_KEY, GROUP_META_KEY)
    key = _metadata_key_above(store, path, other)
    if key is None or (overwrite and key.rpartition("/")[0] == normalize_path(path)):
        return
    theirs = 3 if zarr_format == 2 else 2
    raise UnsupportedFormatError(
        f"cannot write Zarr v{zarr_format} metadata into {normalize_path(path) or '/'!r}: "
        f"the store holds Zarr v{theirs} metadata ({key!r}); czarr never mixes the two "
        "formats in one hierarchy")


def _prepare_node(store: Any, path: str, overwrite: bool, chunk_store: Any,
                  zarr_format: int = 2) -> None:
    """Check ``path`` is free (or clear it when overwriting) and create its parents."""
    check_format(store, path, zarr_format, overwrite=overwrite)
    _check_parents(store, path, overwrite)
    if not overwrite:
        if contains_array(store, path):
            raise ContainsArrayError(f"path {path!r} contains an array")
        if contains_group(store, path):
            raise ContainsGroupError(f"path {path!r} contains a group")
    _require_parent_groups(store, path, chunk_store, zarr_format)
    if overwrite:
        rmdir(store, path)
        for name in (ARRAY_META_KEY, GROUP_META_KEY, ATTRS_KEY, V3_META_KEY):
            if path_prefix(path) + name in store:  # a root node's own documents
                del store[path_prefix(path) + name]
        if chunk_store is not None:
            rmdir(chunk_store, path)


def build_array_metadata_v3(
    shape: Any,
    chunks: Any = True,
    dtype: Any = None,
    compressor: Any = "default",
    fill_value: Any = None,
    order: str = "C",
    filters: Any = None,
    object_codec: Any = None,
    dimension_separator: str | None = None,
    shards: Any = None,
    dimension_names: Any = None,
    attributes: Any = None,
    chunk_key_encoding: str = "default",
) -> Any:
    """Creation arguments -> Zarr v3 ``ArrayMetadataV3``, with the codec chain
    zarr-python 3 would write: ``bytes`` (or ``vlen-utf8``/``vlen-bytes`` for object
    arrays), then the compressor (``'default'``: Zstd level 0, zarr-python 3's default),
    inside ``sharding_indexed`` when ``shards`` is given. Keys use the ``default``
    encoding with ``dimension_separator`` (``'/'`` unless given)."""
    from czarr.codecs import get_codec
    from czarr.codecs.v3 import build_chain
    from czarr.codecs.zstd import Zstd
    from czarr.metadata.v3 import ArrayMetadataV3

    implied = _implied_object_codec(dtype) if object_codec is None else object_codec
    dtype = normalize_dtype(dtype)
    shape = normalize_shape(shape) + dtype.shape
    dtype = dtype.base
    chunks = normalize_chunks(chunks, shape, dtype.itemsize)
    order = normalize_order(order)

    if compressor == "default":
        compressors: list = [Zstd(level=0)]
    elif compressor is None or compressor == "none":
        compressors = []
    elif isinstance(compressor, list | tuple):
        compressors = list(compressor)
    else:
        compressors = [compressor]
    object_name = None
    if dtype.hasobject:
        cid = (implied.codec_id if hasattr(implied, "codec_id")
               else (implied or {}).get("id"))
        if cid not in ("vlen-utf8", "vlen-bytes"):
            raise ValueError("a Zarr v3 object array needs dtype=str (vlen-utf8) or "
                             f"dtype=bytes (vlen-bytes), got object codec {cid!r}")
        object_name = cid
    if dtype.kind in "USO" and type(fill_value) is int and fill_value == 0:
        # 0 is the default of the v2 signature: for text it stands for the empty value,
        # as in v2 (and as zarr-python 3's default), not the text "0"
        fill_value = None
    inner = None
    grid = chunks
    if shards is not None:
        shards = normalize_shape(shards)
        if len(shards) != len(shape) or any(s % c for s, c in zip(shards, chunks)):
            raise ValueError(f"shards {shards} must be a multiple of chunks {chunks}")
        inner, grid = chunks, shards
    codecs = build_chain(dtype, compressors, order=order, object_codec=object_name,
                         ndim=len(shape), shard_chunks=inner,
                         filters=[get_codec(f) if isinstance(f, dict) else f
                                  for f in (filters or ())])
    if chunk_key_encoding not in ("default", "v2"):
        raise ValueError(f"chunk_key_encoding must be 'default' or 'v2', got "
                         f"{chunk_key_encoding!r}")
    sep = normalize_dimension_separator(dimension_separator) or (
        "/" if chunk_key_encoding == "default" else ".")
    return ArrayMetadataV3(
        shape=shape, data_type=dtype.newbyteorder("=") if dtype.byteorder in "<>" else dtype,
        chunk_shape=grid, chunk_key_encoding=(chunk_key_encoding, sep),
        fill_value=None if fill_value is None and not dtype.hasobject else fill_value,
        codecs=tuple(codecs), attributes=dict(attributes or {}),
        dimension_names=tuple(dimension_names) if dimension_names is not None else None)


def init_array(
    store: MutableMapping,
    shape: Any,
    chunks: Any = True,
    dtype: Any = None,
    compressor: Any = "default",
    fill_value: Any = None,
    order: str = "C",
    overwrite: bool = False,
    path: str | bytes | None = None,
    chunk_store: MutableMapping | None = None,
    filters: Any = None,
    object_codec: Any = None,
    dimension_separator: str | None = None,
    storage_transformers: Any = (),
    *,
    zarr_format: int = 2,
    shards: Any = None,
    dimension_names: Any = None,
    attributes: Any = None,
    chunk_key_encoding: str | None = None,
) -> None:
    """Write the metadata of a new array: the ``.zarray`` document, as zarr-python 2's
    ``init_array``, or with ``zarr_format=3`` a Zarr v3 ``zarr.json``.

    Parameters
    ----------
    store : MutableMapping
        Where metadata goes.
    shape, chunks, dtype, compressor, fill_value, order, filters, object_codec
        As :func:`build_array_metadata`.
    overwrite : bool
        If True, remove everything under ``path`` (in ``store`` and ``chunk_store``) first,
        and replace arrays found where parent groups belong.
    path : str, optional
        Where the array lives; the root when None.
    chunk_store : MutableMapping, optional
        Separate storage for chunks, cleared under ``path`` too when overwriting.
    dimension_separator : {'.', '/'}, optional
        When None, the store's ``_dimension_separator`` attribute if it has one, else ``'.'``.
    storage_transformers : sequence
        zarr-python 2.18's experimental v3 option: only ``()`` (none).
    zarr_format : {2, 3}
    shards : tuple of int, optional
        Zarr v3 only: the shard shape, a multiple of ``chunks`` (the inner chunks).
    dimension_names : sequence of str or None, optional
        Zarr v3 only.
    attributes : dict, optional
        Zarr v3 only: written inside ``zarr.json``.

    Raises
    ------
    czarr.errors.ContainsArrayError
        An array exists at ``path`` or above it, and ``overwrite`` is False.
    czarr.errors.ContainsGroupError
        A group exists at ``path`` and ``overwrite`` is False.
    ValueError, TypeError, czarr.errors.CodecError
        Bad arguments (nothing is written then).
    """
    path = normalize_path(path)
    check_v2_only(storage_transformers=storage_transformers)
    if zarr_format == 3:
        meta3 = build_array_metadata_v3(
            shape, chunks=chunks, dtype=dtype, compressor=compressor, fill_value=fill_value,
            order=order, filters=filters, object_codec=object_codec,
            dimension_separator=dimension_separator, shards=shards,
            dimension_names=dimension_names, attributes=attributes,
            chunk_key_encoding=chunk_key_encoding or "default")
        from czarr.metadata.v3 import encode_array_metadata_v3

        _prepare_node(store, path, overwrite, chunk_store, zarr_format=3)
        _write_document(store, path_prefix(path) + V3_META_KEY,
                        encode_array_metadata_v3(meta3))
        return
    if zarr_format != 2:
        raise ValueError(f"zarr_format must be 2 or 3, got {zarr_format!r}")
    if shards is not None or dimension_names is not None:
        raise ValueError("shards and dimension_names need zarr_format=3")
    if dimension_separator is None:
        dimension_separator = getattr(store, "_dimension_separator", None)
    # normalise first so bad arguments leave the store untouched
    meta = build_array_metadata(
        shape,
        chunks=chunks,
        dtype=dtype,
        compressor=compressor,
        fill_value=fill_value,
        order=order,
        filters=filters,
        object_codec=object_codec,
        dimension_separator=dimension_separator,
    )
    _prepare_node(store, path, overwrite, chunk_store)
    _write_document(store, array_meta_key(path), encode_array_metadata(meta))


def init_group(
    store: MutableMapping,
    overwrite: bool = False,
    path: str | bytes | None = None,
    chunk_store: MutableMapping | None = None,
    *,
    zarr_format: int = 2,
) -> None:
    """Write the ``.zgroup`` document of a new group, as zarr-python 2's ``init_group``.

    Parameters
    ----------
    store : MutableMapping
    overwrite : bool
        If True, remove everything under ``path`` (in ``store`` and ``chunk_store``) first,
        and replace arrays found where parent groups belong.
    path : str, optional
        Where the group lives; the root when None.
    chunk_store : MutableMapping, optional
        Cleared under ``path`` too when overwriting.

    Raises
    ------
    czarr.errors.ContainsArrayError
        An array exists at ``path`` or above it, and ``overwrite`` is False.
    czarr.errors.ContainsGroupError
        A group exists at ``path`` and ``overwrite`` is False.
    """
    path = normalize_path(path)
    _prepare_node(store, path, overwrite, chunk_store, zarr_format)
    name, doc = _group_document(zarr_format)
    _write_document(store, path_prefix(path) + name, doc)


def _write_document(store: MutableMapping, key: str, doc: bytes) -> None:
    """Store a metadata document; a failed write names its key."""
    with naming_keys(key, store):
        store[key] = doc


def resolve_format(zarr_format: Any = None, zarr_version: Any = None) -> int | None:
    """One format from zarr-python 3's ``zarr_format`` and zarr-python 2.18's
    ``zarr_version`` (None when neither says); ValueError when they disagree."""
    if zarr_format is not None and zarr_version is not None and zarr_format != zarr_version:
        raise ValueError(f"zarr_format={zarr_format!r} and zarr_version={zarr_version!r} "
                         "disagree")
    fmt = zarr_format if zarr_format is not None else zarr_version
    if fmt not in (None, 2, 3):
        raise ValueError(f"zarr_format must be 2 or 3, got {fmt!r}")
    return fmt


# ---------------------------------------------------------------------------------------
# finding nodes with the fewest store calls
# ---------------------------------------------------------------------------------------


class NodeInfo(NamedTuple):
    """What is at a path: ``kind`` (``'array'`` or ``'group'``), ``zarr_format``, and
    ``document``, the metadata as read: an array's ``.zarray`` bytes, a node's parsed
    ``zarr.json``, or None for a v2 group (found by its ``.zgroup`` existing)."""

    kind: str
    zarr_format: int
    document: Any


def _formats(zarr_format: int | None) -> tuple[int, int]:
    """The formats to look for, ``zarr_format`` (v2, czarr's default, when None) first.
    czarr never mixes them in a hierarchy, but a node another writer left in the other
    format is still found, at the cost of a miss."""
    return (3, 2) if zarr_format == 3 else (2, 3)


def read_node(store: Any, path: str | None, zarr_format: int | None = None,
              kind: str | None = None) -> NodeInfo | None:
    """The node at ``path``, or None, read with the fewest store calls: one when it is
    in ``zarr_format`` (a v3 node: its ``zarr.json`` read; a v2 array: its ``.zarray``
    read; a v2 group when ``kind='group'``: its ``.zgroup`` checked), at most four
    otherwise. ``kind`` only decides what is looked for first.

    Raises
    ------
    czarr.errors.MetadataError
        A ``zarr.json`` that is not a node's document.
    """
    from czarr.metadata.v3 import parse_node_v3

    prefix = path_prefix(path)
    for fmt in _formats(zarr_format):
        if fmt == 3:
            key = prefix + V3_META_KEY
            try:
                data = store[key]
            except KeyError:
                continue
            found, doc = parse_node_v3(data, key=key)
            return NodeInfo(found, 3, doc)
        if kind == "group" and (group := _v2_group(store, prefix)) is not None:
            return group
        try:
            return NodeInfo("array", 2, store[prefix + ARRAY_META_KEY])
        except KeyError:
            pass
        if kind != "group" and (group := _v2_group(store, prefix)) is not None:
            return group
    return None


def _v2_group(store: Any, prefix: str) -> NodeInfo | None:
    """The v2 group whose ``.zgroup`` is under ``prefix`` (read and checked), or None."""
    key = prefix + GROUP_META_KEY
    try:
        data = store[key]
    except KeyError:
        return None
    decode_group_metadata(data, key=key)
    return NodeInfo("group", 2, None)


def _is_node(store: Any, base: str, zarr_format: int) -> bool:
    if zarr_format == 3:
        return base + V3_META_KEY in store
    return base + ARRAY_META_KEY in store or base + GROUP_META_KEY in store


def member_names(store: Any, path: str | None, zarr_format: int | None = None) -> list[str]:
    """Sorted names of the nodes directly under the group at ``path``: one ``listdir``,
    then per child an existence check of its metadata document (``zarr.json``, or
    ``.zarray`` then ``.zgroup``), never a read."""
    prefix = path_prefix(path)
    first, second = _formats(zarr_format)
    return [name for name in listdir(store, path)
            if _is_node(store, f"{prefix}{name}/", first)
            or _is_node(store, f"{prefix}{name}/", second)]


def read_members(store: Any, path: str | None, zarr_format: int | None = None
                 ) -> dict[str, NodeInfo]:
    """The nodes directly under the group at ``path``, by name in sorted order, with
    their documents: one ``listdir`` and one batched read (``getitems``, concurrent on
    object stores) of the children's ``zarr.json`` (v3) or ``.zarray`` (v2, where a
    child without one is a group when its ``.zgroup`` exists).

    Raises
    ------
    czarr.errors.MetadataError
        A child's ``zarr.json`` that is not a node's document.
    """
    from czarr.metadata.v3 import parse_node_v3

    prefix = path_prefix(path)
    pending = listdir(store, path)
    found: dict[str, NodeInfo] = {}
    for fmt in _formats(zarr_format):
        if not pending:
            break
        name = V3_META_KEY if fmt == 3 else ARRAY_META_KEY
        keys = {f"{prefix}{child}/{name}": child for child in pending}
        for key, data in getitems(store, list(keys)).items():
            if fmt == 3:
                kind, doc = parse_node_v3(data, key=key)
                found[keys[key]] = NodeInfo(kind, 3, doc)
            else:
                found[keys[key]] = NodeInfo("array", 2, data)
        if fmt == 2:
            for child in pending:
                if child not in found and f"{prefix}{child}/{GROUP_META_KEY}" in store:
                    found[child] = NodeInfo("group", 2, None)
        pending = [child for child in pending if child not in found]
    return {child: found[child] for child in sorted(found)}


def contains_node(store: Any, path: str | None, zarr_format: int | None = None) -> bool:
    """Whether an array or a group is at ``path``: existence checks of its metadata
    document, never a read (one call when the node is in ``zarr_format``)."""
    base = path_prefix(path)
    first, second = _formats(zarr_format)
    return _is_node(store, base, first) or _is_node(store, base, second)
