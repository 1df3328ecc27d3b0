"""Headers every response carries, compression, request ids, metrics and CORS."""

from __future__ import annotations

from app.factory import create_app
from tests.support.apiclient import Api


async def test_every_response_carries_the_security_headers(api: Api) -> None:
    for path in ("/healthz", "/api/v1/nothing", "/docs"):
        response = await api.client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Strict-Transport-Security" not in response.headers


async def test_hsts_is_sent_when_configured_behind_tls(settings) -> None:
    application = create_app(settings.model_copy(update=dict(hsts=True)))
    async with application.test_app():
        response = await application.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_request_id_is_honoured_or_generated(api: Api) -> None:
    response = await api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    response = await api.client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert response.headers["X-Request-ID"] != "bad id with spaces" and len(response.headers["X-Request-ID"]) == 16


async def test_cors_is_granted_only_to_configured_origins(settings) -> None:
    application = create_app(settings.model_copy(update=dict(cors_origins=("https://app.example.test",))))
    async with application.test_app():
        client = application.test_client()
        preflight = {"Origin": "https://app.example.test", "Access-Control-Request-Method": "PATCH"}
        response = await client.options("/api/v1/boards", headers=preflight)
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
        response = await client.options("/api/v1/boards", headers={**preflight, "Origin": "https://evil.test"})
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_cors_allows_every_request_header_the_api_reads(settings) -> None:
    application = create_app(settings.model_copy(update=dict(cors_origins=("https://app.example.test",))))
    async with application.test_app():
        preflight = {
            "Origin": "https://app.example.test",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "if-match, idempotency-key, x-client-mutation-id",
        }
        response = await application.test_client().options("/api/v1/tasks/x", headers=preflight)
    allowed = {name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match", "idempotency-key", "x-client-mutation-id"} <= allowed


async def test_metrics_move_when_traffic_flows(api: Api) -> None:
    async def scrape() -> str:
        return await (await api.client.get("/metrics")).get_data(as_text=True)

    def requests_to_me(text: str) -> float:
        total = 0.0
        for line in text.splitlines():
            if line.startswith("taskwire_http_requests_total{") and 'route="/api/v1/users/me"' in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    account = await api.register()
    before = await scrape()
    for _ in range(3):
        await api.call("GET", "/api/v1/users/me", account)
    after = await scrape()
    assert requests_to_me(after) == requests_to_me(before) + 3
    assert 'taskwire_store_operation_duration_seconds_count{operation="get_user"}' in after


async def test_responses_are_compressed_when_asked_and_assets_cached_when_fingerprinted(app) -> None:
    import httpx

    transport = httpx.ASGITransport(app=app)  # through the whole ASGI stack, middleware included
    async with httpx.AsyncClient(transport=transport, base_url="http://taskwire.test") as client:
        for encoding in ("br", "gzip"):
            response = await client.get("/openapi.json", headers={"Accept-Encoding": encoding})
            assert response.headers["Content-Encoding"] == encoding and response.json()["openapi"]
        plain = await client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in plain.headers
        docs = (await client.get("/docs")).text
        bundle = docs.split('src="')[1].split('"')[0]
        assert "?v=" in bundle
        response = await client.get(bundle, headers={"Accept-Encoding": "br"})
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
        assert "immutable" in response.headers["Cache-Control"]
        unversioned = await client.get(bundle.split("?")[0])
        assert unversioned.headers["Cache-Control"] == "no-cache"
