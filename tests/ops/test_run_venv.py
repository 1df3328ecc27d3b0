"""What `make run` installs is enough for the examples it points people to."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

import pytest

from tests.support.services import REPO_ROOT


def run_install_requirements() -> set[str]:
    """Distribution names `make run` installs: the project's dependencies and its extras."""
    makefile = (REPO_ROOT / "Makefile").read_text()
    rule = re.search(r"^\$\(VENV\)/\.installed:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert rule, "the Makefile lost its install rule"
    extras = re.search(r"pip install [^\n]*-e '?\.(?:\[([\w,]+)\])?", rule.group(1))
    assert extras
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in (extras.group(1) or "").split(","):
        wanted += project["optional-dependencies"].get(extra, []) if extra else []
    return {re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower() for requirement in wanted}


def third_party_imports(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return {module for module in modules if module not in sys.stdlib_module_names and module != "__future__"}


@pytest.mark.parametrize("example", sorted((REPO_ROOT / "examples").glob("*.py")), ids=lambda path: path.name)
def test_make_run_installs_what_each_example_imports(example) -> None:
    installed = run_install_requirements()
    distributions = packages_distributions()
    for module in third_party_imports(example.read_text()):
        names = {name.lower() for name in distributions.get(module, [module])}
        assert names & installed, f"{example.name} imports {module}, which `make run` does not install"
