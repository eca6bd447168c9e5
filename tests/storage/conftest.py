"""Session-wide servers for the store tests: one ``redis-server`` and one ``mongod`` (when
installed), started on first use and stopped when the session ends (see ``servers.py``)."""

from __future__ import annotations

import pytest

from .servers import mongod_server, redis_server


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory):
    """Port of a real redis-server on 127.0.0.1, for this test session."""
    with redis_server(tmp_path_factory.mktemp("redis")) as port:
        yield port


@pytest.fixture(scope="session")
def mongod_port(tmp_path_factory):
    """Port of a real mongod on 127.0.0.1, for this test session (skips without one)."""
    with mongod_server(tmp_path_factory.mktemp("mongod")) as port:
        yield port
