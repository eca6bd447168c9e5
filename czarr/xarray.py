"""xarray on czarr: the ``engine="czarr"`` backend and :func:`to_czarr`, its writer.

Reading follows the layout xarray's own zarr backend writes (its "Zarr encoding
specification"): a group is a Dataset, each array a variable whose dimension names are in
the ``_ARRAY_DIMENSIONS`` attribute (Zarr v2, hidden from the variable's attributes) or in
``dimension_names`` (Zarr v3); the group's attributes are the Dataset's. The backend hands
xarray raw variables (values lazily indexed through czarr's basic, orthogonal and
coordinate selections, plus their encoding) and xarray does the CF decoding, so times,
masks and scales come out exactly as ``xarray.open_zarr`` gives them. Writing runs the
other way: xarray's CF encoding, then one czarr array per variable, with the attributes,
fill values and dimension names xarray's zarr backend writes, so ``xarray.open_zarr``
(through zarr-python) reads the result unchanged. Needs the ``xarray`` extra.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Hashable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

import numpy as np

from czarr.errors import GroupNotFoundError
from czarr.storage.base import import_optional

xr = import_optional("xarray", "xarray", "czarr.xarray")

from xarray import conventions  # noqa: E402 - after the check that xarray is there
from xarray.backends import AbstractDataStore, BackendArray, BackendEntrypoint  # noqa: E402
from xarray.backends.store import StoreBackendEntrypoint  # noqa: E402
from xarray.coding import strings  # noqa: E402
from xarray.core import indexing  # noqa: E402

from czarr.core import Array  # noqa: E402
from czarr.hierarchy import Group, open_group  # noqa: E402
from czarr.layout import node_format, normalize_path  # noqa: E402

__all__ = ["CzarrBackendArray", "CzarrBackendEntrypoint", "CzarrDataStore", "to_czarr"]

DIMENSION_KEY = "_ARRAY_DIMENSIONS"
# the name xarray gives an unnamed DataArray's variable when it writes one
_UNNAMED = "__xarray_dataarray_variable__"


# ---------------------------------------------------------------------- fill values
def decode_fill_attr(value: Any, dtype: np.dtype) -> Any:
    """A ``_FillValue`` attribute as xarray's zarr backend writes it in Zarr v3 (a float
    as base64 of its little-endian double, a complex as two of those, bytes as base64),
    back to a Python value."""
    if dtype.kind == "f":
        return struct.unpack("<d", base64.standard_b64decode(value))[0]
    if dtype.kind == "c":
        real, imag = (struct.unpack("<d", base64.standard_b64decode(v))[0] for v in value)
        return complex(real, imag)
    if dtype.kind == "S":
        return base64.standard_b64decode(value)
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iu":
        return int(value)
    return value


def encode_fill_attr(value: Any, dtype: np.dtype) -> Any:
    """The inverse of :func:`decode_fill_attr`: a ``_FillValue`` as JSON can hold it
    exactly (NaN and infinities included)."""
    if dtype.kind == "f":
        return base64.standard_b64encode(struct.pack("<d", float(value))).decode()
    if dtype.kind == "c":
        value = complex(value)
        return [base64.standard_b64encode(struct.pack("<d", part)).decode()
                for part in (value.real, value.imag)]
    if dtype.kind == "S":
        return base64.standard_b64encode(bytes(value)).decode()
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iu":
        return int(value)
    return str(value)


def _attr_value(value: Any) -> Any:
    """An attribute value as JSON can hold it (NumPy arrays and scalars to Python)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------------- reading
