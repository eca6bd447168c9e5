"""Object codecs (VLenUTF8, VLenBytes, VLenArray, JSON, Pickle): round trips, the same
bytes and configs as numcodecs both ways, ``out=`` handling, and corrupt or truncated
input refused with CodecError only."""

from __future__ import annotations

import pickle
import struct

import numcodecs  # a test dependency: a missing numcodecs fails, never skips
import numcodecs.pickles
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from czarr.codecs import JSON, Pickle, VLenArray, VLenBytes, VLenUTF8, get_codec
from czarr.codecs import objects as objects_module
from czarr.errors import CodecError


def objects(values, shape=None):
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return arr if shape is None else arr.reshape(shape)


STRINGS = ["", "a", "héllo wörld", "日本語", "\U0001f600 emoji", "x" * 1000, "nul\x00inside"]
BYTES = [b"", b"a", b"\x00\xff" * 100, "é".encode(), b"z" * 1000]


@pytest.fixture
def allow_pickle(monkeypatch):
    monkeypatch.setattr(objects_module, "ALLOW_UNSAFE_PICKLE_DECODE", True)
    if numcodecs is not None:
        monkeypatch.setattr(numcodecs.pickles, "ALLOW_UNSAFE_PICKLE_DECODE", True)


# ---------------------------------------------------------------------------------------
# byte compatibility with numcodecs
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(7,), (7, 1), None])
def test_vlen_utf8_same_bytes_as_numcodecs(shape):
    x = objects(STRINGS, shape)
    ours, theirs = VLenUTF8().encode(x), bytes(numcodecs.VLenUTF8().encode(x))
    assert ours == theirs
    assert struct.unpack_from("<I", ours)[0] == len(STRINGS)
    assert list(VLenUTF8().decode(theirs)) == STRINGS
    assert list(numcodecs.VLenUTF8().decode(ours)) == STRINGS


def test_vlen_fortran_order_flattening_matches_numcodecs():
    x = np.asfortranarray(objects(["a", "b", "c", "d", "e", "f"], (2, 3)))
    assert VLenUTF8().encode(x) == bytes(numcodecs.VLenUTF8().encode(x))
    assert list(VLenUTF8().decode(VLenUTF8().encode(x))) == ["a", "d", "b", "e", "c", "f"]
    strided = objects(["a", "b", "c", "d"])[::2]
    assert VLenUTF8().encode(strided) == bytes(numcodecs.VLenUTF8().encode(strided))


def test_vlen_missing_values_are_empty_like_numcodecs():
    x = objects(["a", None, 0, False, "b"])
    assert VLenUTF8().encode(x) == bytes(numcodecs.VLenUTF8().encode(x))
    assert list(VLenUTF8().decode(VLenUTF8().encode(x))) == ["a", "", "", "", "b"]
    y = objects([b"a", None, 0, b""])
    assert VLenBytes().encode(y) == bytes(numcodecs.VLenBytes().encode(y))


def test_vlen_bytes_same_bytes_as_numcodecs():
    x = objects(BYTES)
    ours = VLenBytes().encode(x)
    assert ours == bytes(numcodecs.VLenBytes().encode(x))
    assert list(VLenBytes().decode(ours)) == BYTES
    assert list(numcodecs.VLenBytes().decode(ours)) == BYTES


@pytest.mark.parametrize("dtype", ["<i2", ">i4", "<f8", "u1", "<M8[ns]"])
def test_vlen_array_same_bytes_as_numcodecs(dtype):
    items = [np.arange(5), np.arange(0), np.arange(1), None, np.arange(300)]
    x = objects([None if v is None else v.astype(dtype) for v in items])
    if dtype[1] == "M":  # numcodecs cannot take datetimes' buffers: compare on int64
        ours = VLenArray(dtype).encode(x)
        assert ours == VLenArray("<i8").encode(objects(
            [None if v is None else v.view("<i8") for v in x]))
    else:
        ours = VLenArray(dtype).encode(x)
        assert ours == bytes(numcodecs.VLenArray(dtype).encode(x))
        for a, b in zip(numcodecs.VLenArray(dtype).decode(ours), VLenArray(dtype).decode(ours)):
            np.testing.assert_array_equal(a, b)
    decoded = VLenArray(dtype).decode(ours)
    assert decoded.dtype == object and decoded.shape == (5,)
    for got, want in zip(decoded, items):
        want = np.zeros(0) if want is None else want
        assert got.dtype == np.dtype(dtype) and got.flags.writeable
        np.testing.assert_array_equal(got, want.astype(dtype))


