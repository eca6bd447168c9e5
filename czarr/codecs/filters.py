"""Value filters, byte-compatible with numcodecs: Delta, FixedScaleOffset, Quantize,
AsType, BitRound and Categorize. Each works element by element, so each is a few NumPy
operations (the same operations numcodecs applies, in the same dtypes, which is what
makes the bytes identical). ``encode`` returns a flat ndarray of the encoded dtype, as
numcodecs does, so that a following compressor sees the same item size (Blosc's shuffle
depends on it); ``decode`` returns a flat ndarray of the decoded dtype, or writes into
``out``. The buffer helpers at the top are shared with :mod:`czarr.codecs.packing` and
:mod:`czarr.codecs.checksums`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from czarr.codecs._buffers import contiguous, writable
from czarr.codecs.abc import Codec
from czarr.errors import CodecError

__all__ = ["Delta", "FixedScaleOffset", "Quantize", "AsType", "BitRound", "Categorize"]

# items decoded at a time where decoding needs temporaries (float64 arithmetic)
_BLOCK = 1 << 16


# ---- buffers ------------------------------------------------------------------------

def flat_array(buf: Any, dtype: Any = None, what: str = "filter") -> np.ndarray:
    """A flat ndarray over ``buf`` in memory order, without a copy unless ``buf`` is a
    non-contiguous array.

    Parameters
    ----------
    buf : buffer-like
        An ndarray (C or F order) or any bytes-like object.
    dtype : dtype, optional
        View the bytes as this type; by default an ndarray keeps its own dtype and a
        bytes-like object is read as uint8.
    what : str
        The codec's name, for error messages.

    Returns
    -------
    numpy.ndarray
        A 1-d array (read-only when ``buf`` is).

    Raises
    ------
    czarr.errors.CodecError
        If the size is not a whole number of ``dtype`` items, or ``buf`` is no buffer.
    """
    src = contiguous(buf)
    arr = src if isinstance(src, np.ndarray) else np.frombuffer(src, dtype=np.uint8)
    if dtype is None or arr.dtype == dtype:
        return arr
    dtype = np.dtype(dtype)
    if arr.nbytes % dtype.itemsize:
        raise CodecError(f"{what}: a buffer of {arr.nbytes} bytes is not a whole number of "
                         f"{dtype.str} items ({dtype.itemsize} bytes each)")
    return arr.view(np.uint8).view(dtype)


def out_array(out: Any, dtype: Any, count: int, what: str = "filter") -> np.ndarray:
    """View ``out`` as a flat array of ``dtype`` to decode straight into.

    Parameters
    ----------
    out : writable contiguous buffer
        The caller's destination (ndarray of any dtype, memoryview, bytearray).
    dtype : dtype
        Item type of the view.
    count : int
        Number of items the data decodes to; ``out`` must hold exactly that many bytes.
    what : str
        The codec's name, for error messages.

    Returns
    -------
    numpy.ndarray
        A writable 1-d view of ``out``'s memory.

    Raises
    ------
    czarr.errors.CodecError
        If ``out`` is read-only, non-contiguous, or of another size.
    """
    dtype = np.dtype(dtype)
    target = np.asarray(writable(out)).reshape(-1, order="A").view(np.uint8)
    if target.nbytes != count * dtype.itemsize:
        raise CodecError(f"{what}: destination holds {target.nbytes} bytes but the data "
                         f"decodes to {count * dtype.itemsize}")
    return target.view(dtype)


def deliver(decoded: np.ndarray, out: Any, what: str = "filter") -> Any:
    """Hand decoded data to the caller.

    Parameters
    ----------
    decoded : numpy.ndarray
        The decoded data.
    out : writable contiguous buffer or None
        The caller's destination, of exactly ``decoded.nbytes`` bytes.
    what : str
        The codec's name, for error messages.

    Returns
    -------
    numpy.ndarray or out
        ``decoded`` when ``out`` is None, else ``out`` holding its bytes.
    """
    if out is None:
        return decoded
    source = decoded.reshape(-1, order="A")
    target = out_array(out, source.dtype, source.size, what)
    target[...] = source
    return out


def _check_out_items(out: Any, count: int, dtype: np.dtype, what: str) -> None:
    """Refuse, before decoding, data of ``count`` items of ``dtype`` that cannot fill
    ``out`` (an object array counts items, any other buffer bytes; None passes)."""
    if out is None:
        return
    if isinstance(out, np.ndarray) and out.dtype.hasobject:
        have, need, unit = out.size, count, "items"
    else:
        have, need, unit = memoryview(writable(out)).nbytes, count * dtype.itemsize, "bytes"
    if have != need:
        raise CodecError(f"{what}: destination holds {have} {unit} but the data decodes "
                         f"to {need}")


def _dtype(value: Any, name: str, what: str) -> np.dtype:
    try:
        dtype = np.dtype(value)
    except TypeError as exc:
        raise CodecError(f"{what} {name} must be a NumPy dtype, got {value!r}") from exc
    return dtype


def _value_dtypes(what: str, dtype: Any, astype: Any) -> tuple[np.dtype, np.dtype]:
    decoded = _dtype(dtype, "dtype", what)
    encoded = decoded if astype is None else _dtype(astype, "astype", what)
    if decoded.hasobject or encoded.hasobject:
        raise CodecError(f"{what} does not support object arrays")
    return decoded, encoded


def _number(value: Any, name: str, what: str) -> int | float:
    """A JSON-compatible Python number (NumPy scalars become int or float)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CodecError(f"{what} {name} must be a real number, got {value!r}")
    if isinstance(value, int | float):
        return value
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _repr_astype(codec: Any) -> str:
    return f", astype={codec.astype.str!r}" if codec.astype != codec.dtype else ""


