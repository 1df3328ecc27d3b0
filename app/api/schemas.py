"""Request and response models of the REST API (pydantic, documented in OpenAPI).

Every request model forbids unknown fields, and every string has a bound, so a request
either means exactly what it says or is refused with 422.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints, create_model

from app.domain.clock import format_time
from app.domain.models import ApiToken, Attachment, Board, Comment, Event, Member, Priority, Role, Task, TaskSort, User
from app.domain.shape import shape_of
from app.services.checklists import MAX_ITEM_TEXT


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="allow")


def view_of[M: ResponseModel](record: type) -> Callable[[type[M]], type[M]]:
    """Give the decorated response model the fields of a record's public view
    (app.domain.views), derived from the record's one definition: its shown fields in
    order, under their view keys, with their descriptions; a dotted key (``actor.id``)
    becomes an object of its own. Fields the class declares itself follow them."""

    def derive(declared: type[M]) -> type[M]:
        fields: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for item in shape_of(record):
            if item.key is None:
                continue
            spec = (item.annotation, Field(default=None if item.omit_none else ..., description=item.doc))
            outer, _, inner = item.key.rpartition(".")
            if outer:
                if outer not in nested:
                    nested[outer] = fields[outer] = {}
                nested[outer][inner] = spec
            else:
                fields[item.key] = spec
        for outer, members in nested.items():
            fields[outer] = (create_model(f"{record.__name__}{outer.title()}", __base__=ResponseModel, **members), ...)
        fields.update({name: (info.annotation, info) for name, info in declared.model_fields.items()})
        model: type[BaseModel] = create_model(
            declared.__name__, __base__=declared.__bases__, __module__=declared.__module__, **fields
        )
        return cast(type[M], model)

    return derive


Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# The part of an invitation link after `#`.
InvitationToken = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Column = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


def storable_time(moment: datetime) -> str:
    """The one stored form (UTC, microseconds, Z). Years 1000-9999 in UTC only: outside them
    the conversion overflows or the text loses the fixed width that makes its order time order."""
    try:
        text = format_time(moment)
    except OverflowError:
        raise ValueError("the time is out of range") from None
    if len(text) != len("2000-01-01T00:00:00.000000Z"):
        raise ValueError("the year must be between 1000 and 9999 (UTC)")
    return text


# Accepts any ISO 8601 time and keeps it in the one stored form.
Timestamp = Annotated[datetime, AfterValidator(storable_time), PlainSerializer(lambda text: text, return_type=str)]


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
    invitation_token: InvitationToken | None = Field(
        default=None,
        description="The part of an invitation link after `#`: while registration is closed, a pending "
        "invitation to this very email lets the account be created (it joins the board by "
        "POST /api/v1/invitations/accept).",
    )


class LoginIn(RequestModel):
    email: Email
    password: Password
    code: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = Field(
        default=None, description="With two-factor sign-in on: the authenticator's code or a recovery code."
    )


class RefreshIn(RequestModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


@view_of(User)
class UserOut(ResponseModel):
    pass


class SessionOut(ResponseModel):
    user: UserOut
    access_token: str
    refresh_token: str | None = Field(description="Absent when the dashboard asked for the HttpOnly cookie.")
    token_type: Literal["Bearer"]
    expires_in: int


class UserPatchIn(RequestModel):
    name: PersonName | None = None
    password: Password | None = Field(default=None, description="A new password; needs current_password.")
    current_password: Password | None = None


# -- boards and members -----------------------------------------------------------------
# Free text without control characters: a column's display name, or a key as in v1.
ColumnName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Columns = Annotated[
    list[ColumnName],
    Field(
        min_length=1,
        max_length=20,
        description=(
            "Each entry is an existing column's key or display name (that column, kept), key-shaped text "
            "(a new column with that key), or any other text: a new column with that display name and a key "
            'derived from it ("Code Review 👀" -> code_review).'
        ),
    ),
    AfterValidator(unique_values),
]


class BoardIn(RequestModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    columns: Columns | None = None


class BoardPatchIn(RequestModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    columns: Columns | None = None


@view_of(Board)
class BoardOut(ResponseModel):
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


@view_of(Member)
class MemberOut(ResponseModel):
    pass


class MemberList(ResponseModel):
    items: list[MemberOut]


# -- tasks ----------------------------------------------------------------------------
# Echoed in the events the write causes (the X-Client-Mutation-Id header works too).
ClientMutationId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    Field(description="Your id for this change; the events it causes carry it as client_mutation_id."),
]
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
        default=None, description="The version you saw; or send it as If-Match."
    )
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


class ChecklistItemOut(ResponseModel):
    id: str
    text: str
    done: bool


@view_of(Task)
class TaskOut(ResponseModel):
    checklist: list[ChecklistItemOut] = Field(description="The task's checklist, in order.")


class TaskListQuery(RequestModel):
    status: Column | None = None
    assignee: Id | None = Field(default=None, description='A user id, or "me".')
    label: Label | None = None
    q: Annotated[str, StringConstraints(max_length=200)] | None = None
    sort: TaskSort = TaskSort.POSITION
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None
    include_total: bool = False
    archived: bool = Field(default=False, description="true: only the archived tasks; false: the others.")


class TaskList(ResponseModel):
    items: list[TaskOut]
    next_cursor: str | None
    total: int | None = None
    comment_counts: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "How many comments each listed task has, by task id. Beside the tasks, not in them: a task "
            "is the same object in every answer and event, and a comment does not change its task."
        ),
    )
    attachment_counts: dict[str, int] = Field(
        default_factory=dict, description="How many attachments each listed task has, by task id (beside the tasks)."
    )
    attachment_covers: dict[str, str] = Field(
        default_factory=dict,
        description="By task id, for the listed tasks with an image: the newest image attachment's id (its thumbnail).",
    )


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
    task_id: Annotated[
        Id | None,
        Field(
            description=("Only this task's events: its task.* events and its comments' comment.* events (its history).")
        ),
    ] = None


class EventStreamQuery(RequestModel):
    after: Annotated[
        int | None,
        Field(
            ge=0,
            le=MAX_SEQ,
            description=(
                "Start after this seq (the Last-Event-ID header, when sent, wins); none: with the next event."
            ),
        ),
    ] = None
    ticket: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            description=(
                "A stream ticket from POST .../events/stream-ticket, for clients that cannot send an "
                "Authorization header (browsers' EventSource); single use."
            ),
        ),
    ] = None


class StreamTicketOut(ResponseModel):
    ticket: str = Field(description="Pass as ?ticket= on the board's event stream, once, within expires_in seconds.")
    expires_in: int = Field(description="Seconds the ticket stays good for if unused.")


@view_of(Event)
class EventOut(ResponseModel):
    pass


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
        default=None, description="Limit the token to these boards; omit for all of your boards."
    )
    expires_at: Timestamp | None = None


@view_of(ApiToken)
class TokenOut(ResponseModel):
    pass


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself: shown this once, never again.")


class TokenList(ResponseModel):
    items: list[TokenOut]


# -- columns and checklists ------------------------------------------------------------------
WipLimit = Annotated[int, Field(ge=1, le=10_000, description="More tasks than this in the column is warned about.")]
Position = Annotated[int, Field(ge=0, le=1000, description="0-based place in the list after the change.")]


class ColumnIn(RequestModel):
    name: ColumnName
    wip_limit: WipLimit | None = None
    position: Position | None = Field(default=None, description="Where to insert it; omit for the end.")
    client_mutation_id: ClientMutationId | None = None


class ColumnPatchIn(RequestModel):
    name: ColumnName | None = None
    wip_limit: WipLimit | None = Field(default=None, description="null removes the limit.")
    position: Position | None = None
    client_mutation_id: ClientMutationId | None = None


class ColumnOut(ResponseModel):
    key: str = Field(description="Stable: tasks' status refers to it; renaming the column keeps it.")
    name: str | None = Field(description="The display name; null: the column is shown by its key.")
    wip_limit: int | None
    position: int


ChecklistText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ITEM_TEXT, pattern=r"^[^\x00-\x1f\x7f]+$"),
]


class ChecklistItemIn(RequestModel):
    text: ChecklistText
    position: Position | None = Field(default=None, description="Where to insert it; omit for the end.")
    client_mutation_id: ClientMutationId | None = None


class ChecklistItemPatchIn(RequestModel):
    text: ChecklistText | None = None
    done: bool | None = None
    position: Position | None = None
    client_mutation_id: ClientMutationId | None = None


# -- comments -----------------------------------------------------------------------------
CommentBody = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000)]


class CommentIn(RequestModel):
    body: CommentBody
    client_mutation_id: ClientMutationId | None = None


@view_of(Comment)
class CommentOut(ResponseModel):
    pass


class CommentList(ResponseModel):
    items: list[CommentOut]
    next_cursor: str | None


@view_of(Attachment)
class AttachmentOut(ResponseModel):
    pass


class AttachmentList(ResponseModel):
    items: list[AttachmentOut]
    next_cursor: str | None
