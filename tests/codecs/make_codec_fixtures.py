"""Write tests/codecs/fixtures: data encoded by numcodecs, decoded by czarr's tests even
where numcodecs is not installed, so the on-disk format cannot drift.

Run from the repository root: ``python tests/codecs/make_codec_fixtures.py``. Existing
files are kept (fixtures are written once, never regenerated silently).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
CONFIGS = [
    {"id": "blosc", "cname": c, "clevel": lv, "shuffle": sh, "blocksize": 0}
    for c in ("blosclz", "lz4", "lz4hc", "zlib", "zstd") for lv, sh in ((1, 0), (5, 1), (9, 2))
] + [
    {"id": "zstd", "level": 1, "checksum": False}, {"id": "zstd", "level": 3, "checksum": True},
    {"id": "zstd", "level": -5, "checksum": False}, {"id": "lz4", "acceleration": 1},
    {"id": "lz4", "acceleration": 16}, {"id": "zlib", "level": 1}, {"id": "zlib", "level": 9},
    {"id": "gzip", "level": 5}, {"id": "bz2", "level": 9},
    {"id": "lzma", "format": 1, "check": -1, "preset": 1, "filters": None},
    {"id": "lzma", "format": 2, "check": -1, "preset": 6, "filters": None},
]
ARRAYS = {
    "f8": lambda: np.round(np.sin(np.arange(3000) / 40.0) * 512) / 512,
    "i2": lambda: (np.arange(5000) % 97 - 48).astype("<i2"),
    "u1": lambda: (np.arange(7000) // 13 % 256).astype("u1"),
}


def main() -> None:
    import numcodecs
    import numcodecs.blosc
    import numcodecs.lz4
    import numcodecs.zstd

    numcodecs.blosc.use_threads = False  # one thread: deterministic block order
    os.makedirs(HERE, exist_ok=True)
    manifest_path = os.path.join(HERE, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else []
    known = {entry["file"] for entry in manifest}
    for i, config in enumerate(CONFIGS):
        for dtype, make in ARRAYS.items():
            name = f"{i:02d}-{config['id']}-{dtype}.bin"
            if name in known:
                continue
            data = make()
            enc = numcodecs.get_codec(config).encode(data)
            with open(os.path.join(HERE, name), "wb") as f:
                f.write(enc)
            manifest.append({"file": name, "config": config, "dtype": dtype,
                             "numcodecs": numcodecs.__version__,
                             "libzstd": numcodecs.zstd.__version__,
                             "liblz4": numcodecs.lz4.VERSION_STRING,
                             "written": int(time.time())})
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