class CzarrBackendArray(BackendArray):
    """A czarr :class:`~czarr.Array` as xarray's lazily indexed backend array.

    Basic keys go to ``get_basic_selection``, outer keys to ``get_orthogonal_selection``
    and vectorized keys made only of integer arrays to ``get_coordinate_selection``; a
    vectorized key mixing slices and arrays is read as its enclosing outer selection and
    finished in memory by xarray.
    """

    __slots__ = ("_array", "dtype", "shape")

    def __init__(self, array: Array) -> None:
        self._array = array
        self.shape = array.shape
        dtype = array.dtype
        if dtype.kind == "O":
            # tell xarray which Python type the objects are (as its zarr backend does)
            kinds = {getattr(f, "codec_id", None) for f in (array.filters or ())}
            dtype = strings.create_vlen_dtype(bytes if "vlen-bytes" in kinds else str)
        self.dtype = dtype

    def get_array(self) -> Array:
        """The czarr array this reads from."""
        return self._array

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        array = self._array
        if isinstance(key, indexing.BasicIndexer):
            method, support = array.get_basic_selection, indexing.IndexingSupport.BASIC
        elif isinstance(key, indexing.OuterIndexer):
            method, support = array.get_orthogonal_selection, indexing.IndexingSupport.OUTER
        elif any(isinstance(k, slice) for k in key.tuple):
            method, support = array.get_orthogonal_selection, indexing.IndexingSupport.OUTER
        else:
            method = array.get_coordinate_selection
            support = indexing.IndexingSupport.VECTORIZED
        return indexing.explicit_indexing_adapter(
            key, self.shape, support, lambda k: np.asarray(method(k)))


def _dimensions(array: Array) -> tuple[tuple[Hashable, ...], dict[str, Any]]:
    """The dimension names of an array and its attributes with the names' key hidden."""
    attrs = dict(array.attrs)
    if array.zarr_format == 3:
        dims = array.dimension_names or ()
        if len(dims) != array.ndim:
            raise KeyError(f"the Zarr v3 array {array.path!r} has no dimension_names, which "
                           "xarray needs to name its dimensions")
        return tuple(dims), attrs
    try:
        dims = attrs.pop(DIMENSION_KEY)
    except KeyError:
        raise KeyError(f"the Zarr v2 array {array.path!r} has no {DIMENSION_KEY!r} "
                       "attribute, which xarray needs to name its dimensions") from None
    if len(dims) != array.ndim:
        raise ValueError(f"{array.path!r}: {DIMENSION_KEY} {dims!r} names {len(dims)} "
                         f"dimensions, the array has {array.ndim}")
    return tuple(dims), {k: v for k, v in attrs.items() if not k.lower().startswith("_nc")}


class CzarrDataStore(AbstractDataStore):
    """One czarr group as xarray's data store: its arrays are the variables.

    Parameters
    ----------
    group : czarr.Group
    use_zarr_fill_value_as_mask : bool, optional
        Turn each array's ``fill_value`` into the ``_FillValue`` attribute that CF decoding
        masks with. None (default) does so for Zarr v2 (what xarray's zarr backend has
        always done there) and not for v3, where xarray keeps ``_FillValue`` as an
        attribute of its own and the array's fill value in the encoding.
    """

    def __init__(self, group: Group, use_zarr_fill_value_as_mask: bool | None = None) -> None:
        self.group = group
        self.zarr_format = node_format(group.store, group.path) or 2
        if use_zarr_fill_value_as_mask is None:
            use_zarr_fill_value_as_mask = self.zarr_format == 2
        self._fill_as_mask = use_zarr_fill_value_as_mask

    def open_store_variable(self, name: str, array: Array) -> Any:
        """The raw (CF-encoded) variable of one array, values read lazily."""
        dims, attrs = _dimensions(array)
        data = indexing.LazilyIndexedArray(CzarrBackendArray(array))
        encoding: dict[str, Any] = {
            "chunks": array.chunks,
            "preferred_chunks": dict(zip(dims, array.chunks)),
            "compressor": array.compressor,
            "filters": array.filters,
        }
        if array.shards is not None:
            encoding["shards"] = array.shards
        if self._fill_as_mask:
            if array.fill_value is not None:
                attrs["_FillValue"] = array.fill_value
        else:
            if self.zarr_format == 3:
                encoding["fill_value"] = array.fill_value
            if "_FillValue" in attrs:
                attrs["_FillValue"] = decode_fill_attr(attrs["_FillValue"], array.dtype)
        return xr.Variable(dims, data, attrs, encoding)

    def get_variables(self) -> dict[str, Any]:
        """xarray Variables of the group's arrays, lazily indexed, by name."""
        return {name: self.open_store_variable(name, array)
                for name, array in self.group.arrays()}

    def get_attrs(self) -> dict[str, Any]:
        """The group's attributes, less netCDF's internal ``_NC*`` ones."""
        return {k: v for k, v in dict(self.group.attrs).items()
                if not k.lower().startswith("_nc")}

    def get_dimensions(self) -> dict[Hashable, int]:
        """The size of each dimension named by the group's arrays."""
        sizes: dict[Hashable, int] = {}
        for _name, array in self.group.arrays():
            dims, _ = _dimensions(array)
            for dim, size in zip(dims, array.shape):
                if sizes.setdefault(dim, size) != size:
                    raise ValueError(f"dimension {dim!r} has conflicting lengths "
                                     f"({size} != {sizes[dim]})")
        return sizes

    def close(self) -> None:
        """Close the underlying store (when it has ``close``)."""
        close = getattr(self.group.store, "close", None)
        if close is not None:
            close()


