"""Layers: the import graph of `src/fanzha`, read from the source, runs one way (docs/architecture.md).

Every `import` and `from … import` counts, wherever it is written: at the top of a module, inside a function, under
`if TYPE_CHECKING:`. An import inside a function still ties the two packages together; it only hides the tie.

The graph is collapsed to top-level packages (`fanzha.cases.stats.service` → `cases`) and checked twice:

- no cycle between domain packages (a → b → … → a), whatever the layer table says;
- every import goes down the layer table `LAYERS`: a package may import packages of lower layers only, never one of
  its own layer or above. Two exceptions, both written below: the routes of a domain (its `views`/`api` modules)
  hang from the request frame of `fanzha.web` (`WEB_FRAME`), and the migrations import only what they already do.

`KNOWN` lists the upward imports not yet removed, each with why it remains. It may only shrink: the test fails when an
entry no longer happens, so that it is taken off the list.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "fanzha"

# Lowest first. A package may import a package of a LOWER layer only. Packages sharing a layer do not import each
# other. Mirrored in docs/architecture.md ("Layers"); change both together.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("settings", ("fanzha", "config")),  # `fanzha` is the root package: only __version__
    ("foundation", ("common", "db")),
    ("schema upgrades", ("migrate",)),
    ("audit trail", ("trail",)),
    ("organisation", ("org",)),
    ("records", ("audit", "notify")),
    ("operations", ("ops",)),
    ("accounts", ("auth",)),
    ("import machinery", ("imports",)),
    ("text checks", ("detect",)),
    ("public check", ("public",)),
    ("lists", ("addresses", "blocklist", "people")),
    ("link analysis", ("links",)),
    ("warnings", ("warnings",)),
    ("dispatching", ("dispatch",)),
    ("dissuasion", ("dissuasion",)),
    ("cases", ("cases",)),
    ("dossiers", ("dossiers",)),
    ("prevention", ("prevention",)),
    ("registry", ("registry",)),
    ("member units", ("memberunits",)),
    ("reports", ("reports",)),
    ("assessment", ("assess",)),
    ("assembly", ("api", "importers")),
    ("demo data", ("demo",)),
    ("worker", ("worker",)),
    ("web", ("web",)),
    ("entry points", ("cli", "models", "migrations")),
]

DOMAINS = frozenset({
    "addresses", "assess", "audit", "auth", "blocklist", "cases", "detect", "dispatch", "dissuasion", "dossiers",
    "imports",
    "links", "memberunits", "notify", "org", "people", "prevention", "public", "registry", "reports", "warnings",
})

# The request frame: what a route needs from the web layer (the database session, the caller's Scope, parameters,
# form labels, page rendering). A domain's route modules may import these although `web` sits at the top.
WEB_FRAME = frozenset({"fanzha.web.deps", "fanzha.web.params", "fanzha.web.forms", "fanzha.web.render",
                       "fanzha.web.replica"})

# A migration is frozen history: it imports the database helpers and, where a data migration needed them, these.
MIGRATIONS_MAY_IMPORT = frozenset({
    "fanzha.db", "fanzha.config", "fanzha.models", "fanzha.org.names", "fanzha.cases.stats.rollup",
})

# Upward imports that remain, (from, to) → why. Remove an entry when its imports are gone (the test says when).
KNOWN: dict[tuple[str, str], str] = {
}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, dotted
    line: int
    target: str  # imported module, dotted

    def __str__(self) -> str:
        return f"{self.source} (line {self.line}) imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def _exists(dotted: str) -> bool:
    rel = Path(*dotted.split("."))
    return (SRC.parent / rel).with_suffix(".py").is_file() or (SRC.parent / rel / "__init__.py").is_file()


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import of a `fanzha` module in the file, nested ones included."""
    return read_imports(path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py")


def read_imports(text: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            # `from fanzha.x import y`: y may be a module of its own (fanzha.x.y) or a name in fanzha.x
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if _exists(sub) else base))
    return sorted({(line, target) for line, target in found if target == "fanzha" or target.startswith("fanzha.")})


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


