"""The shape of the code, read from its imports (docs/architecture.md draws it).

Every module of ``app`` belongs to one layer; a module may import its own package and
the layers below its own, never a layer above nor a sibling package of its own layer, and
no two modules import each other, even only for type checking. Imports sit at the top of
a module: one moved into a function to dodge a cycle hides the cycle, so only the few
spots that choose a backend or a command lazily may import inside a function.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

# Highest first. Packages on one line form one layer and may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("app", "app.__main__"),  # entry points: the package (``app:create_app``) and the command line
    ("app.serving", "app.workers"),  # serves the app with Hypercorn (shutdown that always ends); N workers of it
    ("app.factory",),  # builds the Quart app: blueprints, error handlers, the runtime
    ("app.api", "app.ops"),  # edges: HTTP, WebSocket and SSE handlers; operations commands
    ("app.runtime",),  # builds and owns store, broker, hub, webhook worker and services
    ("app.services",),  # permissions and rules
    ("app.mail",),  # email: the outbox worker, SMTP, rendering, signed links
    ("app.webhooks",),  # webhook delivery: the worker, its signing and its destination guard
    ("app.events",),  # publishing events, session-end announcements
    ("app.realtime",),  # the hub fanning events out to sockets, its engines, the channel names
    ("app.store", "app.broker"),  # adapters over SQLite/MongoDB and memory/Redis
    # records, rules' vocabulary, tools
    ("app.domain", "app.settings", "app.jsonutil", "app.observability", "app.private_files"),
)
# Within the lowest layer the tools are used by the records, never the other way round.
FOUNDATION_ORDER = ("app.domain", "app.settings", "app.observability", "app.jsonutil", "app.private_files")

# (module, function): lazy imports that choose a backend or a command, and run downward.
LAZY_IMPORTS_ALLOWED = {
    ("app.__main__", "_configure_logging"),  # sentry-sdk is optional
    ("app.__main__", "_serve"),  # Hypercorn and the app only for `serve`
    ("app.__main__", "_event_loop_factory"),  # and the event loop its config names
    ("app.__main__", "_hypercorn_config"),  # Hypercorn's config (workers, loop, backlog) only for `serve`
    ("app.__main__", "_mcp"),  # the MCP SDK and the app only for `mcp`
    ("app.ops.cli", "_dispatch"),  # one command's code per command
    ("app.ops.indexes", "_list_mongo"),  # PyMongo only for a MongoDB store
    ("app.store", "create_store"),  # the driver of the URL's scheme only
    ("app.broker", "create_broker"),
}
# What knows HTTP: nothing below the edges and the runtime.
WEB_FRAMEWORKS = ("quart", "quart_schema", "werkzeug", "hypercorn", "starlette_compress")
WEB_FREE_LAYERS = (
    "app.services",
    "app.mail",
    "app.webhooks",
    "app.events",
    "app.store",
    "app.broker",
    "app.domain",
    "app.settings",
    "app.jsonutil",
    "app.observability",
    "app.private_files",
)


@dataclasses.dataclass(frozen=True)
class Import:
    source: str
    target: str  # a module of app, or a third-party top-level package
    line: int
    function: str | None  # the enclosing function, None at module level


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


APP_MODULES = {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def resolve(name: str) -> str:
    """``app.x.y.Name`` -> the module ``app.x.y`` it comes from."""
    while name not in APP_MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports_of(module: str) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, function or child.name)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(
                        Import(
                            module,
                            resolve(alias.name) if alias.name.startswith("app.") else alias.name,
                            child.lineno,
                            function,
                        )
                    )
            elif isinstance(child, ast.ImportFrom):
                assert child.level == 0 and child.module, f"{module}:{child.lineno}: use absolute imports"
                if child.module == "app" or child.module.startswith("app."):
                    for alias in child.names:
                        found.append(Import(module, resolve(f"{child.module}.{alias.name}"), child.lineno, function))
                else:
                    found.append(Import(module, child.module, child.lineno, function))
            visit(child, function)

    visit(ast.parse(APP_MODULES[module].read_text()), None)
    return found


ALL_IMPORTS = [item for module in APP_MODULES for item in imports_of(module)]
APP_IMPORTS = [item for item in ALL_IMPORTS if item.target in APP_MODULES and item.target != item.source]


def package_of(module: str) -> str:
    """The layer entry a module belongs to: the longest listed prefix."""
    listed = [name for layer in LAYERS for name in layer]
    # "app" is the package's own __init__ only: a new top-level module must be placed.
    matches = [name for name in listed if module == name or (name != "app" and module.startswith(name + "."))]
    assert matches, f"{module} belongs to no layer: add it to LAYERS"
    return max(matches, key=len)


def rank(package: str) -> int:
    return next(len(LAYERS) - index for index, layer in enumerate(LAYERS) if package in layer)


def test_every_module_belongs_to_a_layer() -> None:
    for module in APP_MODULES:
        package_of(module)


def test_no_import_runs_upward_or_sideways() -> None:
    wrong = []
    for item in APP_IMPORTS:
        source, target = package_of(item.source), package_of(item.target)
        if source == target:
            continue
        if rank(source) < rank(target):
            wrong.append(f"{item.source}:{item.line} imports {item.target}, a layer above")
        elif rank(source) == rank(target) and source in FOUNDATION_ORDER:
            if FOUNDATION_ORDER.index(source) > FOUNDATION_ORDER.index(target):
                wrong.append(f"{item.source}:{item.line} imports {item.target}, which uses it")
        elif rank(source) == rank(target):
            wrong.append(f"{item.source}:{item.line} imports {item.target}, a sibling of its layer")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    """Between modules, type-checking-only imports included."""
    graph: dict[str, set[str]] = {module: set() for module in APP_MODULES}
    for item in APP_IMPORTS:
        graph[item.source].add(item.target)
    cycles = [component for component in strongly_connected(graph) if len(component) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_imports_sit_at_module_level_except_in_backend_and_command_choices() -> None:
    hidden = [
        f"{item.source}:{item.line} imports {item.target} inside {item.function}()"
        for item in ALL_IMPORTS
        if item.function is not None and (item.source, item.function) not in LAZY_IMPORTS_ALLOWED
    ]
    assert not hidden, "\n".join(hidden)


@pytest.mark.parametrize("layer", WEB_FREE_LAYERS)
def test_below_the_edges_nothing_knows_http(layer: str) -> None:
    """Services raise domain errors (app/domain/errors.py); only the edges turn them into
    statuses and messages."""
    web = [
        f"{item.source}:{item.line} imports {item.target}"
        for item in ALL_IMPORTS
        if package_of(item.source) == layer
        and (item.target.split(".")[0] in WEB_FRAMEWORKS or item.target.startswith("app.api"))
    ]
    assert not web, "\n".join(web)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph is small, but recursion depth is not ours
    to spend)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components
