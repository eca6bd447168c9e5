"""Zarr metadata documents as plain data: :mod:`czarr.metadata.v2` reads and writes the
``.zarray``, ``.zgroup`` and ``.zattrs`` documents of the Zarr v2 format,
:mod:`czarr.metadata.v3` the ``zarr.json`` documents of Zarr v3. Nothing in this
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
from czarr.metadata.v3 import (
    ArrayMetadataV3,
    decode_array_metadata_v3,
    decode_group_metadata_v3,
    encode_array_metadata_v3,
    encode_group_metadata_v3,
    node_type_v3,
)

__all__ = [
    "ArrayMetadata",
    "decode_array_metadata",
    "decode_attrs",
    "decode_group_metadata",
    "encode_array_metadata",
    "encode_attrs",
    "encode_group_metadata",
    "ArrayMetadataV3",
    "decode_array_metadata_v3",
    "decode_group_metadata_v3",
    "encode_array_metadata_v3",
    "encode_group_metadata_v3",
    "node_type_v3",
]
