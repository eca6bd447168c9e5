"""czarr.util: integer ceil division and zarr-python 2's report formatting."""

from __future__ import annotations

import math

import pytest

from czarr.util import ceildiv, human_readable_size, info_text_report


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(0, 1, 0), (1, 1, 1), (10, 3, 4), (9, 3, 3), (1, 10, 1), (2**63 + 1, 2, 2**62 + 1),
     (2**64 - 1, 2**32, 2**32), (-7, 2, -3)],
)
def test_ceildiv(a, b, expected):
    assert ceildiv(a, b) == expected


def test_ceildiv_exact_where_floats_are_not():
    a = 2**53 + 1
    assert ceildiv(a, 1) == a
    assert math.ceil(a / 1) != a  # the float version is off by one here


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0"),
        (100, "100"),
        (1023, "1023"),
        (2**10, "1.0K"),
        (10000, "9.8K"),
        (2**20, "1.0M"),
        (400000000, "381.5M"),
        (2**30, "1.0G"),
        (2**40, "1.0T"),
        (2**50, "1.0P"),
        (40000000000000000, "35.5P"),
        (2**60, "1024.0P"),
    ],
)
def test_human_readable_size(size, text):
    assert human_readable_size(size) == text


def test_info_text_report_as_zarr2_tutorial():
    # the report printed in zarr-python 2's tutorial, wrapping of the compressor included
    items = [
        ("Type", "zarr.core.Array"),
        ("Data type", "int32"),
        ("Shape", "(10000, 10000)"),
        ("Chunk shape", "(1000, 1000)"),
        ("Order", "C"),
        ("Read-only", "False"),
        ("Compressor", "Blosc(cname='zstd', clevel=3, shuffle=BITSHUFFLE, blocksize=0)"),
        ("Store type", "zarr.storage.KVStore"),
        ("No. bytes", f"400000000 ({human_readable_size(400000000)})"),
        ("No. bytes stored", f"3379344 ({human_readable_size(3379344)})"),
        ("Storage ratio", "118.4"),
        ("Chunks initialized", "100/100"),
    ]
    assert info_text_report(items) == (
        "Type               : zarr.core.Array\n"
        "Data type          : int32\n"
        "Shape              : (10000, 10000)\n"
        "Chunk shape        : (1000, 1000)\n"
        "Order              : C\n"
        "Read-only          : False\n"
        "Compressor         : Blosc(cname='zstd', clevel=3, shuffle=BITSHUFFLE,\n"
        "                   : blocksize=0)\n"
        "Store type         : zarr.storage.KVStore\n"
        "No. bytes          : 400000000 (381.5M)\n"
        "No. bytes stored   : 3379344 (3.2M)\n"
        "Storage ratio      : 118.4\n"
        "Chunks initialized : 100/100\n"
    )


def test_info_text_report_wraps_long_values():
    report = info_text_report([("a", " ".join(["word"] * 30)), ("long key", 5)])
    line = " ".join(["word"] * 14)
    assert report == (
        f"a        : {line}\n"
        f"         : {line}\n"
        "         : word word\n"
        "long key : 5\n"
    )
    assert all(len(row) <= 80 for row in report.splitlines())


def test_info_text_report_empty():
    assert info_text_report([]) == ""
