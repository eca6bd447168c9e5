"""Object serialisation codecs: JSON (id ``json2``) and Pickle (id ``pickle``),
byte-compatible with numcodecs' codecs of the same ids. JSON writes the array's items as
nested lists followed by its dtype string and shape (numcodecs' format since 0.6);
Pickle pickles the whole array. Both decode to an array of the shape that was encoded.
Decoding a pickle can run arbitrary code, so, as in numcodecs, :class:`Pickle` refuses
to decode unless the process opts in (see :data:`ALLOW_UNSAFE_PICKLE_DECODE`).
"""

from __future__ import annotations

import json as _json
import math
import os
import pickle as _pickle
import sys
from typing import Any

import numpy as np

from czarr.codecs.abc import Codec
from czarr.codecs.vlen import _source
from czarr.errors import CodecError

__all__ = ["JSON", "Pickle", "ALLOW_UNSAFE_PICKLE_DECODE"]

_ENV_VARS = ("CZARR_ALLOW_UNSAFE_PICKLE_DECODE", "NUMCODECS_ALLOW_UNSAFE_PICKLE_DECODE")

ALLOW_UNSAFE_PICKLE_DECODE: bool = any(
    os.environ.get(name, "").strip().lower() in {"1", "true", "yes"} for name in _ENV_VARS
)
"""Whether :meth:`Pickle.decode` may unpickle. False unless one of the environment
variables ``CZARR_ALLOW_UNSAFE_PICKLE_DECODE`` or ``NUMCODECS_ALLOW_UNSAFE_PICKLE_DECODE``
is ``1``/``true``/``yes`` at import; set it to True only for trusted data. numcodecs' own
flag (``numcodecs.pickles.ALLOW_UNSAFE_PICKLE_DECODE``), when set, is honoured too. A
process-wide setting, never a codec parameter: codec parameters come from metadata,
which may be untrusted."""

# a decoded JSON array may hold at most this many bytes beyond 8 per byte of text, so
# a corrupt shape or dtype cannot ask for an unbounded allocation
_JSON_SLACK = 1 << 20


def _copy_shaped(dec: Any, out: Any) -> Any:
    """Return ``dec``, or copy it into ``out`` (same shape, or same size in C order)."""
    if out is None:
        return dec
    if not isinstance(out, np.ndarray) or not isinstance(dec, np.ndarray):
        raise CodecError("out must be an ndarray and the data must decode to one")
    if out.shape != dec.shape:
        if out.size != dec.size:
            raise CodecError(f"out has shape {out.shape} but the data decodes to "
                             f"shape {dec.shape}")
        dec = dec.reshape(out.shape)
    try:
        np.copyto(out, dec)
    except (TypeError, ValueError) as exc:
        raise CodecError(f"cannot copy the decoded data into out: {exc}") from exc
    return out


def _corrupt(reason: str) -> CodecError:
    return CodecError(f"corrupt JSON codec data: {reason}")