# ---- Delta --------------------------------------------------------------------------

class Delta(Codec):
    """The first value, then the difference between neighbours, byte-compatible with
    ``numcodecs.Delta``.

    Parameters
    ----------
    dtype : dtype
        Data type of the decoded data.
    astype : dtype, optional
        Data type of the encoded data (default ``dtype``). It must hold the first value
        and every difference: integer overflow wraps silently, as in numcodecs.
    """

    codec_id = "delta"

    def __init__(self, dtype: Any, astype: Any = None) -> None:
        self.dtype, self.astype = _value_dtypes("Delta", dtype, astype)

    def encode(self, buf: Any) -> np.ndarray:
        values = flat_array(buf, self.dtype, "Delta")
        encoded = np.empty(values.shape, dtype=self.astype)
        if values.size == 0:
            return encoded
        encoded[0] = values[0]
        if self.astype == self.dtype and self.dtype.kind != "b":
            np.subtract(values[1:], values[:-1], out=encoded[1:])
        else:  # np.diff also gives bool's difference (not_equal), then the cast to astype
            encoded[1:] = np.diff(values)
        return encoded

    def decode(self, buf: Any, out: Any = None) -> Any:
        encoded = flat_array(buf, self.astype, "Delta")
        if out is None:
            decoded = np.empty(encoded.shape, dtype=self.dtype)
            np.cumsum(encoded, out=decoded)
            return decoded
        np.cumsum(encoded, out=out_array(out, self.dtype, encoded.size, "Delta"))
        return out

    def get_config(self) -> dict[str, Any]:
        return {"id": self.codec_id, "dtype": self.dtype.str, "astype": self.astype.str}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dtype={self.dtype.str!r}{_repr_astype(self)})"


# ---- FixedScaleOffset ---------------------------------------------------------------

class FixedScaleOffset(Codec):
    """``round((x - offset) * scale)`` stored as ``astype``, byte-compatible with
    ``numcodecs.FixedScaleOffset`` (HDF5's scale-offset filter without bit packing).

    Parameters
    ----------
    offset : float
        Value subtracted from the data.
    scale : float
        Factor the data is then multiplied by.
    dtype : dtype
        Data type of the decoded data.
    astype : dtype, optional
        Data type of the encoded data (default ``dtype``); values outside its range
        wrap or saturate silently, as in numcodecs.
    """

    codec_id = "fixedscaleoffset"

    def __init__(self, offset: float, scale: float, dtype: Any, astype: Any = None) -> None:
        self.offset = _number(offset, "offset", "FixedScaleOffset")
        self.scale = _number(scale, "scale", "FixedScaleOffset")
        self.dtype, self.astype = _value_dtypes("FixedScaleOffset", dtype, astype)

    def encode(self, buf: Any) -> np.ndarray:
        values = flat_array(buf, self.dtype, "FixedScaleOffset")
        scaled = np.around((values - self.offset) * self.scale)
        return scaled.astype(self.astype, copy=False)

    def decode(self, buf: Any, out: Any = None) -> Any:
        encoded = flat_array(buf, self.astype, "FixedScaleOffset")
        if out is None:
            return (encoded / self.scale + self.offset).astype(self.dtype, copy=False)
        target = out_array(out, self.dtype, encoded.size, "FixedScaleOffset")
        for i in range(0, encoded.size, _BLOCK):  # float64 temporaries of a block only
            part = encoded[i:i + _BLOCK]
            target[i:i + _BLOCK] = (part / self.scale + self.offset).astype(self.dtype,
                                                                          copy=False)
        return out

    def get_config(self) -> dict[str, Any]:
        return {"id": self.codec_id, "scale": self.scale, "offset": self.offset,
                "dtype": self.dtype.str, "astype": self.astype.str}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(scale={self.scale}, offset={self.offset}, "
                f"dtype={self.dtype.str!r}{_repr_astype(self)})")


