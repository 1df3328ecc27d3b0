"""/openapi.json as a client generator needs it, derived in one place from the route map.

quart-schema builds each operation from the handler's decorators and docstring; this
provider adds what a generated client relies on, from markers every handler already
carries (its guards, path parameters, request models, method) so that no
handler repeats it: a tag per resource, operation ids like ``tasks-patch_task``,
``security: []`` on public routes, every error status a route can answer with the one
error schema, 204 on bodiless answers, the request headers the API reads, and summaries
made of whole sentences.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from quart_schema import Tag
from quart_schema.openapi import OpenAPIProvider
from quart_schema.validation import QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, QUART_SCHEMA_REQUEST_ATTRIBUTE
from werkzeug.routing import Rule

from app.api import guards
from app.api.mutations import CLIENT_MUTATION_ID_HEADER, CLIENT_MUTATION_ID_MAX_LENGTH, IDEMPOTENCY_HEADER
from app.api.schemas import ErrorOut
from app.services.idempotency import KEY_MAX_LENGTH

API_PREFIX = "/api/v1/"
SUMMARY_CHARS = 100
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}

# One tag per resource; an operation's resource is the last of these its path names.
RESOURCES = {
    "auth": "Accounts and sessions: register, sign in, refresh, sign out.",
    "users": "The signed-in user.",
    "boards": "Boards: the shared space that members, tasks and events belong to.",
    "members": "Who is on a board, and their role.",
    "tasks": "A board's tasks: list, filter, search, edit, move.",
    "comments": "Comments on tasks, with mentions.",
    "attachments": "Files on tasks: upload, list, download, thumbnails.",
    "columns": "A board's columns one at a time: free-text names, work-in-progress limits, order.",
    "checklist": "A task's checklist: items of text and done, in order.",
    "events": "A board's event log, also as a Server-Sent Events stream.",
    "webhooks": "Signed POSTs of a board's events to your URL, and their delivery log.",
    "tokens": "Personal API tokens for integrations.",
    "notifications": "Your mentions and assignments.",
    "admin": "The instance administrator: accounts, open registration, figures.",
    "preferences": "What reaches you where: the bell, email, the daily digest; quiet hours.",
    "analytics": "How work flows on a board, computed from its event log.",
    "recurrence": "A task's repeat rule: its next occurrence is created when it is done.",
    "imports": "Import a Trello or Planka board export or a CSV file as a board: a job, its upload, its progress and report.",
    "trash": "Deleted tasks (a board's trash) and deleted boards (your trash): restorable until purged.",
    "invitations": "Invitation links for people without an account.",
}
RESOURCE_TAGS: list[Tag | dict[Any, Any]] = [
    Tag(name=name, description=description) for name, description in RESOURCES.items()
]

ERRORS = {
    400: "Malformed: the body is not JSON, or a cursor or header is not valid.",
    401: "No valid access token or API token (or, on sign-in, wrong credentials).",
    403: "Your role on the board, or the API token's scope, does not allow this.",
    404: "No such record, or not one you may see.",
    409: "Conflicts with the current state: a stale version, a duplicate, a request in progress.",
    413: "The body is larger than the server accepts (TASKWIRE_MAX_BODY_BYTES).",
    415: "The body is not of the type this route reads.",
    422: "The input is not valid; `details` says where.",
    428: "The version you saw is required (`version` in the body or If-Match).",
    429: "Too many requests; retry after the Retry-After header's seconds.",
    503: "The store or the broker is unavailable; retry.",
}


def _optional_header(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": schema, "description": description}


IF_MATCH = _optional_header(
    "If-Match", {"type": "string", "maxLength": 40}, 'The task version you saw, e.g. `"3"`: a stale one gets 409.'
)
IDEMPOTENCY_KEY = _optional_header(
    IDEMPOTENCY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH},
    "Makes a POST safe to retry: a repeat with the same key and body gets the first answer.",
)
CLIENT_MUTATION_ID = _optional_header(
    CLIENT_MUTATION_ID_HEADER,
    {"type": "string", "minLength": 1, "maxLength": CLIENT_MUTATION_ID_MAX_LENGTH},
    "Echoed as `client_mutation_id` in the events this write causes, so its author can skip them.",
)
# The routes that read If-Match (the task handlers read the header themselves).
IF_MATCH_ROUTES = {
    ("patch", "/api/v1/tasks/{task_id}"),
    ("delete", "/api/v1/tasks/{task_id}"),
    ("post", "/api/v1/tasks/{task_id}/archive"),
    ("post", "/api/v1/tasks/{task_id}/unarchive"),
}
# A success that is not JSON and is not declared with a response model.
EVENT_STREAM_PATH = "/api/v1/boards/{board_id}/events/stream"
BINARY = {"type": "string", "format": "binary"}
NOT_JSON_SUCCESS = {
    EVENT_STREAM_PATH: {
        "description": "The events, as `text/event-stream`, until the stream ends.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    "/api/v1/attachments/{attachment_id}/content": {
        "description": "The file's bytes, with its `content_type` and `Content-Disposition: attachment`.",
        "content": {"application/octet-stream": {"schema": BINARY}},
    },
    "/api/v1/attachments/{attachment_id}/thumbnail": {
        "description": "A WebP image of at most 320 x 320 pixels.",
        "content": {"image/webp": {"schema": BINARY}},
    },
}
# The one body that is not JSON: a file upload, streamed by its handler.
UPLOAD = ("post", "/api/v1/tasks/{task_id}/attachments")
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {**BINARY, "description": "The file; its part's filename is its name."}},
            }
        }
    },
}
UPLOAD_TOO_LARGE = (
    "The file is larger than TASKWIRE_ATTACHMENT_MAX_BYTES (`attachment_too_large`), or the board's "
    "attachments would pass TASKWIRE_BOARD_ATTACHMENT_QUOTA_BYTES (`board_quota_exceeded`)."
)


def resource_of(path: str) -> str:
    for segment in reversed(path.removeprefix(API_PREFIX).split("/")):
        if segment in RESOURCES:
            return segment
    raise LookupError(f"{path} names no resource of {sorted(RESOURCES)}")


def _paragraphs(docstring: str) -> list[str]:
    """The docstring as Markdown paragraphs: wrapped lines joined, ``code`` as `code`."""
    text = docstring.replace("``", "`")
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]


def summary_and_description(docstring: str) -> tuple[str, str]:
    """The summary is the first sentence (its first clause when long), in plain text, as
    generators and /docs show it unrendered; the description is the whole docstring."""
    paragraphs = _paragraphs(docstring)
    summary = re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", paragraphs[0], maxsplit=1)[0].rstrip(".")
    if len(summary) > SUMMARY_CHARS and ": " in summary:
        summary = summary.split(": ", 1)[0]
    return summary.replace("`", ""), "\n\n".join(paragraphs)


class TaskwireOpenAPI(OpenAPIProvider):
    def schema(self) -> dict[str, Any]:
        schema = super().schema()
        components = schema["components"]["schemas"]
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(error_schema.pop("$defs", {}))
        components["ErrorOut"] = error_schema
        return schema

    def operation_id(self, method: str, path: str, func: Any) -> str:
        return f"{resource_of(path)}-{func.__name__}"

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        func = self._app.view_functions[rule.endpoint]
        for path, operations in paths.items():
            for method, operation in operations.items():
                operations[method] = self._complete(copy.deepcopy(operation), method, path, func)
        return paths, components

    def _complete(self, operation: dict[str, Any], method: str, path: str, func: Any) -> dict[str, Any]:
        marks = guards.guards_of(func)
        public = guards.PUBLIC in marks
        has_body = getattr(func, QUART_SCHEMA_REQUEST_ATTRIBUTE, None) is not None
        has_query = getattr(func, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None) is not None
        operation["tags"] = [resource_of(path)]
        if func.__doc__:
            operation["summary"], operation["description"] = summary_and_description(func.__doc__)
        if public:
            operation["security"] = []  # the global bearer requirement does not apply

        headers = []
        if (method, path) in IF_MATCH_ROUTES:
            headers.append(IF_MATCH)
        if guards.IDEMPOTENT in marks:
            headers.append(IDEMPOTENCY_KEY)
        if guards.CLIENT_MUTATION_ID in marks:
            headers.append(CLIENT_MUTATION_ID)
        operation["parameters"] = [*operation.get("parameters", []), *copy.deepcopy(headers)]

        statuses = {429, 503} if public else {401, 403, 429, 503}
        if "{" in path:
            statuses.add(404)
        if has_body:
            statuses |= {400, 413, 422}
        if has_query:
            statuses |= {400, 422}
        if IDEMPOTENCY_KEY in headers:
            statuses |= {400, 409, 422}
        if CLIENT_MUTATION_ID in headers:
            statuses.add(422)
        if IF_MATCH in headers:
            statuses |= {400, 409} | ({428} if method == "patch" else set())
        if (method, path) == UPLOAD:
            operation["requestBody"] = copy.deepcopy(UPLOAD_BODY)
            statuses |= {400, 413, 415, 422}

        responses = {str(status): response for status, response in operation["responses"].items()}
        for status, response in responses.items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("title") == ErrorOut.__name__:
                response["content"]["application/json"]["schema"] = ERROR_REF
            if int(status) in ERRORS and not response.get("description"):
                response["description"] = ERRORS[int(status)]
        for code in sorted(statuses):
            description = UPLOAD_TOO_LARGE if (method, path) == UPLOAD and code == 413 else ERRORS[code]
            responses.setdefault(
                str(code), {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}
            )
        if not any(status.startswith("2") for status in responses):
            if path in NOT_JSON_SUCCESS:
                responses["200"] = copy.deepcopy(NOT_JSON_SUCCESS[path])
            else:
                responses["204"] = {"description": "Done; no content."}
        operation["responses"] = dict(sorted(responses.items()))
        return operation
