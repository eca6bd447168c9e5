"""The :class:`Codec` base class: the numcodecs Codec API, with the configuration derived
from the constructor's arguments.

A codec turns a buffer into bytes (``encode``) and back (``decode``). Its configuration
(``get_config``) is a JSON-compatible dict holding ``id`` plus every constructor argument,
in signature order, so that ``.zarray`` files written by czarr and by zarr-python with
numcodecs are identical. ``from_config``, ``__eq__`` and ``__repr__`` follow from it.
Subclasses store each constructor argument as an attribute of the same name.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from typing import Any

from czarr.codecs._buffers import check_decoded_size


@functools.cache
def _init_parameters(cls: type) -> tuple[str, ...]:
    """Names of the constructor's named parameters, in signature order."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return tuple(p.name for p in parameters if p.kind in named)


class Codec(ABC):
    """Codec abstract base class (the numcodecs ``Codec`` API)."""

    codec_id: str | None = None
    """Identifier stored as ``id`` in the configuration."""

    @abstractmethod
    def encode(self, buf: Any) -> bytes:
        """Encode the data in ``buf`` (any object exporting a buffer; a non-contiguous
        ndarray is copied to a contiguous one first).

        Parameters
        ----------
        buf : buffer-like
            Data to encode.

        Returns
        -------
        bytes
            Encoded data.
        """

    @abstractmethod
    def decode(self, buf: Any, out: Any = None) -> Any:
        """Decode the data in ``buf``.

        Parameters
        ----------
        buf : buffer-like
            Encoded data (bytes, bytearray, memoryview, uint8 ndarray...).
        out : writable contiguous buffer, optional
            Destination of exactly the decoded size (ndarray of any dtype or memoryview);
            when given, the decoded bytes are written into it and it is returned.

        Returns
        -------
        bytes or out
            Decoded data.

        Raises
        ------
        czarr.errors.CodecError
            If ``buf`` cannot be decoded or does not decode to exactly ``out.nbytes``.
        """

    def decode_bounded(self, buf: Any, max_nbytes: int) -> Any:
        """Decode ``buf`` as :meth:`decode` does without ``out``, into at most
        ``max_nbytes`` bytes.

        The chunk pipeline decodes the stages of a filtered chain this way, so a small
        hostile frame cannot make it allocate far more than a chunk. Compressors refuse
        before allocating (the size in their header, or decoding stopped at the bound);
        this default, for codecs whose output is no larger than their input plus a
        constant (filters, checksums), checks after decoding.

        Raises
        ------
        czarr.errors.CodecError
            If ``buf`` decodes to more than ``max_nbytes`` bytes (or cannot be decoded).
        """
        data = self.decode(buf)
        check_decoded_size(data, max_nbytes, type(self).__name__)
        return data

    @classmethod
    def _parameters(cls) -> tuple[str, ...]:
        return _init_parameters(cls)

    def get_config(self) -> dict[str, Any]:
        """Return the configuration: ``id`` and every constructor argument."""
        config: dict[str, Any] = {"id": self.codec_id}
        for name in self._parameters():
            config[name] = getattr(self, name)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Codec:
        """Instantiate the codec from a configuration (with or without its ``id``)."""
        params = dict(config)
        params.pop("id", None)
        return cls(**params)

    def __eq__(self, other: object) -> bool:
        try:
            return self.get_config() == other.get_config()  # type: ignore[attr-defined]
        except AttributeError:
            return False

    __hash__ = None  # type: ignore[assignment]  # mutable configuration, as in numcodecs

    def __repr__(self) -> str:
        params = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._parameters())
        return f"{type(self).__name__}({params})"
