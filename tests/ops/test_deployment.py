"""The deployment files, parsed and cross-checked against the code (no container engine
runs here): the Dockerfile, docker-compose.yml, deploy/nginx.conf and deploy/kubernetes/."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from app.settings import SettingsError, load_settings, variables
from tests.support.nginx import shipped_nginx
from tests.support.services import REPO_ROOT, free_port, stop_process, wait_for_port

KUBERNETES = REPO_ROOT / "deploy" / "kubernetes"
DEPLOYMENT_FILES = [
    REPO_ROOT / "Dockerfile",
    REPO_ROOT / "docker-compose.yml",
    REPO_ROOT / "docker-compose.sentinel.yml",
    REPO_ROOT / "deploy" / "nginx.conf",
    *sorted(KUBERNETES.glob("*.yaml")),
    REPO_ROOT / "docs" / "operations.md",
]
COMPOSE_VARIABLE = re.compile(r"\$\{(\w+):\?[^}]*\}")


def setting_names() -> set[str]:
    """Every variable app/settings.py reads, taken from its declaration."""
    return set(variables())


def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def taskwire_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("image", "").startswith("taskwire")
    }


def kubernetes_objects() -> dict[str, dict[str, Any]]:
    objects: dict[str, dict[str, Any]] = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and "kind" in document:
                objects[document["kind"]] = document
    return objects


def dockerfile_instructions() -> list[tuple[str, str]]:
    instructions, pending = [], ""
    for raw in (REPO_ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def hypercorn_graceful_timeout() -> float:
    return float(tomllib.loads((REPO_ROOT / "hypercorn.toml").read_text())["graceful_timeout"])


def seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([smh]?)", str(value)).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "s": 1, "m": 60, "h": 3600}[unit]


def test_the_variables_come_from_the_settings_code() -> None:
    names = setting_names()
    assert {"PORT", "TASKWIRE_DATA_DIR", "TASKWIRE_DATABASE_URL", "TASKWIRE_SECRET_KEY"} <= names


@pytest.mark.parametrize("path", DEPLOYMENT_FILES, ids=lambda path: path.name)
def test_every_taskwire_variable_a_deployment_file_passes_is_a_setting(path: Path) -> None:
    used = set(re.findall(r"\bTASKWIRE_[A-Z0-9_]*[A-Z0-9]", path.read_text()))
    assert used <= setting_names(), f"{path.name} passes variables Taskwire never reads: {used - setting_names()}"


def test_the_compose_environment_is_valid_settings() -> None:
    for service in taskwire_services().values():
        environment = {
            name: COMPOSE_VARIABLE.sub("x" * 48, str(value)) for name, value in service["environment"].items()
        }
        settings = load_settings(environment)
        assert settings.database_url.startswith("mongodb://") and settings.redis_url.startswith("redis://")


def test_the_kubernetes_settings_load_and_the_example_secret_cannot_run() -> None:
    objects = kubernetes_objects()
    config, secret = objects["ConfigMap"]["data"], objects["Secret"]["stringData"]
    assert all("CHANGE_ME" in value for value in secret.values()), "the example Secret holds placeholders only"
    real_key = {"TASKWIRE_SECRET_KEY": "k" * 48}
    assert load_settings({**config, **secret, **real_key}).secure_cookies
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings({**config, **secret})


def test_dockerfile_builds_in_stages_on_python_slim_and_runs_unprivileged() -> None:
    instructions = dockerfile_instructions()
    stages = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert len(stages) >= 2 and all(stage.startswith("python:3.13-slim AS ") for stage in stages)
    final = instructions[max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM") :]
    values = dict(final)
    assert values["USER"].split(":")[0] not in ("root", "0")
    assert "--from=build /opt/venv" in " ".join(rest for keyword, rest in final if keyword == "COPY")
    assert json.loads(values["CMD"]) == ["python", "-m", "app", "serve"]
    assert values["EXPOSE"] == "8000" and "TASKWIRE_DATA_DIR=/data" in values["ENV"]
    assert json.loads(values["VOLUME"]) == ["/data"]
    assert "pip install ." in " ".join(rest for keyword, rest in instructions if keyword == "RUN")


def test_dockerfile_healthcheck_probes_healthz_with_urllib() -> None:
    healthcheck = dict(dockerfile_instructions())["HEALTHCHECK"]
    command = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"] and "urllib.request" in command[2] and "/healthz" in command[2]


def test_the_image_holds_what_the_app_reads_and_nothing_private() -> None:
    """The app finds static/, templates/ and hypercorn.toml beside its package."""
    copied = set()
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY" and not rest.startswith("--from"):
            copied.update(Path(source).name for source in rest.split()[:-1])
    assert {"app", "static", "templates", "hypercorn.toml", "pyproject.toml"} <= copied
    for name in copied:
        assert (REPO_ROOT / name).exists(), f"the Dockerfile copies {name}, which does not exist"
    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", ".dockerignore must be an allowlist"
    allowed = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    assert copied <= allowed and not allowed & {"data", ".venv", ".git", "tests"}


def test_compose_runs_a_replica_set_redis_two_instances_and_nginx() -> None:
    services = compose()["services"]
    mongo = services["mongo"]
    assert mongo["command"][:2] == ["--replSet", "rs0"] and "--bind_ip_all" in mongo["command"]
    probe = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate(" in probe and "mongo:27017" in probe and "isWritablePrimary" in probe
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    instances = taskwire_services()
    assert len(instances) == 2
    for service in instances.values():
        environment = service["environment"]
        assert re.fullmatch(r"\$\{TASKWIRE_SECRET_KEY:\?.+\}", environment["TASKWIRE_SECRET_KEY"])
        assert environment["TASKWIRE_DATABASE_URL"] == "mongodb://mongo:27017/taskwire?replicaSet=rs0"
        assert environment["TASKWIRE_REDIS_URL"] == "redis://redis:6379/0"
        assert {name: dep["condition"] for name, dep in service["depends_on"].items()} == {
            "mongo": "service_healthy",
            "redis": "service_healthy",
        }
        assert "ports" not in service, "instances are reached through nginx only"
        assert seconds(service["stop_grace_period"]) > hypercorn_graceful_timeout()
    assert len({service["environment"]["TASKWIRE_SECRET_KEY"] for service in instances.values()}) == 1
    nginx = services["nginx"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert {name: dep["condition"] for name, dep in nginx["depends_on"].items()} == dict.fromkeys(
        instances, "service_healthy"
    )


def nginx_text() -> str:
    return re.sub(r"#[^\n]*", "", (REPO_ROOT / "deploy" / "nginx.conf").read_text())


def nginx_block(header: str) -> str:
    text = nginx_text()
    start = re.search(header + r"\s*\{", text)
    assert start is not None, f"no block {header!r} in nginx.conf"
    depth, index = 1, start.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        index += 1
    return text[start.end() : index - 1]


def directives(block: str, name: str) -> list[str]:
    return [value.strip() for value in re.findall(rf"^\s*{name}\s+([^;]+);", block, re.MULTILINE)]


def test_nginx_balances_both_instances_without_sticky_sessions() -> None:
    upstream = nginx_block(r"upstream taskwire")
    hosts = {server.split()[0].split(":")[0] for server in directives(upstream, "server")}
    assert hosts == set(taskwire_services())
    assert not re.search(r"\b(ip_hash|sticky|hash)\b", upstream)
    # 1 MiB for every body but attachment uploads, which are streamed to an instance.
    assert directives(nginx_block(r"server"), "client_max_body_size") == ["1m", "26m"]
    uploads = nginx_block(r"location ~ \^/api/v1/tasks/\[\^/\]\+/attachments\$")
    assert directives(uploads, "client_max_body_size") == ["26m"]
    assert directives(uploads, "proxy_request_buffering") == ["off"]


def test_nginx_upgrades_websockets_and_keeps_them_open_for_an_hour() -> None:
    ws = nginx_block(r"location = /api/v1/ws")
    assert "proxy_set_header Upgrade $http_upgrade" in ws
    assert "proxy_set_header Connection $connection_upgrade" in ws
    assert re.search(r"map \$http_upgrade \$connection_upgrade", nginx_text())
    assert directives(ws, "proxy_http_version") == ["1.1"]
    assert seconds(directives(ws, "proxy_read_timeout")[0]) >= 3600
    assert seconds(directives(ws, "proxy_send_timeout")[0]) >= 3600


def test_every_nginx_location_that_proxies_forwards_the_client_address() -> None:
    # A location that sets any proxy_set_header inherits none from above.
    for header in (r"location = /api/v1/ws", r"location /"):
        block = nginx_block(header)
        assert "proxy_pass http://taskwire" in block
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for" in block
        assert "proxy_set_header Host $http_host" in block


def pod_template() -> dict[str, Any]:
    return kubernetes_objects()["Deployment"]["spec"]["template"]


def test_kubernetes_has_every_object_an_operator_needs() -> None:
    objects = kubernetes_objects()
    assert set(objects) >= {
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ConfigMap",
        "Secret",
    }
    listed = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["resources"]
    assert set(listed) == {path.name for path in KUBERNETES.glob("*.yaml")} - {
        "kustomization.yaml",
        "secret.example.yaml",
    }


def test_kubernetes_pods_probe_readyz_and_healthz_and_run_unprivileged() -> None:
    deployment = kubernetes_objects()["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    pod = pod_template()["spec"]
    (container,) = pod["containers"]
    port_names = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in port_names
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    sources = {next(iter(source)): next(iter(source.values()))["name"] for source in container["envFrom"]}
    objects = kubernetes_objects()
    assert sources == {
        "configMapRef": objects["ConfigMap"]["metadata"]["name"],
        "secretRef": objects["Secret"]["metadata"]["name"],
    }
    drain = container["lifecycle"]["preStop"]["exec"]["command"]
    assert drain[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(drain[1]) + hypercorn_graceful_timeout()


def test_kubernetes_service_ingress_autoscaler_and_budget_point_at_the_pods() -> None:
    objects = kubernetes_objects()
    labels = pod_template()["metadata"]["labels"]
    service = objects["Service"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert "sessionAffinity" not in service["spec"]
    container_ports = {port["name"] for port in pod_template()["spec"]["containers"][0]["ports"]}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= container_ports
    ingress = objects["Ingress"]
    annotations = ingress["metadata"]["annotations"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 3600
    assert not any("affinity" in key for key in annotations)
    backends = [path["backend"]["service"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    service_ports = {port["name"] for port in service["spec"]["ports"]}
    assert all(b["name"] == service["metadata"]["name"] and b["port"]["name"] in service_ports for b in backends)
    hpa = objects["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": objects["Deployment"]["metadata"]["name"],
    }
    assert [metric["resource"]["name"] for metric in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = objects["PodDisruptionBudget"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One real ``python -m app serve`` on SQLite; yields its port."""
    port = free_port()
    data_dir = tmp_path_factory.mktemp("server")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TASKWIRE_")},
        "PORT": str(port),
        "TASKWIRE_DATA_DIR": str(data_dir),
        "TASKWIRE_SECRET_KEY": "s" * 48,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc=proc)
        yield port
    finally:
        stop_process(proc)