def test_vlen_array_casts_and_refuses_nd_items():
    codec = VLenArray("<i2")
    x = objects([[1, 2, 3], 7, np.array([1.9, 2.1])])
    assert codec.encode(x) == bytes(numcodecs.VLenArray("<i2").encode(x))
    with pytest.raises(CodecError, match="1-d"):
        codec.encode(objects([np.zeros((2, 2))]))
    for bad in ("O", "V0", "not a dtype"):
        with pytest.raises(CodecError):
            VLenArray(bad)


@pytest.mark.parametrize("data", [
    objects(["foo", "bär", None, ""]),
    objects(["a", "b", "c", "d", "e", "f"], (2, 3)),
    np.array("scalar", dtype=object),
    objects([1, 2.5, None, True, "s", [1, [2]], {"b": 1, "a": [None]}]),
    np.arange(6).reshape(3, 2),
    np.array([1.5, float("nan"), float("inf")]),
    np.array(["ab", "c"], dtype="<U2"),
    np.empty((0, 3), dtype=object),
])
def test_json_same_bytes_as_numcodecs(data):
    ours, theirs = JSON().encode(data), numcodecs.JSON().encode(data)
    assert ours == theirs
    decoded = JSON().decode(theirs)
    assert decoded.shape == data.shape and decoded.dtype == data.dtype
    if data.dtype.kind == "f":
        np.testing.assert_array_equal(decoded, data)
    else:
        assert decoded.tolist() == data.tolist()


def test_json_decodes_items_that_are_lists():
    # numcodecs cannot decode this one (it broadcasts the lists); czarr keeps them items
    x = objects([[1, 2], [3, 4]])
    decoded = JSON().decode(JSON().encode(x))
    assert decoded.shape == (2,) and decoded[0] == [1, 2] and decoded[1] == [3, 4]


def test_json_config_matches_numcodecs():
    for kwargs in ({}, {"indent": 2}, {"sort_keys": False, "ensure_ascii": False},
                   {"separators": [", ", ": "], "encoding": "utf-16"}):
        ours, theirs = JSON(**kwargs), numcodecs.JSON(**kwargs)
        assert ours.get_config() == theirs.get_config()
        assert list(ours.get_config()) == list(theirs.get_config())
        x = objects(["é", {"z": 1, "a": 2}])
        assert ours.encode(x) == theirs.encode(x)
        assert get_codec(theirs.get_config()) == ours
        assert ours.decode(theirs.encode(x)).tolist() == x.tolist()
    assert JSON().get_config()["separators"] == (",", ":")
    assert JSON(indent=1).get_config()["separators"] == (", ", ": ")
    # a config read back from a .zarray holds lists
    assert JSON.from_config({"id": "json2", "separators": [",", ":"]}) == JSON()


def test_vlen_configs_and_registry():
    for ours, theirs in [(VLenUTF8(), numcodecs.VLenUTF8()),
                         (VLenBytes(), numcodecs.VLenBytes()),
                         (VLenArray("i2"), numcodecs.VLenArray("i2")),
                         (Pickle(), numcodecs.Pickle()),
                         (Pickle(protocol=2), numcodecs.Pickle(protocol=2))]:
        assert ours.get_config() == theirs.get_config()
        rebuilt = get_codec(theirs.get_config())
        assert type(rebuilt) is type(ours) and rebuilt == ours
    assert VLenArray(">f4").get_config() == {"id": "vlen-array", "dtype": ">f4"}
    assert repr(VLenArray("<i2")) == "VLenArray(dtype='<i2')"
    assert repr(VLenUTF8()) == "VLenUTF8()"
    with pytest.raises(CodecError):
        Pickle(protocol=99)


def test_pickle_same_bytes_as_numcodecs(allow_pickle):
    x = objects(["a", b"b", 3, None, np.arange(3), {"k": [1]}], (2, 3))
    for protocol in (2, 4, 5):
        ours = Pickle(protocol).encode(x)
        assert ours == numcodecs.Pickle(protocol).encode(x)
        decoded = Pickle().decode(ours)
        assert decoded.shape == (2, 3)
        assert decoded[0, 0] == "a" and decoded[1, 2] == {"k": [1]}
        np.testing.assert_array_equal(numcodecs.Pickle().decode(ours)[1, 1], np.arange(3))


def test_pickle_decoding_needs_opt_in(monkeypatch):
    monkeypatch.setattr(objects_module, "ALLOW_UNSAFE_PICKLE_DECODE", False)
    monkeypatch.setattr(numcodecs.pickles, "ALLOW_UNSAFE_PICKLE_DECODE", False)
    data = Pickle().encode(objects(["a"]))
    with pytest.raises(CodecError, match="arbitrary code"):
        Pickle().decode(data)
    monkeypatch.setattr(numcodecs.pickles, "ALLOW_UNSAFE_PICKLE_DECODE", True)
    assert Pickle().decode(data).tolist() == ["a"]