def _open_czarr_group(store: Any, group: str | None, consolidated: bool | None,
                      storage_options: dict | None) -> Group:
    """Open a group for reading, through the consolidated metadata at the root of the
    store when there is some (``consolidated=None``) or always (True), never (False)."""
    if isinstance(store, os.PathLike):
        store = os.fspath(store)
    path = normalize_path(group)
    where = f"{store!r}" + (f", group {path!r}" if path else "")
    try:
        if consolidated is False:
            return open_group(store, mode="r", path=path, use_consolidated=False,
                              storage_options=storage_options)
        try:
            # as xarray does: the document is at the root, whatever group is asked for
            root = open_group(store, mode="r", use_consolidated=consolidated,
                              storage_options=storage_options)
        except GroupNotFoundError:
            if consolidated or not path:
                raise
            return open_group(store, mode="r", path=path, storage_options=storage_options)
    except GroupNotFoundError:
        raise GroupNotFoundError(f"no Zarr group at {where}") from None
    except KeyError as e:
        if not consolidated:
            raise
        raise KeyError(f"no consolidated metadata at the root of {store!r} ({e}); open "
                       "with consolidated=None or False, or write it with "
                       "czarr.consolidate_metadata") from None
    if not path:
        return root
    try:
        node = root[path]
    except KeyError:
        raise GroupNotFoundError(f"no Zarr group at {where}") from None
    if not isinstance(node, Group):
        raise GroupNotFoundError(f"{path!r} is an array, not a group, in {store!r}")
    return node


def _walk_groups(group: Group, name: str) -> Iterator[tuple[str, Group]]:
    yield name, group
    for child_name, child in group.groups():
        yield from _walk_groups(child, name.rstrip("/") + "/" + child_name)