def run_healthcheck(port: int) -> int:
    command = json.loads(dict(dockerfile_instructions())["HEALTHCHECK"].split(" CMD ", 1)[1])
    env = {**os.environ, "PORT": str(port)}
    return subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, timeout=15).returncode


def test_the_image_healthcheck_passes_on_a_live_server_and_fails_without_one(server: int) -> None:
    assert run_healthcheck(server) == 0
    assert run_healthcheck(free_port()) != 0


@pytest.fixture
def nginx(server: int, tmp_path: Path) -> Iterator[int]:
    with shipped_nginx(server, tmp_path) as port:
        yield port


def test_nginx_proxies_http_and_websockets_to_the_instances(nginx: int) -> None:
    base = f"http://127.0.0.1:{nginx}"
    response = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "through-nginx-1"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "through-nginx-1"
    assert httpx.get(f"{base}/metrics").status_code == 404
    assert httpx.post(f"{base}/api/v1/auth/login", content=b"x" * (2 * 1024 * 1024)).status_code == 413
    # The browser's Origin names nginx's host and port: the app must see the same in Host.
    with ws_connect(f"ws://127.0.0.1:{nginx}/api/v1/ws", origin=base, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "auth", "token": "not-a-token"}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_nginx_passes_server_sent_events_on_at_once(nginx: int) -> None:
    base = f"http://127.0.0.1:{nginx}"
    registered = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"email": "sse-through-nginx@example.test", "password": "correct horse battery", "name": "Streamer"},
    )
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    board = httpx.get(f"{base}/api/v1/boards", headers=headers).json()["items"][0]["id"]
    with httpx.stream("GET", f"{base}/api/v1/boards/{board}/events/stream", headers=headers, timeout=10) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        while next(lines) != "event: subscribed":
            pass
        created = time.monotonic()
        assert (
            httpx.post(
                f"{base}/api/v1/boards/{board}/tasks", json={"title": "through nginx"}, headers=headers
            ).status_code
            == 201
        )
        for line in lines:  # the event comes through while the response is still open
            if line.startswith("data: ") and '"task.created"' in line:
                break
        assert time.monotonic() - created < 2


