"""The store view of a sharded array's inner chunks (czarr.sharding): reads stay consistent
while another thread of the same array rewrites the shard."""

from __future__ import annotations

import threading

from czarr.sharding import ShardedChunks


class _RewriteDuringRead(dict):
    """A store that, the first time it is read once armed, lets another thread rewrite
    the shard (through the same view) and waits a little for it to finish."""

    def __init__(self) -> None:
        super().__init__()
        self.hook = None

    def __getitem__(self, key):
        hook, self.hook = self.hook, None
        value = super().__getitem__(key)
        if hook is not None:
            hook()
        return value


def test_read_is_not_torn_by_a_concurrent_rewrite_of_the_shard():
    store = _RewriteDuringRead()
    view = ShardedChunks(store, lambda c: "s/" + ".".join(map(str, c)), (4,), (2,))
    view.setitems({"0": b"a" * 10, "1": b"b" * 10})
    writer = threading.Thread(target=view.__setitem__, args=("0", b"ccc"))

    def rewrite() -> None:  # between the read of the index and the read of the chunk
        writer.start()
        writer.join(timeout=0.3)

    store.hook = rewrite
    assert view.getitems(["1"]) == {"1": b"b" * 10}
    writer.join()
    assert view.getitems(["0", "1"]) == {"0": b"ccc", "1": b"b" * 10}
