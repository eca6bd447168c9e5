from typing import TypeVar

from typing_extensions import Buffer

_D = TypeVar("_D", bound=Buffer)

VERSION_NUMBER: int
VERSION_STRING: str
MIN_LEVEL: int
MAX_LEVEL: int

def compress(source: Buffer, level: int = 1, checksum: bool = False) -> bytes: ...
def decompress(source: Buffer, dest: _D | None = None,
               max_size: int = -1) -> bytes | _D: ...
