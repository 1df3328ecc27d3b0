"""One route and nothing else, for bench/floor/run.sh: the same answer from Quart (``app``)
and from a bare ASGI callable (``raw``), so the server and the framework are measured alone."""

from quart import Quart

app = Quart(__name__)


@app.get("/t")
async def t():
    return {"id": "01ABC", "title": "t", "status": "todo", "version": 1}


async def raw(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"id":"01ABC","title":"t","status":"todo","version":1}'})