def operations_doc() -> str:
    return (REPO_ROOT / "docs" / "operations.md").read_text()


def test_operations_doc_explains_every_metric() -> None:
    from prometheus_client.metrics import MetricWrapperBase

    from app.observability import metrics

    names = [value.describe()[0].name for value in vars(metrics).values() if isinstance(value, MetricWrapperBase)]
    assert len(names) >= 10
    missing = [name for name in names if f"`{name}" not in operations_doc()]
    assert not missing, f"docs/operations.md does not explain {missing}"


def test_operations_doc_names_every_index_and_command() -> None:
    import argparse

    from app.ops.cli import add_ops_commands
    from app.store.mongo_schema import INDEXES
    from app.store.sqlite_schema import MIGRATIONS

    sqlite_indexes = re.findall(r"CREATE (?:UNIQUE )?INDEX (\w+)", " ".join(s for m in MIGRATIONS for s in m))
    commands = argparse.ArgumentParser().add_subparsers()
    add_ops_commands(commands)
    text = operations_doc()
    for name in [*sqlite_indexes, *(spec.name for spec in INDEXES), *commands.choices]:
        assert f"`{name}`" in text or f"`python -m app {name}" in text, f"docs/operations.md omits {name}"


def test_a_stream_ticket_opens_the_stream_through_nginx_and_stays_out_of_its_log(nginx: int, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{nginx}"
    registered = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"email": "ticket-through-nginx@example.test", "password": "correct horse battery", "name": "Ticketed"},
    )
    headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    board = httpx.get(f"{base}/api/v1/boards", headers=headers).json()["items"][0]["id"]
    ticket = httpx.post(f"{base}/api/v1/boards/{board}/events/stream-ticket", headers=headers).json()["ticket"]
    url = f"{base}/api/v1/boards/{board}/events/stream?after=0&ticket={ticket}"
    with httpx.stream("GET", url, timeout=10) as stream:
        assert stream.status_code == 200
        assert next(line for line in stream.iter_lines() if line.startswith("event:")) == "event: subscribed"
    assert httpx.get(url, timeout=10).status_code == 401  # spent
    time.sleep(0.2)  # nginx writes the line once the response has ended
    log = (tmp_path / "access.log").read_text()
    assert log.count("/events/stream?after=0&ticket=[redacted]") == 2
    assert ticket not in log
