"""The one JSON encoder writes the bytes the standard library's compact UTF-8 encoder
wrote before it, and refuses or falls back exactly where that encoder would."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.models import Priority, Task
from app.domain.views import task_view
from app.jsonutil import NotJSON, _default, dumps, encode

STANDARD = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


def task(title: str) -> Task:
    return Task(
        id="01TASK",
        board_id="01BOARD",
        title=title,
        description="line\nbreak\t\x00",
        status="todo",
        priority=Priority.HIGH,
        assignees=["01U"],
        labels=["é"],
        due_at=None,
        position="a0",
        created_by="01U",
        created_at="2026-12-01T00:00:00.000Z",
        updated_at="2026-12-01T00:00:00.000Z",
    )


@given(json_values)
def test_any_json_value_is_written_byte_for_byte_as_the_standard_library_did(value) -> None:
    assert encode(value) == STANDARD.encode(value).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("title", ["plain", "Ünïcödé ✓ 😀", 'quote " backslash \\ \u2028', "\x1f\x7f"])
def test_a_task_view_and_a_task_record_are_written_as_before(title: str) -> None:
    assert dumps(task_view(task(title))) == STANDARD.encode(task_view(task(title)))
    assert dumps(task(title)) == STANDARD.encode(task(title))


def test_what_only_a_client_can_send_still_encodes_as_before() -> None:
    # An integer past 64 bits or a lone surrogate, echoed back in a validation error.
    value = {"input": 2**80, "text": "\ud800", "keys": {1: "int key"}}
    assert dumps(value) == STANDARD.encode(value)


def test_what_is_not_json_is_refused_with_a_type_error() -> None:
    with pytest.raises(NotJSON):
        dumps({"a": {1, 2}})
