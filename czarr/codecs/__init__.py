"""Codecs: the numcodecs Codec API over czarr's compiled compressors.

One module per codec family, each a thin shell over ``czarr._core``; ``get_codec`` builds
a codec from its configuration (czarr's registry first, numcodecs' as a fallback).
"""

from czarr.codecs.abc import Codec
from czarr.codecs.base64 import Base64
from czarr.codecs.blosc import Blosc
from czarr.codecs.bz2 import BZ2
from czarr.codecs.checksums import CRC32, CRC32C, Adler32, Fletcher32
from czarr.codecs.filters import AsType, BitRound, Categorize, Delta, FixedScaleOffset, Quantize
from czarr.codecs.lz4 import LZ4
from czarr.codecs.lzma import LZMA
from czarr.codecs.objects import JSON, Pickle
from czarr.codecs.packing import PackBits, Shuffle
from czarr.codecs.registry import codec_registry, get_codec, register_codec
from czarr.codecs.vlen import VLenArray, VLenBytes, VLenUTF8
from czarr.codecs.zlib import GZip, Zlib
from czarr.codecs.zstd import Zstd

for _cls in (Blosc, Zstd, LZ4, Zlib, GZip, BZ2, LZMA):
    register_codec(_cls)
for _cls in (VLenUTF8, VLenBytes, VLenArray, JSON, Pickle, Base64):
    register_codec(_cls)
for _cls in (Delta, FixedScaleOffset, Quantize, AsType, BitRound, Categorize, PackBits,
             Shuffle, CRC32, CRC32C, Adler32, Fletcher32):
    register_codec(_cls)
del _cls

__all__ = ["Codec", "get_codec", "register_codec", "codec_registry", "Blosc", "Zstd",
           "LZ4", "Zlib", "GZip", "BZ2", "LZMA"]
__all__ += ["VLenUTF8", "VLenBytes", "VLenArray", "JSON", "Pickle", "Base64"]
__all__ += ["Delta", "FixedScaleOffset", "Quantize", "AsType", "BitRound", "Categorize",
            "PackBits", "Shuffle", "CRC32", "CRC32C", "Adler32", "Fletcher32"]


ncores = __import__("os").cpu_count() or 1  # what numcodecs (and so zarr-python 2) exports
suppress = __import__("contextlib").suppress


def __getattr__(name: str) -> object:
    # numcodecs codecs czarr does not implement itself, when numcodecs is installed
    if name == "JenkinsLookup3":
        from czarr.storage.base import import_optional

        return import_optional("numcodecs", "numcodecs", "JenkinsLookup3").JenkinsLookup3
    raise AttributeError(f"module 'czarr.codecs' has no attribute {name!r}")
