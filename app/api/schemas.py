"""Request and response models of the REST API (pydantic, documented in OpenAPI).

Every request model forbids unknown fields, and every string has a bound, so a request
either means exactly what it says or is refused with 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from app.domain.clock import format_time
from app.domain.models import Priority, Role, TaskSort


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="allow")


Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Column = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# Accepts any ISO 8601 time and keeps it in the one stored form (UTC, microseconds, Z).
Timestamp = Annotated[datetime, AfterValidator(format_time), PlainSerializer(lambda text: text, return_type=str)]


def unique_values(values: list[str]) -> list[str]:
    """An AfterValidator for lists of ids, labels, columns...: a repeated value is refused."""
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


# -- auth ------------------------------------------------------------------------------
class RegisterIn(RequestModel):
    email: Email
    password: Password
    name: PersonName


class LoginIn(RequestModel):
    email: Email
    password: Password


class RefreshIn(RequestModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class UserOut(ResponseModel):
    id: str
    email: str
    name: str
    created_at: str


class SessionOut(ResponseModel):
    user: UserOut
    access_token: str
    refresh_token: str | None = Field(description="Absent when the dashboard asked for the HttpOnly cookie.")
    token_type: Literal["Bearer"]
    expires_in: int


class UserPatchIn(RequestModel):
    name: PersonName | None = None
    password: Password | None = None


# -- boards and members -----------------------------------------------------------------
Columns = Annotated[list[Column], Field(min_length=1, max_length=20), AfterValidator(unique_values)]


class BoardIn(RequestModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    columns: Columns | None = None


class BoardPatchIn(RequestModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    columns: Columns | None = None


class BoardOut(ResponseModel):
    id: str
    name: str
    description: str
    columns: list[str]
    created_by: str
    created_at: str
    updated_at: str
    seq: int
    role: Role


class BoardList(ResponseModel):
    items: list[BoardOut]
    next_cursor: str | None


class PageQuery(RequestModel):
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


class MemberIn(RequestModel):
    email: Email
    role: Role = Role.EDITOR


class MemberPatchIn(RequestModel):
    role: Role


class MemberOut(ResponseModel):
    board_id: str
    user_id: str
    role: Role
    email: str
    name: str
    added_at: str


class MemberList(ResponseModel):
    items: list[MemberOut]


# -- tasks ----------------------------------------------------------------------------
# Echoed in the events the write causes (the X-Client-Mutation-Id header works too).
ClientMutationId = Annotated[str, StringConstraints(min_length=1, max_length=100), Field(
    description="Your id for this change; the events it causes carry it as client_mutation_id.")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Description = Annotated[str, StringConstraints(max_length=20000)]
Assignees = Annotated[list[Id], Field(max_length=20), AfterValidator(unique_values)]
Labels = Annotated[list[Label], Field(max_length=20), AfterValidator(unique_values)]


class TaskIn(RequestModel):
    title: Title
    description: Description = ""
    status: Column | None = None
    priority: Priority = Priority.MEDIUM
    assignees: Assignees = []
    labels: Labels = []
    due_at: Timestamp | None = None
    client_mutation_id: ClientMutationId | None = None


class TaskPatchIn(RequestModel):
    version: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The version you saw; or send it as If-Match.")
    title: Title | None = None
    description: Description | None = None
    status: Column | None = None
    priority: Priority | None = None
    assignees: Assignees | None = None
    labels: Labels | None = None
    due_at: Timestamp | None = None
    client_mutation_id: ClientMutationId | None = None


class TaskMoveIn(RequestModel):
    status: Column
    before: Id | None = Field(default=None, description="The task that will be just above this one.")
    after: Id | None = Field(default=None, description="The task that will be just below this one.")
    client_mutation_id: ClientMutationId | None = None


class TaskOut(ResponseModel):
    id: str
    board_id: str
    title: str
    description: str
    status: str
    priority: Priority
    assignees: list[str]
    labels: list[str]
    due_at: str | None
    position: str
    created_by: str
    created_at: str
    updated_at: str
    version: int


class TaskListQuery(RequestModel):
    status: Column | None = None
    assignee: Id | None = Field(default=None, description='A user id, or "me".')
    label: Label | None = None
    q: Annotated[str, StringConstraints(max_length=200)] | None = None
    sort: TaskSort = TaskSort.POSITION
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None
    include_total: bool = False


class TaskList(ResponseModel):
    items: list[TaskOut]
    next_cursor: str | None
    total: int | None = None


class ErrorDetail(ResponseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable, for programs.")
    message: str = Field(description="For people.")
    details: Any = Field(default=None, description="Which input was wrong, the retry delay, ...")


class TaskConflict(ResponseModel):
    error: ErrorDetail
    current: TaskOut


# -- events -----------------------------------------------------------------------------
# Seqs are 64-bit integers in both stores; a larger "after" would overflow the driver.
MAX_SEQ = 2**63 - 1


class EventQuery(RequestModel):
    after: Annotated[int, Field(ge=0, le=MAX_SEQ)] = 0
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class EventStreamQuery(RequestModel):
    after: Annotated[int | None, Field(ge=0, le=MAX_SEQ, description=(
        "Start after this seq (the Last-Event-ID header, when sent, wins); none: with the next event."))] = None


class EventOut(ResponseModel):
    board_id: str
    seq: int
    type: str
    actor: str
    at: str
    data: dict[str, Any]
    client_mutation_id: str | None = Field(default=None, description="Present when the write that caused it sent one.")


class EventList(ResponseModel):
    items: list[EventOut]
    latest_seq: int


class ErrorOut(ResponseModel):
    error: ErrorDetail


# -- personal API tokens ---------------------------------------------------------------
class TokenIn(RequestModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    scopes: Annotated[list[Literal["read", "write"]], Field(min_length=1, max_length=2), AfterValidator(unique_values)]
    boards: Annotated[list[Id], Field(min_length=1, max_length=50), AfterValidator(unique_values)] | None = Field(
        default=None, description="Limit the token to these boards; omit for all of your boards.")
    expires_at: Timestamp | None = None


class TokenOut(ResponseModel):
    id: str
    name: str
    scopes: list[str]
    boards: list[str] | None
    prefix: str = Field(description="The first characters of the token, to tell tokens apart.")
    created_at: str
    last_used_at: str | None
    expires_at: str | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself: shown this once, never again.")


class TokenList(ResponseModel):
    items: list[TokenOut]


# -- comments -----------------------------------------------------------------------------
CommentBody = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000)]


class CommentIn(RequestModel):
    body: CommentBody
    client_mutation_id: ClientMutationId | None = None


class CommentOut(ResponseModel):
    id: str
    board_id: str
    task_id: str
    author_id: str
    body: str
    mentions: list[str] = Field(description="Ids of the board members the body @mentions.")
    created_at: str
    updated_at: str


class CommentList(ResponseModel):
    items: list[CommentOut]
    next_cursor: str | None