# ---- Quantize -----------------------------------------------------------------------

class Quantize(Codec):
    """Round floating-point data to a power-of-two step at least as fine as
    ``10**-digits`` (lossy; decoding only casts back), byte-compatible with
    ``numcodecs.Quantize``.

    Parameters
    ----------
    digits : int
        Number of decimal digits to keep.
    dtype : dtype
        Floating-point data type of the decoded data.
    astype : dtype, optional
        Floating-point data type of the encoded data (default ``dtype``).
    """

    codec_id = "quantize"

    def __init__(self, digits: int, dtype: Any, astype: Any = None) -> None:
        if isinstance(digits, bool) or not isinstance(digits, numbers.Integral):
            raise CodecError(f"Quantize digits must be an integer, got {digits!r}")
        self.digits = int(digits)
        self.dtype, self.astype = _value_dtypes("Quantize", dtype, astype)
        if self.dtype.kind != "f" or self.astype.kind != "f":
            raise CodecError(f"Quantize supports floating-point data types only, got "
                             f"dtype={self.dtype.str!r}, astype={self.astype.str!r}")

    def _scale(self) -> float:
        # the step is 2**-bits with 2**bits >= 10**digits, computed as numcodecs does
        # (through log10 of the precision) so that the float results agree exactly
        exponent = math.log10(10.0 ** -self.digits)
        exponent = math.floor(exponent) if exponent < 0 else math.ceil(exponent)
        bits = math.ceil(math.log2(10.0 ** -exponent))
        return 2.0 ** bits

    def encode(self, buf: Any) -> np.ndarray:
        values = flat_array(buf, self.dtype, "Quantize")
        scale = self._scale()
        return (np.around(scale * values) / scale).astype(self.astype, copy=False)

    def decode(self, buf: Any, out: Any = None) -> Any:
        encoded = flat_array(buf, self.astype, "Quantize")
        if out is None:
            return encoded.astype(self.dtype, copy=False)
        out_array(out, self.dtype, encoded.size, "Quantize")[...] = encoded
        return out

    def get_config(self) -> dict[str, Any]:
        return {"id": self.codec_id, "digits": self.digits, "dtype": self.dtype.str,
                "astype": self.astype.str}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(digits={self.digits}, dtype={self.dtype.str!r}"
                f"{_repr_astype(self)})")


# ---- AsType -------------------------------------------------------------------------

class AsType(Codec):
    """Store the data cast to another type, byte-compatible with ``numcodecs.AsType``.

    Parameters
    ----------
    encode_dtype : dtype
        Data type of the encoded data (a narrower type loses data silently).
    decode_dtype : dtype
        Data type of the decoded data.
    """

    codec_id = "astype"

    def __init__(self, encode_dtype: Any, decode_dtype: Any) -> None:
        self.encode_dtype = _dtype(encode_dtype, "encode_dtype", "AsType")
        self.decode_dtype = _dtype(decode_dtype, "decode_dtype", "AsType")
        if self.encode_dtype.hasobject or self.decode_dtype.hasobject:
            raise CodecError("AsType does not support object arrays")

    def encode(self, buf: Any) -> np.ndarray:
        return flat_array(buf, self.decode_dtype, "AsType").astype(self.encode_dtype)

    def decode(self, buf: Any, out: Any = None) -> Any:
        encoded = flat_array(buf, self.encode_dtype, "AsType")
        if out is None:
            return encoded.astype(self.decode_dtype)
        out_array(out, self.decode_dtype, encoded.size, "AsType")[...] = encoded
        return out

    def get_config(self) -> dict[str, Any]:
        return {"id": self.codec_id, "encode_dtype": self.encode_dtype.str,
                "decode_dtype": self.decode_dtype.str}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(encode_dtype={self.encode_dtype.str!r}, "
                f"decode_dtype={self.decode_dtype.str!r})")


# ---- BitRound -----------------------------------------------------------------------

# explicit mantissa bits of IEEE 754 half, single and double precision, by item size
_MANTISSA_BITS = {2: 10, 4: 23, 8: 52}


