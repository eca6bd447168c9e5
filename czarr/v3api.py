"""zarr-python 3's spelling of the everyday calls: ``create_array``, ``create_group`` and
``Group.create_array``, so code written for zarr-python 3 runs with ``import czarr as
zarr``.

They translate zarr-python 3's arguments (``compressors=``, ``serializer=``,
``filters=``, ``chunk_key_encoding=``, ``chunks='auto'``...) into czarr's creation
functions, and take zarr-python 3's codec objects (``zarr.codecs.BloscCodec``,
``ZstdCodec``, ``GzipCodec``, ``Crc32cCodec``...) or their JSON configurations as well
as czarr's and numcodecs' codecs. As in zarr-python 3 they make Zarr v3 unless told
``zarr_format=2``; the zarr-python 2 spellings (``create``, ``zeros``, ``group``...) keep
making Zarr v2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from czarr.codecs import get_codec
from czarr.codecs.zstd import Zstd

__all__ = ["create_array", "create_group"]


def _codec(obj: Any) -> Any:
    """A zarr-python 3 codec object, a v3 or numcodecs JSON config, or a codec object ->
    a czarr (or numcodecs) codec."""
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()  # a zarr-python 3 codec (numcodecs.zarr3's included)
    if isinstance(obj, Mapping) and "name" in obj:
        from czarr.codecs.v3 import _bytes_codec, _numcodecs_codec

        config = dict(obj.get("configuration") or {})
        if obj["name"].startswith("numcodecs."):
            return _numcodecs_codec(obj["name"], config, "codecs")
        return _bytes_codec(obj["name"], config, "compressors")
    if isinstance(obj, Mapping):
        return get_codec(dict(obj))
    if hasattr(obj, "get_config"):
        return obj
    raise TypeError(f"not a codec: {obj!r}")


def _compressors(compressors: Any) -> list[Any]:
    if compressors == "auto":
        return [Zstd(level=0)]  # zarr-python 3's default, for both formats
    if compressors is None:
        return []
    if isinstance(compressors, list | tuple):
        return [_codec(c) for c in compressors]
    return [_codec(compressors)]


def _serializer_dtype(serializer: Any, dtype: np.dtype) -> np.dtype:
    """The byte order a ``bytes`` serializer asks for (``'auto'``: little-endian)."""
    if serializer in ("auto", None):
        return dtype
    if hasattr(serializer, "to_dict"):
        serializer = serializer.to_dict()
    if isinstance(serializer, Mapping):
        name = serializer.get("name")
        if name == "bytes":
            endian = (serializer.get("configuration") or {}).get("endian", "little")
            if dtype.itemsize > 1 and dtype.kind not in "OSV":
                return dtype.newbyteorder("<" if endian == "little" else ">")
            return dtype
        if name in ("vlen-utf8", "vlen-bytes"):
            return dtype
    raise ValueError(f"unsupported serializer {serializer!r} (czarr takes 'auto', bytes, "
                     "vlen-utf8 and vlen-bytes)")


def create_array(
    store: Any,
    *,
    name: str | None = None,
    shape: Any = None,
    dtype: Any = None,
    data: Any = None,
    chunks: Any = "auto",
    shards: Any = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    fill_value: Any = None,
    order: str | None = None,
    zarr_format: int | None = 3,
    attributes: dict | None = None,
    chunk_key_encoding: Any = None,
    dimension_names: Any = None,
    storage_options: dict | None = None,
    overwrite: bool = False,
    config: Any = None,
    write_data: bool = True,
) -> Any:
    """Create an array, as zarr-python 3's ``create_array``.

    Parameters
    ----------
    store : store, path or URL
    name : str, optional
        The array's path in the store.
    shape, dtype : optional
        From ``data`` when it is given.
    data : array-like, optional
        Values to write (when ``write_data``).
    chunks : tuple of int or 'auto'
        The chunk shape (the inner chunks when ``shards`` is given).
    shards : tuple of int, optional
        Zarr v3: the shard shape, a multiple of ``chunks``.
    filters, compressors, serializer
        zarr-python 3's codec arguments; ``compressors='auto'`` is Zstd level 0.
    fill_value, order, attributes, dimension_names, overwrite
        As in zarr-python 3.
    zarr_format : {3, 2}
        3 by default, as in zarr-python 3.
    chunk_key_encoding : dict, optional
        ``{"name": "default" | "v2", "separator": "/" | "."}``.
    config : dict, optional
        ``{"write_empty_chunks": bool}`` is honoured; other entries are ignored.

    Returns
    -------
    czarr.Array
    """
    from czarr.creation import create
    from czarr.storage import normalize_store_arg

    if data is not None:
        data = np.asanyarray(data)
        shape = data.shape if shape is None else shape
        dtype = data.dtype if dtype is None else dtype
    if shape is None:
        raise TypeError("create_array needs shape= (or data=)")
    dtype = np.dtype(dtype if dtype is not None else "f8") if dtype is not str else dtype
    fmt = zarr_format or 3
    encoding = dict(chunk_key_encoding or {})
    kind = encoding.get("name", "default")
    if kind not in ("default", "v2"):
        raise ValueError(f"unknown chunk key encoding {kind!r} (default or v2)")
    separator = encoding.get("separator") or ("." if kind == "v2" else None)
    np_dtype = dtype if isinstance(dtype, np.dtype) else None
    if np_dtype is not None:
        dtype = _serializer_dtype(serializer, np_dtype)
    codecs = _compressors(compressors)
    v2_filters = None
    if filters not in ("auto", None, ()) and filters != []:
        v2_filters = [_codec(f) for f in (filters if isinstance(filters, list | tuple)
                                          else [filters])]
    write_empty = True
    if isinstance(config, Mapping) and "write_empty_chunks" in config:
        write_empty = bool(config["write_empty_chunks"])
    if fill_value is None and not (np_dtype is not None and np_dtype.hasobject):
        fill_value = 0 if dtype is not str else ""
    store = normalize_store_arg(store, storage_options=storage_options, mode="a")
    if fmt == 3:
        compressor: Any = codecs
    else:
        compressor = codecs[-1] if codecs else None
        v2_filters = (v2_filters or []) + codecs[:-1] or None
    arr = create(shape, chunks=True if chunks == "auto" else chunks, dtype=dtype,
                 compressor=compressor, fill_value=fill_value, order=order or "C",
                 store=store, overwrite=overwrite, path=name, filters=v2_filters,
                 dimension_separator=separator, write_empty_chunks=write_empty,
                 zarr_format=fmt, shards=shards, dimension_names=dimension_names,
                 attributes=attributes,
                 chunk_key_encoding=kind if fmt == 3 else None)
    if data is not None and write_data:
        arr[...] = data
    return arr


def create_group(store: Any, *, path: str | None = None, zarr_format: int | None = None,
                 overwrite: bool = False, attributes: dict | None = None,
                 storage_options: dict | None = None) -> Any:
    """Create a group, as zarr-python 3's ``create_group`` (Zarr v3 unless
    ``zarr_format=2``)."""
    from czarr.hierarchy import group

    g = group(store, overwrite=overwrite, path=path, zarr_format=zarr_format or 3,
              storage_options=storage_options)
    if attributes:
        g.attrs.update(attributes)
    return g
