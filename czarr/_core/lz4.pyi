from typing import TypeVar

from typing_extensions import Buffer

_D = TypeVar("_D", bound=Buffer)

VERSION_STRING: str
MAX_INPUT_SIZE: int

def compress(source: Buffer, acceleration: int = 1) -> bytes: ...
def decompress(source: Buffer, dest: _D | None = None,
               max_size: int = -1) -> bytes | _D: ...
