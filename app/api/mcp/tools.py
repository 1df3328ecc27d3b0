"""The MCP server's tools and resources, one service call each, as REST's handlers are.

Arguments are validated by the same types as the REST bodies (``app.api.schemas``). A
refusal is a tool error whose text, after the SDK's ``Error executing tool <name>: ``, is
REST's JSON error envelope, ``{"error": {"code", "message", "details"}}``, with the same
stable codes (``insufficient_scope``,
``board_not_found``, ``version_conflict`` with ``current``, ...).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import Field

from app.api.errors import error_body
from app.api.idempotency import IdempotentCall, StoredResponse
from app.api.rate_limits import enforce
from app.api.schemas import (
    Assignees,
    ClientMutationId,
    Column,
    CommentBody,
    Description,
    Id,
    Labels,
    Timestamp,
    Title,
)
from app.domain.caller import Caller
from app.domain.errors import DomainError, StaleVersionError, UnauthenticatedError
from app.domain.models import Priority, TaskFilter, TaskSort
from app.domain.request_context import CLIENT_MUTATION_ID, collect_board_checks
from app.domain.views import board_view, comment_view, event_view, member_view, task_view
from app.jsonutil import dumps, loads
from app.runtime import Runtime
from app.services.access import insufficient_scope
from app.services.idempotency import request_fingerprint
from app.services.tokens import is_api_token

# The token of the call: the HTTP request's bearer, or stdio's TASKWIRE_TOKEN.
type CredentialSource = Callable[[Context], str | None]
# A plain dict annotation: the SDK makes the tools' structured output from it.
Json = dict[str, Any]

SERVER_NAME = "taskwire"
INSTRUCTIONS = (
    "Taskwire boards hold tasks in columns. Find work with search_tasks or list_boards, read a board or "
    "task before changing it, and pass the version you read to update_task. Every change you make is "
    "shown to the board's members as yours, via this token."
)
PAGE = 100
MAX_CHANGES = 500
IdempotencyKey = Annotated[
    str | None,
    Field(description="Send the same key when retrying: the write happens once and the retry gets its result."),
]


def _refusal(error: DomainError) -> ToolError:
    extra: Json = {"current": error.current} if isinstance(error, StaleVersionError) else {}
    return ToolError(dumps(error_body(error.code, error.message, error.details, **extra)))


class Assistant:
    """What one token may do, checked on every call: the caller is found again each time,
    so a revoked or expired token stops working on the next call."""

    def __init__(self, runtime: Runtime, credential: CredentialSource) -> None:
        self.runtime = runtime
        self._credential = credential

    async def caller(self, ctx: Context) -> Caller:
        secret = self._credential(ctx)
        if not secret or not is_api_token(secret):
            raise UnauthenticatedError(
                "api_token_required", "The MCP server takes a personal API token (twp_...), sent as a Bearer token."
            )
        # Binds the token's limits and name to this call's context (every board check and
        # event draft made below reads them), as for a REST request.
        caller = await self.runtime.services.auth.authenticate(secret)
        CLIENT_MUTATION_ID.set(None)
        # Each tool call counts as one API request of the user, as on REST.
        await enforce("api", caller.user.id, self.runtime.settings.rate_limit_api_per_minute, self.runtime)
        return caller

    async def run[T](self, ctx: Context, work: Callable[[Caller], Awaitable[T]], *, writes: bool = False) -> T:
        try:
            caller = await self.caller(ctx)
            if writes and caller.limits is not None and not caller.limits.writable:
                raise insufficient_scope()
            return await work(caller)
        except DomainError as error:
            raise _refusal(error) from None

    async def once(
        self, caller: Caller, tool: str, arguments: Json, key: str | None, write: Callable[[], Awaitable[Json]]
    ) -> Json:
        """``write`` once per (token, idempotency key), as an idempotent POST on REST: a retry
        with the key gets the first result while the caller still passes its board checks."""
        if key is None:
            return await write()
        fingerprint = request_fingerprint("MCP", tool, b"", dumps(arguments).encode())
        call = IdempotentCall(self.runtime, caller, key, fingerprint)
        stored = await call.claim()
        if stored is not None:
            replayed: Json = loads(stored.body)
            return replayed
        board_checks = collect_board_checks()
        try:
            result = await write()
        except BaseException:
            await call.release()
            raise
        await call.keep(StoredResponse(200, dumps(result).encode(), {}), board_checks)
        return result

    async def board(self, caller: Caller, board_id: str) -> Json:
        services = self.runtime.services
        board, role = await services.boards.get(caller.user, board_id)
        members = await services.boards.list_members(caller.user, board_id)
        page = await services.tasks.list(caller.user, board_id, TaskFilter(), TaskSort.POSITION, PAGE, None, True)
        return {
            "board": board_view(board, role),
            "members": [member_view(member) for member in members],
            "tasks": [task_view(task) for task in page.items],
            "more_tasks": page.has_more,
        }

    async def task(self, caller: Caller, task_id: str) -> Json:
        services = self.runtime.services
        task = await services.tasks.get(caller.user, task_id)
        comments, more = await services.comments.list(caller.user, task_id, None, PAGE)
        return {"task": task_view(task), "comments": [comment_view(c) for c in comments], "more_comments": more}

    async def boards(self, caller: Caller) -> list[Json]:
        rows, _ = await self.runtime.services.boards.list_for(caller.user, None, PAGE)
        return [board_view(board, role) for board, role in rows]


def build_mcp_server(runtime: Runtime, credential: CredentialSource) -> MCPServer:
    assistant = Assistant(runtime, credential)
    services = runtime.services
    server = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS)

    @server.tool()
    async def list_boards(ctx: Context) -> Json:
        """The boards this token may see, with your role on each and their columns."""
        return {"boards": await assistant.run(ctx, assistant.boards)}

    @server.tool()
    async def search_tasks(
        ctx: Context,
        query: Annotated[str, Field(max_length=200, description="Words to find in titles and descriptions.")] = "",
        board_id: Annotated[Id | None, Field(description="Only this board; every board when absent.")] = None,
        status: Column | None = None,
        assignee: Annotated[str | None, Field(description="A user id, or 'me'.")] = None,
        label: str | None = None,
        limit: Annotated[int, Field(ge=1, le=PAGE)] = 20,
    ) -> Json:
        """Find tasks by words, column, assignee or label, on one board or on all of them."""

        async def search(caller: Caller) -> Json:
            board_ids = [board_id] if board_id else [view["id"] for view in await assistant.boards(caller)]
            found: list[Json] = []
            for each in board_ids:
                task_filter = TaskFilter(status=status, assignee=assignee, label=label, text=query.strip() or None)
                page = await services.tasks.list(
                    caller.user, each, task_filter, TaskSort.UPDATED_DESC, limit - len(found), None, False
                )
                found.extend(task_view(task) for task in page.items)
                if len(found) >= limit:
                    break
            return {"tasks": found}

        return await assistant.run(ctx, search)

    @server.tool()
    async def read_board(ctx: Context, board_id: Id) -> Json:
        """A board: its columns, members and (the first 100) tasks in column order."""
        return await assistant.run(ctx, lambda caller: assistant.board(caller, board_id))

    @server.tool()
    async def read_task(ctx: Context, task_id: Id) -> Json:
        """A task with its version (needed to update it) and its comments."""
        return await assistant.run(ctx, lambda caller: assistant.task(caller, task_id))

    @server.tool()
    async def create_task(
        ctx: Context,
        board_id: Id,
        title: Title,
        description: Description = "",
        status: Annotated[Column | None, Field(description="A column of the board; the first when absent.")] = None,
        priority: Priority = Priority.MEDIUM,
        assignees: Assignees | None = None,
        labels: Labels | None = None,
        due_at: Timestamp | None = None,
        idempotency_key: IdempotencyKey = None,
        client_mutation_id: ClientMutationId | None = None,
    ) -> Json:
        """Create a task at the end of its column (editors and up)."""
        fields: Json = {"title": title, "description": description, "priority": priority, "due_at": due_at}
        fields.update({k: v for k, v in (("status", status), ("assignees", assignees), ("labels", labels)) if v})
        arguments = {"board_id": board_id, **fields, "due_at": due_at}

        async def create(caller: Caller) -> Json:
            CLIENT_MUTATION_ID.set(client_mutation_id)
            return await assistant.once(
                caller,
                "create_task",
                arguments,
                idempotency_key,
                lambda: _view(services.tasks.create(caller.user, board_id, dict(fields))),
            )

        return await assistant.run(ctx, create, writes=True)

    @server.tool()
    async def update_task(
        ctx: Context,
        task_id: Id,
        version: Annotated[int, Field(ge=1, description="The version you read; a stale one is refused.")],
        title: Title | None = None,
        description: Description | None = None,
        status: Column | None = None,
        priority: Priority | None = None,
        assignees: Assignees | None = None,
        labels: Labels | None = None,
        due_at: Timestamp | None = None,
        clear_due_at: bool = False,
        client_mutation_id: ClientMutationId | None = None,
    ) -> Json:
        """Change a task's fields (editors and up). Only the fields you pass change; on a
        version conflict the error carries the current task under ``current``."""
        changes: Json = {
            name: value
            for name, value in (
                ("title", title),
                ("description", description),
                ("status", status),
                ("priority", priority),
                ("assignees", assignees),
                ("labels", labels),
                ("due_at", due_at),
            )
            if value is not None
        }
        if clear_due_at:
            changes["due_at"] = None

        async def update(caller: Caller) -> Json:
            CLIENT_MUTATION_ID.set(client_mutation_id)
            return await _view(services.tasks.update(caller.user, task_id, version, changes))

        return await assistant.run(ctx, update, writes=True)

    @server.tool()
    async def move_task(
        ctx: Context,
        task_id: Id,
        status: Annotated[Column, Field(description="The column to move the task to.")],
        before: Annotated[Id | None, Field(description="The task that will be just above this one.")] = None,
        after: Annotated[Id | None, Field(description="The task that will be just below this one.")] = None,
        client_mutation_id: ClientMutationId | None = None,
    ) -> Json:
        """Move a task to a column, between two of its tasks or at its end (editors and up)."""

        async def move(caller: Caller) -> Json:
            CLIENT_MUTATION_ID.set(client_mutation_id)
            return await _view(services.tasks.move(caller.user, task_id, status, before, after))

        return await assistant.run(ctx, move, writes=True)

    @server.tool()
    async def comment_on_task(
        ctx: Context,
        task_id: Id,
        body: CommentBody,
        idempotency_key: IdempotencyKey = None,
        client_mutation_id: ClientMutationId | None = None,
    ) -> Json:
        """Comment on a task (editors and up); ``@name`` or ``@email`` of a member mentions them."""

        async def comment(caller: Caller) -> Json:
            CLIENT_MUTATION_ID.set(client_mutation_id)
            return await assistant.once(
                caller,
                "comment_on_task",
                {"task_id": task_id, "body": body},
                idempotency_key,
                lambda: _comment(services.comments.create(caller.user, task_id, body)),
            )

        return await assistant.run(ctx, comment, writes=True)

    @server.tool()
    async def list_changes(
        ctx: Context,
        board_id: Id,
        after_seq: Annotated[int, Field(ge=0, description="The latest_seq you saw; 0 for the whole log.")] = 0,
        limit: Annotated[int, Field(ge=1, le=MAX_CHANGES)] = 100,
    ) -> Json:
        """What changed on a board since ``after_seq``: its events in order, and ``latest_seq``
        to pass next time."""

        async def changes(caller: Caller) -> Json:
            events, latest = await services.boards.events(caller.user, board_id, after_seq, limit)
            return {"events": [event_view(event) for event in events], "latest_seq": latest}

        return await assistant.run(ctx, changes)

    async def read(ctx: Context, work: Callable[[Caller], Awaitable[Any]]) -> str:
        try:
            return dumps(await assistant.run(ctx, work))
        except ToolError as error:
            raise ResourceError(str(error)) from None

    # The SDK gives only templated resources the call's context (its token), so the list
    # of boards is the list_boards tool.
    @server.resource("taskwire://boards/{board_id}", mime_type="application/json")
    async def board_resource(board_id: str, ctx: Context) -> str:
        """A board with its members and tasks."""
        return await read(ctx, lambda caller: assistant.board(caller, board_id))

    @server.resource("taskwire://tasks/{task_id}", mime_type="application/json")
    async def task_resource(task_id: str, ctx: Context) -> str:
        """A task with its comments."""
        return await read(ctx, lambda caller: assistant.task(caller, task_id))

    return server


async def _view(task: Awaitable[Any]) -> Json:
    return task_view(await task)


async def _comment(comment: Awaitable[Any]) -> Json:
    return comment_view(await comment)