class BitRound(Codec):
    """Round floating-point mantissas to ``keepbits`` bits (round half to even on the
    bit pattern; lossy, decoding is a plain view), byte-compatible with
    ``numcodecs.BitRound`` (Klöwer et al. 2021). The input must be a float16, float32 or
    float64 array; the encoded array is the same-width signed integer view.

    Parameters
    ----------
    keepbits : int
        Mantissa bits to keep: 0 up to 10, 23 or 52 (keeping all is the identity).
    """

    codec_id = "bitround"

    def __init__(self, keepbits: int) -> None:
        if isinstance(keepbits, bool) or not isinstance(keepbits, numbers.Integral) or \
                keepbits < 0:
            raise CodecError(f"BitRound keepbits must be an integer >= 0, got {keepbits!r}")
        self.keepbits = int(keepbits)

    def encode(self, buf: Any) -> np.ndarray:
        values = flat_array(buf)
        if values.dtype.kind != "f" or values.dtype.itemsize not in _MANTISSA_BITS:
            raise CodecError(f"BitRound encodes float16, float32 or float64 arrays, got "
                             f"{values.dtype.str!r}")
        bits = _MANTISSA_BITS[values.dtype.itemsize]
        if self.keepbits > bits:
            raise CodecError(f"BitRound keepbits={self.keepbits} exceeds the {bits} mantissa "
                             f"bits of {values.dtype.str!r}")
        if self.keepbits == bits:
            return values
        int_dtype = np.dtype(values.dtype.str.replace("f", "i"))  # same width and order
        rounded = values.view(int_dtype).copy()
        dropped = bits - self.keepbits
        mask = (np.array(-1, dtype=int_dtype) >> dropped) << dropped
        # add half a quantum minus one, plus the last kept bit (ties go to even), then cut
        rounded += ((rounded >> dropped) & 1) + ((1 << (dropped - 1)) - 1)
        rounded &= mask
        return rounded

    def decode(self, buf: Any, out: Any = None) -> Any:
        encoded = flat_array(buf)
        if encoded.dtype.kind == "i" and encoded.dtype.itemsize in _MANTISSA_BITS:
            encoded = encoded.view(encoded.dtype.str.replace("i", "f"))
        return deliver(encoded, out, "BitRound")


# ---- Categorize ---------------------------------------------------------------------

def _text(label: Any) -> str:
    if isinstance(label, str):
        return label
    try:
        return bytes(memoryview(label)).decode("utf-8")
    except (TypeError, UnicodeDecodeError) as exc:
        raise CodecError(f"Categorize labels must be strings, got {label!r}") from exc


class Categorize(Codec):
    """Store strings as small integers: label ``i`` becomes ``i + 1`` and anything not
    among the labels becomes 0 (decoded as ''), byte-compatible with
    ``numcodecs.Categorize``.

    Parameters
    ----------
    labels : sequence of str
        The category labels.
    dtype : dtype
        Data type of the decoded data: unicode (``'U'``) or object.
    astype : dtype, optional
        Data type of the encoded data (default ``'u1'``: up to 255 labels).
    """

    codec_id = "categorize"

    def __init__(self, labels: Iterable[str], dtype: Any, astype: Any = "u1") -> None:
        self.dtype = _dtype(dtype, "dtype", "Categorize")
        if self.dtype.kind not in "UO":
            raise CodecError(f"Categorize supports unicode ('U') and object data types "
                             f"only, got {self.dtype.str!r}")
        if isinstance(labels, str | bytes):
            raise CodecError(f"Categorize labels must be a sequence of strings, got "
                             f"{labels!r}")
        self.labels = [_text(label) for label in labels]
        self.astype = _dtype(astype, "astype", "Categorize")
        if self.astype.hasobject:
            raise CodecError("Categorize cannot encode as an object array")

    def encode(self, buf: Any) -> np.ndarray:
        if self.dtype.hasobject:
            values = np.asarray(buf, dtype=object).reshape(-1, order="A")
        else:
            values = flat_array(buf, self.dtype, "Categorize")
        encoded = np.zeros(values.shape, dtype=self.astype)
        for code, label in enumerate(self.labels, start=1):
            encoded[values == label] = code  # a repeated label: the last one wins
        return encoded

    def decode(self, buf: Any, out: Any = None) -> Any:
        encoded = flat_array(buf, self.astype, "Categorize")
        _check_out_items(out, encoded.size, self.dtype, "Categorize")
        decoded = np.full(encoded.shape, "", dtype=self.dtype)
        for code, label in enumerate(self.labels, start=1):
            decoded[encoded == code] = label
        if isinstance(out, np.ndarray) and out.dtype.hasobject:
            if out.size != decoded.size:
                raise CodecError(f"Categorize: destination holds {out.size} items but the "
                                 f"data decodes to {decoded.size}")
            order = "F" if out.flags.f_contiguous and not out.flags.c_contiguous else "C"
            out[...] = decoded.reshape(out.shape, order=order)
            return out
        return deliver(decoded, out, "Categorize")

    def get_config(self) -> dict[str, Any]:
        return {"id": self.codec_id, "labels": list(self.labels), "dtype": self.dtype.str,
                "astype": self.astype.str}

    def __repr__(self) -> str:
        labels = repr(self.labels[:3])
        if len(self.labels) > 3:
            labels = labels[:-1] + ", ...]"
        return (f"{type(self).__name__}(dtype={self.dtype.str!r}, "
                f"astype={self.astype.str!r}, labels={labels})")
