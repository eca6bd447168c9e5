from typing import TypeVar

from typing_extensions import Buffer

_D = TypeVar("_D", bound=Buffer)

VERSION_STRING: str

def compress(source: Buffer, level: int = 1) -> bytes: ...
def decompress(source: Buffer, dest: _D | None = None,
               max_size: int = -1) -> bytes | _D: ...
