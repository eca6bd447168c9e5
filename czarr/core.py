"""The Array: one Zarr v2 array in a store, read and written with NumPy selections.

An ``Array`` holds the decoded metadata and dispatches selections into the chunk engine:
the selection becomes a projection (``czarr._core.indexing``), the projection gives the
chunk keys, the store returns their bytes in one batched call, the codec pipeline decodes
each one (straight into the output when the chunk lands on one contiguous run of it) and
the nogil copy kernel moves the selected part. Writes run the same steps backwards. This
module knows neither how stores keep bytes nor how codecs work.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from czarr import chunk_cache, engine, growth
from czarr._core import hugepages
from czarr.attrs import attributes_for
from czarr.errors import ArrayNotFoundError, ReadOnlyError
from czarr.formats import chunk_layout, decode_array_document, load_array_metadata
from czarr.indexing import (
    BlockIndex,
    OIndex,
    VIndex,
    assign_fields,
    basic_projection,
    block_projection,
    check_fields,
    coordinate_projection,
    mask_projection,
    orthogonal_projection,
    pop_fields,
    select_fields,
    selection_kind,
)
from czarr.layout import (
    NodeInfo,
    check_v2_only,
    chunk_key_prefix,
    normalize_path,
)
from czarr.node import Node
from czarr.pipeline import ChunkPipeline
from czarr.storage import getsize
from czarr.util import human_readable_size

__all__ = ["Array"]


class Array(Node):
    """A chunked, compressed N-dimensional array stored in the Zarr v2 or v3 format.

    Parameters
    ----------
    store : MutableMapping
        The store holding the array's metadata (and chunks, unless ``chunk_store``).
    path : str, optional
        Path of the array inside the store.
    read_only : bool
        Refuse writes.
    chunk_store : MutableMapping, optional
        A separate store for the chunks.
    synchronizer : object, optional
        A :mod:`czarr.sync` synchronizer (or any ``synchronizer[key]`` lock provider):
        a write of part of a chunk holds that chunk's lock from its read to its store,
        and attribute updates hold the attributes' lock.
    cache_metadata : bool
        Read ``.zarray`` once (``False``: before every read and write).
    cache_attrs : bool
        Cache ``.zattrs`` in memory.
    partial_decompress : None
        Accepted for zarr-python 2.18's signature, which deprecates it (a value warns
        as there); czarr always decodes only the Blosc blocks a small selection needs.
    write_empty_chunks : bool
        Store chunks that hold only the fill value (default ``True``, as zarr-python
        2.18; ``False``: such chunks are not stored, and an existing one is deleted).
    zarr_version : {None, 2}
        zarr-python 2.18's experimental v3 switch; only version 2 here.
    meta_array : numpy.ndarray, optional
        zarr-python 2.18's choice of array type; czarr returns NumPy arrays.
    cache_chunks : bool, int, str or None
        The decoded-chunk cache (:mod:`czarr.chunk_cache`) for reads of a small part of
        a chunk (points, small regions; reads of most of a chunk bypass it). None (the
        default) follows ``czarr.config.set(chunk_cache=...)``, which is off unless set;
        False never caches; True uses the process-wide cache, or a cache of the array's
        own of 256 MiB while that is off; a size (``'64MiB'`` or bytes) gives the array a
        cache of its own of that size. Writes through czarr, from any array on the same
        store, drop the chunks they change; **writes by other processes (or straight
        into the store's mapping) are not seen while a chunk is cached**, as with
        tensorstore's cache pool.
    """

    def __init__(
        self,
        store: MutableMapping,
        path: str | None = None,
        read_only: bool = False,
        chunk_store: MutableMapping | None = None,
        synchronizer: Any = None,
        cache_metadata: bool = True,
        cache_attrs: bool = True,
        partial_decompress: Any = None,
        write_empty_chunks: bool = True,
        zarr_version: Any = None,
        meta_array: Any = None,
        *,
        cache_chunks: bool | int | str | None = None,
    ) -> None:
        check_v2_only(zarr_version=zarr_version, meta_array=meta_array)
        if partial_decompress is not None:
            warnings.warn(
                "partial_decompress is deprecated in zarr-python 2.18 and ignored by czarr, "
                "which always decodes only the Blosc blocks a small selection needs",
                DeprecationWarning, stacklevel=2)
        self._setup(store, path, read_only, chunk_store, synchronizer, cache_metadata,
                    cache_attrs, write_empty_chunks, None, cache_chunks)

    @classmethod
    def _from_node(cls, store: MutableMapping, path: str, node: NodeInfo, *,
                   read_only: bool = False, chunk_store: MutableMapping | None = None,
                   synchronizer: Any = None, cache_attrs: bool = True) -> Array:
        """The array whose metadata document its caller already read
        (:func:`czarr.layout.read_node`, a group listing its members): no store call."""
        self = cls.__new__(cls)
        self._setup(store, path, read_only, chunk_store, synchronizer, True, cache_attrs,
                    True, node)
        return self

    def _setup(self, store: MutableMapping, path: str | None, read_only: bool,
               chunk_store: MutableMapping | None, synchronizer: Any, cache_metadata: bool,
               cache_attrs: bool, write_empty_chunks: bool, node: NodeInfo | None,
               cache_chunks: bool | int | str | None = None) -> None:
        self._store = store
        self._chunk_store = chunk_store
        self._path = normalize_path(path)
        self._key_prefix = chunk_key_prefix(self._path)
        self._read_only = bool(read_only)
        self._synchronizer = synchronizer
        self._cache_metadata = cache_metadata
        self._cache_attrs = cache_attrs
        self._write_empty_chunks = bool(write_empty_chunks)
        self._is_view = False
        self._cache_setting = chunk_cache.Setting(cache_chunks)
        if node is None:
            self._load_metadata()
        else:
            self._set_metadata(decode_array_document(
                node.document, self._path, node.zarr_format, self._default_separator()))
        # a v3 node's attributes came in the document just read: no second read for them
        seen = getattr(self._meta, "attributes", None) if cache_attrs else None
        self._attrs = attributes_for(store, self._path, self._layout.zarr_format,
                                     read_only=read_only, cache=cache_attrs,
                                     synchronizer=synchronizer, cached_dict=seen)

    # ------------------------------------------------------------------ metadata
    def _default_separator(self) -> str:
        return getattr(self._store, "_dimension_separator", None) or "."

    def _load_metadata(self) -> None:
        try:
            meta = load_array_metadata(self._store, self._path, self._default_separator())
        except KeyError:
            raise ArrayNotFoundError(f"no array at path {self._path!r}") from None
        self._set_metadata(meta)

    def _set_metadata(self, meta: Any) -> None:
        layout = chunk_layout(meta, self._path, self._store, self._chunk_store)
        if self._synchronizer is not None and hasattr(layout.chunk_store, "synchronizer"):
            layout.chunk_store.synchronizer = self._synchronizer  # shards: lock each rewrite
        self._meta = meta
        self._layout = layout
        self._shape = layout.shape
        self._chunks = layout.chunks
        self._dtype = layout.dtype
        self._order = layout.order
        self._fill_value = layout.fill_value
        self._dimension_separator = layout.separator
        self._compressor = layout.compressor
        self._filters = layout.filters
        self._pipeline = ChunkPipeline(
            self._dtype, self._chunks, self._order, self._compressor, self._filters
        )
        self._fill_bytes = (b"" if self._dtype.hasobject
                            else _fill_bytes(self._fill_value, self._dtype))
        self._ctx = engine.ChunkContext(
            store=layout.chunk_store,
            key_prefix=layout.key_prefix,
            separator=layout.separator,
            zero_key=layout.zero_key,
            synchronizer=self._synchronizer,
            pipeline=self._pipeline,
            fill_bytes=self._fill_bytes,
            fill_is_nan=(
                self._fill_value is not None
                and self._dtype.kind in "fc"
                and bool(np.isnan(np.asarray(self._fill_value, dtype=self._dtype)))
            ),
            has_fill_value=self._fill_value is not None,
            write_empty_chunks=self._write_empty_chunks,
            fill_value=self._fill_value,
            cache=chunk_cache.Binding(self._cache_setting),
        )

    def _refresh_metadata(self) -> None:
        if not self._cache_metadata:
            self._load_metadata()

    # ------------------------------------------------------------------ properties
    @property
    def read_only(self) -> bool:
        """Whether writes are refused."""
        return self._read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self._read_only = bool(value)
        self._attrs.read_only = bool(value)

    @property
    def shape(self) -> tuple[int, ...]:
        """The extent along each dimension (re-read from the store unless metadata is cached)."""
        self._refresh_metadata()
        return self._shape

    @property
    def chunks(self) -> tuple[int, ...]:
        """The chunk shape (for a sharded v3 array: the inner chunks)."""
        return self._chunks

    @property
    def dtype(self) -> np.dtype:
        """The NumPy data type of the items."""
        return self._dtype

    @property
    def compressor(self) -> Any:
        """The codec that compresses each chunk (a czarr or numcodecs codec), or None."""
        return self._compressor

    @property
    def filters(self) -> list | None:
        """The codecs applied to a chunk before the compressor, in order, or None."""
        return self._filters

    @property
    def fill_value(self) -> Any:
        """The value unwritten regions read as (None: left uninitialised)."""
        return self._fill_value

    @property
    def order(self) -> str:
        """The memory layout of each chunk: ``'C'`` (row-major) or ``'F'``."""
        return self._order

    @property
    def dimension_separator(self) -> str:
        """The character between chunk indices in keys: ``'.'`` or ``'/'``."""
        return self._dimension_separator

    @property
    def write_empty_chunks(self) -> bool:
        """Whether chunks equal to the fill value are stored (True) or deleted (False)."""
        return self._write_empty_chunks

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self._shape)

    @property
    def size(self) -> int:
        """Number of items."""
        return math.prod(self._shape)

    @property
    def itemsize(self) -> int:
        """Bytes per item."""
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the whole array takes uncompressed."""
        return self.size * self.itemsize

    @property
    def nbytes_stored(self) -> int:
        """Bytes stored for this array (metadata, attributes and chunks); -1 if unknown."""
        n = getsize(self._store, self._path)
        if self._chunk_store is not None and n >= 0:
            m = getsize(self._chunk_store, self._path)
            n = -1 if m < 0 else n + m
        return n

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard shape of a sharded Zarr v3 array (``chunks`` are its inner chunks);
        None otherwise."""
        return self._layout.shards

    @property
    def zarr_format(self) -> int:
        """The format of the stored array: 2 or 3."""
        return self._layout.zarr_format

    @property
    def dimension_names(self) -> tuple[str | None, ...] | None:
        """Zarr v3: the name of each dimension (``dimension_names`` in ``zarr.json``);
        None when the array names none, and always for a v2 array (whose names, when
        xarray wrote it, are in its ``_ARRAY_DIMENSIONS`` attribute)."""
        names = getattr(self._meta, "dimension_names", None)
        return None if names is None else tuple(names)

    @property
    def cdata_shape(self) -> tuple[int, ...]:
        """Number of chunks along each dimension."""
        return tuple(-(-s // c) for s, c in zip(self._shape, self._chunks))

    @property
    def nchunks(self) -> int:
        """Number of chunks in the grid (stored or not)."""
        return math.prod(self.cdata_shape)

    @property
    def nchunks_initialized(self) -> int:
        """Number of chunks present in the store (this array's keys only)."""
        return sum(1 for _ in self._initialized_chunk_keys())

    def _initialized_chunk_keys(self) -> Iterator[str]:
        """Names (relative to the array, e.g. ``0.1``, ``0/1`` or ``c/0/1``) of the
        stored chunks (the inner chunks of a sharded array)."""
        return self._layout.stored_chunks()

    def _info_items(self) -> list[tuple[str, str]]:
        items = [
            ("Name", self.name),
            ("Type", f"{type(self).__module__}.{type(self).__name__}"),
            ("Data type", str(self._dtype)),
            ("Shape", str(self._shape)),
            ("Chunk shape", str(self._chunks)),
            ("Order", self._order),
            ("Read-only", str(self._read_only)),
        ]
        if self._filters:
            items += [(f"Filter [{i}]", repr(f)) for i, f in enumerate(self._filters)]
        items.append(("Compressor", repr(self._compressor)))
        if self._layout.zarr_format == 3:
            # zarr-python 2's rows stay as they were for v2 arrays; v3 says what differs
            items.insert(2, ("Zarr format", "3"))
            if self._layout.shards is not None:
                items.insert(items.index(("Chunk shape", str(self._chunks))),
                             ("Shard shape", str(self._layout.shards)))
        items += self._store_items()
        items.append(("No. bytes", f"{self.nbytes} ({human_readable_size(self.nbytes)})"))
        stored = self.nbytes_stored
        if stored > 0:
            items.append(("No. bytes stored", f"{stored} ({human_readable_size(stored)})"))
            items.append(("Storage ratio", f"{self.nbytes / stored:.1f}"))
        items.append(("Chunks initialized", f"{self.nchunks_initialized}/{self.nchunks}"))
        return items

    # ------------------------------------------------------------------ python protocol
    def __repr__(self) -> str:
        r = f"<czarr.Array {self.name!r} {self._shape} {self._dtype}"
        return r + (" read-only>" if self._read_only else ">")

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of unsized object")
        return self._shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self[...]
        a = np.asarray(a)
        return a if dtype is None else a.astype(dtype, copy=False)

    def __iter__(self) -> Iterator[Any]:
        if not self._shape:
            raise TypeError("iteration over a 0-d array")
        step = self._chunks[0]
        for start in range(0, self._shape[0], step):
            block = self[start:start + step]
            yield from block

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Array)
            and self._store == other._store
            and self._path == other._path
            and self._read_only == other._read_only
        )

    __hash__ = Node.__hash__  # defining __eq__ would otherwise unset it

    def __getstate__(self) -> dict:
        return {
            "store": self._store,
            "path": self._path,
            "read_only": self._read_only,
            "chunk_store": self._chunk_store,
            "synchronizer": self._synchronizer,
            "cache_metadata": self._cache_metadata,
            "cache_attrs": self._cache_attrs,
            "write_empty_chunks": self._write_empty_chunks,
            "cache_chunks": self._cache_setting.value,
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    # ------------------------------------------------------------------ reading
    def __getitem__(self, selection: Any) -> Any:
        """Read ``arr[selection]``, dispatched as in zarr-python 2: ints, slices and
        ``Ellipsis`` are a basic selection; one int or integer array per dimension with
        at least one array and no slice is a coordinate selection; one boolean array of
        the array's shape is a mask selection; any other selection with integer arrays
        or boolean masks is orthogonal. ``str`` items select fields of a structured
        dtype (``arr['x']``, ``arr['x', :10]``)."""
        if self._cache_metadata:  # a point of a cached chunk: read with no projection
            value = engine.read_cached_point(self._ctx, selection, self._shape)
            if value is not chunk_cache.MISS:
                return value
        fields, selection = pop_fields(selection)
        kind = selection_kind(selection, self.ndim)
        return getattr(self, f"get_{kind}_selection")(selection, fields=fields)

    def get_basic_selection(
        self, selection: Any = Ellipsis, out: np.ndarray | None = None, fields: Any = None
    ) -> Any:
        """Read a selection of integers, slices (any step) and ``Ellipsis``.

        Parameters
        ----------
        selection : int, slice, Ellipsis or tuple of those
        out : numpy.ndarray, optional
            Array to read into, shaped like the selection, of the result's dtype.
        fields : str or list of str, optional
            Fields of a structured dtype to read.

        Returns
        -------
        numpy.ndarray or scalar
            A scalar when every dimension is indexed by an integer.
        """
        self._refresh_metadata()
        proj = basic_projection(selection, self._shape, self._chunks)
        return self._read(proj, out, fields, scalar=not (self.ndim == 0 and selection is Ellipsis))

    def get_orthogonal_selection(
        self, selection: Any, out: np.ndarray | None = None, fields: Any = None
    ) -> Any:
        """Read an orthogonal (outer) selection: per dimension an int, a slice (any
        step), an integer array (unsorted, repeated and negative indices welcome) or a
        boolean mask of that dimension's length; like ``ref[np.ix_(...)]`` in NumPy.

        Parameters
        ----------
        selection : int, slice, array-like, Ellipsis or tuple of those
        out : numpy.ndarray, optional
            Array to read into, shaped like the result, of the result's dtype.
        fields : str or list of str, optional
            Fields of a structured dtype to read.

        Returns
        -------
        numpy.ndarray or scalar
        """
        self._refresh_metadata()
        return self._read(orthogonal_projection(selection, self._shape, self._chunks),
                          out, fields)

    def get_coordinate_selection(
        self, selection: Any, out: np.ndarray | None = None, fields: Any = None
    ) -> Any:
        """Read points: one integer array per dimension, broadcast together; the result
        has the broadcast shape (NumPy's ``ref[i, j]`` with integer arrays).

        Parameters
        ----------
        selection : tuple of int or array-like
        out : numpy.ndarray, optional
            Array to read into, shaped like the result, of the result's dtype.
        fields : str or list of str, optional
            Fields of a structured dtype to read.

        Returns
        -------
        numpy.ndarray or scalar
        """
        self._refresh_metadata()
        return self._read(coordinate_projection(selection, self._shape, self._chunks),
                          out, fields)

    def get_mask_selection(
        self, selection: Any, out: np.ndarray | None = None, fields: Any = None
    ) -> np.ndarray:
        """Read the elements where a boolean array of the array's shape is True, in C
        order (NumPy's ``ref[mask]``).

        Parameters
        ----------
        selection : array-like of bool
        out : numpy.ndarray, optional
            1-D array to read into, of the result's dtype.
        fields : str or list of str, optional
            Fields of a structured dtype to read.

        Returns
        -------
        numpy.ndarray
        """
        self._refresh_metadata()
        return self._read(mask_projection(selection, self._shape, self._chunks), out, fields)

    def get_block_selection(
        self, selection: Any, out: np.ndarray | None = None, fields: Any = None
    ) -> np.ndarray:
        """Read whole chunks: ints and step-1 slices over chunk indices (``arr.blocks[1]``
        is the second chunk along axis 0, every dimension kept; edge blocks are partial).

        Parameters
        ----------
        selection : int, slice, Ellipsis or tuple of those
        out : numpy.ndarray, optional
            Array to read into, shaped like the result, of the result's dtype.
        fields : str or list of str, optional
            Fields of a structured dtype to read.

        Returns
        -------
        numpy.ndarray
        """
        self._refresh_metadata()
        return self._read(block_projection(selection, self._shape, self._chunks), out, fields)

    @property
    def oindex(self) -> OIndex:
        """Orthogonal selections: ``arr.oindex[[0, 2], 1:5]``."""
        return OIndex(self)

    @property
    def vindex(self) -> VIndex:
        """Coordinate selections ``arr.vindex[[0, 2], [1, 5]]`` and mask selections
        ``arr.vindex[mask]``."""
        return VIndex(self)

    @property
    def blocks(self) -> BlockIndex:
        """Block (chunk) selections: ``arr.blocks[0, 1:3]``."""
        return BlockIndex(self)

    def _read(self, proj: Any, out: np.ndarray | None, fields: Any = None,
              scalar: bool = True) -> Any:
        if fields:
            check_fields(fields, self._dtype)
            whole = engine.read(self._ctx, proj, hugepages.empty(proj.out_shape, self._dtype))
            result = select_fields(whole, fields)
            if out is not None:
                _check_out(out, result.shape, result.dtype)
                out[...] = result
                return out
        elif out is not None:
            _check_out(out, proj.out_shape, self._dtype)
            return engine.read(self._ctx, proj, out)
        else:
            result = engine.read(self._ctx, proj, hugepages.empty(proj.out_shape, self._dtype))
        return result[()] if scalar and result.ndim == 0 else result

    # ------------------------------------------------------------------ writing
    def __setitem__(self, selection: Any, value: Any) -> None:
        """Write ``arr[selection] = value``, dispatched like :meth:`__getitem__`."""
        fields, selection = pop_fields(selection)
        kind = selection_kind(selection, self.ndim)
        getattr(self, f"set_{kind}_selection")(selection, value, fields=fields)

    def set_basic_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write ``value`` (a scalar or anything broadcastable to the selection's shape)
        into a selection of integers, slices (any step) and ``Ellipsis``; with
        ``fields``, into that one field of a structured dtype.

        Parameters
        ----------
        selection : int, slice, Ellipsis or tuple of those
        value : scalar or array-like
            Broadcast to the selection's shape (with ``fields``, the field's shape).
        fields : str, optional
            One field of a structured dtype to write; the other fields are kept.
        """
        self._check_writable()
        self._refresh_metadata()
        self._write(basic_projection(selection, self._shape, self._chunks), value, fields)

    def set_orthogonal_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write ``value`` (broadcastable to the result's shape) into an orthogonal
        selection (see :meth:`get_orthogonal_selection`). A repeated index keeps the
        value that comes last, as in NumPy.

        Parameters
        ----------
        selection : int, slice, array-like, Ellipsis or tuple of those
        value : scalar or array-like
            Broadcast to the selection's shape (with ``fields``, the field's shape).
        fields : str, optional
            One field of a structured dtype to write; the other fields are kept.
        """
        self._check_writable()
        self._refresh_metadata()
        self._write(orthogonal_projection(selection, self._shape, self._chunks), value, fields)

    def set_coordinate_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write ``value`` (broadcastable to the broadcast shape of the coordinates) into
        points (see :meth:`get_coordinate_selection`). A repeated point keeps the value
        that comes last, as in NumPy.

        Parameters
        ----------
        selection : tuple of int or array-like
        value : scalar or array-like
            Broadcast to the selection's shape (with ``fields``, the field's shape).
        fields : str, optional
            One field of a structured dtype to write; the other fields are kept.
        """
        self._check_writable()
        self._refresh_metadata()
        self._write(coordinate_projection(selection, self._shape, self._chunks), value, fields)

    def set_mask_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write ``value`` (a scalar or one value per True element, in C order) where a
        boolean array of the array's shape is True.

        Parameters
        ----------
        selection : array-like of bool
        value : scalar or array-like
            Broadcast to the selection's shape (with ``fields``, the field's shape).
        fields : str, optional
            One field of a structured dtype to write; the other fields are kept.
        """
        self._check_writable()
        self._refresh_metadata()
        self._write(mask_projection(selection, self._shape, self._chunks), value, fields)

    def set_block_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write ``value`` (broadcastable to the blocks' shape) into whole chunks (see
        :meth:`get_block_selection`).

        Parameters
        ----------
        selection : int, slice, Ellipsis or tuple of those
        value : scalar or array-like
            Broadcast to the selection's shape (with ``fields``, the field's shape).
        fields : str, optional
            One field of a structured dtype to write; the other fields are kept.
        """
        self._check_writable()
        self._refresh_metadata()
        self._write(block_projection(selection, self._shape, self._chunks), value, fields)

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError(f"array {self.name!r} is read-only")

    def _coerce_value(self, value: Any, shape: tuple[int, ...]) -> np.ndarray:
        if self._dtype.hasobject and shape == ():
            # one element of an object array takes any object, sequences included
            arr = np.empty((), dtype=object)
            arr[()] = value[()] if isinstance(value, np.ndarray) and value.shape == () else value
            return arr
        arr = np.asarray(value, dtype=self._dtype)
        if arr.shape != shape:
            try:
                arr = np.broadcast_to(arr, shape)
            except ValueError:
                raise ValueError(
                    f"could not broadcast value of shape {arr.shape} to the selection's "
                    f"shape {shape}"
                ) from None
        return arr

    def _write(self, proj: Any, value: Any, fields: Any = None) -> None:
        if fields:
            # one field of structured items: read them, set the field, write them back
            check_fields(fields, self._dtype)
            whole = engine.read(self._ctx, proj, hugepages.empty(proj.out_shape, self._dtype))
            assign_fields(whole, fields, value)
            value = whole
        engine.write(self._ctx, proj, self._coerce_value(value, proj.out_shape))

    # ------------------------------------------------------------------ growing
    def resize(self, *args: Any) -> None:
        """Change the shape (same number of dimensions): ``arr.resize(20, 30)`` or
        ``arr.resize((20, 30))``. Chunks wholly outside the new shape are deleted;
        regions that grow read as the fill value."""
        self._refuse_view("resize")
        growth.resize(self, *args)

    def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """Append ``data`` along ``axis`` (every other dimension must match) and return
        the new shape."""
        self._refuse_view("append to")
        return growth.append(self, data, axis=axis)

    def _refuse_view(self, what: str) -> None:
        if self._is_view:
            raise TypeError(f"cannot {what} a view: its metadata exists only in memory")

    # ------------------------------------------------------------------ views, digests
    @property
    def is_view(self) -> bool:
        """True for an array made by :meth:`view` or :meth:`astype`."""
        return self._is_view

    @property
    def initialized(self) -> int:
        """zarr-python 2's older name of :attr:`nchunks_initialized`."""
        return self.nchunks_initialized

    def view(self, shape: Any = None, chunks: Any = None, dtype: Any = None,
             fill_value: Any = None, filters: Any = None, read_only: bool | None = None,
             synchronizer: Any = None) -> Array:
        """Another array over the same stored chunks with some metadata changed in
        memory only (nothing is written): a reinterpreting ``dtype`` of the same item
        size, other ``filters``, ``shape``, ``chunks`` or ``fill_value``.

        Returns
        -------
        czarr.Array
            ``is_view`` is True; it cannot be resized.
        """
        from czarr.views import view

        return view(self, shape=shape, chunks=chunks, dtype=dtype, fill_value=fill_value,
                    filters=filters, read_only=read_only, synchronizer=synchronizer)

    def astype(self, dtype: Any) -> Array:
        """A read-only view whose reads return values cast to ``dtype``."""
        from czarr.views import astype

        return astype(self, dtype)

    def digest(self, hashname: str = "sha1") -> bytes:
        """A hash (any ``hashlib`` name) of every stored chunk, ``.zarray`` and
        ``.zattrs``, as zarr-python 2 computes it."""
        from czarr.views import digest

        return digest(self, hashname)

    def hexdigest(self, hashname: str = "sha1") -> str:
        """:meth:`digest` as a hex string."""
        return self.digest(hashname).hex()

    def islice(self, start: int | None = None, end: int | None = None) -> Iterator[Any]:
        """Iterate over ``arr[start:end]`` along the first dimension, one chunk of rows
        read at a time."""
        if not self._shape:
            raise TypeError("iteration over a 0-d array")
        start, end, _ = slice(start, end).indices(self._shape[0])
        step = self._chunks[0]
        for lo in range(start, end, step):
            yield from self[lo:min(lo + step, end)]


def _fill_bytes(fill_value: Any, dtype: np.dtype) -> bytes:
    """The raw bytes of one item equal to ``fill_value`` (zeros when it is None)."""
    if fill_value is None:
        return bytes(dtype.itemsize)
    if isinstance(fill_value, (bytes, bytearray)) and dtype.kind == "V":
        return bytes(fill_value).ljust(dtype.itemsize, b"\0")[: dtype.itemsize]
    return np.array(fill_value, dtype=dtype).tobytes()


def _check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, the selection has shape {shape}")
    if out.dtype != dtype:
        raise ValueError(f"out has dtype {out.dtype}, the array has dtype {dtype}")
