"""Every failure has the one JSON error shape; bad input is a 4xx, never a 500."""

from __future__ import annotations

from tests.support.apiclient import Api


def assert_error(body: dict, code: str) -> None:
    assert set(body) >= {"error"} and body["error"]["code"] == code and body["error"]["message"]


async def test_unknown_route_and_wrong_method_use_the_error_shape(api: Api) -> None:
    status, body = await api.call("GET", "/api/v1/nothing-here")
    assert status == 404
    assert_error(body, "not_found")
    status, body = await api.call("DELETE", "/api/v1/auth/login")
    assert status == 405
    assert_error(body, "method_not_allowed")


async def test_malformed_json_is_400(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/auth/login", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert_error(await response.get_json(), "invalid_json")


async def test_unknown_fields_and_wrong_types_are_422(api: Api) -> None:
    status, body = await api.call(
        "POST", "/api/v1/auth/login", json={"email": "a@b.test", "password": "x" * 12, "admin": True}
    )
    assert status == 422
    assert_error(body, "validation_error")
    status, body = await api.call("POST", "/api/v1/auth/login", json={"email": {"$gt": ""}, "password": "x" * 12})
    assert status == 422
    status, body = await api.call("POST", "/api/v1/auth/login", json=["not", "an", "object"])
    assert status in (400, 422)


async def test_bodies_over_one_mebibyte_are_413(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/auth/login", data=b"{" + b" " * (1024 * 1024 + 10) + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert_error(await response.get_json(), "payload_too_large")


async def test_health_readiness_and_docs_are_served(api: Api) -> None:
    assert (await api.call("GET", "/healthz"))[0] == 200
    status, body = await api.call("GET", "/readyz")
    assert status == 200 and body["checks"] == {"store": "ok", "store_writes": "ok", "broker": "ok"}
    status, spec = await api.call("GET", "/openapi.json")
    assert status == 200 and "/api/v1/boards/{board_id}/tasks" in spec["paths"]
    response = await api.client.get("/docs")
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js?v=" in html and "<script>" not in html
    assert "//" not in html.split("<body>")[0].replace("<!doctype html>", "")


async def test_missing_or_malformed_authorization_is_401(api: Api) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        status, body = await api.call("GET", "/api/v1/boards", headers=headers)
        assert status == 401
        assert_error(body, "unauthorized")
