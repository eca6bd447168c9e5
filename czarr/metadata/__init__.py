"""Zarr metadata documents as plain data: :mod:`czarr.metadata.v2` reads and writes the
``.zarray``, ``.zgroup`` and ``.zattrs`` documents of the Zarr v2 format. Nothing in this
package touches a store; the names below are re-exported for convenience."""

from __future__ import annotations

from czarr.metadata.v2 import (
    ArrayMetadata,
    decode_array_metadata,
    decode_attrs,
    decode_group_metadata,
    encode_array_metadata,
    encode_attrs,
    encode_group_metadata,
)

__all__ = [
    "ArrayMetadata",
    "decode_array_metadata",
    "decode_attrs",
    "decode_group_metadata",
    "encode_array_metadata",
    "encode_attrs",
    "encode_group_metadata",
]