@functools.cache
def all_edges() -> tuple[Edge, ...]:
    edges: list[Edge] = []
    for path in sorted(SRC.rglob("*.py")):
        source = module_name(path)
        edges += [Edge(source, line, target) for line, target in imports_of(path)]
    return tuple(edges)


def package_graph(edges: Iterable[Edge]) -> dict[tuple[str, str], list[Edge]]:
    graph: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in edges:
        a, b = package_of(edge.source), package_of(edge.target)
        if a != b:
            graph[(a, b)].append(edge)
    return graph


def is_route_module(module: str) -> bool:
    last = module.rpartition(".")[2]
    return last in ("views", "api") or last.endswith(("_views", "_api")) or last.startswith("views_")


def layer_of() -> dict[str, int]:
    return {package: rank for rank, (_, packages) in enumerate(LAYERS) for package in packages}


def find_cycle(pairs: set[tuple[str, str]]) -> list[str] | None:
    """One cycle in the directed graph `pairs`, as [a, b, …, a], or None."""
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in sorted(pairs):
        succ[a].append(b)
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in succ[node]:
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(succ):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def _where(edges: list[Edge], limit: int = 6) -> str:
    lines = [f"      {edge}" for edge in edges[:limit]]
    if len(edges) > limit:
        lines.append(f"      … and {len(edges) - limit} more")
    return "\n".join(lines)


def test_every_package_has_a_layer():
    packages = {package_of(module_name(path)) for path in SRC.rglob("*.py")}
    missing = sorted(packages - set(layer_of()))
    assert not missing, (
        f"New top-level package(s) {missing} under src/fanzha have no place in tests/project/test_layers.py LAYERS. "
        "Add each to the layer it belongs to (a domain goes above everything it imports and below everything that "
        "imports it), to DOMAINS if it is a domain, and to the table in docs/architecture.md.")
    assert len(layer_of()) == sum(len(packages) for _, packages in LAYERS), "a package is listed in two layers"


def test_the_architecture_doc_draws_the_same_layers():
    """docs/architecture.md draws LAYERS top down: each layer's packages on one line, the lines in order."""
    doc = (SRC.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    diagram = doc.split("```")[1].splitlines()

    def line_of(package: str) -> int | None:
        pattern = re.compile(rf"(?<![\w/.]){re.escape(package)}(?![\w/])")
        return next((i for i, line in enumerate(diagram) if pattern.search(line)), None)

    seen = []
    for name, packages in LAYERS:
        lines = {package: line_of(package) for package in packages}
        assert None not in lines.values(), f"docs/architecture.md does not draw {lines} (layer {name!r})"
        assert len(set(lines.values())) == 1, f"docs/architecture.md draws layer {name!r} on several lines: {lines}"
        seen.append(next(iter(lines.values())))
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen), (
        "docs/architecture.md draws the layers in another order than LAYERS in tests/project/test_layers.py (top line = "
        "last layer); change both together")


def test_no_cycle_between_domains():
    graph = package_graph(all_edges())
    domain_pairs = {(a, b) for a, b in graph if a in DOMAINS and b in DOMAINS and (a, b) not in KNOWN}
    cycle = find_cycle(domain_pairs)
    if cycle is None:
        return
    steps = "\n".join(f"  {a} → {b}:\n{_where(graph[(a, b)])}" for a, b in zip(cycle, cycle[1:], strict=False))
    raise AssertionError(
        f"The domain packages {' → '.join(cycle)} import each other in a circle:\n{steps}\n"
        "Break one step: move the function both sides need to the lower package (or to fanzha.common / fanzha.org), "
        "or let the lower package offer a hook the higher one fills (as importers register with fanzha.imports). "
        "Moving the import inside a function does not help: it is counted. See docs/architecture.md.")