class JSON(Codec):
    """Arrays as JSON text, byte-compatible with ``numcodecs.JSON`` (id ``json2``).

    The parameters are those of :class:`json.JSONEncoder` (and ``strict`` of
    :class:`json.JSONDecoder`), with numcodecs' defaults: keys sorted, the most compact
    separators (``(',', ':')``; ``(', ', ': ')`` when ``indent`` is given).

    Parameters
    ----------
    encoding : str
        Text encoding of the JSON document.
    skipkeys, ensure_ascii, check_circular, allow_nan, sort_keys, indent, separators
        As :class:`json.JSONEncoder`.
    strict : bool
        As :class:`json.JSONDecoder`.
    """

    codec_id = "json2"

    def __init__(
        self,
        encoding: str = "utf-8",
        skipkeys: bool = False,
        ensure_ascii: bool = True,
        check_circular: bool = True,
        allow_nan: bool = True,
        sort_keys: bool = True,
        indent: int | str | None = None,
        separators: tuple[str, str] | None = None,
        strict: bool = True,
    ) -> None:
        if separators is None:
            separators = (",", ":") if indent is None else (", ", ": ")
        self.encoding = encoding
        self.skipkeys = skipkeys
        self.ensure_ascii = ensure_ascii
        self.check_circular = check_circular
        self.allow_nan = allow_nan
        self.sort_keys = sort_keys
        self.indent = indent
        self.separators = tuple(separators)
        self.strict = strict
        try:
            self._encoder = _json.JSONEncoder(
                skipkeys=skipkeys, ensure_ascii=ensure_ascii, check_circular=check_circular,
                allow_nan=allow_nan, indent=indent, separators=self.separators,
                sort_keys=sort_keys)
            self._decoder = _json.JSONDecoder(strict=strict)
            "".encode(encoding)
        except (TypeError, ValueError, LookupError) as exc:
            raise CodecError(f"JSON: invalid parameters: {exc}") from exc

    def get_config(self) -> dict[str, Any]:
        # numcodecs' key order
        return {"id": self.codec_id, "encoding": self.encoding, "skipkeys": self.skipkeys,
                "ensure_ascii": self.ensure_ascii, "check_circular": self.check_circular,
                "allow_nan": self.allow_nan, "indent": self.indent,
                "separators": self.separators, "sort_keys": self.sort_keys,
                "strict": self.strict}

    def encode(self, buf: Any) -> bytes:
        """Encode an array (any shape, any dtype JSON can hold) as JSON bytes.

        Raises
        ------
        TypeError
            If an item is not JSON serialisable.
        """
        try:
            arr = np.asarray(buf)
        except ValueError:  # ragged sequences
            arr = np.asarray(buf, dtype=object)
        items = np.atleast_1d(arr).tolist()
        items.append(arr.dtype.str)
        items.append(arr.shape)
        return self._encoder.encode(items).encode(self.encoding)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Decode JSON bytes into an array of the encoded dtype and shape (or into ``out``).

        Raises
        ------
        czarr.errors.CodecError
            If ``buf`` is not a document this codec wrote.
        """
        try:
            text = buf if isinstance(buf, str) else bytes(_source(buf)).decode(self.encoding)
            items = self._decoder.decode(text)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise _corrupt(str(exc)) from None
        return _copy_shaped(self._unpack(items, len(text)), out)

    @staticmethod
    def _unpack(items: Any, text_length: int) -> np.ndarray:
        if not isinstance(items, list) or len(items) < 2:
            raise _corrupt("not a list of items, dtype and shape")
        shape, dtype_str, values = items[-1], items[-2], items[:-2]
        if not isinstance(shape, list) or not all(
                type(n) is int and n >= 0 for n in shape):
            raise _corrupt(f"invalid shape {shape!r}")
        try:
            dtype = np.dtype(dtype_str) if isinstance(dtype_str, str) else None
        except (TypeError, ValueError, SyntaxError):
            dtype = None
        if dtype is None or dtype.shape != ():
            raise _corrupt(f"invalid dtype {dtype_str!r}")
        size = math.prod(shape)
        if size and (size > text_length
                     or size * dtype.itemsize > 8 * text_length + _JSON_SLACK):
            raise _corrupt(f"shape {tuple(shape)} of {dtype.str} cannot fit in "
                           f"{text_length} characters")
        if not shape:
            flat = values
            if len(flat) != 1:
                raise _corrupt(f"{len(flat)} items for a 0-d array")
        else:
            # walk the nested lists level by level, so a wrong length is an error and
            # never a broadcast, and items that are lists stay items
            flat = [values]
            for depth, n in enumerate(shape):
                level: list[Any] = []
                for sub in flat:
                    if not isinstance(sub, list) or len(sub) != n:
                        raise _corrupt(f"items do not match shape {tuple(shape)} at "
                                       f"depth {depth}")
                    level.extend(sub)
                flat = level
        try:
            dec = np.empty(len(flat), dtype=dtype)
            if dtype.hasobject:
                for i, value in enumerate(flat):
                    dec[i] = value
            else:
                dec[...] = flat
        except (TypeError, ValueError, OverflowError) as exc:
            raise _corrupt(f"items do not fit dtype {dtype.str}: {exc}") from None
        return dec.reshape(shape)


def _unsafe_decode_allowed() -> bool:
    if ALLOW_UNSAFE_PICKLE_DECODE:
        return True
    numcodecs_pickles = sys.modules.get("numcodecs.pickles")
    return bool(getattr(numcodecs_pickles, "ALLOW_UNSAFE_PICKLE_DECODE", False))


class Pickle(Codec):
    """Arrays as pickles, byte-compatible with ``numcodecs.Pickle``.

    Decoding is refused (a :class:`czarr.errors.CodecError`) unless
    :data:`ALLOW_UNSAFE_PICKLE_DECODE` is True: unpickling can execute arbitrary code.

    Parameters
    ----------
    protocol : int
        Pickle protocol, -1 (the highest) to ``pickle.HIGHEST_PROTOCOL`` (the default).
    """

    codec_id = "pickle"

    def __init__(self, protocol: int = _pickle.HIGHEST_PROTOCOL) -> None:
        if (isinstance(protocol, bool) or not isinstance(protocol, int)
                or not -1 <= protocol <= _pickle.HIGHEST_PROTOCOL):
            raise CodecError(f"Pickle protocol must be an integer from -1 to "
                             f"{_pickle.HIGHEST_PROTOCOL}, got {protocol!r}")
        self.protocol = protocol

    def encode(self, buf: Any) -> bytes:
        return _pickle.dumps(buf, protocol=self.protocol)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Unpickle ``buf`` (only when unsafe decoding is allowed).

        Raises
        ------
        czarr.errors.CodecError
            If decoding is not allowed, or ``buf`` is not a valid pickle.
        """
        if not _unsafe_decode_allowed():
            raise CodecError(
                "Pickle.decode is disabled because unpickling can execute arbitrary code. "
                "If you trust this data, set czarr.codecs.objects.ALLOW_UNSAFE_PICKLE_DECODE"
                " = True, or CZARR_ALLOW_UNSAFE_PICKLE_DECODE=1 before importing czarr.")
        try:
            dec = _pickle.loads(_source(buf))
        except CodecError:
            raise
        except Exception as exc:  # a corrupt pickle can raise almost anything
            raise CodecError(f"corrupt or truncated pickle: {type(exc).__name__}: "
                             f"{exc}") from None
        return _copy_shaped(dec, out)
