"""/openapi.json is a spec a client generator can use: valid, one tag per resource, clean
unique operation ids, no token asked of public routes, every error a route can answer
documented with the one error schema, 204 where nothing comes back, the request headers
the API reads, and summaries made of whole sentences."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import validate
from quart import Quart

PUBLIC = {
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/auth/sso/providers",
    "/api/v1/auth/sso/{provider_id}/start",
    "/api/v1/auth/sso/{provider_id}/callback",
    "/api/v1/auth/password-reset",
    "/api/v1/auth/password-reset/confirm",
    "/api/v1/auth/verify-email",
    "/api/v1/invitations/lookup",
}
METHODS = ("get", "post", "put", "patch", "delete")
ERROR_REF = "#/components/schemas/ErrorOut"
ERROR_DETAIL_REF = "#/components/schemas/ErrorDetail"


@pytest.fixture
async def spec(app: Quart) -> dict[str, Any]:
    return await (await app.test_client().get("/openapi.json")).get_json()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def header_names(operation: dict[str, Any]) -> set[str]:
    return {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "header"}


def test_the_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)
    assert len(list(operations(spec))) >= 40


def test_every_operation_has_one_declared_resource_tag(spec: dict[str, Any]) -> None:
    declared = {tag["name"] for tag in spec["tags"]}
    assert all(tag.get("description") for tag in spec["tags"])
    used = set()
    for method, path, operation in operations(spec):
        assert len(operation["tags"]) == 1 and operation["tags"][0] in declared, (method, path)
        used.add(operation["tags"][0])
    assert used == declared
    by_path = {(method, path): operation["tags"][0] for method, path, operation in operations(spec)}
    assert by_path[("delete", "/api/v1/boards/{board_id}")] == "boards"
    assert by_path[("post", "/api/v1/boards/{board_id}/members")] == "members"
    assert by_path[("post", "/api/v1/tasks/{task_id}/comments")] == "comments"
    assert by_path[("get", "/api/v1/boards/{board_id}/webhooks/{webhook_id}/deliveries")] == "webhooks"


def test_operation_ids_are_unique_and_do_not_stutter(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert len(ids) == len(set(ids))
    for method, _, operation in operations(spec):
        tag, _, name = operation["operationId"].partition("-")
        assert tag == operation["tags"][0] and re.fullmatch(r"[a-z][a-z_]*", name), operation["operationId"]
        assert not re.match(rf"{method}_{method}_|{method}_", operation["operationId"]), operation["operationId"]
    assert "boards-delete_board" in ids and "auth-login" in ids


def test_public_routes_ask_for_no_token_and_the_rest_for_a_bearer_one(spec: dict[str, Any]) -> None:
    assert spec["security"] == [{"bearer": []}]
    for method, path, operation in operations(spec):
        if path in PUBLIC:
            assert operation["security"] == [], path
        else:
            assert operation.get("security", spec["security"]) == [{"bearer": []}], path
            assert "401" in operation["responses"] and "403" in operation["responses"], (method, path)


def test_every_error_a_route_can_answer_is_documented_with_the_error_schema(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        responses = operation["responses"]
        statuses = set(responses)
        assert {"429", "503"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= statuses, (method, path)
        if any(parameter["in"] == "query" for parameter in operation["parameters"]):
            assert "422" in statuses, (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                # The one envelope; a conflict may carry more beside it (the task as it is now).
                assert schema == {"$ref": ERROR_REF} or schema["properties"]["error"] == {"$ref": ERROR_DETAIL_REF}, (
                    method,
                    path,
                    status,
                )
                assert response["description"], (method, path, status)
    error = spec["components"]["schemas"]["ErrorOut"]
    assert error["properties"]["error"] == {"$ref": ERROR_DETAIL_REF} and error["required"] == ["error"]
    assert spec["components"]["schemas"]["ErrorDetail"]["required"] == ["code", "message"]


def test_deletes_and_other_bodiless_answers_are_documented_as_204(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        successes = [status for status in operation["responses"] if status.startswith("2")]
        assert len(successes) == 1, (method, path, successes)
        if method == "delete":
            assert successes == ["204"] and "content" not in operation["responses"]["204"], path
    logout = spec["paths"]["/api/v1/auth/logout"]["post"]["responses"]
    assert "204" in logout
    stream = spec["paths"]["/api/v1/boards/{board_id}/events/stream"]["get"]["responses"]["200"]
    assert "text/event-stream" in stream["content"]


def test_the_request_headers_the_api_reads_are_parameters(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        headers = header_names(operation)
        authenticated = path not in PUBLIC
        assert ("Idempotency-Key" in headers) == (authenticated and method == "post"), (method, path)
        assert ("X-Client-Mutation-Id" in headers) == (authenticated and method != "get"), (method, path)
    assert "If-Match" in header_names(spec["paths"]["/api/v1/tasks/{task_id}"]["patch"])
    assert "If-Match" in header_names(spec["paths"]["/api/v1/tasks/{task_id}"]["delete"])
    assert "428" in spec["paths"]["/api/v1/tasks/{task_id}"]["patch"]["responses"]


def test_summaries_are_whole_sentences_without_markup(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        summary, description = operation["summary"], operation["description"]
        assert summary and "`" not in summary and "``" not in description, (method, path)
        plain = description.replace("`", "")
        assert plain.startswith(summary), (method, path, summary)
        following = plain[len(summary) : len(summary) + 1]
        assert following in ("", ".", ":"), f"{method} {path}: the summary stops mid-sentence: {summary!r}"
