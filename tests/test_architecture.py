"""The layers of docs/architecture.md, enforced: every import goes down, none goes round.

The package's modules are parsed (never imported); every ``import`` counts, those inside
functions included, except the ones under ``if TYPE_CHECKING:``. A module may import modules
of its own layer or of a lower one; peers of one rank (the lookup and the queue) may not
import each other; no import cycle may exist, inside a layer either. The one documented
exception is :data:`DEFERRED_EDGES`.
"""

from __future__ import annotations

import ast
import fnmatch
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "fiftyone_plugins"

#: (layer, rank, module patterns), lowest first; the first matching pattern wins
LAYERS: list[tuple[str, int, tuple[str, ...]]] = [
    (
        "foundation",
        0,
        (
            "fiftyone_plugins._version",
            "fiftyone_plugins._dotted",
            "fiftyone_plugins._watch",
            "fiftyone_plugins.errors",
            "fiftyone_plugins.config",
            "fiftyone_plugins.secrets",
            "fiftyone_plugins.definitions",
            "fiftyone_plugins.plugin_cache",
            "fiftyone_plugins.discovery",
            "fiftyone_plugins.management",
            "fiftyone_plugins.requirements",
            "fiftyone_plugins.download",
            "fiftyone_plugins.download.*",
            "fiftyone_plugins.compat",
            "fiftyone_plugins.compat.messages",
            "fiftyone_plugins.compat.root",
            "fiftyone_plugins.compat.constants",
            "fiftyone_plugins.compat.cache",
            "fiftyone_plugins.compat.factory",
            "fiftyone_plugins.compat.storage",
            "fiftyone_plugins.compat.internal",
        ),
    ),
    (
        "leaves",
        1,
        (
            "fiftyone_plugins.operators.types",
            "fiftyone_plugins.operators.types.*",
            "fiftyone_plugins.operators.validation",
            "fiftyone_plugins.operators.datasets",
            "fiftyone_plugins.operators.progress",
            "fiftyone_plugins.operators.stores",
            "fiftyone_plugins.operators.stores.*",
            "fiftyone_plugins.operators.store",
            "fiftyone_plugins.operators.store_service",
            "fiftyone_plugins.operators.store_models",
            "fiftyone_plugins.operators.triggers",
            "fiftyone_plugins.operators.pipeline_types",
            "fiftyone_plugins.operators.fanout_types",
            "fiftyone_plugins.operators.constants",
            "fiftyone_plugins.operators.risk",
        ),
    ),
    (
        "authoring",
        2,
        (
            "fiftyone_plugins.operators.operator",
            "fiftyone_plugins.operators.panel",
            "fiftyone_plugins.operators.evaluation_metric",
            "fiftyone_plugins.operators.hosted",
        ),
    ),
    (
        "runtime",
        3,
        (
            "fiftyone_plugins.operators.invocation",
            "fiftyone_plugins.operators.operations",
            "fiftyone_plugins.operators.targets",
            "fiftyone_plugins.operators.context",
            "fiftyone_plugins.operators.request",
            "fiftyone_plugins.operators.result",
        ),
    ),
    (
        "lookup",
        4,
        (
            "fiftyone_plugins.operators.stamps",
            "fiftyone_plugins.operators.modules",
            "fiftyone_plugins.operators.loader",
            "fiftyone_plugins.operators.entries",
            "fiftyone_plugins.operators.registrations",
            "fiftyone_plugins.operators.snapshot",
            "fiftyone_plugins.operators.registry",
        ),
    ),
    (
        "queue",
        4,
        (
            "fiftyone_plugins.operators.queries",
            "fiftyone_plugins.operators.bulk",
            "fiftyone_plugins.operators.service",
            "fiftyone_plugins.operators.schedules",
            "fiftyone_plugins.operators.presence",
            "fiftyone_plugins.operators.claims",
        ),
    ),
    (
        "execution",
        5,
        ("fiftyone_plugins.operators.drivers", "fiftyone_plugins.operators.executor"),
    ),
    (
        "worker",
        6,
        (
            "fiftyone_plugins.operators.runner",
            "fiftyone_plugins.operators.backends",
            "fiftyone_plugins.operators.backends.*",
            "fiftyone_plugins.operators.inflight",
            "fiftyone_plugins.operators.announcer",
            "fiftyone_plugins.operators.worker",
            "fiftyone_plugins.operators.monitor",
            "fiftyone_plugins.operators.scheduler",
        ),
    ),
    (
        "workflows",
        7,
        (
            "fiftyone_plugins.operators.children",
            "fiftyone_plugins.operators.pipeline",
            "fiftyone_plugins.operators.fanout",
        ),
    ),
    (
        "facades",
        8,
        (
            "fiftyone_plugins",
            "fiftyone_plugins.operators",
            "fiftyone_plugins.operators.delegated",
            "fiftyone_plugins.operators.orchestrator",
            "fiftyone_plugins.compat.core",
            "fiftyone_plugins.compat.core.*",
            "fiftyone_plugins.testing",
        ),
    ),
    ("web", 9, ("fiftyone_plugins.web", "fiftyone_plugins.web.*")),
    ("cli", 10, ("fiftyone_plugins.cli", "fiftyone_plugins.cli.*", "fiftyone_plugins.__main__")),
]

