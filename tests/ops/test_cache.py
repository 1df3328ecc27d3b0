"""The Redis read cache: hits are counted, and a write through one instance is never
followed by a stale read through another."""

from __future__ import annotations

import contextlib

from app.factory import create_app
from tests.support.apiclient import Api


def cache_count(text: str, result: str) -> float:
    for line in text.splitlines():
        if line.startswith(f'taskwire_cache_requests_total{{result="{result}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_cached_list_is_never_stale_after_a_write_on_another_instance(settings, redis) -> None:
    shared = settings.model_copy(update=dict(redis_url=redis.url))
    first, second = create_app(shared), create_app(shared)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(first.test_app())
        await stack.enter_async_context(second.test_app())
        api_one, api_two = Api(first.test_client()), Api(second.test_client())
        owner = await api_one.register()
        board = (await api_one.board(owner))["id"]
        task = await api_one.task(owner, board, "Original title")
        path = f"/api/v1/boards/{board}/tasks"

        metrics_before = await (await api_one.client.get("/metrics")).get_data(as_text=True)
        for _ in range(3):
            status, page = await api_one.call("GET", path, owner)
            assert [t["title"] for t in page["items"]] == ["Original title"]
        metrics_after = await (await api_one.client.get("/metrics")).get_data(as_text=True)
        assert cache_count(metrics_after, "hit") - cache_count(metrics_before, "hit") >= 2

        status, _ = await api_two.call(
            "PATCH", f"/api/v1/tasks/{task['id']}", owner, json={"title": "Changed elsewhere", "version": 1}
        )
        assert status == 200
        status, page = await api_one.call("GET", path, owner)
        assert [t["title"] for t in page["items"]] == ["Changed elsewhere"]

        mate = await api_two.register()
        await api_two.add_member(owner, board, mate, "viewer")
        status, members = await api_one.call("GET", f"/api/v1/boards/{board}/members", owner)
        assert mate.id in {m["user_id"] for m in members["items"]}

        await api_two.call("PATCH", "/api/v1/users/me", owner, json={"name": "New Name"})
        assert (await api_one.call("GET", "/api/v1/users/me", owner))[1]["name"] == "New Name"
