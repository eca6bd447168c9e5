"""Type stubs for czarr.capi, the public C-level API. Its C functions are declared in
``capi.pxd`` (``cimport czarr.capi``); from Python only these names are visible."""

from typing import Any

CAPI_VERSION: int
MAX_NDIM: int
STATUS: dict[int, str]
CODEC_IDS: dict[str, int]

def parse_codec(config: Any, typesize: int = 1) -> dict[str, Any]: ...