class CzarrBackendEntrypoint(BackendEntrypoint):
    """``xarray.open_dataset(path, engine="czarr")``: Zarr v2 and v3 stores read by czarr.

    Takes what ``xarray.open_zarr`` takes for reading: ``group``, ``consolidated``
    (None: the consolidated metadata when the store has some), ``storage_options`` (for
    a URL), ``use_zarr_fill_value_as_mask``. ``filename_or_obj`` is a path, a URL or a
    czarr store (any ``MutableMapping``). Give ``chunks=`` to ``open_dataset`` for dask
    arrays: ``chunks={}`` uses the czarr chunks, ``"auto"`` multiples of them.
    """

    description = "Open Zarr v2 and v3 stores with czarr"
    supports_groups = True
    open_dataset_parameters = (
        "filename_or_obj", "mask_and_scale", "decode_times", "concat_characters",
        "decode_coords", "drop_variables", "use_cftime", "decode_timedelta", "group",
        "consolidated", "storage_options", "zarr_format", "use_zarr_fill_value_as_mask",
    )

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        if isinstance(filename_or_obj, str | os.PathLike):
            return os.path.splitext(str(filename_or_obj).rstrip("/"))[1] == ".zarr"
        return False

    def _store_entry(self, store: CzarrDataStore, decode: dict[str, Any]) -> Any:
        try:
            return StoreBackendEntrypoint().open_dataset(store, **decode)
        except BaseException:
            store.close()
            raise

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike | MutableMapping,
        *,
        mask_and_scale: bool = True,
        decode_times: Any = True,
        concat_characters: bool = True,
        decode_coords: Any = True,
        drop_variables: str | Iterable[str] | None = None,
        use_cftime: bool | None = None,
        decode_timedelta: Any = None,
        group: str | None = None,
        consolidated: bool | None = None,
        storage_options: dict | None = None,
        zarr_format: int | None = None,
        use_zarr_fill_value_as_mask: bool | None = None,
    ) -> Any:
        """Open one group of a Zarr store as an ``xarray.Dataset`` (CF-decoded)."""
        zgroup = _open_czarr_group(filename_or_obj, group, consolidated, storage_options)
        _check_format(zgroup, zarr_format)
        store = CzarrDataStore(zgroup, use_zarr_fill_value_as_mask)
        return self._store_entry(store, dict(
            mask_and_scale=mask_and_scale, decode_times=decode_times,
            concat_characters=concat_characters, decode_coords=decode_coords,
            drop_variables=drop_variables, use_cftime=use_cftime,
            decode_timedelta=decode_timedelta))

    def open_groups_as_dict(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike | MutableMapping,
        *,
        mask_and_scale: bool = True,
        decode_times: Any = True,
        concat_characters: bool = True,
        decode_coords: Any = True,
        drop_variables: str | Iterable[str] | None = None,
        use_cftime: bool | None = None,
        decode_timedelta: Any = None,
        group: str | None = None,
        consolidated: bool | None = None,
        storage_options: dict | None = None,
        zarr_format: int | None = None,
        use_zarr_fill_value_as_mask: bool | None = None,
    ) -> dict[str, Any]:
        """Every group under ``group`` (the root by default) as a Dataset, keyed by its
        path relative to it (``"/"``, ``"/child"``, ``"/child/grandchild"``...)."""
        zgroup = _open_czarr_group(filename_or_obj, group, consolidated, storage_options)
        _check_format(zgroup, zarr_format)
        decode = dict(mask_and_scale=mask_and_scale, decode_times=decode_times,
                      concat_characters=concat_characters, decode_coords=decode_coords,
                      drop_variables=drop_variables, use_cftime=use_cftime,
                      decode_timedelta=decode_timedelta)
        out: dict[str, Any] = {}
        try:
            for name, node in _walk_groups(zgroup, "/"):
                out[name] = self._store_entry(
                    CzarrDataStore(node, use_zarr_fill_value_as_mask), decode)
        except BaseException:
            for ds in out.values():
                ds.close()
            raise
        return out

    def open_datatree(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike | MutableMapping,
        *,
        mask_and_scale: bool = True,
        decode_times: Any = True,
        concat_characters: bool = True,
        decode_coords: Any = True,
        drop_variables: str | Iterable[str] | None = None,
        use_cftime: bool | None = None,
        decode_timedelta: Any = None,
        group: str | None = None,
        consolidated: bool | None = None,
        storage_options: dict | None = None,
        zarr_format: int | None = None,
        use_zarr_fill_value_as_mask: bool | None = None,
    ) -> Any:
        """The hierarchy under ``group`` as an ``xarray.DataTree``."""
        groups = self.open_groups_as_dict(
            filename_or_obj, mask_and_scale=mask_and_scale, decode_times=decode_times,
            concat_characters=concat_characters, decode_coords=decode_coords,
            drop_variables=drop_variables, use_cftime=use_cftime,
            decode_timedelta=decode_timedelta, group=group, consolidated=consolidated,
            storage_options=storage_options, zarr_format=zarr_format,
            use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask)
        try:
            tree = xr.DataTree.from_dict(groups)
        except BaseException:
            for ds in groups.values():
                ds.close()
            raise
        for path, ds in groups.items():
            tree[path].set_close(ds._close)
        return tree


