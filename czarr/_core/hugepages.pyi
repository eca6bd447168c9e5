import numpy as np
from numpy.typing import DTypeLike

MIN_BYTES: int
ENABLED: bool

def empty(shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray: ...
