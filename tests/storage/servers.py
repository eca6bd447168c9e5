"""Real database servers for the store tests: start one as a subprocess, wait until it
answers, stop it at the end.

Each server listens on 127.0.0.1 on a free port and keeps its files in a temporary
folder. When the server program is missing, the tests that need it fail loudly under CI
(the environment variable ``CI`` is set there, and CI installs the program) and are
skipped with the reason elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["azurite_server", "mongod_server", "need_program", "redis_server"]


def need_program(name: str, how_to_install: str, *, fail_in_ci: bool = True) -> str:
    """The path of the program ``name``; fail (under CI) or skip the test without it."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} is missing: it is not on PATH ({how_to_install})"
    if fail_in_ci and os.environ.get("CI"):
        pytest.fail(f"CI must test against a real server, but {message}", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_pong(port: int) -> bool:
    """Whether a Redis server on ``port`` answers PING with PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _accepts(port: int) -> bool:
    """Whether something accepts connections on ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _mongod_ready(port: int) -> bool:
    """Whether something accepts connections on ``port`` (mongod opens it when ready)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def _serve(make_command: Callable[[int], list[str]], ready: Callable[[int], bool],
           folder: Path, name: str, timeout: float = 30.0) -> Iterator[int]:
    """Run ``make_command(port)`` until the block ends; yield the port once ``ready``.

    A port taken between choosing it and the server binding it makes the server exit:
    then a new port is tried (three times at most).
    """
    log_path = folder / f"{name}.log"
    for _ in range(3):
        port = _free_port()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(make_command(port), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=folder)
        try:
            deadline = time.monotonic() + timeout
            while proc.poll() is None and not ready(port):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer on port {port} in {timeout} s")
                time.sleep(0.05)
            if proc.poll() is None:
                yield port
                return
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    raise RuntimeError(f"{name} exited at start three times; its log:\n"
                       + log_path.read_text(errors="replace")[-2000:])


@contextmanager
def redis_server(folder: Path) -> Iterator[int]:
    """A throwaway ``redis-server`` on 127.0.0.1 (no persistence); yields its port."""
    exe = need_program("redis-server", "Debian: apt-get install redis-server")
    command = lambda port: [  # noqa: E731
        exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", str(folder), "--daemonize", "no",
    ]
    with _serve(command, _redis_pong, folder, "redis-server") as port:
        yield port


@contextmanager
def mongod_server(folder: Path) -> Iterator[int]:
    """A throwaway ``mongod`` on 127.0.0.1 with a temporary dbpath; yields its port.

    No MongoDB server comes from PyPI or Debian 12, so without ``mongod`` on PATH the
    test is skipped (under CI too): the reason says so.
    """
    exe = shutil.which("mongod")
    if exe is None:
        pytest.skip("no mongod on PATH (no MongoDB server in PyPI/Debian)")
    dbpath = folder / "db"
    dbpath.mkdir(exist_ok=True)
    command = lambda port: [  # noqa: E731
        exe, "--port", str(port), "--bind_ip", "127.0.0.1", "--dbpath", str(dbpath),
        "--nounixsocket", "--quiet",
    ]
    with _serve(command, _mongod_ready, folder, "mongod", timeout=60.0) as port:
        yield port


# Azurite's documented development account (public, the same in every Azurite)
AZURITE_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
)


@contextmanager
def azurite_server(folder: Path, exe: str) -> Iterator[str]:
    """A throwaway Azurite Blob service (``azurite-blob`` or ``azurite``) on 127.0.0.1
    keeping its files in ``folder``; yields its connection string."""
    def command(port: int) -> list[str]:
        args = [exe, "--blobHost", "127.0.0.1", "--blobPort", str(port),
                "--location", str(folder), "--silent", "--skipApiVersionCheck", "--loose"]
        if os.path.basename(exe) == "azurite":  # every service: keep the others local too
            args += ["--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1"]
        return args

    with _serve(command, _accepts, folder, "azurite", timeout=60.0) as port:
        yield AZURITE_CONNECTION_STRING.format(port=port)