def test_imports_go_down_the_layers():
    rank = layer_of()
    layer_name = {package: name for name, packages in LAYERS for package in packages}
    wrong: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for (a, b), edges in package_graph(all_edges()).items():
        if (a, b) in KNOWN or a not in rank or b not in rank or rank[a] > rank[b]:
            continue
        for edge in edges:
            if edge.target in WEB_FRAME and (a in DOMAINS or a == "api") and is_route_module(edge.source):
                continue
            if a == "migrations" and edge.target in MIGRATIONS_MAY_IMPORT:
                continue
            wrong[(a, b)].append(edge)
    if not wrong:
        return
    report = "\n".join(
        f"  {a} (layer {rank[a]}, {layer_name[a]}) imports {b} (layer {rank[b]}, {layer_name[b]}):\n{_where(edges)}"
        for (a, b), edges in sorted(wrong.items()))
    raise AssertionError(
        f"These imports go up (or sideways) the layer table LAYERS in tests/project/test_layers.py:\n{report}\n"
        "A package may import only packages of lower layers. Move what is needed down (area trees: fanzha.org.tree; "
        "local time: fanzha.common.localtime; fraud types: fanzha.detect.taxonomy), or invert the dependency with a "
        "registry the lower package keeps. If the table itself is wrong, change it here and in "
        "docs/architecture.md together.")


def test_known_upward_imports_still_happen():
    graph = package_graph(all_edges())
    rank = layer_of()
    gone = sorted(pair for pair in KNOWN if pair not in graph)
    assert not gone, f"These KNOWN entries in tests/project/test_layers.py no longer happen; delete them: {gone}"
    downward = sorted(pair for pair in KNOWN if rank[pair[0]] > rank[pair[1]])
    assert not downward, f"These KNOWN entries go down the layers and need no exception; delete them: {downward}"


def test_every_importer_is_loaded_at_start_up():
    """A module that registers an importer with fanzha.imports is imported by fanzha.importers, which the web app,
    the worker and the CLI import: otherwise its kind exists in one process and not in another."""
    registering = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "register"
                    and node.args and isinstance(node.args[0], ast.Call)
                    and getattr(node.args[0].func, "id", "") == "Importer"):
                registering.add(module_name(path))
    loaded = {target for _, target in imports_of(SRC / "importers.py")}
    assert registering, "no module registers an importer: the reader no longer finds `register(Importer(…))`"
    assert registering <= loaded, f"add to src/fanzha/importers.py: {sorted(registering - loaded)}"
    starters = {"fanzha.web.app", "fanzha.worker.tasks", "fanzha.cli.main"}
    assert {edge.source for edge in all_edges() if edge.target == "fanzha.importers"} >= starters


def test_migrations_import_only_what_they_need():
    extra = [edge for edge in all_edges() if package_of(edge.source) == "migrations"
             and package_of(edge.target) != "migrations" and edge.target not in MIGRATIONS_MAY_IMPORT]
    assert not extra, ("A migration is frozen history and must not follow the app's code as it changes; copy what "
                       "it needs into the migration instead of importing it:\n" + _where(extra, 20))


def test_the_reader_counts_nested_relative_and_type_checking_imports():
    text = ("from typing import TYPE_CHECKING\n"
            "def assign():\n"
            "    from fanzha.cases import models\n"
            "    from . import service\n"
            "if TYPE_CHECKING:\n"
            "    import fanzha.org.scope\n"
            "from fanzha.common.localtime import zone\n")
    assert sorted(read_imports(text, "fanzha.warnings.views")) == [
        (3, "fanzha.cases.models"), (4, "fanzha.warnings.service"), (6, "fanzha.org.scope"),
        (7, "fanzha.common.localtime")]
    assert package_of("fanzha.cases.stats.service") == "cases" and package_of("fanzha.db") == "db"
    assert find_cycle({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == ["a", "b", "c", "a"]
    assert find_cycle({("a", "b"), ("b", "c")}) is None