def _check_format(group: Group, zarr_format: int | None) -> None:
    found = node_format(group.store, group.path) or 2
    if zarr_format is not None and zarr_format != found:
        raise ValueError(f"asked for zarr_format={zarr_format}, the group at "
                         f"{group.path or '/'!r} is Zarr v{found}")



# ---------------------------------------------------------------------- writing
# encoding keys a czarr array takes; others left by CF encoding (a netCDF file's "zlib",
# "source"...) are dropped, unless the caller asked for them in ``encoding=``
_ARRAY_ENCODING = {"chunks", "compressor", "compressors", "filters", "write_empty_chunks"}
_V3_ARRAY_ENCODING = _ARRAY_ENCODING | {"shards", "fill_value"}
_HARMLESS_ENCODING = {"source", "original_shape", "preferred_chunks"}


def _ensure_dtype_not_object(var: Any, name: Hashable) -> Any:
    try:
        from xarray.backends.common import ensure_dtype_not_object
    except ImportError:  # xarray before 2025: it lived with the conventions
        ensure_dtype_not_object = conventions.ensure_dtype_not_object
    return ensure_dtype_not_object(var, name=name)


def _encode_variable(var: Any, name: Hashable, zarr_format: int) -> Any:
    """CF-encode one variable as xarray's zarr backend does: times to numbers with
    units, masks to ``_FillValue``, scales; booleans stay booleans; text becomes fixed
    width unicode, or variable-length strings when it was Python objects."""
    coders = getattr(conventions, "ZARR_CODERS", None)
    if coders is not None:
        var = conventions.encode_cf_variable(var, name=name, coders=coders)
    else:
        var = conventions.encode_cf_variable(var, name=name)
    var = _ensure_dtype_not_object(var, name)
    if zarr_format == 3 and var.dtype.kind == "T":
        return var
    var = strings.EncodedStringCoder(allows_unicode=True).encode(var, name=name)
    return strings.ensure_fixed_length_bytes(var)


def _array_encoding(var: Any, name: Hashable, zarr_format: int, explicit: bool) -> dict:
    valid = _V3_ARRAY_ENCODING if zarr_format == 3 else _ARRAY_ENCODING
    encoding = {k: v for k, v in var.encoding.items() if k not in _HARMLESS_ENCODING}
    invalid = sorted(k for k in encoding if k not in valid)
    if invalid and explicit:
        hint = (" (a Zarr v2 array takes its fill value from _FillValue)"
                if "fill_value" in invalid else "")
        raise ValueError(f"unexpected encoding for variable {name!r}: {invalid}{hint}")
    return {k: v for k, v in encoding.items() if k in valid}


def _is_dask(data: Any) -> bool:
    return type(data).__module__.startswith("dask.") and hasattr(data, "chunks")


def _chunk_shape(var: Any, requested: Any, name: Hashable) -> Any:
    """The czarr chunk shape: the one asked for, else the dask chunks' (their first
    block along each dimension), else True (czarr guesses one)."""
    if requested is None or requested == "auto":
        if not _is_dask(var.data):
            return True
        return tuple(max(1, c[0]) for c in var.data.chunks)
    if isinstance(requested, int):
        return (requested,) * var.ndim
    requested = tuple(requested)
    if len(requested) != var.ndim:
        raise ValueError(f"chunks {requested!r} for variable {name!r} do not match its "
                         f"{var.ndim} dimensions")
    return requested


