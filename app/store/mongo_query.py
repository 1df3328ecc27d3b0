"""Filters and orders for ``list_tasks``: keyset pagination over the stored sort keys."""

from __future__ import annotations

import re

from app.domain.models import TaskFilter, TaskPageRequest, TaskSort, sort_is_descending
from app.store.mongo_records import Document, want_int, want_str

# The stored field holding task_sort_key(task, sort) for each sort; see mongo_tasks.task_doc.
SORT_FIELDS = {
    TaskSort.POSITION: "position",
    TaskSort.CREATED_DESC: "created_at",
    TaskSort.UPDATED_DESC: "updated_at",
    TaskSort.DUE_AT: "due_key",
    TaskSort.PRIORITY: "priority_rank",
}

# The runs of characters MongoDB's text index (and mongoeco's) would read as words.
_WORD = re.compile(r"\w+")


def text_clauses(text: str) -> list[Document] | None:
    """Filter clauses for the user's words: all required, the last one as a prefix.

    $text ORs bare words and reads ``-word`` and ``"..."`` as syntax, so only the words
    are taken out of the user's text and each is quoted on its own: quoted phrases must
    all match. $text cannot match a prefix, so the last word is instead a
    case-insensitive regex anchored at a word start, over title and description.
    None when the text holds no word at all.
    """
    words = _WORD.findall(want_str(text, "text"))
    if not words:
        return None
    *whole, last = words
    starts_word = {"$regex": rf"(?:^|\W){re.escape(last)}", "$options": "i"}
    clauses: list[Document] = [{"$or": [{"title": starts_word}, {"description": starts_word}]}]
    if whole:
        clauses.append({"$text": {"$search": " ".join(f'"{word}"' for word in whole)}})
    return clauses


def base_filter(board_id: str, task_filter: TaskFilter) -> Document | None:
    """The filter without the keyset; None when it can match nothing (text without words)."""
    query: Document = {"board_id": want_str(board_id, "board_id")}
    if task_filter.status is not None:
        query["status"] = want_str(task_filter.status, "status")
    # Null matches an absent field: a task never archived has none.
    query["archived_at"] = {"$ne": None} if task_filter.archived else None
    # Equality on an array field matches any one element.
    if task_filter.assignee is not None:
        query["assignees"] = want_str(task_filter.assignee, "assignee")
    if task_filter.label is not None:
        query["labels"] = want_str(task_filter.label, "label")
    if task_filter.text is not None:
        clauses = text_clauses(task_filter.text)
        if clauses is None:
            return None
        for clause in clauses:
            # $text must stay at the top level of the filter; the $or goes under $and.
            if "$text" in clause:
                query.update(clause)
            else:
                query.setdefault("$and", []).append(clause)
    return query


def keyset_filter(request: TaskPageRequest) -> Document | None:
    """Tasks strictly after ``request.after`` in the page order, or None for the first page."""
    if request.after is None:
        return None
    if not isinstance(request.after, (tuple, list)) or len(request.after) != 2:
        raise TypeError("after must be a (sort key, task id) pair")
    key, task_id = request.after
    field = SORT_FIELDS[TaskSort(request.sort)]
    # Any scalar is only ever a value. One of the wrong type for the sort (a tampered
    # cursor) compares with nothing under BSON's type bracketing: an empty page, not an error.
    value: str | int = want_str(key, "after key") if isinstance(key, str) else want_int(key, "after key")
    past = "$lt" if sort_is_descending(request.sort) else "$gt"
    return {"$or": [{field: {past: value}}, {field: value, "_id": {past: want_str(task_id, "after id")}}]}


def sort_spec(sort: TaskSort) -> list[tuple[str, int]]:
    direction = -1 if sort_is_descending(sort) else 1
    return [(SORT_FIELDS[TaskSort(sort)], direction), ("_id", direction)]


def page_filter(request: TaskPageRequest, base: Document) -> Document:
    after = keyset_filter(request)
    if after is None:
        return base
    return {**base, "$and": [*base.get("$and", []), after]}
