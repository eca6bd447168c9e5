"""Groups: a hierarchy of arrays and groups in one store, as in zarr-python 2 and h5py.

A ``Group`` is a path in a store that holds a ``.zgroup`` document. Members are found by
listing the store below that path; nested names (``'a/b/c'``) walk down. Creating an
array or group here delegates to ``czarr.creation`` / ``czarr.layout`` with this group's
store and path, so the format rules live in one place.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, MutableMapping, ValuesView
from typing import Any

import numpy as np

from czarr.attrs import attributes_for
from czarr.core import Array
from czarr.errors import (
    ContainsArrayError,
    ContainsGroupError,
    GroupNotFoundError,
    ReadOnlyError,
)
from czarr.layout import (
    NodeInfo,
    check_v2_only,
    contains_array,
    contains_group,
    contains_node,
    init_group,
    member_names,
    normalize_path,
    read_members,
    read_node,
    resolve_format,
)
from czarr.node import Node
from czarr.storage import normalize_store_arg, rename, rmdir

__all__ = ["Group", "group", "open_group"]


def _join(base: str, name: str) -> str:
    name = normalize_path(name)
    return f"{base}/{name}" if base else name


class Group(Node, MutableMapping):
    """A group of arrays and groups.

    Parameters
    ----------
    store : MutableMapping
        The store holding the hierarchy.
    path : str, optional
        Path of the group inside the store.
    read_only : bool
        Refuse changes.
    chunk_store : MutableMapping, optional
        Separate store for the chunks of member arrays.
    cache_attrs : bool
        Cache ``.zattrs`` in memory.
    synchronizer : object, optional
        Accepted for zarr-python compatibility.
    zarr_version, meta_array
        zarr-python 2.18's experimental v3 arguments, accepted with their v2 values.
    """

    def __init__(
        self,
        store: MutableMapping,
        path: str | None = None,
        read_only: bool = False,
        chunk_store: MutableMapping | None = None,
        cache_attrs: bool = True,
        synchronizer: Any = None,
        zarr_version: Any = None,
        *,
        meta_array: Any = None,
    ) -> None:
        check_v2_only(zarr_version=zarr_version, meta_array=meta_array)
        path = normalize_path(path)
        node = read_node(store, path, zarr_version, kind="group")
        if node is None:
            raise GroupNotFoundError(f"no group at path {path!r}")
        if node.kind == "array":
            raise ContainsArrayError(f"an array exists at path {path!r}, not a group")
        self._setup(store, path, read_only, chunk_store, cache_attrs, synchronizer, node)

    def _setup(self, store: MutableMapping, path: str, read_only: bool,
               chunk_store: MutableMapping | None, cache_attrs: bool, synchronizer: Any,
               node: NodeInfo) -> None:
        self._store = store
        self._chunk_store = chunk_store
        self._path = path
        self._read_only = bool(read_only)
        self._cache_attrs = cache_attrs
        self._synchronizer = synchronizer
        self._zarr_format = node.zarr_format
        if node.zarr_format == 3 and node.document is not None:
            # the document was parsed, not checked: its attributes, extensions and
            # consolidated block's shape (each node there is checked when opened)
            from czarr.metadata.v3 import decode_group_metadata_v3

            decode_group_metadata_v3(node.document, key=_join(path, "zarr.json"),
                                     nodes_too=False)
        # a v3 group's attributes came in the document just read: no second read for them
        seen = node.document.get("attributes") if cache_attrs and node.document else None
        self._attrs = attributes_for(store, path, self._zarr_format,
                                     read_only=read_only, cache=cache_attrs,
                                     synchronizer=synchronizer,
                                     cached_dict=seen if isinstance(seen, dict) else None)

    def _member(self, path: str, node: NodeInfo) -> Array | Group:
        """The member at ``path`` from its metadata document, already read: no store call."""
        if node.kind == "array":
            return Array._from_node(self._store, path, node, read_only=self._read_only,
                                    chunk_store=self._chunk_store,
                                    synchronizer=self._synchronizer,
                                    cache_attrs=self._cache_attrs)
        group = Group.__new__(Group)
        group._setup(self._store, path, self._read_only, self._chunk_store,
                     self._cache_attrs, self._synchronizer, node)
        return group

    def _members(self) -> list[tuple[str, Array | Group]]:
        """Every member with its name, sorted: one listing and one batched read of the
        members' metadata documents (see :func:`czarr.layout.read_members`)."""
        nodes = read_members(self._store, self._path, self._zarr_format)
        return [(name, self._member(_join(self._path, name), node))
                for name, node in nodes.items()]

    # ------------------------------------------------------------------ properties
    def _info_items(self) -> list[tuple[str, str]]:
        items = [
            ("Name", self.name),
            ("Type", f"{type(self).__module__}.{type(self).__name__}"),
            ("Read-only", str(self._read_only)),
        ] + self._store_items()
        nodes = read_members(self._store, self._path, self._zarr_format)
        arrays = [name for name, node in nodes.items() if node.kind == "array"]
        groups = [name for name, node in nodes.items() if node.kind == "group"]
        items.append(("No. members", str(len(arrays) + len(groups))))
        items.append(("No. arrays", str(len(arrays))))
        items.append(("No. groups", str(len(groups))))
        if arrays:
            items.append(("Arrays", ", ".join(arrays)))
        if groups:
            items.append(("Groups", ", ".join(groups)))
        return items

    # ------------------------------------------------------------------ python protocol
    def __repr__(self) -> str:
        r = f"<czarr.Group {self.name!r}"
        return r + (" read-only>" if self._read_only else ">")

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Group) and self._store == other._store
                and self._path == other._path)

    __hash__ = Node.__hash__  # defining __eq__ would otherwise unset it

    def __enter__(self) -> Group:
        return self

    def __exit__(self, *exc: Any) -> None:
        close = getattr(self._store, "close", None)
        if close is not None:
            close()

    def __getstate__(self) -> dict:
        return {
            "store": self._store,
            "path": self._path,
            "read_only": self._read_only,
            "chunk_store": self._chunk_store,
            "cache_attrs": self._cache_attrs,
            "synchronizer": self._synchronizer,
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def _member_names(self) -> list[str]:
        return member_names(self._store, self._path, self._zarr_format)

    def __iter__(self) -> Iterator[str]:
        return iter(self._member_names())

    def __len__(self) -> int:
        return len(self._member_names())

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, str):
            return False
        try:
            path = _join(self._path, item)
        except ValueError:
            return False
        return contains_node(self._store, path, self._zarr_format)

    def __getitem__(self, item: str) -> Array | Group:
        """The member array or group (``'a/b'`` walks down): one read of its metadata
        document when it is in this group's format."""
        path = _join(self._path, item)
        node = read_node(self._store, path, self._zarr_format)
        if node is None:
            raise KeyError(item)
        return self._member(path, node)

    def items(self) -> ItemsView:
        """``(name, member)`` pairs, sorted by name; iterating reads the members'
        metadata in one batched call."""
        return _MembersView(self)

    def values(self) -> ValuesView:
        """The members, sorted by name (their metadata read in one batched call)."""
        return _MemberValuesView(self)

    def __setitem__(self, item: str, value: Any) -> None:
        self.array(item, value, overwrite=True)

    def __delitem__(self, item: str) -> None:
        self._check_writable()
        if item not in self:
            raise KeyError(item)
        path = _join(self._path, item)
        rmdir(self._store, path)
        if self._chunk_store is not None:
            rmdir(self._chunk_store, path)

    def __getattr__(self, item: str) -> Any:
        # members as attributes (``root.foo``), as zarr-python and h5py users expect
        if item.startswith("_"):
            raise AttributeError(item)
        try:
            return self[item]
        except (KeyError, ValueError):
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {item!r}"
            ) from None

    def __dir__(self) -> list[str]:
        base = list(super().__dir__())
        return base + [k for k in self._member_names() if k.isidentifier()]

    def _ipython_key_completions_(self) -> list[str]:
        return sorted(self._member_names())

    def _repr_html_(self) -> str:
        """The tree of members, for notebooks."""
        return self.tree()._repr_html_()

    # ------------------------------------------------------------------ members
    def _nodes_of_kind(self, kind: str) -> Iterator[tuple[str, NodeInfo]]:
        for name, node in read_members(self._store, self._path, self._zarr_format).items():
            if node.kind == kind:
                yield name, node

    def group_keys(self) -> Iterator[str]:
        """Names of the member groups, sorted."""
        for name, _ in self._nodes_of_kind("group"):
            yield name

    def groups(self) -> Iterator[tuple[str, Group]]:
        """(name, Group) pairs of the member groups, sorted by name."""
        for name, node in self._nodes_of_kind("group"):
            yield name, self._member(_join(self._path, name), node)

    def array_keys(self, recurse: bool = False) -> Iterator[str]:
        """Names of the member arrays, sorted (with ``recurse``, of all descendants)."""
        for name, _ in self._nodes_of_kind("array"):
            yield name
        if recurse:
            for gname, g in self.groups():
                for name in g.array_keys(recurse=True):
                    yield f"{gname}/{name}"

    def arrays(self, recurse: bool = False) -> Iterator[tuple[str, Array]]:
        """(name, Array) pairs of the member arrays, sorted (``recurse``: all descendants)."""
        for name, node in self._nodes_of_kind("array"):
            yield name, self._member(_join(self._path, name), node)
        if recurse:
            for gname, g in self.groups():
                for name, arr in g.arrays(recurse=True):
                    yield f"{gname}/{name}", arr

    def visitvalues(self, func: Callable[[Any], Any]) -> Any:
        """Call ``func(member)`` on every descendant; stop at the first non-None result."""
        return self.visititems(lambda _name, obj: func(obj))

    def visit(self, func: Callable[[str], Any]) -> Any:
        """Call ``func(relative_name)`` on every descendant, depth first in name order."""
        return self.visititems(lambda name, _obj: func(name))

    visitkeys = visit

    def visititems(self, func: Callable[[str, Any], Any]) -> Any:
        """Call ``func(relative_name, member)`` on every descendant, depth first."""
        base = len(self._path) + 1 if self._path else 0

        def walk(group: Group) -> Any:
            for _, member in group._members():
                result = func(member.path[base:], member)
                if result is not None:
                    return result
                if isinstance(member, Group):
                    result = walk(member)
                    if result is not None:
                        return result
            return None

        return walk(self)

    def tree(self, expand: bool = False, level: int | None = None, *,
             details: bool = False) -> TreeView:
        """A view of the hierarchy below this group: print it, or show it in a notebook
        (``details`` adds each array's chunks and stored size to the text)."""
        return TreeView(self, expand=expand, level=level, details=details)

    # ------------------------------------------------------------------ creating
    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError(f"group {self.name!r} is read-only")

    def create_group(self, name: str, overwrite: bool = False,
                     attributes: dict | None = None) -> Group:
        """Create a sub-group (``ContainsGroupError`` if one exists and not ``overwrite``),
        in this group's format, with ``attributes`` (zarr-python 3's argument)."""
        self._check_writable()
        path = _join(self._path, name)
        init_group(self._store, path=path, chunk_store=self._chunk_store, overwrite=overwrite,
                   zarr_format=self._zarr_format)
        group = Group(self._store, path=path, chunk_store=self._chunk_store,
                      cache_attrs=self._cache_attrs, synchronizer=self._synchronizer)
        if attributes:
            group.attrs.update(attributes)
        return group

    def create_array(self, name: str, **kwargs: Any) -> Array:
        """Create an array as zarr-python 3's ``Group.create_array`` (``shape=``,
        ``dtype=``, ``chunks=``, ``shards=``, ``compressors=``...), in this group's format."""
        from czarr.v3api import create_array

        self._check_writable()
        compressor = kwargs.pop("compressor", "auto")  # zarr-python 3's single spelling
        if compressor != "auto":
            kwargs.setdefault("compressors", compressor)
        kwargs.setdefault("zarr_format", self._zarr_format)
        return create_array(self._store, name=_join(self._path, name), **kwargs)

    def create_groups(self, *names: str, overwrite: bool = False) -> tuple[Group, ...]:
        """Create several sub-groups; return them in the order named."""
        return tuple(self.create_group(n, overwrite=overwrite) for n in names)

    def require_group(self, name: str, overwrite: bool = False) -> Group:
        """Return the sub-group, creating it if needed."""
        path = _join(self._path, name)
        if not contains_group(self._store, path) or overwrite:
            self._check_writable()
            init_group(self._store, path=path, chunk_store=self._chunk_store,
                       overwrite=overwrite, zarr_format=self._zarr_format)
        return Group(self._store, path=path, read_only=self._read_only,
                     chunk_store=self._chunk_store, cache_attrs=self._cache_attrs,
                     synchronizer=self._synchronizer)

    def require_groups(self, *names: str) -> tuple[Group, ...]:
        """Return several sub-groups, creating those that do not exist."""
        return tuple(self.require_group(n) for n in names)

    def _creation_kwargs(self, name: str, kwargs: dict) -> dict:
        self._check_writable()
        kwargs.setdefault("chunk_store", self._chunk_store)
        kwargs.setdefault("synchronizer", self._synchronizer)
        kwargs.setdefault("cache_attrs", self._cache_attrs)
        kwargs.setdefault("zarr_format", self._zarr_format)  # a hierarchy keeps one format
        kwargs["store"] = self._store
        kwargs["path"] = _join(self._path, name)
        return kwargs

    def create_dataset(self, name: str, **kwargs: Any) -> Array:
        """Create an array (h5py style): ``data=`` to initialise it, or ``shape=``."""
        from czarr import creation

        kwargs = self._creation_kwargs(name, kwargs)
        data = kwargs.pop("data", None)
        if data is None:
            if "shape" not in kwargs:
                raise TypeError("create_dataset needs shape= or data=")
            return creation.create(**kwargs)
        return creation.array(data, **kwargs)

    def require_dataset(
        self, name: str, shape: Any, dtype: Any = None, exact: bool = False, **kwargs: Any
    ) -> Array:
        """Return the array at ``name`` after checking its shape and dtype, creating it
        if it does not exist. ``exact=False`` accepts a dtype the stored one casts to."""
        path = _join(self._path, name)
        if contains_array(self._store, path):
            arr = self[name]
            shape_t = (shape,) if isinstance(shape, int) else tuple(shape)
            if arr.shape != shape_t:
                raise TypeError(f"shapes do not match: existing {arr.shape}, required {shape_t}")
            if dtype is not None:
                want = np.dtype(dtype)
                ok = arr.dtype == want if exact else np.can_cast(want, arr.dtype)
                if not ok:
                    raise TypeError(
                        f"dtypes do not match: existing {arr.dtype}, required {want}")
            return arr
        if contains_group(self._store, path):
            raise ContainsGroupError(f"a group exists at path {path!r}")
        return self.create_dataset(name, shape=shape, dtype=dtype, **kwargs)

    def create(self, name: str, **kwargs: Any) -> Array:
        """Create an array in this group (the arguments of :func:`czarr.create`)."""
        from czarr import creation

        return creation.create(**self._creation_kwargs(name, kwargs))

    def empty(self, name: str, **kwargs: Any) -> Array:
        """Create an uninitialised array in this group (:func:`czarr.empty`)."""
        from czarr import creation

        return creation.empty(**self._creation_kwargs(name, kwargs))

    def zeros(self, name: str, **kwargs: Any) -> Array:
        """Create an array of zeros in this group (:func:`czarr.zeros`)."""
        from czarr import creation

        return creation.zeros(**self._creation_kwargs(name, kwargs))

    def ones(self, name: str, **kwargs: Any) -> Array:
        """Create an array of ones in this group (:func:`czarr.ones`)."""
        from czarr import creation

        return creation.ones(**self._creation_kwargs(name, kwargs))

    def full(self, name: str, fill_value: Any, **kwargs: Any) -> Array:
        """Create an array filled with ``fill_value`` in this group (:func:`czarr.full`)."""
        from czarr import creation

        return creation.full(fill_value=fill_value, **self._creation_kwargs(name, kwargs))

    def array(self, name: str, data: Any, **kwargs: Any) -> Array:
        """Create an array in this group holding ``data`` (:func:`czarr.array`)."""
        from czarr import creation

        return creation.array(data, **self._creation_kwargs(name, kwargs))

    def empty_like(self, name: str, data: Any, **kwargs: Any) -> Array:
        """Create an uninitialised array shaped like ``data`` (:func:`czarr.empty_like`)."""
        from czarr import creation

        return creation.empty_like(data, **self._creation_kwargs(name, kwargs))

    def zeros_like(self, name: str, data: Any, **kwargs: Any) -> Array:
        """Create an array of zeros shaped like ``data`` (:func:`czarr.zeros_like`)."""
        from czarr import creation

        return creation.zeros_like(data, **self._creation_kwargs(name, kwargs))

    def ones_like(self, name: str, data: Any, **kwargs: Any) -> Array:
        """Create an array of ones shaped like ``data`` (:func:`czarr.ones_like`)."""
        from czarr import creation

        return creation.ones_like(data, **self._creation_kwargs(name, kwargs))

    def full_like(self, name: str, data: Any, **kwargs: Any) -> Array:
        """Create a filled array shaped like ``data`` (:func:`czarr.full_like`)."""
        from czarr import creation

        return creation.full_like(data, **self._creation_kwargs(name, kwargs))

    def move(self, source: str, dest: str) -> None:
        """Move a member (array or group) to another path inside this group."""
        self._check_writable()
        src = _join(self._path, source)
        dst = _join(self._path, dest)
        if not (contains_array(self._store, src) or contains_group(self._store, src)):
            raise ValueError(f"the source {source!r} does not exist")
        if contains_array(self._store, dst) or contains_group(self._store, dst):
            raise ValueError(f"the destination {dest!r} already exists")
        parent = dst.rpartition("/")[0]
        if parent and not contains_group(self._store, parent):
            init_group(self._store, path=parent, zarr_format=self._zarr_format)
        rename(self._store, src, dst)
        if self._chunk_store is not None:
            rename(self._chunk_store, src, dst)


