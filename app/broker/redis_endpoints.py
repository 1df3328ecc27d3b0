"""Where Redis is, read from ``TASKWIRE_REDIS_URL``: one server, a Sentinel-watched primary,
or a cluster. This is the only module that knows the three topologies apart when making
clients; the broker asks it for clients and for whether channels are sharded.

- ``redis://host:6379/0``, ``rediss://…``, ``unix:///path``: one server (redis-py's URL).
- ``redis+sentinel://[user:pass@]s1:26379,s2:26379/MASTER_NAME/DB``: the primary that the
  sentinels name, looked up again on every new connection, so a failover is followed by
  reconnecting. Credentials are the primary's; sentinels are reached without them.
- ``redis+cluster://[user:pass@]n1:7000,n2:7001``: any reachable nodes of a Redis Cluster;
  board and user channels go on sharded pub/sub (Redis >= 7).

The ``rediss+`` forms use TLS for every connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.sentinel import Sentinel

from app.settings import REDIS_URL_SCHEMES


@dataclass(frozen=True)
class RedisEndpoint:
    url: str
    kind: str = "single"  # "single" | "sentinel" | "cluster"
    hosts: tuple[tuple[str, int], ...] = ()
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    master_name: str = ""
    db: int = 0

    @property
    def sharded(self) -> bool:
        """Channels live on sharded pub/sub (SPUBLISH/SSUBSCRIBE), one shard per channel."""
        return self.kind == "cluster"

    def cluster_client(self, **options: Any) -> RedisCluster:
        """The command client of a cluster; ``options`` are redis-py connection keywords."""
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in self.hosts], **self._auth(), **options
        )

    def server_client(self, **options: Any) -> Redis:
        """A client of the one server, or of whichever primary the sentinels name now."""
        if self.kind == "sentinel":
            client: Redis = self._sentinel(options).master_for(self.master_name, db=self.db, **self._auth(), **options)
            return client
        return Redis.from_url(self.url, **options)

    def node_client(self, host: str, port: int, **options: Any) -> Redis:
        """A plain client of one cluster node (the sharded subscriber's per-shard connection)."""
        return Redis(host=host, port=port, **self._auth(), **options)

    def _auth(self) -> dict[str, Any]:
        return {"username": self.username, "password": self.password, "ssl": self.tls}

    def _sentinel(self, options: dict[str, Any]) -> Sentinel:
        socket_options = {key: value for key, value in options.items() if key.startswith("socket_")}
        return Sentinel(list(self.hosts), sentinel_kwargs={**socket_options, "ssl": self.tls})  # type: ignore[no-untyped-call]


def parse_redis_url(url: str) -> RedisEndpoint:
    """Raises ValueError with a sentence naming what is wrong."""
    scheme = url.split("://", 1)[0]
    if not url.startswith(REDIS_URL_SCHEMES):
        raise ValueError(f"unsupported Redis URL scheme: {scheme!r}")
    if "+" not in scheme:
        return RedisEndpoint(url)
    kind = scheme.split("+", 1)[1]
    parts = urlsplit(url)
    hosts = tuple(
        _host_port(item, 26379 if kind == "sentinel" else 6379)
        for item in parts.netloc.rpartition("@")[2].split(",")
        if item
    )
    if not hosts:
        raise ValueError(f"{scheme}:// needs at least one host:port")
    endpoint = RedisEndpoint(
        url,
        kind=kind,
        hosts=hosts,
        tls=scheme.startswith("rediss"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )
    path = [segment for segment in parts.path.split("/") if segment]
    if kind == "cluster":
        if path:
            raise ValueError("a Redis Cluster has only database 0: drop the path from the URL")
        return endpoint
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError(f"{scheme}:// needs /MASTER_NAME or /MASTER_NAME/DB after the sentinels")
    return replace(endpoint, master_name=path[0], db=int(path[1]) if len(path) == 2 else 0)


def _host_port(item: str, default_port: int) -> tuple[str, int]:
    if item.startswith("["):  # [::1]:7000
        host, _, rest = item[1:].partition("]")
        port = rest.removeprefix(":")
    elif ":" in item:
        host, _, port = item.rpartition(":")
    else:
        host, port = item, ""
    if not host or (port and not port.isdigit()):
        raise ValueError(f"{item!r} is not host:port")
    return host, int(port) if port else default_port


async def close_client(client: Redis | RedisCluster) -> None:
    """Close a client and, for one made through Sentinel, its connections to the sentinels."""
    await client.aclose()
    manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", ()):
        await sentinel.aclose()
