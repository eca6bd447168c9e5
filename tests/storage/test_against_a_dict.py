"""Random sequences of operations give the same results on czarr's stores as the generic
fallbacks give on a plain dict (the reference model of the store contract)."""

from __future__ import annotations

import shutil
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from czarr.storage import (
    DirectoryStore,
    MemoryStore,
    delitems,
    getitems,
    getsize,
    listdir,
    rename,
    rmdir,
)

# folder names and leaf names never overlap, so no key is ever also a folder (a
# filesystem cannot hold both)
folders = st.lists(st.sampled_from(["a", "b", "c"]), min_size=0, max_size=3).map("/".join)
leaves = st.sampled_from([".zarray", "0.0", "1", "x"])
keys = st.builds(lambda f, leaf: f"{f}/{leaf}" if f else leaf, folders, leaves)
values = st.binary(max_size=8)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), keys, values),
        st.tuples(st.just("del"), st.lists(keys, max_size=3)),
        st.tuples(st.just("rmdir"), folders),
        st.tuples(st.just("rename"), folders.filter(bool), folders.filter(bool)),
    ),
    max_size=25,
)


def apply(store, op):
    kind = op[0]
    if kind == "set":
        store[op[1]] = op[2]
    elif kind == "del":
        delitems(store, op[1])
    elif kind == "rmdir":
        rmdir(store, op[1])
    else:
        src, dst = op[1], op[2]
        if src == dst or dst.startswith(src + "/") or src.startswith(dst + "/"):
            return "refused"
        try:
            rename(store, src, dst)
        except KeyError:
            return "missing"
    return None


def check_same(store, model):
    assert sorted(store) == sorted(model)
    assert {k: bytes(v) for k, v in getitems(store, list(model)).items()} == model
    for path in ["", "a", "b", "a/b", "c/a/b", "missing"]:
        assert listdir(store, path) == listdir(model, path), path
        assert getsize(store, path) == getsize(model, path), path


@settings(max_examples=60, deadline=None)
@given(operations)
def test_memory_store_matches_the_dict_model(ops):
    store, model = MemoryStore(), {}
    for op in ops:
        assert apply(store, op) == apply(model, op)
    check_same(store, model)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_directory_store_matches_the_dict_model(ops):
    root = tempfile.mkdtemp(prefix="czarr-store-")
    try:
        store, model = DirectoryStore(root), {}
        for op in ops:
            assert apply(store, op) == apply(model, op)
        check_same(store, model)
    finally:
        shutil.rmtree(root)
