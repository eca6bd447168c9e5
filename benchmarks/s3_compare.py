"""Reading a Zarr v2 array from S3: czarr against zarr-python 3 and tensorstore.

Everything runs on this machine: moto's S3 server on loopback, and in front of it a
small reverse proxy written here (asyncio + aiohttp) that counts every request and can
hold each one for a fixed latency before passing it on, so that how many requests a
library keeps in flight decides its time, as on a real network. The array (4096 x 4096
float32 in 256 x 256 chunks: 256 chunks, Blosc lz4) is written once by czarr; then each
library, in its own subprocess, one after the other, reads it whole and reads a
1024 x 1024 region (16 chunks), three times each, through the proxy with no added
latency and with 20 ms per request. The table shows the median time of the three runs
and the requests one read made (counted by the proxy; opening the array is not counted).

Run: ``python benchmarks/s3_compare.py`` (needs moto[server], s3fs, zarr, tensorstore).
Not a test: numbers depend on the machine, and moto's own speed bounds them all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHAPE, CHUNKS = (4096, 4096), (256, 256)
REGION = (slice(1024, 2048), slice(512, 1536))  # 4 x 4 chunks
BUCKET, PATH = "bench", "data.zarr"
LIBRARIES = ["czarr", "zarr-python", "tensorstore"]
REPEAT = 3


# ------------------------------------------------------------------ the proxy

class Proxy:
    """A reverse proxy on a loopback port in front of ``upstream``, counting requests
    and holding each one ``delay`` seconds. ``GET /__proxy__/count`` answers the count
    so far (that request itself is not counted)."""

    def __init__(self, upstream: str, delay: float) -> None:
        self.upstream, self.delay = upstream, delay
        self.count = 0
        self.by_method: Counter[str] = Counter()
        self.url = ""

    async def start(self) -> None:
        import aiohttp
        from aiohttp import web

        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), auto_decompress=False)
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def handle(self, request: Any) -> Any:
        from aiohttp import web

        if request.path == "/__proxy__/count":
            return web.json_response({"count": self.count, "by_method": self.by_method})
        self.count += 1
        self.by_method[request.method] += 1
        body = await request.read()

        if self.delay:
            await asyncio.sleep(self.delay)
        drop = {"transfer-encoding", "connection", "keep-alive", "content-length"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in drop}
        async with self._session.request(
            request.method, self.upstream + request.rel_url.raw_path_qs, headers=headers,
            data=body, allow_redirects=False,
        ) as upstream:
            data = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in drop}
            # a HEAD answer's length is the object's; any other is the body's
            length = upstream.headers.get("Content-Length") if request.method == "HEAD" \
                else str(len(data))
            if length is not None:
                out["Content-Length"] = length
            return web.Response(body=data or None, status=upstream.status, headers=out)


def run_proxies(upstream: str, delays: list[float]) -> list[Proxy]:
    """Start one proxy per delay on an event loop in a daemon thread."""
    proxies = [Proxy(upstream, d) for d in delays]
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        for p in proxies:
            loop.run_until_complete(p.start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=main, daemon=True).start()
    if not ready.wait(30):
        raise RuntimeError("the proxies did not start")
    return proxies


def proxy_count(endpoint: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(endpoint + "/__proxy__/count", timeout=30) as r:
        return json.load(r)["count"]


# ------------------------------------------------------------------ one library (child)

def expected() -> np.ndarray:
    """The array's values (the data of examples/demo.py, as float32)."""
    from demo import smooth_data

    return smooth_data(SHAPE[0]).astype("f4")


def storage_options(endpoint: str) -> dict[str, Any]:
    return {"client_kwargs": {"endpoint_url": endpoint}, "key": "testing", "secret": "testing"}


