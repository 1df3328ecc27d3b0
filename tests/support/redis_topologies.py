"""Real Redis topologies for the scale-out tests: a cluster (primaries with or without
replicas) and a primary with a replica watched by three sentinels, each process on a free
loopback port, started by the suite like the single redis-server of services.py.

Failure detection is shortened (``cluster-node-timeout``, ``down-after-milliseconds``) so
a failover takes a couple of seconds instead of the production default's many.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.services import free_port, spawn_redis_server, stop_process, wait_for_port


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed (apt-get install redis-server)")
    return found


def _cli(port: int, *args: str, password: str = "") -> str:
    auth = ["-a", password, "--no-auth-warning"] if password else []
    return subprocess.run(
        [_binary("redis-cli"), "-p", str(port), *auth, *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout


@dataclass
class RedisNode:
    port: int
    proc: subprocess.Popen
    password: str = ""

    def kill(self) -> None:
        """kill -9: no goodbye to the cluster or the sentinels."""
        self.proc.kill()
        self.proc.wait(5)

    def cli(self, *args: str) -> str:
        return _cli(self.port, *args, password=self.password)


@dataclass
class RedisClusterNodes:
    nodes: list[RedisNode]
    workdir: Path

    @property
    def url(self) -> str:
        credentials = f":{self.nodes[0].password}@" if self.nodes[0].password else ""
        return f"redis+cluster://{credentials}" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes[:3])

    def node(self, port: int) -> RedisNode:
        return next(node for node in self.nodes if node.port == port)

    def primary_of(self, key: str) -> RedisNode:
        """The node now serving ``key``'s hash slot as primary."""
        slot = int(self.live_node().cli("CLUSTER", "KEYSLOT", key))
        for line in self.live_node().cli("CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "master" in fields[2] and "fail" not in fields[2] and _covers(fields[8:], slot):
                return self.node(int(fields[1].split(":")[1].split("@")[0]))
        raise LookupError(f"no primary serves slot {slot}")

    def live_node(self) -> RedisNode:
        return next(node for node in self.nodes if node.proc.poll() is None)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.SubprocessError):
                if "cluster_state:ok" in self.live_node().cli("CLUSTER", "INFO"):
                    return
            time.sleep(0.1)
        raise TimeoutError("the cluster did not reach cluster_state:ok")


def _covers(ranges: list[str], slot: int) -> bool:
    for item in ranges:
        if item.startswith("["):
            continue  # a slot being migrated or imported
        low, _, high = item.partition("-")
        if int(low) <= slot <= int(high or low):
            return True
    return False


@contextlib.contextmanager
def redis_cluster(
    primaries: int = 3, replicas_each: int = 0, node_timeout_ms: int = 5000, password: str = ""
) -> Iterator[RedisClusterNodes]:
    workdir = Path(tempfile.mkdtemp(prefix="taskwire-cluster-"))
    nodes: list[RedisNode] = []
    try:
        for _ in range(primaries * (1 + replicas_each)):
            port = free_port()
            node_dir = workdir / str(port)
            node_dir.mkdir()
            # The bus port is chosen too: the default, port + 10000, may be taken or past 65535.
            proc = spawn_redis_server(
                port,
                node_dir,
                "--cluster-port",
                str(free_port()),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node_dir / "nodes.conf"),
                "--cluster-node-timeout",
                str(node_timeout_ms),
                *(["--requirepass", password, "--masterauth", password] if password else []),
            )
            nodes.append(RedisNode(port, proc, password))
        for node in nodes:
            wait_for_port(node.port, proc=node.proc)
        _cli(
            nodes[0].port,
            "--cluster",
            "create",
            *(f"127.0.0.1:{node.port}" for node in nodes),
            "--cluster-replicas",
            str(replicas_each),
            "--cluster-yes",
            password=password,
        )
        cluster = RedisClusterNodes(nodes, workdir)
        cluster.wait_healthy()
        _wait_replicas_synced(cluster, primaries * replicas_each)
        yield cluster
    finally:
        for node in nodes:
            stop_process(node.proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_replicas_synced(cluster: RedisClusterNodes, replicas: int, timeout: float = 30.0) -> None:
    """A replica can only be promoted once it has synced; a kill before that loses the shard."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        synced = sum("master_link_status:up" in node.cli("INFO", "replication") for node in cluster.nodes)
        if synced >= replicas:
            return
        time.sleep(0.1)
    raise TimeoutError("cluster replicas did not sync")


@dataclass
class RedisSentinels:
    primary: RedisNode
    replica: RedisNode
    sentinels: list[RedisNode]
    master_name: str = "taskwire"
    workdir: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.master_name}/0"

    def current_primary_port(self) -> int:
        answer = self.sentinels[-1].cli("SENTINEL", "get-master-addr-by-name", self.master_name).split()
        return int(answer[1])


@contextlib.contextmanager
def redis_sentinels(down_after_ms: int = 1000) -> Iterator[RedisSentinels]:
    workdir = Path(tempfile.mkdtemp(prefix="taskwire-sentinel-"))
    procs: list[subprocess.Popen] = []
    try:
        primary_port, replica_port = free_port(), free_port()
        primary = RedisNode(primary_port, spawn_redis_server(primary_port, workdir))
        procs.append(primary.proc)
        replica = RedisNode(
            replica_port, spawn_redis_server(replica_port, workdir, "--replicaof", "127.0.0.1", str(primary_port))
        )
        procs.append(replica.proc)
        for node in (primary, replica):
            wait_for_port(node.port, proc=node.proc)
        sentinels = []
        for number in range(3):
            port = free_port()
            config = workdir / f"sentinel{number}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
                f"sentinel monitor taskwire 127.0.0.1 {primary_port} 2\n"
                f"sentinel down-after-milliseconds taskwire {down_after_ms}\n"
                f"sentinel failover-timeout taskwire 5000\n"
                f"sentinel parallel-syncs taskwire 1\n"
            )
            proc = subprocess.Popen(
                [_binary("redis-server"), str(config), "--sentinel"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            procs.append(proc)
            sentinels.append(RedisNode(port, proc))
        for node in sentinels:
            wait_for_port(node.port, proc=node.proc)
        topology = RedisSentinels(primary, replica, sentinels, workdir=workdir)
        _wait_sentinels_ready(topology)
        yield topology
    finally:
        for proc in procs:
            stop_process(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_sentinels_ready(topology: RedisSentinels, timeout: float = 30.0) -> None:
    """Every sentinel knows the replica and the other sentinels: a failover can happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(subprocess.SubprocessError, IndexError):
            if "master_link_status:up" in topology.replica.cli("INFO", "replication") and all(
                _field(node.cli("SENTINEL", "master", topology.master_name), "num-other-sentinels") >= 2
                and _field(node.cli("SENTINEL", "master", topology.master_name), "num-slaves") >= 1
                for node in topology.sentinels
            ):
                return
        time.sleep(0.2)
    raise TimeoutError("the sentinels did not discover each other and the replica")


def _field(reply: str, name: str) -> int:
    lines = reply.splitlines()
    return int(lines[lines.index(name) + 1])
