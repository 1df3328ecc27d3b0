"""The Sentinel and Cluster variants of the deployment files: docker-compose.sentinel.yml
layered over docker-compose.yml, and the Redis URL forms the Kubernetes Secret example
offers. Parsed and cross-checked; the sentinels' start-up command is run for real."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from app.broker.redis_endpoints import parse_redis_url
from app.settings import load_settings
from tests.support.services import REPO_ROOT, RedisServer, free_port, stop_process, wait_for_port

COMPOSE = REPO_ROOT / "docker-compose.yml"
SENTINEL_COMPOSE = REPO_ROOT / "docker-compose.sentinel.yml"


def layered() -> dict[str, Any]:
    """docker compose -f docker-compose.yml -f docker-compose.sentinel.yml, for the keys used:
    services merge by name, and their maps (environment, depends_on) by key."""
    base, extra = yaml.safe_load(COMPOSE.read_text()), yaml.safe_load(SENTINEL_COMPOSE.read_text())
    services = base["services"]
    for name, service in extra["services"].items():
        merged = dict(services.get(name, {}))
        for key, value in service.items():
            merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
        services[name] = merged
    return services


def sentinel_config_lines() -> list[str]:
    command = yaml.safe_load(SENTINEL_COMPOSE.read_text())["x-sentinel"]["command"][2]
    return re.findall(r"'([^']+)'", command.split(" > ")[0])[1:]


def test_the_instances_reach_redis_through_all_three_sentinels_of_the_monitored_primary() -> None:
    services = layered()
    monitor = next(line.split() for line in sentinel_config_lines() if line.startswith("sentinel monitor"))
    _, _, master_name, host, port, quorum = monitor
    assert (host, port) == ("redis", "6379") and int(quorum) == 2
    sentinels = [name for name, service in services.items() if "--sentinel" in " ".join(service.get("command", []))]
    assert len(sentinels) == 3
    assert services["redis-replica"]["command"][-3:] == ["--replicaof", "redis", "6379"]
    for name in ("taskwire-1", "taskwire-2"):
        environment = services[name]["environment"]
        settings = load_settings(
            {**{key: str(value) for key, value in environment.items()}, "TASKWIRE_SECRET_KEY": "k" * 48}
        )
        endpoint = parse_redis_url(settings.redis_url)
        assert endpoint.kind == "sentinel" and endpoint.master_name == master_name
        assert {host for host, _ in endpoint.hosts} == set(sentinels)
        assert set(sentinels) <= set(services[name]["depends_on"])
        assert environment["TASKWIRE_DATABASE_URL"].startswith("mongodb://")  # the rest is kept


def test_the_sentinel_command_of_the_compose_file_starts_a_sentinel_that_names_the_primary(redis: RedisServer) -> None:
    command = yaml.safe_load(SENTINEL_COMPOSE.read_text())["x-sentinel"]["command"]
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        script = (
            command[2]
            .replace("port 26379", f"port {port}")
            .replace("taskwire redis 6379", f"taskwire 127.0.0.1 {redis.port}")
            .replace("/tmp/sentinel.conf", str(Path(workdir) / "sentinel.conf"))
        )
        proc = subprocess.Popen([command[0], command[1], script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, proc=proc)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                answer = subprocess.run(
                    ["redis-cli", "-p", str(port), "SENTINEL", "get-master-addr-by-name", "taskwire"],
                    capture_output=True,
                    text=True,
                ).stdout.split()
                if answer:
                    break
                time.sleep(0.1)
            assert answer == ["127.0.0.1", str(redis.port)]
        finally:
            stop_process(proc)


def test_every_redis_url_the_kubernetes_secret_example_offers_is_valid() -> None:
    text = (REPO_ROOT / "deploy" / "kubernetes" / "secret.example.yaml").read_text()
    urls = re.findall(r"TASKWIRE_REDIS_URL='([^']+)'", text)
    kinds = set()
    for url in urls:
        settings = load_settings({"TASKWIRE_REDIS_URL": url})
        kinds.add(parse_redis_url(settings.redis_url).kind)
    assert kinds == {"single", "sentinel", "cluster"}
