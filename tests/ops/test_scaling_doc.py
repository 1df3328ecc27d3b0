"""docs/scaling.md's capacity table is what bench/capacity.py computes from
bench/capacity_inputs.json, so the model is rerun whenever a measured figure moves."""

from __future__ import annotations

import json
import runpy

from tests.support.services import REPO_ROOT


def test_the_capacity_table_in_the_docs_is_the_one_the_model_computes() -> None:
    model = runpy.run_path(str(REPO_ROOT / "bench" / "capacity.py"))
    table = model["table"](model["load_inputs"](model["INPUTS"], None, []))
    assert table in (REPO_ROOT / "docs" / "scaling.md").read_text(), "rerun: .venv/bin/python bench/capacity.py"


def test_every_measured_input_names_the_benchmark_it_came_from() -> None:
    inputs = json.loads((REPO_ROOT / "bench" / "capacity_inputs.json").read_text())
    for name, entry in inputs["measured"].items():
        assert "bench/" in entry["source"], name
    for name, entry in inputs["assumed"].items():
        assert entry["why"], name