def _aligned(data: Any, chunks: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """A dask array whose blocks never share a czarr chunk: rechunked to multiples of
    the czarr chunks when they would (so no chunk is written by two tasks at once)."""
    c_chunks = tuple(min(c, s) if s else c for c, s in zip(chunks, shape))
    ok = all(int(b) % c == 0 for blocks, c in zip(data.chunks, c_chunks)
             for b in np.cumsum(blocks)[:-1])
    if ok:
        return data
    target = tuple(max(1, round(blocks[0] / c)) * c if blocks else c
                   for blocks, c in zip(data.chunks, c_chunks))
    return data.rechunk(target)


def _compressor_args(encoding: dict, zarr_format: int) -> dict:
    out: dict[str, Any] = {}
    filters = list(encoding.get("filters") or [])
    if "compressors" in encoding:
        compressors = encoding["compressors"]
        compressors = [] if compressors is None else (
            list(compressors) if isinstance(compressors, list | tuple) else [compressors])
        if zarr_format == 3:
            out["compressor"] = compressors
        else:
            out["compressor"] = compressors[-1] if compressors else None
            filters += compressors[:-1]
    elif "compressor" in encoding:
        out["compressor"] = encoding["compressor"]
    out["filters"] = filters or None
    return out


def _create_array(group: Group, name: str, var: Any, zarr_format: int, explicit: bool,
                  overwrite: bool) -> Array:
    from czarr.creation import create
    from czarr.hierarchy import _join

    attrs = {k: _attr_value(v) for k, v in var.attrs.items()}
    encoding = _array_encoding(var, name, zarr_format, explicit)
    dtype: Any = var.dtype
    if zarr_format == 2:
        fill_value = attrs.pop("_FillValue", None)
    else:
        fill_value = encoding.pop("fill_value", None)
        if fill_value is None and dtype.kind == "f":
            fill_value = np.nan  # xarray's default for floats (zarr's is 0)
        if attrs.get("_FillValue") is not None:
            attrs["_FillValue"] = encode_fill_attr(attrs["_FillValue"], dtype)
        else:
            attrs.pop("_FillValue", None)
    kwargs: dict[str, Any] = {}
    vlen = strings.check_vlen_dtype(dtype)
    if vlen is str:
        dtype = str
    elif vlen is bytes:
        from czarr.codecs import VLenBytes

        dtype, kwargs["object_codec"] = object, VLenBytes()
    if zarr_format == 3:
        kwargs["dimension_names"] = [str(d) for d in var.dims]
        if encoding.get("shards") is not None:
            kwargs["shards"] = encoding["shards"]
    else:
        attrs[DIMENSION_KEY] = [str(d) for d in var.dims]
    if "write_empty_chunks" in encoding:
        kwargs["write_empty_chunks"] = bool(encoding["write_empty_chunks"])
    kwargs.update(_compressor_args(encoding, zarr_format))
    return create(var.shape, chunks=_chunk_shape(var, encoding.get("chunks"), name),
                  dtype=dtype, fill_value=fill_value, store=group.store,
                  path=_join(group.path, name), overwrite=overwrite,
                  zarr_format=zarr_format, attributes=attrs, **kwargs)


def _target_group(store: MutableMapping, mode: str, group: str | None,
                  zarr_format: int | None) -> tuple[Group, int]:
    path = normalize_path(group)
    existing = node_format(store, path)
    if mode == "a" and existing is not None:
        if zarr_format is not None and zarr_format != existing:
            raise ValueError(f"cannot append Zarr v{zarr_format} variables to the Zarr "
                             f"v{existing} group at {path or '/'!r}")
        fmt = existing
    else:
        fmt = zarr_format or 2
    return open_group(store, mode=mode, path=path, zarr_format=fmt), fmt


def to_czarr(
    ds: Any,
    store: str | os.PathLike | MutableMapping,
    mode: str = "w-",
    consolidated: bool = True,
    group: str | None = None,
    zarr_format: int | None = None,
    encoding: Mapping[Hashable, Mapping[str, Any]] | None = None,
) -> Group:
    """Write an ``xarray.Dataset`` (or DataArray) as xarray's zarr backend would.

    The variables are CF-encoded by xarray (times to numbers with ``units``, NaN masks
    to ``_FillValue``...), each becomes one czarr array with its attributes and its
    dimension names (``_ARRAY_DIMENSIONS`` in v2, ``dimension_names`` in v3), and the
    Dataset's attributes go on the group, so ``xarray.open_zarr`` (through zarr-python)
    and ``xarray.open_dataset(..., engine="czarr")`` read the Dataset back unchanged.
    Dask-backed variables are written chunk by chunk with ``dask.array.store``, each
    czarr chunk by one task (blocks that would share a chunk are rechunked first).

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
    store : str, os.PathLike or MutableMapping
        A path, a URL or a czarr store.
    mode : {'w-', 'w', 'a'}
        ``'w-'`` (default) fails when the group exists; ``'w'`` replaces it; ``'a'``
        adds the variables to it (creating it if needed), replacing those of the same
        name.
    consolidated : bool
        Consolidate the metadata of the whole store afterwards (``.zmetadata`` in v2,
        the root ``zarr.json``'s inline block in v3), as ``to_zarr`` does.
    group : str, optional
        The group to write the Dataset into (parents are created).
    zarr_format : {2, 3}, optional
        Format of a new group (default 2); appending keeps the existing group's.
    encoding : dict, optional
        Per variable: CF encoding (``units``, ``dtype``, ``_FillValue``, ``scale_factor``...)
        and array encoding: ``chunks``, ``compressor`` (or ``compressors``), ``filters``,
        ``write_empty_chunks`` and, for v3, ``shards`` and ``fill_value``.

    Returns
    -------
    czarr.Group
        The group written.
    """
    from czarr.consolidated import consolidate_metadata
    from czarr.storage.base import normalize_store_arg

    if mode not in ("w-", "w", "a"):
        raise ValueError(f"invalid mode {mode!r}: expected 'w-', 'w' or 'a'")
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=_UNNAMED if ds.name is None else ds.name)
    encoding = {k: dict(v) for k, v in (encoding or {}).items()}
    missing = sorted(str(k) for k in encoding if k not in ds.variables)
    if missing:
        raise ValueError(f"encoding given for variables not in the dataset: {missing}")
    if isinstance(store, os.PathLike):
        store = os.fspath(store)
    store = normalize_store_arg(store, mode="a")
    target, fmt = _target_group(store, mode, group, zarr_format)

    variables, attrs = conventions.encode_dataset_coordinates(ds)
    for name, enc in encoding.items():
        variables[name].encoding = enc
    global_attrs = {k: _attr_value(v) for k, v in attrs.items()}
    if mode == "a":
        target.attrs.update(global_attrs)
    else:
        target.attrs.put(global_attrs)

    sources: list[Any] = []
    targets: list[Array] = []
    for name, var in variables.items():
        key = _UNNAMED if name is None else str(name)
        encoded = _encode_variable(var, name, fmt)
        array = _create_array(target, key, encoded, fmt, explicit=name in encoding,
                              overwrite=mode != "w-")
        data = encoded.data
        if _is_dask(data):
            sources.append(_aligned(data, array.chunks, array.shape))
            targets.append(array)
        else:
            array[...] = np.asarray(data)
    if sources:
        import dask.array as da

        da.store(sources, targets, lock=False, compute=True)
    if consolidated:
        consolidate_metadata(store)
    return target