#: upward imports that must stay, each documented in docs/architecture.md
DEFERRED_EDGES = {
    # Operator.__call__ executes the operator: calling one is running it
    ("fiftyone_plugins.operators.operator", "fiftyone_plugins.operators.executor"),
}


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        if "builtin_plugins" in rel.parts:  # plugins: they import the public API like any
            continue
        name = ".".join(rel.parts)
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                skipped.update(id(n) for n in ast.walk(stmt))
    return skipped


def _closest_module(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """The package's modules that ``module`` imports (anywhere but under TYPE_CHECKING)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    skipped = _type_checking_nodes(tree)
    base = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base
                for _ in range(node.level - 1):
                    parent = parent.rpartition(".")[0]
                target = parent + (f".{node.module}" if node.module else "")
            else:
                target = node.module or ""
            # `from . import x` imports the submodule x; `from .m import y` imports m
            names = [
                f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target
                for a in node.names
            ]
        for name in names:
            found = _closest_module(name)
            if found is not None and found != module:
                targets.add(found)
    return targets


def layer_of(module: str) -> tuple[str, int]:
    for layer, rank, patterns in LAYERS:
        if any(fnmatch.fnmatchcase(module, p) for p in patterns):
            return layer, rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


def test_imports_only_go_down():
    upward = []
    for module, targets in sorted(GRAPH.items()):
        layer, rank = layer_of(module)
        for target in sorted(targets):
            target_layer, target_rank = layer_of(target)
            allowed = target_rank < rank or target_layer == layer
            if not allowed and (module, target) not in DEFERRED_EDGES:
                upward.append(f"{module} ({layer}) imports {target} ({target_layer})")
    assert upward == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_remains():
    graph = {m: {t for t in ts if (m, t) not in DEFERRED_EDGES} for m, ts in GRAPH.items()}
    assert _cycles(graph) == []


def test_the_checker_sees_an_upward_import_inside_a_function(tmp_path):
    # the test above can fail: an import made inside a function is an edge like any other
    source = "def f():\n    from .executor import execute_operator\n"
    tree = ast.parse(source)
    assert any(isinstance(n, ast.ImportFrom) and n.module == "executor" for n in ast.walk(tree))
    assert "fiftyone_plugins.operators.executor" in imports_of(
        "fiftyone_plugins.operators.operator"
    )
    assert _cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b"]]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_declares_its_public_names(module):
    if module.endswith("__main__") or module.endswith("_version"):
        return
    tree = ast.parse(MODULES[module].read_text())
    declared = [
        node
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        and any(
            isinstance(t, ast.Name) and t.id == "__all__"
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    assert declared, f"{module} has no __all__"


def test_no_module_is_past_500_lines_but_the_form_type_catalogue():
    long = {
        module: len(path.read_text().splitlines())
        for module, path in MODULES.items()
        if len(path.read_text().splitlines()) > 500
    }
    # views.py is a flat catalogue of the form's view classes, one short class each
    assert set(long) <= {"fiftyone_plugins.operators.types.views"}, long