# ---------------------------------------------------------------------------------------
# out=, input types, errors on encode
# ---------------------------------------------------------------------------------------


def test_decode_into_out():
    enc = VLenUTF8().encode(objects(["a", "b", "c", "d"]))
    out = np.empty((2, 2), dtype=object)
    assert VLenUTF8().decode(enc, out=out) is out
    assert out.tolist() == [["a", "b"], ["c", "d"]]
    fout = np.empty((2, 2), dtype=object, order="F")
    VLenUTF8().decode(enc, out=fout)
    assert fout.tolist() == [["a", "c"], ["b", "d"]]
    view = np.empty((4, 2), dtype=object)[:, 0]
    VLenUTF8().decode(enc, out=view)
    assert view.tolist() == ["a", "b", "c", "d"]
    arr_out = np.empty(2, dtype=object)
    VLenArray("u1").decode(VLenArray("u1").encode(objects([[1], [2, 3]])), out=arr_out)
    assert [a.tolist() for a in arr_out] == [[1], [2, 3]]
    for bad in (np.empty(3, dtype=object), np.empty(4, dtype="U1"), bytearray(4)):
        with pytest.raises(CodecError):
            VLenUTF8().decode(enc, out=bad)
    jout = np.empty(4, dtype=object)
    JSON().decode(JSON().encode(objects(["a", "b", "c", "d"], (2, 2))), out=jout)
    assert jout.tolist() == ["a", "b", "c", "d"]


def test_decode_accepts_buffers():
    enc = VLenBytes().encode(objects([b"ab", b"c"]))
    for buf in (enc, bytearray(enc), memoryview(enc), np.frombuffer(enc, dtype="u1")):
        assert VLenBytes().decode(buf).tolist() == [b"ab", b"c"]
    assert VLenUTF8().decode(VLenUTF8().encode([])).shape == (0,)
    assert VLenUTF8().encode(np.array("only")) == VLenUTF8().encode(["only"])


def test_encode_refuses_wrong_item_types():
    with pytest.raises(TypeError):
        VLenUTF8().encode(objects(["a", b"b"]))
    with pytest.raises(TypeError):
        VLenBytes().encode(objects([b"a", "b"]))
    with pytest.raises(TypeError):
        VLenUTF8().encode(objects([np.arange(3)]))
    with pytest.raises(CodecError):
        VLenUTF8().encode(objects(["\ud800"]))
    with pytest.raises(TypeError):
        JSON().encode(objects([object()]))


# ---------------------------------------------------------------------------------------
# corrupt and truncated input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("buf", [
    b"", b"\x01\x00\x00", b"\x01\x00\x00\x00", b"\x01\x00\x00\x00\x05\x00\x00\x00abc",
    b"\xff\xff\xff\xff" + b"\x00" * 12,            # count far beyond the data
    b"\x01\x00\x00\x00\xff\xff\xff\xffabc",         # length far beyond the data
    b"\x00\x00\x00\x00extra",                       # trailing bytes
    b"\x01\x00\x00\x00\x01\x00\x00\x00a!",          # trailing bytes after an item
])
def test_vlen_corrupt_input(buf):
    for codec in (VLenUTF8(), VLenBytes(), VLenArray("u1")):
        with pytest.raises(CodecError):
            codec.decode(buf)


def test_vlen_invalid_contents():
    with pytest.raises(CodecError, match="UTF-8"):
        VLenUTF8().decode(b"\x01\x00\x00\x00\x01\x00\x00\x00\xff")
    with pytest.raises(CodecError, match="multiple"):
        VLenArray("<i4").decode(b"\x01\x00\x00\x00\x03\x00\x00\x00abc")
    with pytest.raises(CodecError):
        VLenUTF8().decode(np.array(["x"], dtype=object))


@pytest.mark.parametrize("text", [
    b"", b"{}", b"[]", b"[1]", b"[1, 2]", b'["a","|O",[2]]', b'["a","|O",[1,0]]',
    b'["a","nonsense",[1]]', b'["a",5,[1]]', b'["a","|O",[-1]]', b'["a","|O",[true]]',
    b'[["a"],"|O",[1000000000]]', b'["a","<f8",[1]]', b'[1,2,"<i8",[3]]',
    b'[[1],[2],"<i8",[2,3]]', b'[1,"<U2000000000",[1]]', b'["a","(2,)i4",[1]]',
    b"\xff\xfe", b'["a","|O",[1]', b'[1,"<i8",1]', b'[1,"|O",[]' + b"]" * 2,
])
def test_json_corrupt_input(text):
    with pytest.raises(CodecError):
        JSON().decode(text)


