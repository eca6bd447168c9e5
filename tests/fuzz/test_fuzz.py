"""Seeded fuzzing of czarr's readers of untrusted bytes, for a fixed budget.

Hypothesis feeds the targets of ``fuzz_targets.py`` structured inputs (valid metadata
documents with any value put anywhere in them, shard indexes of chosen entries, mutated
frames) and random bytes; atheris runs each target under libFuzzer, coverage-guided from
a seed corpus, in a subprocess with an RSS limit and a per-input timeout. Either fails
on anything but a czarr error (another exception, a crash, a hang, an allocation past
the limit).

Both are seeded by ``CZARR_FUZZ_SEED`` (default 13; it is in every test id), so a CI
failure replays with the same seed; another seed explores further. The budget: each
hypothesis test runs ``max_examples`` inputs, each atheris target ``ATHERIS_RUNS``.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fuzz_targets import (
    DICTIONARY,
    PIPELINES,
    TARGETS,
    V3_ARRAY,
    V3_GROUP,
    V3_SHARDED,
    ZARRAY,
    ZMETADATA,
    fuzz_metadata_v2,
    fuzz_metadata_v3,
    fuzz_pipeline,
    fuzz_shard_index,
    fuzz_zmetadata,
    seed_corpus,
)
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from czarr._core.filters import crc32c_checksum

FUZZ_SEED = int(os.environ.get("CZARR_FUZZ_SEED", "13"))
SEEDED = pytest.mark.parametrize("fuzz_seed", [FUZZ_SEED], ids=lambda s: f"seed={s}")
FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------------------------
# hypothesis: structured inputs
# ------------------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 2, 3, 4, 8, 2**31, 2**32, 2**53, 2**63 - 1, 2**63, 2**64]),
    st.floats(), st.text(max_size=12), st.sampled_from(DICTIONARY),
)
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.sampled_from(DICTIONARY) | st.text(max_size=8), inner, max_size=5),
    max_leaves=16)
_DROP = object()


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON document: the paths of keys and list items."""
    out = [prefix]
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) \
        if isinstance(doc, list) else ()
    for k, v in items:
        out += _paths(v, prefix + (k,))
    return out


def _put(doc: Any, path: tuple, value: Any) -> Any:
    """``doc`` with the value at ``path`` replaced (removed for ``_DROP``)."""
    if not path:
        return value
    doc = json.loads(json.dumps(doc))
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    if value is _DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


@st.composite
def edited(draw: Any, *docs: dict) -> bytes:
    """One of ``docs`` with up to four places replaced by any JSON value, removed, or
    joined by a new field; as the bytes a store would hold."""
    doc = draw(st.sampled_from(docs))
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(_paths(doc)))
        if path and draw(st.booleans()):
            doc = _put(doc, path, draw(st.one_of(JSON, st.just(_DROP))))
        elif isinstance(doc, dict):
            doc = _put(doc, (draw(st.sampled_from(DICTIONARY)),), draw(JSON))
    return json.dumps(doc).encode()


@SEEDED
@FUZZ
@seed(FUZZ_SEED)
@given(data=edited(ZARRAY, {"zarr_format": 2}, {"a": [1]}) | st.binary(max_size=200))
def test_metadata_v2(fuzz_seed, data):
    fuzz_metadata_v2(data)


@SEEDED
@FUZZ
@seed(FUZZ_SEED)
@given(data=edited(V3_ARRAY, V3_SHARDED, V3_GROUP) | st.binary(max_size=200))
def test_metadata_v3(fuzz_seed, data):
    fuzz_metadata_v3(data)


@SEEDED
@FUZZ
@seed(FUZZ_SEED)
@given(data=edited(ZMETADATA) | st.binary(max_size=200))
def test_zmetadata(fuzz_seed, data):
    fuzz_zmetadata(data)


_OFFSETS = st.one_of(st.integers(0, 2**64 - 1),
                     st.sampled_from([0, 1, 19, 20, 21, 400, 404, 2**63 - 1, 2**63,
                                      2**64 - 20, 2**64 - 2, 2**64 - 1]))


