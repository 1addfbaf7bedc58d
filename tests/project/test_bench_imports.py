"""The benchmarks under bench/ are run by hand, so nothing else notices when code they import moves: every
`from fanzha… import name` they write (inside functions too) must name a module and a name that exist."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _fanzha_imports(path: Path) -> list[tuple[int, str, str | None]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("fanzha"):
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names if alias.name.startswith("fanzha")]
    return found


def test_every_fanzha_import_of_the_benchmarks_resolves():
    scripts = sorted(BENCH.glob("*.py"))
    assert len(scripts) > 10
    broken = []
    for path in scripts:
        for line, module, name in _fanzha_imports(path):
            try:
                mod = importlib.import_module(module)
                if name is not None and not hasattr(mod, name):
                    importlib.import_module(f"{module}.{name}")
            except ImportError as exc:
                broken.append(f"bench/{path.name}:{line}: {module} {name or ''}: {exc}")
    assert broken == []