def open_reader(library: str, endpoint: str) -> Any:
    """A function ``read(selection) -> ndarray`` over the array, for ``library``."""
    url = f"s3://{BUCKET}/{PATH}"
    if library == "czarr":
        import czarr

        arr = czarr.open_array(url, mode="r", storage_options=storage_options(endpoint))
        return lambda sel: arr[sel]
    if library == "zarr-python":
        import zarr

        arr = zarr.open_array(url, mode="r", zarr_format=2,
                              storage_options=storage_options(endpoint))
        return lambda sel: arr[sel]
    if library == "tensorstore":
        import tensorstore as ts

        spec = {"driver": "zarr", "kvstore": {
            "driver": "s3", "bucket": BUCKET, "path": PATH + "/", "endpoint": endpoint,
            "aws_region": "us-east-1"}}
        arr = ts.open(spec, read=True).result()
        return lambda sel: arr[sel].read().result()
    raise ValueError(library)


def child(library: str, endpoint: str) -> None:
    """Time the two reads; print one JSON line."""
    read = open_reader(library, endpoint)
    data = expected()
    out = {}
    for name, sel in [("full", (slice(None), slice(None))), ("region", REGION)]:
        times, counts = [], []
        for _ in range(REPEAT):
            before = proxy_count(endpoint)
            t0 = time.perf_counter()
            got = read(sel)
            times.append(time.perf_counter() - t0)
            counts.append(proxy_count(endpoint) - before)
            if not np.array_equal(np.asarray(got), data[sel]):
                raise AssertionError(f"{library} read wrong values ({name})")
        out[name] = {"time": statistics.median(times), "requests": statistics.median(counts)}
    print(json.dumps(out))


# ------------------------------------------------------------------ the parent

def write_array(endpoint: str) -> None:
    import s3fs

    import czarr

    s3fs.S3FileSystem(**storage_options(endpoint)).mkdir(BUCKET)
    z = czarr.open_array(f"s3://{BUCKET}/{PATH}", mode="w", shape=SHAPE, chunks=CHUNKS,
                         dtype="f4", compressor=czarr.Blosc(cname="lz4", clevel=5),
                         storage_options=storage_options(endpoint))
    z[:] = expected()
    assert z.nchunks_initialized == 256


def run_child(library: str, endpoint: str) -> dict[str, Any]:
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", library, "--endpoint", endpoint],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800,
    )
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last[:160]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child")
    parser.add_argument("--endpoint")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--only", choices=LIBRARIES, action="append",
                        help="run only this library (repeatable)")
    args = parser.parse_args()
    sys.path[:0] = [ROOT, os.path.join(ROOT, "examples"), os.path.join(ROOT, "tests", "storage")]
    if args.child:
        child(args.child, args.endpoint)
        return

    from moto_server import start_moto

    with start_moto() as moto:
        direct, slow = run_proxies(moto.url, [0.0, args.latency_ms / 1000])
        write_array(direct.url)
        rows = []
        for label, proxy in [("loopback", direct), (f"+{args.latency_ms:g} ms", slow)]:
            for library in args.only or LIBRARIES:
                print(f"... {library} ({label})", file=sys.stderr, flush=True)
                rows.append((label, library, run_child(library, proxy.url)))
    print_table(rows)


def print_table(rows: list[tuple[str, str, dict[str, Any]]]) -> None:
    print(f"\nS3 (moto on loopback), {SHAPE[0]}x{SHAPE[1]} float32, {CHUNKS[0]}x{CHUNKS[1]} "
          f"chunks (256), Blosc lz4; median of {REPEAT}; requests per read\n")
    head = f"{'latency':<10} {'library':<12} {'full read':>10} {'reqs':>5} " \
           f"{'16-chunk region':>16} {'reqs':>5}"
    print(head)
    print("-" * len(head))
    for label, library, result in rows:
        if "error" in result:
            print(f"{label:<10} {library:<12} failed: {result['error']}")
            continue
        f, r = result["full"], result["region"]
        print(f"{label:<10} {library:<12} {f['time'] * 1000:>8.0f}ms {f['requests']:>5.0f} "
              f"{r['time'] * 1000:>14.0f}ms {r['requests']:>5.0f}")


if __name__ == "__main__":
    main()
