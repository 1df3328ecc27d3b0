"""Every operation of /openapi.json, fuzzed by schemathesis against a real server process
on SQLite: valid inputs (positive) and invalid ones (negative), with real ids of a board,
a task and a member in the path most of the time and generated ids otherwise.

A user would notice two kinds of failure, and both fail this test: a 5xx (something
crashed), and a response that is not what /openapi.json promises (a generated client
breaks). Errors must also keep the one shape of the contract. Examples per operation and
mode: TASKWIRE_FUZZ_EXAMPLES (default 25); TASKWIRE_FUZZ_SEED explores another corner
(without it the run is deterministic, so CI is not flaky).
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.reliability.instances import alive, http, running
from tests.support.servers import AppServer

pytestmark = pytest.mark.processes

EXAMPLES = int(os.environ.get("TASKWIRE_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("TASKWIRE_FUZZ_SEED")
PASSWORD = "correct horse battery"
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    # Webhooks may point at loopback here, so that one can be created for the paths.
    with running(tmp_path_factory.mktemp("fuzz"), env={"TASKWIRE_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"}) as [instance]:
        yield instance


_numbers = iter(range(1, 1_000_000))


@dataclass
class World:
    """Real records to put in paths. Destructive operations get fresh ones each time, so
    one DELETE does not turn every later example into a 404."""

    base: str
    token: str = ""
    email: str = ""
    board: str = ""
    task: str = ""
    member: str = ""
    comment: str = ""
    attachment: str = ""
    api_token: str = ""
    webhook: str = ""
    invitation: str = ""

    def register(self) -> tuple[str, str, str]:
        email = f"fuzz{next(_numbers)}.{time.monotonic_ns()}@example.test"
        status, body = http(
            "POST", f"{self.base}/api/v1/auth/register", body={"email": email, "password": PASSWORD, "name": "Fuzz"}
        )
        assert status == 201, body
        return body["user"]["id"], body["access_token"], email

    def fresh_board(self) -> str:
        status, body = http("POST", f"{self.base}/api/v1/boards", self.token, {"name": "Fuzzed"})
        assert status == 201, body
        return body["id"]

    def fresh_task(self) -> str:
        status, body = http("POST", f"{self.base}/api/v1/boards/{self.board}/tasks", self.token, {"title": "Fuzzed"})
        assert status == 201, body
        return body["id"]

    def fresh_member(self) -> str:
        user_id, _, email = self.register()
        status, body = http(
            "POST", f"{self.base}/api/v1/boards/{self.board}/members", self.token, {"email": email, "role": "editor"}
        )
        assert status == 201, body
        return user_id

    def fresh_comment(self) -> str:
        status, body = http("POST", f"{self.base}/api/v1/tasks/{self.task}/comments", self.token, {"body": "Fuzzed"})
        assert status == 201, body
        return body["id"]

    def fresh_attachment(self) -> str:
        response = requests.post(
            f"{self.base}/api/v1/tasks/{self.task}/attachments",
            headers={"Authorization": f"Bearer {self.token}"},
            files={"file": ("fuzzed.txt", b"Fuzzed\n", "text/plain")},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def fresh_api_token(self) -> str:
        status, body = http("POST", f"{self.base}/api/v1/tokens", self.token, {"name": "Fuzzed", "scopes": ["read"]})
        if status == 422 and body["error"]["code"] == "too_many_tokens":
            # Refused DELETEs (negative examples) leave tokens behind; an account holds 50.
            _, tokens = http("GET", f"{self.base}/api/v1/tokens", self.token)
            for token in tokens["items"]:
                if token["id"] != self.api_token:
                    http("DELETE", f"{self.base}/api/v1/tokens/{token['id']}", self.token)
            return self.fresh_api_token()
        assert status == 201, body
        return body["id"]

    def fresh_webhook(self, board: str = "") -> str:
        # Nothing listens on port 9: deliveries fail and back off, which is fine here.
        status, body = http(
            "POST",
            f"{self.base}/api/v1/boards/{board or self.board}/webhooks",
            self.token,
            {"url": "http://127.0.0.1:9/hook"},
        )
        assert status == 201, body
        return body["id"]

    def fresh_invitation(self) -> str:
        status, body = http(
            "POST", f"{self.base}/api/v1/boards/{self.board}/invitations", self.token, {"email": "fuzz@example.test"}
        )
        assert status == 201, body
        return body["id"]

    def fresh_trashed_task(self) -> str:
        task_id = self.fresh_task()
        status, body = http("DELETE", f"{self.base}/api/v1/tasks/{task_id}", self.token)
        assert status == 204, body
        return task_id

    def fresh_trashed_board(self) -> str:
        board_id = self.fresh_board()
        status, body = http("DELETE", f"{self.base}/api/v1/boards/{board_id}", self.token)
        assert status == 204, body
        return board_id

    def fresh_session(self) -> str:
        status, body = http("POST", f"{self.base}/api/v1/auth/login", body={"email": self.email, "password": PASSWORD})
        assert status == 200, body
        return body["access_token"]

    @classmethod
    def build(cls, base: str) -> World:
        world = cls(base)
        _, world.token, world.email = world.register()
        world.board = world.fresh_board()
        world.task = world.fresh_task()
        world.member = world.fresh_member()
        world.comment = world.fresh_comment()
        world.attachment = world.fresh_attachment()
        world.api_token = world.fresh_api_token()
        world.webhook = world.fresh_webhook()
        world.invitation = world.fresh_invitation()
        return world

    def path_ids(self, method: str, path: str) -> dict[str, str]:
        destructive = method == "DELETE" or path.endswith("/members/{user_id}")
        ids = {
            "board_id": self.board,
            "task_id": self.task,
            "user_id": self.member,
            "comment_id": self.comment,
            "attachment_id": self.attachment,
            "token_id": self.api_token,
            "webhook_id": self.webhook,
            "invitation_id": self.invitation,
        }
        if method == "DELETE" and path == "/api/v1/boards/{board_id}":
            ids["board_id"] = self.fresh_board()
        elif method == "DELETE" and path == "/api/v1/tasks/{task_id}":
            ids["task_id"] = self.fresh_task()
        elif destructive and "{user_id}" in path:
            ids["user_id"] = self.fresh_member()
        elif method == "DELETE" and "{comment_id}" in path:
            ids["comment_id"] = self.fresh_comment()
        elif method == "DELETE" and "{attachment_id}" in path:
            ids["attachment_id"] = self.fresh_attachment()
        elif path.startswith("/api/v1/boards/trash/"):
            ids["board_id"] = self.fresh_trashed_board()  # restored or deleted for good
        elif "/trash/" in path:
            ids["task_id"] = self.fresh_trashed_task()  # restored or deleted for good
        elif method == "DELETE" and "{invitation_id}" in path:
            ids["invitation_id"] = self.fresh_invitation()
        elif method == "DELETE" and "{token_id}" in path:
            ids["token_id"] = self.fresh_api_token()
        elif method == "DELETE" and "{webhook_id}" in path:
            # On a board of its own: a board holds at most 20 webhooks.
            ids["board_id"] = self.fresh_board()
            ids["webhook_id"] = self.fresh_webhook(ids["board_id"])
        return ids

    def headers_for(self, path: str) -> dict[str, str]:
        # Logout ends the session of the token it is sent with: never ours.
        token = self.fresh_session() if path == "/api/v1/auth/logout" else self.token
        return {"Authorization": f"Bearer {token}"}


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    by_operation: dict[str, Counter] = field(default_factory=dict)
    unfilled: set[str] = field(default_factory=set)
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [
            f"requests tried: {self.requests}; 5xx seen: {self.server_errors}; failures: {len(self.failures)}",
            "statuses: " + ", ".join(f"{code}x{count}" for code, count in sorted(self.statuses.items())),
        ]
        if self.unfilled:
            lines.append("path parameters never given a real id: " + "; ".join(sorted(self.unfilled)))
        lines += [
            f"  {label}: " + ", ".join(f"{code}x{count}" for code, count in sorted(statuses.items()))
            for label, statuses in self.by_operation.items()
        ]
        return "\n".join(lines + self.failures[:20])


def _error_shape_problem(response: requests.Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"error body is not JSON: {response.text[:200]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if (
        not isinstance(error, dict)
        or not isinstance(error.get("message"), str)
        or not SNAKE_CASE.match(str(error.get("code", "")))
    ):
        return f"error body breaks the contract shape: {body!r:.300}"
    return None


def _fuzz_operation(operation: Any, mode: GenerationMode, world: World, tally: Tally) -> None:
    method, path = operation.method.upper(), operation.path
    label = f"{method} {path} [{mode.value}]"

    @given(case=operation.as_strategy(generation_mode=mode), real_ids=st.integers(0, 3))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case, real_ids: int) -> None:
        # Three in four examples reach a real record; the rest probe unknown/garbage ids
        # (3, as Hypothesis favours small integers and the real records matter more).
        if real_ids != 3 and case.path_parameters:
            ids = world.path_ids(method, path)
            for name in case.path_parameters:
                # A path parameter the World cannot fill yet (a new resource) stays generated.
                if name in ids:
                    case.path_parameters[name] = ids[name]
                else:
                    tally.unfilled.add(f"{method} {path}: {name}")
        tally.requests += 1
        response = None
        try:
            response = case.call(base_url=world.base, headers=world.headers_for(path), timeout=15)
            tally.statuses[response.status_code] += 1
            tally.by_operation.setdefault(label, Counter())[response.status_code] += 1
            if os.environ.get("FUZZ_DEBUG"):
                print(label, real_ids, case.path_parameters, response.status_code, response.text[:150])
            if response.status_code >= 500:
                tally.server_errors += 1
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            if problem := _error_shape_problem(response):
                raise AssertionError(problem)
        # schemathesis raises a BaseExceptionGroup; collected, so one run reports every broken operation.
        except (Exception, BaseExceptionGroup) as error:
            status = response.status_code if response is not None else "no response"
            tally.failures.append(f"{label} -> {status}: {str(error)[:600]}")

    if SEED is not None:
        run = seed(int(SEED))(run)
    try:
        run()
    except Unsatisfiable:
        # An operation without parameters, body or token (GET /auth/sso/providers) has no
        # invalid form to send.
        if mode is not GenerationMode.NEGATIVE:
            raise


def test_no_operation_answers_5xx_or_breaks_its_documented_schema(server: AppServer) -> None:
    world = World.build(server.url)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    tally = Tally()
    # The event stream never ends while the board exists, so a request that reads the
    # whole body waits forever; its refusals and bad input are in tests/realtime/test_sse.py.
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if not operation.path.endswith("/events/stream")
    ]
    assert len(operations) >= 20, "the schema lost operations"
    started = time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, world, tally)
    elapsed = time.monotonic() - started
    summary = f"{len(operations)} operations in {elapsed:.1f}s; {tally.report()}"
    print(summary)
    if report_dir := os.environ.get("TASKWIRE_RELIABILITY_REPORT_DIR"):
        (Path(report_dir) / "fuzz_openapi.txt").write_text(summary)
    assert alive(server), server.log_tail()
    assert not tally.failures, summary


# -- hostile shapes: what generators rarely produce, sent to every operation -------------

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INTEGERS = ["1" + "0" * 30, "-1" + "0" * 30, str(2**64), str(2**63), "1e400"]
# JSON text, so that a lone surrogate travels as the escape a client would send.
HOSTILE_STRINGS = [json.dumps("\ud800"), json.dumps("a\udfffb"), json.dumps("a\u0000b"), json.dumps("\u202e" * 50)]
HOSTILE_TIMES = ['"0001-01-01T00:00:00+14:00"', '"9999-12-31T23:59:59-14:00"', '"0999-01-01T00:00:00Z"']


def _forged_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


FORGED_CURSORS = [
    _forged_cursor("boards", 2**64),
    _forged_cursor("tasks:priority", 10**30, "x"),
    _forged_cursor("tasks:position", "\ud800", "x"),
    _forged_cursor("comments", -(2**63) - 1),
    _forged_cursor("notifications", "\udfff"),
]
# Raw (already percent-encoded) query values: NUL, invalid UTF-8 (a surrogate's bytes).
HOSTILE_QUERY_TEXT = ["a%00b", "%ED%A0%80", "%FF", "%C0%80"]


def _property_types(schema: dict) -> set[str]:
    options = schema.get("anyOf", [schema])
    return {f"{option.get('type')}:{option.get('format', '')}" for option in options if option.get("type") != "null"}


def _hostile_bodies(schema: dict) -> Iterator[str]:
    yield DEEP
    for name, property_schema in (schema.get("properties") or {}).items():
        types = _property_types(property_schema)
        values = [DEEP, *HUGE_INTEGERS]
        if any(kind.startswith("string") for kind in types):
            values += HOSTILE_STRINGS
        if "string:date-time" in types:
            values += HOSTILE_TIMES
        if any(kind.startswith("array") for kind in types):
            values += [f"[{value}]" for value in HOSTILE_STRINGS + HUGE_INTEGERS[:1]]
        for value in values:
            yield f'{{"{name}": {value}}}'


def _hostile_queries(parameters: list[dict]) -> Iterator[str]:
    for parameter in parameters:
        if parameter["in"] != "query":
            continue
        name = parameter["name"]
        values = HUGE_INTEGERS + HOSTILE_QUERY_TEXT
        if name == "cursor":
            values += FORGED_CURSORS
        for value in values:
            yield f"{name}={value}"


def test_hostile_shapes_in_bodies_queries_and_headers_get_a_4xx_with_the_error_envelope(server: AppServer) -> None:
    """Nesting past the parser's recursion limit, integers past 64 bits, lone surrogates, NUL
    bytes, forged cursors and times that overflow, in every body field and query parameter
    of every operation (each once found a 500 somewhere)."""
    world = World.build(server.url)
    spec = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    tried, failures = 0, []
    for path, operations in spec["paths"].items():
        if path.endswith("/events/stream"):
            continue
        for method, operation in operations.items():
            unknown = {
                "notification_id": "01NOSUCH",
                "delivery_id": "01NOSUCH",
                "provider_id": "nosuch",
                "job_id": "01NOSUCH",
                "key": "no_such_column",  # a column's key (the board's columns)
                "item_id": "01NOSUCH",  # a checklist item
            }
            ids = {**world.path_ids(method.upper(), path), **unknown}
            url = server.url + re.sub(r"\{(\w+)\}", lambda match, ids=ids: ids[match.group(1)], path)
            body_schema = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
            requests_to_send = [("", body) for body in _hostile_bodies(body_schema["schema"])] if body_schema else []
            requests_to_send += [(query, None) for query in _hostile_queries(operation.get("parameters") or [])]
            headers = {**world.headers_for(path), "Content-Type": "application/json"}
            for query, body in requests_to_send:
                tried += 1
                response = requests.request(
                    method, f"{url}?{query}" if query else url, data=body, headers=headers, timeout=30
                )
                problem = _error_shape_problem(response)
                if response.status_code >= 500 or problem:
                    failures.append(
                        f"{method.upper()} {path}?{query[:60]} {str(body)[:60]!r} -> "
                        f"{response.status_code} {problem or response.text[:200]}"
                    )
    for name, value in (
        ("Idempotency-Key", "\xff\xfe"),
        ("If-Match", '"' + "9" * 5000 + '"'),
        ("X-Client-Mutation-Id", "\xff" * 101),
        ("Authorization", "Bearer \xff\xfe"),
    ):
        tried += 1
        response = requests.patch(
            f"{server.url}/api/v1/tasks/{world.task}",
            data='{"title": "x"}',
            headers={**world.headers_for(""), "Content-Type": "application/json", name: value},
            timeout=30,
        )
        if response.status_code >= 500 or _error_shape_problem(response):
            failures.append(f"header {name} -> {response.status_code} {response.text[:200]}")
    print(f"hostile shapes tried: {tried}; 5xx or broken envelopes: {len(failures)}")
    assert alive(server), server.log_tail()
    assert failures == [], "\n".join(failures[:30])