class _MembersView(ItemsView):
    """A group's items: iterating reads every member's metadata in one batched call."""

    _mapping: Group

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self._mapping._members())


class _MemberValuesView(ValuesView):
    """A group's members: their metadata read in one batched call."""

    _mapping: Group

    def __iter__(self) -> Iterator[Any]:
        return (member for _, member in self._mapping._members())


class TreeView:
    """Tree of a group's hierarchy: ``repr``/``str`` give the text (with ``details``, each
    array's chunks, chunks stored and bytes stored too); notebooks get ``_repr_html_``,
    nested collapsible groups with a row of details per array."""

    def __init__(self, group: Group, expand: bool = False, level: int | None = None,
                 details: bool = False) -> None:
        self._group = group
        self._expand = expand  # zarr-python 2's option for its interactive widget
        self._level = level
        self._details = details

    def _members(self, group: Group) -> list[tuple[str, Any]]:
        return group._members()

    def _lines(self, group: Group, prefix: str, depth: int) -> list[str]:
        lines: list[str] = []
        members = self._members(group)
        for i, (name, member) in enumerate(members):
            last = i == len(members) - 1
            branch = "└── " if last else "├── "
            if isinstance(member, Array):
                line = f"{prefix}{branch}{name} {member.shape} {member.dtype}"
                if self._details:
                    line += " " + _array_details(member)
                lines.append(line)
            else:
                lines.append(f"{prefix}{branch}{name}")
                if self._level is None or depth < self._level:
                    lines += self._lines(member, prefix + ("    " if last else "│   "),
                                         depth + 1)
        return lines

    def __repr__(self) -> str:
        root = self._group.name if self._group.path else "/"
        return "\n".join([root] + self._lines(self._group, " ", 1))

    __str__ = __repr__

    def _html(self, group: Group, depth: int) -> str:
        import html

        items = []
        for name, member in self._members(group):
            if isinstance(member, Array):
                items.append(
                    f"<li><code>{html.escape(name)}</code> "
                    f"<span>{html.escape(str(member.shape))} {html.escape(str(member.dtype))}"
                    f"</span> <small>{html.escape(_array_details(member))}</small></li>")
            elif self._level is None or depth < self._level:
                items.append(f"<li><details open><summary><b>{html.escape(name)}/</b>"
                             f"</summary>{self._html(member, depth + 1)}</details></li>")
            else:
                items.append(f"<li><b>{html.escape(name)}/</b> …</li>")
        return '<ul style="list-style:none;margin:0;padding-left:1.2em">' + "".join(items) \
            + "</ul>"

    def _repr_html_(self) -> str:
        """The tree for notebooks: groups fold open and shut, arrays show their details."""
        import html

        root = self._group.name if self._group.path else "/"
        return (f'<div class="czarr-tree"><details open><summary><b>{html.escape(root)}</b>'
                f"</summary>{self._html(self._group, 1)}</details></div>")