def test_pickle_corrupt_input(allow_pickle):
    good = Pickle().encode(objects(["a", "b"]))
    for bad in (b"", good[:-1], good[: len(good) // 2], b"garbage", b"\x80\x05K"):
        with pytest.raises(CodecError):
            Pickle().decode(bad)


VALID = {
    "utf8": (VLenUTF8(), VLenUTF8().encode(objects(STRINGS))),
    "bytes": (VLenBytes(), VLenBytes().encode(objects(BYTES))),
    "array": (VLenArray("<i2"), VLenArray("<i2").encode(
        objects([np.arange(4), None, np.arange(9)]))),
    "json": (JSON(), JSON().encode(objects(["a", 1, None, [2.5], {"k": "v"}], (5, 1)))),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(sorted(VALID)), data=st.data())
def test_mutations_raise_codec_error_only(which, data):
    codec, valid = VALID[which]
    buf = bytearray(valid)
    kind = data.draw(st.sampled_from(["truncate", "flip", "set", "insert", "delete"]))
    if kind == "truncate":
        buf = buf[: data.draw(st.integers(0, len(buf) - 1))]
    else:
        pos = data.draw(st.integers(0, len(buf) - 1))
        byte = data.draw(st.integers(0, 255))
        if kind == "flip":
            buf[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "set":
            buf[pos] = byte
        elif kind == "insert":
            buf.insert(pos, byte)
        else:
            del buf[pos]
    try:
        decoded = codec.decode(bytes(buf))
    except CodecError:
        return
    assert isinstance(decoded, np.ndarray)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=30))
def test_vlen_utf8_round_trip_and_numcodecs_agree(values):
    x = objects(values)
    ours = VLenUTF8().encode(x)
    assert ours == bytes(numcodecs.VLenUTF8().encode(x))
    assert VLenUTF8().decode(ours).tolist() == ["" if v is None else v for v in values]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=5), st.integers(-10, 10),
                          st.lists(st.integers(), max_size=3)), min_size=1, max_size=10))
def test_json_round_trip_and_numcodecs_agree(values):
    x = objects(values)
    ours = JSON().encode(x)
    assert ours == numcodecs.JSON().encode(x)
    assert JSON().decode(ours).tolist() == values


def test_pickle_round_trip_nested_arrays(allow_pickle):
    x = objects([np.arange(3), objects(["a", None]), "s"])
    decoded = Pickle().decode(Pickle().encode(x))
    np.testing.assert_array_equal(decoded[0], np.arange(3))
    assert decoded[1].tolist() == ["a", None]
    assert pickle.loads(Pickle().encode(x))[2] == "s"


_UAF_SCRIPT = """
import gc
import numpy as np
from czarr.codecs import {codec}

class Replacer:
    # equal to 0 (so packed as a missing item), and on the way it drops the array's
    # reference to an earlier item whose data the encoder may already point at
    def __init__(self, arr):
        self.arr = arr
    def __eq__(self, other):
        self.arr[0] = {other}
        gc.collect()
        return True

arr = np.empty(3, dtype=object)
first = {first}
arr[0] = first
del first
arr[1] = Replacer(arr)
arr[2] = {last}
codec = {codec}()
enc = codec.encode(arr)
filler = [{other} * 3 for _ in range(200)]  # would take over freed memory
out = codec.decode(enc)
assert out.tolist() == [{expected}, {empty}, {last}], out.tolist()[:1]
print("ok")
"""


@pytest.mark.parametrize("codec,first,other,last,empty", [
    ("VLenUTF8", "'é' * (1 << 20) + 'x'", "'y' * (1 << 20)", "'z'", "''"),
    ("VLenBytes", "b'\\x01' * (1 << 20) + b'x'", "b'y' * (1 << 20)", "b'z'", "b''"),
])
def test_encode_survives_user_code_dropping_earlier_items(codec, first, other, last, empty):
    """Was a use-after-free: the encoder kept borrowed pointers to the items, then ran
    ``item == 0`` on later ones, whose ``__eq__`` could free an earlier item. The items
    are held for the whole encode, so the array as it was at the start is packed."""
    import subprocess
    import sys

    script = _UAF_SCRIPT.format(codec=codec, first=first, other=other, last=last,
                                empty=empty, expected=first)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (proc.returncode,
                                                                  proc.stderr[-2000:])
