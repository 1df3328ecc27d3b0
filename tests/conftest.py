"""Session-wide real services. Each is started on first use and stopped at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from quart import Quart
from quart.testing import TestApp

from tests.support.redis_topologies import RedisClusterNodes, RedisSentinels, redis_cluster, redis_sentinels
from tests.support.services import MongoWireServer, RedisServer, mongo_wire_server, redis_server


class PatientTestApp(TestApp):
    """Quart's test app allows its startup 6 s: on a 2-core box running the suite's files in
    parallel, a MongoDB store's start (its indexes on the emulator) can take longer."""

    def __init__(self, app: Quart) -> None:
        super().__init__(app, startup_timeout=60, shutdown_timeout=60)


Quart.test_app_class = PatientTestApp

pytest_plugins = ["tests.support.app_fixtures"]

# Tests and benchmarks lower argon2's cost knowingly; production keeps the default.
os.environ.setdefault("TASKWIRE_ARGON2_TIME_COST", "1")
os.environ.setdefault("TASKWIRE_ARGON2_MEMORY_KIB", "1024")
# Tests register many accounts from 127.0.0.1; the rate-limit tests set their own limits.
os.environ.setdefault("TASKWIRE_RATE_LIMIT_AUTH", "100000")
os.environ.setdefault("TASKWIRE_RATE_LIMIT_API", "1000000")
os.environ.setdefault("TASKWIRE_RATE_LIMIT_WS", "1000000")


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster_nodes() -> Iterator[RedisClusterNodes]:
    """Three primaries, no replicas: the contract suite on sharded pub/sub and hash slots.
    Failover tests start clusters of their own, with replicas, that they may break."""
    with redis_cluster(primaries=3) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def redis_sentinel_nodes() -> Iterator[RedisSentinels]:
    """A primary, a replica and three sentinels, for the contract suite; failover tests
    start their own."""
    with redis_sentinels() as sentinels:
        yield sentinels


@pytest.fixture(scope="session")
def mongo_wire() -> Iterator[MongoWireServer]:
    with mongo_wire_server() as server:
        yield server


def mongo_urls_under_test(request: pytest.FixtureRequest) -> list[str]:
    """mongoeco's wire server always; a real MongoDB too when TASKWIRE_TEST_MONGODB_URL is set."""
    urls = [request.getfixturevalue("mongo_wire").url]
    if real := os.environ.get("TASKWIRE_TEST_MONGODB_URL"):
        urls.append(real)
    return urls