def _array_details(arr: Array) -> str:
    """``chunks=(10, 10) 4/4 chunks 1.2K stored`` for one array (``?`` when unknown)."""
    from czarr.util import human_readable_size

    stored = arr.nbytes_stored
    size = human_readable_size(stored) if stored >= 0 else "?"
    shards = f" shards={arr.shards}" if arr.shards is not None else ""
    return (f"chunks={arr.chunks}{shards} {arr.nchunks_initialized}/{arr.nchunks} chunks "
            f"{size} stored")


def group(
    store: Any = None,
    overwrite: bool = False,
    chunk_store: MutableMapping | None = None,
    cache_attrs: bool = True,
    synchronizer: Any = None,
    path: str | None = None,
    *,
    zarr_version: Any = None,
    meta_array: Any = None,
    storage_options: dict | None = None,
    zarr_format: int | None = None,
) -> Group:
    """Create a group (or open the one there), in a new ``MemoryStore`` when ``store`` is None.

    Parameters
    ----------
    store : MutableMapping or str, optional
        A store, a path (a ``DirectoryStore``; a ``.zip`` path gives a ``ZipStore``) or
        a URL (an ``FSStore``).
    overwrite : bool
        Remove everything at the path first.
    zarr_version, meta_array
        zarr-python 2.18's experimental v3 arguments, accepted with their v2 values.
    storage_options : dict, optional
        Options for the store a URL makes.
    """
    check_v2_only(zarr_version=zarr_version, meta_array=meta_array)
    fmt = resolve_format(zarr_format, zarr_version)
    store = normalize_store_arg(store, storage_options=storage_options, mode="a")
    path = normalize_path(path)
    if overwrite or not contains_group(store, path):
        init_group(store, overwrite=overwrite, path=path, chunk_store=chunk_store,
                   zarr_format=fmt or 2)
    return Group(store, path=path, chunk_store=chunk_store, cache_attrs=cache_attrs,
                 synchronizer=synchronizer)


