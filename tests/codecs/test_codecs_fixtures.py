"""Decode the frames numcodecs wrote to tests/codecs/fixtures (see make_codec_fixtures.py)
byte for byte, without needing numcodecs, and re-encode them to the same bytes, or,
where those bytes came from another library version than czarr links, to the bytes that
library gives (linked_reference.py)."""

from __future__ import annotations

import json
import os

import linked_reference
import numpy as np
import pytest
from codec_testdata import library_dependent
from make_codec_fixtures import ARRAYS

import czarr.codecs as cc
from czarr._core import lz4 as core_lz4
from czarr._core import zstd as core_zstd

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
with open(os.path.join(HERE, "manifest.json")) as _f:
    MANIFEST = json.load(_f)


def _read(entry) -> bytes:
    with open(os.path.join(HERE, entry["file"]), "rb") as f:
        return f.read()


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_decode_fixture(entry):
    codec = cc.get_codec(entry["config"])
    assert isinstance(codec, cc.Codec)
    expected = ARRAYS[entry["dtype"]]()
    enc = _read(entry)
    assert np.array_equal(np.frombuffer(codec.decode(enc), expected.dtype), expected)
    out = np.empty_like(expected)
    codec.decode(enc, out=out)
    assert np.array_equal(out, expected)


def _written_with_other_library(entry) -> bool:
    """Whether the fixture's bytes depend on the version of libzstd or liblz4 and were
    written with another version than czarr links."""
    kind = library_dependent(entry["config"])
    linked = {"zstd": core_zstd.VERSION_STRING, "lz4": core_lz4.VERSION_STRING}
    return kind is not None and entry[f"lib{kind}"] != linked[kind]


@pytest.mark.parametrize("entry", [e for e in MANIFEST if e["config"]["id"] != "gzip"],
                         ids=lambda e: e["file"])
def test_encode_reproduces_fixture(entry):
    """gzip is left out: its header holds the time of writing.

    A fixture written with another libzstd/liblz4 than czarr links cannot be reproduced:
    czarr's encoding must then equal the linked library's, called as numcodecs calls it,
    and decode to the data, as the fixture itself does."""
    codec = cc.get_codec(entry["config"])
    data = ARRAYS[entry["dtype"]]()
    encoded = codec.encode(data)
    if not _written_with_other_library(entry):
        assert encoded == _read(entry)
        return
    assert encoded == linked_reference.encode(entry["config"], data)
    assert np.array_equal(np.frombuffer(codec.decode(encoded), data.dtype), data)
    assert np.array_equal(np.frombuffer(codec.decode(_read(entry)), data.dtype), data)