@st.composite
def shards(draw: Any) -> bytes:
    """20 inner chunks of 20 bytes and an index of any entries (CRC-32C valid or not),
    or a valid shard cut or extended."""
    body = np.arange(100, dtype="<i4").tobytes()
    if draw(st.booleans()):
        valid = seed_corpus("shard_index")[0]
        cut = draw(st.integers(0, len(valid) + 8))
        return (valid + b"\0" * 8)[:cut]
    entries = [(20 * i, 20) for i in range(20)]
    for _ in range(draw(st.integers(1, 4))):
        entries[draw(st.integers(0, 19))] = (draw(_OFFSETS), draw(_OFFSETS))
    raw = np.array(entries, dtype="<u8").tobytes()
    crc = crc32c_checksum(raw) if draw(st.booleans()) else draw(st.integers(0, 2**32 - 1))
    return body[:draw(st.integers(0, len(body)))] + raw + struct.pack("<I", crc)


@SEEDED
@FUZZ
@seed(FUZZ_SEED)
@given(data=shards() | st.binary(max_size=400))
def test_shard_index(fuzz_seed, data):
    fuzz_shard_index(data)


@st.composite
def stored_chunks(draw: Any) -> bytes:
    """A pipeline's valid chunk with a few bytes changed, cut or added."""
    i = draw(st.integers(0, len(PIPELINES) - 1))
    frame = bytearray(seed_corpus("pipeline")[i][1:])
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, max(len(frame) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "cut", "add"]))
        if kind == "flip" and frame:
            frame[pos] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del frame[pos:]
        else:
            frame[pos:pos] = draw(st.binary(min_size=1, max_size=8))
    return bytes([i]) + bytes(frame)


@SEEDED
@FUZZ
@seed(FUZZ_SEED)
@given(data=stored_chunks() | st.binary(max_size=300))
def test_pipeline(fuzz_seed, data):
    fuzz_pipeline(data)


# ------------------------------------------------------------------------------------
# atheris: coverage-guided, in a subprocess
# ------------------------------------------------------------------------------------

# inputs per target: a few seconds each (the whole fuzz budget, hypothesis included, is
# about a minute and a half of CI time)
ATHERIS_RUNS = {"codecs": 60_000, "pipeline": 150_000, "metadata_v2": 10_000,
                "metadata_v3": 25_000, "zmetadata": 30_000, "shard_index": 3_000}
ATHERIS_LIMITS = ["-rss_limit_mb=1024", "-timeout=10"]   # MiB for the process; s per input
_HERE = Path(__file__).parent
_ROOT = Path(__import__("czarr").__file__).parents[1]   # the czarr under test


def _need_atheris() -> None:
    try:
        import atheris  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise  # CI installs the test extra: atheris must be there
        pytest.skip("atheris is not installed (pip install atheris)")


def _dictionary(path: Path) -> Path:
    path.write_text("".join(f"{json.dumps(w)}\n" for w in DICTIONARY))
    return path


@pytest.mark.slow
@SEEDED
@pytest.mark.parametrize("target", list(TARGETS))
def test_atheris(target, fuzz_seed, tmp_path):
    _need_atheris()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, data in enumerate(seed_corpus(target)):
        (corpus / f"seed-{i}").write_bytes(data)
    runs = ATHERIS_RUNS[target]
    cmd = [sys.executable, str(_HERE / "fuzz_targets.py"), target, f"-runs={runs}",
           f"-seed={fuzz_seed}", *ATHERIS_LIMITS, f"-artifact_prefix={tmp_path}/",
           f"-dict={_dictionary(tmp_path / 'words.dict')}", str(corpus)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(_ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    log = proc.stdout + proc.stderr
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(
        ("crash-", "leak-", "timeout-", "oom-")))
    assert proc.returncode == 0 and not crashes, (
        f"atheris {target} (seed {fuzz_seed}) failed; replay with "
        f"{' '.join(cmd[1:])}\n{crashes}\n{log[-6000:]}")
    done = re.search(r"Done (\d+) runs in (\d+) second", log)
    assert done is not None and int(done.group(1)) == runs, log[-2000:]
    print(f"atheris {target}: {done.group(1)} inputs in {done.group(2)} s, seed {fuzz_seed}")
