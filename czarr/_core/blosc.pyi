from typing import TypeVar

from typing_extensions import Buffer

_D = TypeVar("_D", bound=Buffer)

VERSION_STRING: str
MAX_OVERHEAD: int
MAX_BUFFERSIZE: int
MAX_TYPESIZE: int
MAX_THREADS: int
NOSHUFFLE: int
SHUFFLE: int
BITSHUFFLE: int
AUTOSHUFFLE: int
COMPRESSORS: tuple[str, ...]

def compress(source: Buffer, cname: str | bytes = "lz4", clevel: int = 5,
             shuffle: int = 1, typesize: int | None = None, blocksize: int = 0,
             numinternalthreads: int = 1) -> bytes: ...
def decompress(source: Buffer, dest: _D | None = None,
               numinternalthreads: int = 1) -> bytes | _D: ...
def getitem(source: Buffer, start: int, nitems: int,
            dest: _D | None = None) -> bytes | _D: ...
def cbuffer_sizes(source: Buffer) -> tuple[int, int, int]: ...
def cbuffer_metainfo(source: Buffer) -> tuple[int, int]: ...