def open_group(
    store: Any = None,
    mode: str = "a",
    cache_attrs: bool = True,
    synchronizer: Any = None,
    path: str | None = None,
    chunk_store: MutableMapping | None = None,
    storage_options: dict | None = None,
    *,
    zarr_version: Any = None,
    meta_array: Any = None,
    use_consolidated: bool | None = None,
    zarr_format: int | None = None,
) -> Group:
    """Open a group with a file-like ``mode``: ``'r'`` read-only, must exist; ``'r+'``
    must exist; ``'a'`` open or create; ``'w'`` create, removing what was there;
    ``'w-'``/``'x'`` create, fail if something exists (zarr-python 2.18's
    ``open_group``, argument for argument).

    ``use_consolidated`` (zarr-python 3's option): True reads the metadata of the whole
    hierarchy from its ``.zmetadata`` document; None (default) does so in mode ``'r'``
    when the document is there; False never does."""
    check_v2_only(zarr_version=zarr_version, meta_array=meta_array)
    fmt = resolve_format(zarr_format, zarr_version) or 2
    store = normalize_store_arg(store, storage_options=storage_options, mode=mode)
    if chunk_store is not None:
        chunk_store = normalize_store_arg(chunk_store, storage_options=storage_options,
                                          mode=mode)
    path = normalize_path(path)
    from czarr.creation import _consolidated_store

    meta_store = _consolidated_store(store, path, mode, use_consolidated,
                                     {"chunk_store": chunk_store, "zarr_format": zarr_format})
    if meta_store is not None:
        from czarr.consolidated import open_over

        group = open_over(meta_store, store, mode, path, cache_attrs=cache_attrs,
                          synchronizer=synchronizer)
        if not isinstance(group, Group):
            raise ContainsArrayError(f"an array exists at path {path!r}, not a group")
        return group
    if mode in ("r", "r+"):
        pass  # Group() finds the group (or the array, or nothing) in one read
    elif mode == "w":
        init_group(store, overwrite=True, path=path, chunk_store=chunk_store,
                   zarr_format=fmt)
    elif mode == "a":
        if not contains_group(store, path):
            if contains_array(store, path):
                raise ContainsArrayError(f"an array exists at path {path!r}, not a group")
            init_group(store, path=path, chunk_store=chunk_store, zarr_format=fmt)
    elif mode in ("w-", "x"):
        if contains_array(store, path):
            raise ContainsArrayError(f"an array exists at path {path!r}")
        if contains_group(store, path):
            raise ContainsGroupError(f"a group exists at path {path!r}")
        init_group(store, path=path, chunk_store=chunk_store, zarr_format=fmt)
    else:
        raise ValueError(f"invalid mode {mode!r}: expected one of r, r+, a, w, w-, x")
    return Group(store, path=path, read_only=(mode == "r"), chunk_store=chunk_store,
                 cache_attrs=cache_attrs, synchronizer=synchronizer,
                 zarr_version=resolve_format(zarr_format, zarr_version))


# zarr-python 2.18 names that live in other czarr modules (see czarr.compat)
__getattr__ = __import__("czarr.compat", fromlist=["lazy_names"]).lazy_names(__name__)
