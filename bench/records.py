"""What a record costs as a slotted dataclass (Taskwire's ``@record``) against a pydantic model
and, if installed, a msgspec Struct: building a Task from trusted store values and turning it
into its public JSON view, the two things every list page and every event do per record.

    .venv/bin/python bench/records.py            # msgspec is not a dependency: pip install it to compare
"""

from __future__ import annotations

import dataclasses
import sys
import timeit
import typing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pydantic

from app.domain.models import Priority, Task
from app.domain.views import task_view

VALUES: dict[str, Any] = dict(
    id="01JABCDEFGHJKMNPQRSTVWXYZ0",
    board_id="01JABCDEFGHJKMNPQRSTVWXYZ1",
    title="Write the launch notes",
    description="Two paragraphs and a list of what changed.",
    status="in_progress",
    priority=Priority.HIGH,
    assignees=["01JABCDEFGHJKMNPQRSTVWXYZ2"],
    labels=["docs", "launch"],
    due_at="2026-12-04T17:00:00Z",
    position="a0",
    created_by="01JABCDEFGHJKMNPQRSTVWXYZ2",
    created_at="2026-12-01T09:00:00Z",
    updated_at="2026-12-01T10:30:00Z",
    version=3,
    checklist=[{"id": "c1", "text": "outline", "done": True}],
    archived_at=None,
)


def _model_of(record: type) -> type[pydantic.BaseModel]:
    """The same fields as a pydantic model, derived from the record so the two cannot drift."""
    hints = typing.get_type_hints(record)
    fields: dict[str, Any] = {}
    for item in dataclasses.fields(record):
        default = item.default if item.default is not dataclasses.MISSING else ...
        if item.default_factory is not dataclasses.MISSING:
            default = pydantic.Field(default_factory=item.default_factory)
        fields[item.name] = (hints[item.name], default)
    return pydantic.create_model(f"{record.__name__}Model", **fields)


TaskModel = _model_of(Task)


def main() -> None:
    cases: dict[str, tuple[Any, Any]] = {
        "@record dataclass": (lambda: Task(**VALUES), task_view),
        "pydantic, validated": (lambda: TaskModel(**VALUES), lambda m: m.model_dump(mode="json", exclude_none=True)),
        "pydantic, model_construct": (
            lambda: TaskModel.model_construct(**VALUES),
            lambda m: m.model_dump(mode="json", exclude_none=True),
        ),
    }
    try:
        import msgspec
    except ImportError:
        print("msgspec not installed: its row is skipped")
    else:
        struct = msgspec.defstruct("TaskStruct", [(name, Any) for name in VALUES], kw_only=True, omit_defaults=False)
        cases["msgspec Struct"] = (lambda: struct(**VALUES), msgspec.to_builtins)
    number = 50_000
    print(f"{'per record':28} {'build':>8} {'view':>8}")
    for name, (build, view) in cases.items():
        record = build()
        built = min(timeit.repeat(build, number=number, repeat=5)) / number * 1e6
        shown = (
            min(timeit.repeat(lambda view=view, record=record: view(record), number=number, repeat=5)) / number * 1e6
        )
        print(f"{name:28} {built:6.2f} us {shown:6.2f} us")


if __name__ == "__main__":
    main()
