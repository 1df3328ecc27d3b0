"""Every MongoDB task list filter has an index that both selects and orders it.

mongoeco, the emulator the suite runs on, scans and sorts in Python whatever the indexes
(its explain shows an "engine scan" for every find), so the plan a real server would pick
is checked here against the declared indexes instead: equality fields first, then the
sort keys, or the server sorts every match in memory."""

from __future__ import annotations

import pytest

from app.domain.models import TaskFilter, TaskSort
from app.store.mongo_query import base_filter, sort_spec
from app.store.mongo_schema import INDEXES, TASKS


@pytest.mark.parametrize("wanted", [{}, {"status": "doing"}, {"label": "bug"}, {"assignee": "ann"}])
def test_each_filter_in_board_order_is_one_index_walk(wanted: dict[str, str]) -> None:
    query = base_filter("B", TaskFilter(**wanted))
    assert query is not None
    equalities = {field for field, value in query.items() if not field.startswith("$") and isinstance(value, str)}
    order = [field for field, _ in sort_spec(TaskSort.POSITION)]

    serving = [
        spec.name
        for spec in INDEXES
        if spec.collection == TASKS
        and {field for field, _ in spec.keys[: len(equalities)]} == equalities
        and [field for field, _ in spec.keys[len(equalities) :]] == order
    ]

    assert serving, f"no index serves {sorted(equalities)} ordered by {order}"
