"""A real S3 endpoint for tests: moto's server on a free loopback port, one per session.

``moto_s3`` is a session fixture that starts ``python -m moto.server`` on 127.0.0.1,
waits until it answers, points the AWS environment at fake credentials (nothing reaches
a real AWS account, nor any host but 127.0.0.1) and yields an :class:`S3Endpoint`. When
moto (or s3fs) is not installed the fixture fails under CI (``CI`` set), so a CI run can
never pass by skipping S3, and skips with the reason elsewhere. ``start_moto`` is the
same thing as a context manager, for scripts (``benchmarks/s3_compare.py``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# fake credentials, no config files, no instance metadata lookups, no proxies for loopback
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


@dataclass(frozen=True)
class S3Endpoint:
    """A running moto server."""

    url: str  # http://127.0.0.1:PORT

    @property
    def storage_options(self) -> dict[str, Any]:
        """What FSStore, s3fs and zarr-python need to talk to this server."""
        return {"client_kwargs": {"endpoint_url": self.url},
                "key": "testing", "secret": "testing"}

    def new_bucket(self) -> str:
        """Create a bucket with a fresh name and return the name."""
        import s3fs

        name = f"test-{uuid.uuid4().hex[:20]}"
        s3fs.S3FileSystem(**self.storage_options).mkdir(name)
        return name

    def reset(self) -> None:
        """Forget every bucket (moto keeps values in memory)."""
        request = urllib.request.Request(self.url + "/moto-api/reset", method="POST")
        with _no_proxy_opener().open(request, timeout=30):
            pass


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    opener = _no_proxy_opener()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with code {proc.returncode} at start")
        try:
            with opener.open(url + "/", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not answer at {url} in {timeout} s") \
                    from None
            time.sleep(0.1)


def missing_packages() -> list[str]:
    """The packages the S3 tests need that are not installed."""
    import importlib.util

    needed = {"moto": "moto[server]", "flask": "moto[server]", "s3fs": "s3fs"}
    return sorted({pip for mod, pip in needed.items() if importlib.util.find_spec(mod) is None})


@contextlib.contextmanager
def start_moto(timeout: float = 60.0) -> Iterator[S3Endpoint]:
    """Run moto's S3 server on a free loopback port while the block runs.

    The AWS environment variables of :data:`AWS_ENV` are set for the block (and put back
    afterwards), so clients never look for real credentials.
    """
    saved = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy(),
    )
    try:
        _wait_until_up(url, proc, timeout)
        yield S3Endpoint(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[S3Endpoint]:
    """A moto S3 server for the whole session (see the module docstring)."""
    missing = missing_packages()
    if missing:
        reason = f"the S3 tests need {', '.join(missing)} (pip install 'czarr[test]')"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run them, not skip them", pytrace=False)
        pytest.skip(reason)
    with start_moto() as endpoint:
        yield endpoint
