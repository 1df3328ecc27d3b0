"""The real app over a real store: every API test runs on SQLite (a file in tmp_path) and
on MongoDB (the real PyMongo driver against mongoeco's wire server)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from quart import Quart

from app.factory import create_app
from app.settings import load_settings
from tests.support.apiclient import Api

SECRET = "test-secret-key-that-is-long-enough-0123456789"


def mongo_database_url(server_url: str) -> str:
    base, _, query = server_url.partition("/?")
    return f"{base}/tw_{uuid.uuid4().hex[:12]}?{query}"


@pytest.fixture(params=["sqlite", "mongo"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'taskwire.db'}"
    return mongo_database_url(request.getfixturevalue("mongo_wire").url)


@pytest.fixture
def settings(database_url: str, tmp_path):
    return load_settings().model_copy(
        update=dict(data_dir=tmp_path, database_url=database_url, redis_url="", secret_key=SECRET)
    )


@pytest.fixture
async def app(settings) -> AsyncIterator[Quart]:
    application = create_app(settings)
    async with application.test_app():
        yield application


@pytest.fixture
def api(app: Quart) -> Api:
    return Api(app.test_client())
